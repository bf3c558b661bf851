import Foundation
import LibAV
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// Draws the PNG files a stock FFmpeg graph reads (`FFmpegGraph.art`) with rendc's own rasterisers: the same
/// art, text and fitted pictures the fast engine prepares, as straight RGBA.
public enum StockGraphArt {
    /// The media cells' pictures, prepared exactly as the fast engine prepares them (same decode, crop and
    /// pre-scale), and where each sits in its decoded picture (what `RenderPlan.ffmpegGraph` needs).
    /// With the art layers drawn on the canvas and cut to what they cover (`bounds`, even-aligned).
    public struct Pictures {
        public var geometry: [FFmpegPictureKey: FFmpegPicture] = [:]
        public var bounds: [Int: Rect] = [:]
        var images: [FFmpegPictureKey: RGBAImage] = [:]
        var fills: [FFmpegPictureKey: RGBAImage] = [:]
        var layers: [Int: RGBAImage] = [:]
    }

    /// Decodes and prepares every picture the plan's media layers show, and draws every art layer.
    public static func prepare(_ plan: RenderPlan, texts: [Int: RGBAImage]) throws -> Pictures {
        var out = Pictures()
        for l in plan.layers {
            switch l.content {
            case .media, .video: continue
            default: break
            }
            let (img, x, y) = try LayerArt.rgba(for: l, texts: texts)
            let t = LayerTransform(dx: 0, dy: 0, scale: 1, rotation: l.rotation, opacity: l.opacity)
            let full = canvas(img, x: x, y: y, transform: t, pivot: l.pivot, width: plan.width, height: plan.height)
            let b = coverage(full)
            out.bounds[l.index] = b
            out.layers[l.index] = b == Rect(x: 0, y: 0, width: full.width, height: full.height) ? full : crop(full, b)
        }
        for layer in plan.layers {
            guard case .media(let m) = layer.content else { continue }
            // As the fast engine (MediaStage): one preparation per input and cell size, for every motion it is shown
            // with, and a centred zoom to 1.25 times the largest when a zoom transition is used.
            struct Key: Hashable { var input: Int, width: Int, height: Int, fit: Fit, blurFill: Bool }
            func key(_ input: Int, _ c: Int) -> Key {
                let cell = m.cells[c]
                return Key(
                    input: input, width: cell.rect.width, height: cell.rect.height, fit: cell.fit,
                    blurFill: cell.fit == .contain && cell.fill == .blur)
            }
            var motions: [Key: [Motion]] = [:]
            var uses: [FFmpegPictureKey: Key] = [:]
            for shot in m.shots {
                for c in m.cells.indices where m.inputs[shot.images[c]].kind == .picture {
                    let k = key(shot.images[c], c)
                    motions[k, default: []].append(shot.motions[c])
                    uses[FFmpegPictureKey(layer: layer.index, input: shot.images[c], cell: c)] = k
                }
            }
            let zoomTransition = m.transitions.contains { $0.kind == .zoom }
            var prepared: [Key: PreparedImage.RGBA] = [:]
            for (use, k) in uses.sorted(by: { ($0.key.input, $0.key.cell) < ($1.key.input, $1.key.cell) }) {
                if prepared[k] == nil {
                    let list = motions[k]!
                    prepared[k] = try PreparedImage.prepareRGBA(
                        path: m.inputs[k.input].path, window: Rect(x: 0, y: 0, width: k.width, height: k.height), fit: k.fit,
                        motions: list
                            + (zoomTransition
                                ? [Motion(zoomFrom: 1, zoomTo: list.map(\.maxZoom).max()! * 1.25, panFrom: .center, panTo: .center, easing: .linear)]
                                : []),
                        adjust: m.adjust, blurFill: k.blurFill)
                }
                let p = prepared[k]!
                // The fast engine's YUV picture drops an odd last column or row (and places the rest as if it were
                // the whole): so does the PNG.
                let w = max(2, p.picture.width & ~1), h = max(2, p.picture.height & ~1)
                out.geometry[use] = FFmpegPicture(
                    imageWidth: p.originalSize.w, imageHeight: p.originalSize.h, cropX: p.crop.x, cropY: p.crop.y, cropWidth: p.crop.w,
                    cropHeight: p.crop.h, baseScale: p.baseScale, width: w, height: h)
                out.images[use] = w == p.picture.width && h == p.picture.height ? p.picture : crop(p.picture, Rect(x: 0, y: 0, width: w, height: h))
                out.fills[use] = p.fill
            }
        }
        return out
    }

    /// Writes every file of `graph.art` into `directory`. `texts`: the text renderer's image for each text layer;
    /// `pictures`: the media cells' pictures the graph was made for.
    public static func write(_ graph: FFmpegGraph, plan: RenderPlan, texts: [Int: RGBAImage], pictures: Pictures, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func layer(_ i: Int) throws -> LayerPlan {
            guard let l = plan.layers.first(where: { $0.index == i }) else { throw BackendError(.prepare, "layers[\(i)] is not in the plan") }
            return l
        }
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        for item in graph.art {
            switch item.kind {
            case .layer(let i):
                guard let img = pictures.layers[i] else { throw BackendError(.prepare, "layers[\(i)] was not drawn") }
                try ImageFile.writePNG(img, to: path(item.name))
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
            case .picture(let i, let input, let c, _):
                guard let img = pictures.images[FFmpegPictureKey(layer: i, input: input, cell: c)] else {
                    throw BackendError(.prepare, "layers[\(i)]: picture \(input) of cell \(c) was not prepared")
                }
                try ImageFile.writePNG(img, to: path(item.name))
            case .blurFill(let i, let input, let c):
                guard let img = pictures.fills[FFmpegPictureKey(layer: i, input: input, cell: c)] else {
                    throw BackendError(.prepare, "layers[\(i)]: the blurred fill of picture \(input) in cell \(c) was not prepared")
                }
                try ImageFile.writePNG(img, to: path(item.name))
            case .mediaShadow(let i):
                let l = try layer(i)
                guard case .media(let m) = l.content, let s = l.shadow else { continue }
                let w = m.window
                let (img, left, top) = LayerArt.mediaShadow(l, m, s)
                let t = LayerTransform(dx: 0, dy: 0, scale: 1, rotation: l.rotation, opacity: l.opacity)
                try ImageFile.writePNG(
                    canvas(img, x: w.x - left, y: w.y - top, transform: t, pivot: l.pivot, width: plan.width, height: plan.height),
                    to: path(item.name))
            case .mediaMask(let i):
                let l = try layer(i)
                guard case .media(let m) = l.content else { continue }
                let w = m.window
                let round = m.coverage(width: w.width, height: w.height, radius: l.radius)
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

    /// The smallest even-aligned rectangle holding every pixel of `img` that is not fully transparent (2x2 at the
    /// origin when none is).
    static func coverage(_ img: RGBAImage) -> Rect {
        var x0 = img.width, y0 = img.height, x1 = 0, y1 = 0
        img.pixels.withUnsafeBufferPointer { p in
            for row in 0..<img.height {
                var first = -1, last = -1
                let base = row * img.width * 4
                for col in 0..<img.width where p[base + 4 * col + 3] != 0 {
                    if first < 0 { first = col }
                    last = col
                }
                guard first >= 0 else { continue }
                x0 = min(x0, first); x1 = max(x1, last + 1); y0 = min(y0, row); y1 = max(y1, row + 1)
            }
        }
        guard x1 > x0 else { return Rect(x: 0, y: 0, width: 2, height: 2) }
        x0 &= ~1; y0 &= ~1
        x1 = min(img.width, x1 + 1 & ~1); y1 = min(img.height, y1 + 1 & ~1)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    static func crop(_ img: RGBAImage, _ r: Rect) -> RGBAImage {
        var out = RGBAImage(width: r.width, height: r.height)
        for row in 0..<r.height {
            let s = ((r.y + row) * img.width + r.x) * 4
            out.pixels.replaceSubrange(row * r.width * 4..<(row + 1) * r.width * 4, with: img.pixels[s..<s + r.width * 4])
        }
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
        let th = t.rotation * .pi / 180, sw = max(t.widthScale, 1e-6), sh = max(t.heightScale, 1e-6), c = cos(th), sn = sin(th)
        let i00 = c / sw, i01 = sn / sw, i10 = -sn / sh, i11 = c / sh
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
            let qx = c * sw * qx0 - sn * sh * qy0 + px + t.dx, qy = sn * sw * qx0 + c * sh * qy0 + py + t.dy
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
