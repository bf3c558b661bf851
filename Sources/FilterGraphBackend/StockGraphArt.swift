import Foundation
import LibAV
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// Draws the PNG files a stock FFmpeg graph reads (`FFmpegGraph.art`) with rendc's own rasterisers: the same
/// art, text and fitted pictures the fast engine prepares, as straight RGBA.
public enum StockGraphArt {
    /// Writes every file of `graph.art` into `directory`. `texts`: the text renderer's image for each text layer.
    public static func write(_ graph: FFmpegGraph, plan: RenderPlan, texts: [Int: RGBAImage], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func layer(_ i: Int) throws -> LayerPlan {
            guard let l = plan.layers.first(where: { $0.index == i }) else { throw BackendError(.prepare, "layers[\(i)] is not in the plan") }
            return l
        }
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        var decoded: [String: RGBAImage] = [:]
        for item in graph.art {
            switch item.kind {
            case .layer(let i):
                let l = try layer(i)
                let (img, x, y) = try LayerArt.rgba(for: l, texts: texts)
                let t = LayerTransform(dx: 0, dy: 0, scale: 1, rotation: l.rotation, opacity: l.opacity)
                try ImageFile.writePNG(
                    canvas(img, x: x, y: y, transform: t, pivot: l.pivot, width: plan.width, height: plan.height), to: path(item.name))
            case .sequence(let i, let frames):
                let l = try layer(i)
                let (img, x, y) = try LayerArt.rgba(for: l, texts: texts)
                // One frame more (the last again): an overlay input that ends on the main's last frame may drop it.
                for f in frames.start...frames.end {
                    let g = min(f, frames.end - 1)
                    let t = l.transform(frame: g, time: Double(g) / Double(plan.fps))
                    let name = item.name.replacingOccurrences(of: "%05d", with: String(format: "%05d", f - frames.start))
                    try ImageFile.writePNG(
                        canvas(img, x: x, y: y, transform: t, pivot: l.pivot, width: plan.width, height: plan.height), to: path(name))
                }
            case .picture(let i, let input, let c, let zoom):
                guard case .media(let m) = try layer(i).content else { continue }
                let cell = m.cells[c], r = cell.rect
                let src = try picture(m, input, &decoded, size: (Int(Double(r.width) * zoom), Int(Double(r.height) * zoom)))
                let w = max(2, Int((Double(r.width) * zoom).rounded())), h = max(2, Int((Double(r.height) * zoom).rounded()))
                try ImageFile.writePNG(try fitted(src, width: w, height: h, fit: cell.fit), to: path(item.name))
            case .blurFill(let i, let input, let c):
                guard case .media(let m) = try layer(i).content else { continue }
                let r = m.cells[c].rect
                let src = try picture(m, input, &decoded, size: (r.width, r.height))
                try ImageFile.writePNG(try PreparedImage.blurredCoverRGBA(src, width: r.width, height: r.height), to: path(item.name))
            case .mediaShadow(let i):
                let l = try layer(i)
                guard case .media(let m) = l.content, let s = l.shadow else { continue }
                let w = m.window
                var shape = Raster.fill(.solid(.white), width: w.width, height: w.height)
                if l.radius > 0 {
                    Raster.mask(&shape, Raster.coverage(.roundedRectangle, width: w.width, height: w.height, radius: Double(l.radius)))
                }
                let (img, left, top) = Raster.shadow(of: shape, s)
                let t = LayerTransform(dx: 0, dy: 0, scale: 1, rotation: l.rotation, opacity: l.opacity)
                try ImageFile.writePNG(
                    canvas(img, x: w.x - left, y: w.y - top, transform: t, pivot: l.pivot, width: plan.width, height: plan.height),
                    to: path(item.name))
            case .mediaMask(let i):
                let l = try layer(i)
                guard case .media(let m) = l.content else { continue }
                let w = m.window
                let round = Raster.coverage(.roundedRectangle, width: w.width, height: w.height, radius: Double(l.radius))
                var img = RGBAImage(width: w.width, height: w.height)
                for cell in m.cells {
                    let r = cell.rect
                    for row in max(0, r.y)..<min(w.height, r.y + r.height) {
                        for col in max(0, r.x)..<min(w.width, r.x + r.width) {
                            let k = row * w.width + col
                            img.pixels[4 * k] = 255; img.pixels[4 * k + 1] = 255; img.pixels[4 * k + 2] = 255
                            img.pixels[4 * k + 3] = round[k]
                        }
                    }
                }
                try ImageFile.writePNG(img, to: path(item.name))
            }
        }
    }

    /// Input `input` of `m`, decoded once (at least about `size`) with the layer's adjustments applied.
    private static func picture(_ m: MediaPlan, _ input: Int, _ cache: inout [String: RGBAImage], size: (Int, Int)) throws -> RGBAImage {
        let p = m.inputs[input].path
        if let img = cache[p] { return img }
        var rgba = try ImageFile.decode(path: p, minimumSize: (max(1, size.0 / 2), max(1, size.1 / 2)))
        guard rgba.width >= 2, rgba.height >= 2 else { throw BackendError(.decode, path: p, "image is smaller than 2x2 pixels") }
        if !m.adjust.isIdentity {
            let n = rgba.width * rgba.height
            rgba.pixels.withUnsafeMutableBufferPointer { px in
                rk_adjust_rgba(px.baseAddress, n, m.adjust.brightness, m.adjust.contrast, m.adjust.saturation)
            }
        }
        cache[p] = rgba
        return rgba
    }

    /// The picture fitted to `width` x `height` at zoom 1: cover takes the middle (the view `zoompan` starts
    /// from), contain centres it on transparency.
    private static func fitted(_ img: RGBAImage, width: Int, height: Int, fit: Fit) throws -> RGBAImage {
        let sx = Double(width) / Double(img.width), sy = Double(height) / Double(img.height)
        let s = fit == .cover ? max(sx, sy) : min(sx, sy)
        let w = max(1, Int((Double(img.width) * s).rounded())), h = max(1, Int((Double(img.height) * s).rounded()))
        let scaled = try RGBAScaler().scaleRGBA(img.pixels, width: img.width, height: img.height, toWidth: w, toHeight: h)
        var out = RGBAImage(width: width, height: height)
        Raster.place(scaled, width: w, height: h, at: ((width - w) / 2, (height - h) / 2), into: &out)
        return out
    }

    /// `img` (top-left at x, y on the canvas) drawn on a transparent canvas through `t` about `pivot`.
    static func canvas(_ img: RGBAImage, x: Int, y: Int, transform t: LayerTransform, pivot: Point, width: Int, height: Int) -> RGBAImage {
        var out = RGBAImage(width: width, height: height)
        if t.isIdentityGeometry && t.opacity >= 1 {
            Raster.place(img.pixels, width: img.width, height: img.height, at: (x, y), into: &out)
            return out
        }
        guard t.opacity > 0, img.width > 0, img.height > 0 else { return out }
        // Premultiplied planes of the source, resampled through the inverse transform by the compositor's kernel.
        let n = img.width * img.height
        var src = [[UInt8]](repeating: [UInt8](repeating: 0, count: n), count: 4)
        for i in 0..<n {
            let a = Int(img.pixels[4 * i + 3])
            src[3][i] = UInt8(a)
            for c in 0..<3 { src[c][i] = UInt8((Int(img.pixels[4 * i + c]) * a + 127) / 255) }
        }
        var dst = [[UInt8]](repeating: [UInt8](repeating: 0, count: width * height), count: 3)
        var dstA = [UInt8](repeating: 0, count: width * height)
        let th = t.rotation * .pi / 180, s = max(t.scale, 1e-6), c = cos(th), sn = sin(th)
        let i00 = c / s, i01 = sn / s, i10 = -sn / s, i11 = c / s
        let px = pivot.x, py = pivot.y
        let e0 = -(i00 * (px + t.dx) + i01 * (py + t.dy)) + px - Double(x)
        let e1 = -(i10 * (px + t.dx) + i11 * (py + t.dy)) + py - Double(y)
        let inv = [i00, i01, e0, i10, i11, e1]
        let opacity = Int32((t.opacity * 256).rounded())
        let alphaSource = src[3]
        for ch in 0..<3 {
            var plane = dst[ch]
            src[ch].withUnsafeBufferPointer { sp in
                alphaSource.withUnsafeBufferPointer { sa in
                    plane.withUnsafeMutableBufferPointer { dp in
                        dstA.withUnsafeMutableBufferPointer { da in
                            rk_affine_blend_plane(
                                sp.baseAddress, sa.baseAddress, Int32(img.width), Int32(img.height), img.width,
                                dp.baseAddress, ch == 0 ? da.baseAddress : nil, width, inv, 0, 0, Int32(width), Int32(height), opacity)
                        }
                    }
                }
            }
            dst[ch] = plane
        }
        // Only the transformed box can hold pixels.
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for (cx, cy) in [(0.0, 0.0), (Double(img.width), 0), (0, Double(img.height)), (Double(img.width), Double(img.height))] {
            let qx0 = Double(x) + cx - px, qy0 = Double(y) + cy - py
            let qx = s * (c * qx0 - sn * qy0) + px + t.dx, qy = s * (sn * qx0 + c * qy0) + py + t.dy
            minX = min(minX, qx); maxX = max(maxX, qx); minY = min(minY, qy); maxY = max(maxY, qy)
        }
        let x0 = max(0, Int(minX) - 2), x1 = min(width, Int(maxX) + 3), y0 = max(0, Int(minY) - 2), y1 = min(height, Int(maxY) + 3)
        guard x1 > x0, y1 > y0 else { return out }
        for row in y0..<y1 {
            for col in x0..<x1 {
                let i = row * width + col
                let a = Int(dstA[i])
                guard a > 0 else { continue }
                out.pixels[4 * i + 3] = UInt8(a)
                for ch in 0..<3 { out.pixels[4 * i + ch] = UInt8(min(255, (Int(dst[ch][i]) * 255 + a / 2) / a)) }
            }
        }
        return out
    }
}
