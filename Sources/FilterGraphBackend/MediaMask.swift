import Planner
import SpecLang

extension MediaPlan {
    /// What of a media layer's window shows (`width` x `height` from its top-left, row-major, 0...255), one mask for
    /// both engines (the fast compositor and the stock graph's art): the window rounded by the layer's `radius`, and
    /// with `cellRadius` only the cells, each rounded on its own (the gaps between them clear).
    func coverage(width: Int, height: Int, radius: Int) -> [UInt8] {
        var out =
            radius > 0
            ? Raster.coverage(.roundedRectangle, width: width, height: height, radius: Double(radius))
            : [UInt8](repeating: 255, count: width * height)
        guard cellRadius > 0 else { return out }
        var cellsCover = [UInt8](repeating: 0, count: width * height)
        for cell in cells {
            let r = cell.rect
            guard r.width > 0, r.height > 0 else { continue }
            let c = Raster.coverage(.roundedRectangle, width: r.width, height: r.height, radius: Double(cellRadius))
            for row in max(0, r.y)..<min(height, r.y + r.height) {
                for col in max(0, r.x)..<min(width, r.x + r.width) {
                    let k = row * width + col
                    cellsCover[k] = max(cellsCover[k], c[(row - r.y) * r.width + (col - r.x)])
                }
            }
        }
        for k in out.indices { out[k] = UInt8((Int(out[k]) * Int(cellsCover[k]) + 127) / 255) }
        return out
    }
}
