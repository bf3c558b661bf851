import Foundation
import LibAV
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// A view of a YUV 4:2:0 picture's planes (an AVFrame's, or our own buffers').
struct PlanesRef {
    var y: UnsafeMutablePointer<UInt8>
    var u: UnsafeMutablePointer<UInt8>
    var v: UnsafeMutablePointer<UInt8>
    var yStride: Int
    var cStride: Int
    var width: Int
    var height: Int

    init(frame: Frame) {
        (y, yStride) = frame.plane(0)
        (u, cStride) = frame.plane(1)
        v = frame.plane(2).data
        width = frame.width
        height = frame.height
    }
}

/// A layer prepared once for blending many times: premultiplied YUVA 4:2:0 at a canvas position, with the
/// runs of covered pixels per row so transparent areas cost nothing per frame.
final class AlphaLayer {
    let x: Int, y: Int, width: Int, height: Int
    private var yP: [UInt8], uP: [UInt8], vP: [UInt8], a: [UInt8], ca: [UInt8]
    /// Per luma row: [start, end) runs with alpha > 0.
    private var lumaRuns: [[Range<Int>]]
    private var chromaRuns: [[Range<Int>]]

    /// `image` is placed with its top-left at (x, y) on a canvas of `canvasWidth` x `canvasHeight`; parts outside
    /// the canvas are clipped. Position and size are rounded down to even numbers for 4:2:0.
    init(image: RGBAImage, x: Int, y: Int, opacity: Double = 1) {
        let w = image.width & ~1, h = image.height & ~1
        self.x = x & ~1
        self.y = y & ~1
        width = w
        height = h
        var yl = [UInt8](repeating: 0, count: w * h)
        var al = [UInt8](repeating: 0, count: w * h)
        var ul = [UInt8](repeating: 0, count: (w / 2) * (h / 2))
        var vl = ul
        var cal = ul
        var pixels = image.pixels
        if opacity < 1 {
            let o = max(0, opacity)
            for i in stride(from: 3, to: pixels.count, by: 4) { pixels[i] = UInt8((Double(pixels[i]) * o).rounded()) }
        }
        if w >= 2 && h >= 2 {
            pixels.withUnsafeBufferPointer { src in
                rk_rgba_to_yuva420(src.baseAddress, Int32(w), Int32(h), image.width * 4, &yl, w, &ul, w / 2, &vl, w / 2, &al, w, &cal, w / 2)
            }
        }
        rk_premultiply(&yl, al, yl.count)
        rk_premultiply(&ul, cal, ul.count)
        rk_premultiply(&vl, cal, vl.count)
        yP = yl; uP = ul; vP = vl; a = al; ca = cal
        lumaRuns = AlphaLayer.runs(al, width: w, height: h)
        chromaRuns = AlphaLayer.runs(cal, width: w / 2, height: h / 2)
    }

    static func runs(_ alpha: [UInt8], width: Int, height: Int) -> [[Range<Int>]] {
        var result: [[Range<Int>]] = []
        result.reserveCapacity(height)
        for row in 0..<height {
            var rowRuns: [Range<Int>] = []
            var start = -1
            let base = row * width
            for col in 0..<width {
                if alpha[base + col] != 0 {
                    if start < 0 { start = col }
                } else if start >= 0 {
                    rowRuns.append(start..<col)
                    start = -1
                }
            }
            if start >= 0 { rowRuns.append(start..<width) }
            result.append(rowRuns)
        }
        return result
    }

    var isEmpty: Bool { lumaRuns.allSatisfy(\.isEmpty) }

    /// Blends the layer onto `dst`, clipped to it.
    func blend(onto dst: PlanesRef) {
        blendPlane(dst.y, dst.yStride, dst.width, dst.height, yP, a, width, lumaRuns, x, y)
        let cw = dst.width / 2, ch = dst.height / 2
        blendPlane(dst.u, dst.cStride, cw, ch, uP, ca, width / 2, chromaRuns, x / 2, y / 2)
        blendPlane(dst.v, dst.cStride, cw, ch, vP, ca, width / 2, chromaRuns, x / 2, y / 2)
    }

    private func blendPlane(_ dst: UnsafeMutablePointer<UInt8>, _ stride: Int, _ dw: Int, _ dh: Int,
                            _ premul: [UInt8], _ alpha: [UInt8], _ lw: Int, _ runs: [[Range<Int>]], _ ox: Int, _ oy: Int) {
        premul.withUnsafeBufferPointer { p in
            alpha.withUnsafeBufferPointer { al in
                for (row, rowRuns) in runs.enumerated() where !rowRuns.isEmpty {
                    let dy = oy + row
                    guard dy >= 0 && dy < dh else { continue }
                    for run in rowRuns {
                        let s = max(run.lowerBound, -ox), e = min(run.upperBound, dw - ox)
                        guard e > s else { continue }
                        rk_blend_premul_row(dst + dy * stride + ox + s, p.baseAddress! + row * lw + s, al.baseAddress! + row * lw + s, Int32(e - s))
                    }
                }
            }
        }
    }
}

/// Own YUV 4:2:0 planes (plus optional alpha) for a prepared product image.
final class YUVImage {
    let width: Int, height: Int
    var y: [UInt8], u: [UInt8], v: [UInt8]
    /// Nil when every pixel is opaque (the fast path).
    var a: [UInt8]?, ca: [UInt8]?

    init(rgba: RGBAImage) {
        let w = max(2, rgba.width & ~1), h = max(2, rgba.height & ~1)
        width = w
        height = h
        y = [UInt8](repeating: 0, count: w * h)
        u = [UInt8](repeating: 128, count: (w / 2) * (h / 2))
        v = u
        var alpha = [UInt8](repeating: 255, count: w * h)
        var calpha = [UInt8](repeating: 255, count: (w / 2) * (h / 2))
        if rgba.width >= 2 && rgba.height >= 2 {
            rgba.pixels.withUnsafeBufferPointer { src in
                rk_rgba_to_yuva420(src.baseAddress, Int32(w), Int32(h), rgba.width * 4, &y, w, &u, w / 2, &v, w / 2, &alpha, w, &calpha, w / 2)
            }
        }
        if alpha.contains(where: { $0 != 255 }) {
            a = alpha
            ca = calpha
        }
    }
}
