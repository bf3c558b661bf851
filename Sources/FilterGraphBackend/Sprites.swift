import Foundation
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// YUV 4:2:0 planes with alpha, owned: memory that stays put for the life of the buffer, so kernels get stable
/// pointers without escaping a closure.
final class PlaneBuffer {
    let width: Int, height: Int
    let y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>
    let a: UnsafeMutablePointer<UInt8>, ca: UnsafeMutablePointer<UInt8>
    var lumaCount: Int { width * height }
    var chromaCount: Int { (width / 2) * (height / 2) }

    /// Transparent (all zero: premultiplied nothing) unless `opaqueBlack`.
    init(width: Int, height: Int) {
        self.width = max(2, width & ~1)
        self.height = max(2, height & ~1)
        let l = self.width * self.height, c = l / 4
        y = .allocate(capacity: l); u = .allocate(capacity: c); v = .allocate(capacity: c)
        a = .allocate(capacity: l); ca = .allocate(capacity: c)
        clear()
    }

    deinit {
        y.deallocate(); u.deallocate(); v.deallocate(); a.deallocate(); ca.deallocate()
    }

    func clear() {
        y.initialize(repeating: 0, count: lumaCount)
        u.initialize(repeating: 0, count: chromaCount)
        v.initialize(repeating: 0, count: chromaCount)
        a.initialize(repeating: 0, count: lumaCount)
        ca.initialize(repeating: 0, count: chromaCount)
    }

    var planes: PlanesRef {
        PlanesRef(y: y, u: u, v: v, yStride: width, cStride: width / 2, width: width, height: height)
    }

    /// Premultiplied planes from straight RGBA of the same size (odd sizes are padded with transparency).
    static func premultiplied(_ image: RGBAImage, opacity: Double = 1) -> PlaneBuffer {
        let w = image.width + (image.width & 1), h = image.height + (image.height & 1)
        var pixels = image.pixels
        if w != image.width || h != image.height {
            var padded = RGBAImage(width: w, height: h)
            Raster.place(image.pixels, width: image.width, height: image.height, at: (0, 0), into: &padded)
            pixels = padded.pixels
        }
        if opacity < 1 {
            let o = max(0, opacity)
            for i in stride(from: 3, to: pixels.count, by: 4) { pixels[i] = UInt8((Double(pixels[i]) * o).rounded()) }
        }
        let b = PlaneBuffer(width: w, height: h)
        pixels.withUnsafeBufferPointer { src in
            rk_rgba_to_yuva420(src.baseAddress, Int32(w), Int32(h), w * 4, b.y, w, b.u, w / 2, b.v, w / 2, b.a, w, b.ca, w / 2)
        }
        rk_premultiply(b.y, b.a, b.lumaCount)
        rk_premultiply(b.u, b.ca, b.chromaCount)
        rk_premultiply(b.v, b.ca, b.chromaCount)
        return b
    }
}

/// A layer's pixels drawn once: premultiplied YUVA with its top-left corner at `origin` on the canvas.
final class Sprite {
    let buffer: PlaneBuffer
    /// Canvas position of the buffer's top-left pixel.
    let x: Int, y: Int
    init(buffer: PlaneBuffer, x: Int, y: Int) {
        self.buffer = buffer
        self.x = x
        self.y = y
    }
    convenience init(rgba: RGBAImage, x: Int, y: Int, opacity: Double = 1) {
        self.init(buffer: .premultiplied(rgba, opacity: opacity), x: x, y: y)
    }

    /// True when no sample the sprite blends (luma or chroma alpha above zero, where `AlphaLayer` puts it) falls
    /// inside `rect` (canvas pixels; in chroma, every sample the rectangle touches).
    func isOutside(_ rect: Rect) -> Bool {
        let b = buffer, ox = x & ~1, oy = y & ~1
        let luma = (x0: rect.x, y0: rect.y, x1: rect.x + rect.width, y1: rect.y + rect.height)
        let chroma = (x0: luma.x0 >> 1, y0: luma.y0 >> 1, x1: (luma.x1 + 1) >> 1, y1: (luma.y1 + 1) >> 1)
        return Sprite.transparent(b.a, width: b.width, height: b.height, at: (ox, oy), in: luma)
            && Sprite.transparent(b.ca, width: b.width / 2, height: b.height / 2, at: (ox / 2, oy / 2), in: chroma)
    }

    private static func transparent(
        _ alpha: UnsafeMutablePointer<UInt8>, width w: Int, height h: Int, at o: (x: Int, y: Int), in r: (x0: Int, y0: Int, x1: Int, y1: Int)
    ) -> Bool {
        let c0 = max(0, r.x0 - o.x), c1 = min(w, r.x1 - o.x), r0 = max(0, r.y0 - o.y), r1 = min(h, r.y1 - o.y)
        guard c1 > c0, r1 > r0 else { return true }
        for row in r0..<r1 {
            let p = alpha + row * w
            for col in c0..<c1 where p[col] != 0 { return false }
        }
        return true
    }

    /// Blends the sprite onto `dst` through `transform` (about `pivot`, in canvas pixels) at `opacity`.
    func draw(
        onto dst: PlanesRef, transform t: LayerTransform, pivot: Point,
        destinationAlpha: (luma: UnsafeMutablePointer<UInt8>, chroma: UnsafeMutablePointer<UInt8>)? = nil
    ) {
        // Forward map: p' = R S (p - pivot) + pivot + d. Inverse for sampling, in sprite pixels.
        let th = t.rotation * .pi / 180, sw = max(t.widthScale, 1e-6), sh = max(t.heightScale, 1e-6)
        let c = cos(th), sn = sin(th)
        // Inverse linear part: S^-1 R^-1 (S scales the layer's own width and height).
        let i00 = c / sw, i01 = sn / sw, i10 = -sn / sh, i11 = c / sh
        func inverse(scale k: Double) -> [Double] {
            // Destination pixel q (in plane pixels) -> canvas q/k... all in plane units: pivot and offsets scaled by k.
            let px = pivot.x * k, py = pivot.y * k, dx = t.dx * k, dy = t.dy * k
            let ox = Double(x) * k, oy = Double(y) * k
            // src = Rinv (q - pivot - d) + pivot - origin
            let e0 = -(i00 * (px + dx) + i01 * (py + dy)) + px - ox
            let e1 = -(i10 * (px + dx) + i11 * (py + dy)) + py - oy
            return [i00, i01, e0, i10, i11, e1]
        }
        let (minX, minY, maxX, maxY) = bounds(t, pivot: pivot)
        // A degenerate transform (a NaN or infinite bound) draws nothing rather than trapping the process.
        guard [minX, minY, maxX, maxY].allSatisfy({ $0.isFinite && abs($0) < 1e9 }) else { return }
        let x0 = max(0, Int(minX.rounded(.down)) - 1) & ~1, y0 = max(0, Int(minY.rounded(.down)) - 1) & ~1
        let x1 = min(dst.width, Int(maxX.rounded(.up)) + 2), y1 = min(dst.height, Int(maxY.rounded(.up)) + 2)
        guard x1 > x0, y1 > y0 else { return }
        let opacity = Int32((t.opacity * 256).rounded())
        guard opacity > 0 else { return }
        let b = buffer
        inverse(scale: 1).withUnsafeBufferPointer { inv in
            rk_affine_blend_plane(
                b.y, b.a, Int32(b.width), Int32(b.height), b.width, dst.y, destinationAlpha?.luma, dst.yStride, inv.baseAddress, Int32(x0), Int32(y0),
                Int32(x1), Int32(y1), opacity)
        }
        inverse(scale: 0.5).withUnsafeBufferPointer { inv in
            let cx0 = Int32(x0 / 2), cy0 = Int32(y0 / 2), cx1 = Int32((x1 + 1) / 2), cy1 = Int32((y1 + 1) / 2)
            rk_affine_blend_plane(
                b.u, b.ca, Int32(b.width / 2), Int32(b.height / 2), b.width / 2, dst.u, destinationAlpha?.chroma, dst.cStride, inv.baseAddress, cx0,
                cy0, min(cx1, Int32(dst.width / 2)), min(cy1, Int32(dst.height / 2)), opacity)
            rk_affine_blend_plane(
                b.v, b.ca, Int32(b.width / 2), Int32(b.height / 2), b.width / 2, dst.v, nil, dst.cStride, inv.baseAddress, cx0, cy0,
                min(cx1, Int32(dst.width / 2)), min(cy1, Int32(dst.height / 2)), opacity)
        }
    }

    /// The canvas bounding box (min x, min y, max x, max y) of the sprite under `t` about `pivot`.
    func bounds(_ t: LayerTransform, pivot: Point) -> (Double, Double, Double, Double) {
        let th = t.rotation * .pi / 180, sw = t.widthScale, sh = t.heightScale, c = cos(th), sn = sin(th)
        let w = Double(buffer.width), h = Double(buffer.height)
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for (cx, cy) in [(0.0, 0.0), (w, 0), (0, h), (w, h)] {
            let px = Double(x) + cx - pivot.x, py = Double(y) + cy - pivot.y
            let qx = c * sw * px - sn * sh * py + pivot.x + t.dx, qy = sn * sw * px + c * sh * py + pivot.y + t.dy
            minX = min(minX, qx); maxX = max(maxX, qx); minY = min(minY, qy); maxY = max(maxY, qy)
        }
        return (minX, minY, maxX, maxY)
    }

    /// The sprite with a fixed transform applied once (rotation, scale and opacity baked in).
    func baked(_ t: LayerTransform, pivot: Point) -> Sprite {
        if t.isIdentityGeometry && t.opacity >= 1 { return self }
        // Destination: the transformed bounding box, in a transparent buffer.
        let (minX, minY, maxX, maxY) = bounds(t, pivot: pivot)
        let ox = (Int(minX.rounded(.down)) - 2) & ~1, oy = (Int(minY.rounded(.down)) - 2) & ~1
        let out = PlaneBuffer(width: Int(maxX.rounded(.up)) - ox + 4, height: Int(maxY.rounded(.up)) - oy + 4)
        // Draw into the buffer as if it were the canvas shifted by (ox, oy).
        var shifted = t
        shifted.dx = t.dx - Double(ox)
        shifted.dy = t.dy - Double(oy)
        let moved = Sprite(buffer: buffer, x: x, y: y)
        moved.draw(onto: out.planes, transform: shifted, pivot: Point(x: pivot.x, y: pivot.y), destinationAlpha: (out.a, out.ca))
        return Sprite(buffer: out, x: ox, y: oy)
    }
}

/// Generated art: what shapes, gradients, borders and shadows look like, as straight RGBA.
enum Raster {
    static func fill(_ fill: FillPlan, width: Int, height: Int) -> RGBAImage {
        var img = RGBAImage(width: width, height: height)
        switch fill {
        case .solid(let c):
            let px: [UInt8] = [c.r, c.g, c.b, c.a]
            img.pixels.withUnsafeMutableBufferPointer { p in
                for i in 0..<(width * height) { p[4 * i] = px[0]; p[4 * i + 1] = px[1]; p[4 * i + 2] = px[2]; p[4 * i + 3] = px[3] }
            }
        case .linear, .radial:
            break
        }
        switch fill {
        case .linear(let angle, let stops): gradient(&img, kind: 0, angle: angle, stops: stops)
        case .radial(let stops): gradient(&img, kind: 1, angle: 0, stops: stops)
        case .solid: break
        }
        return img
    }

    private static func gradient(_ img: inout RGBAImage, kind: Int32, angle: Double, stops: [GradientStop]) {
        let colors = stops.flatMap { [$0.color.r, $0.color.g, $0.color.b, $0.color.a] }
        let positions = stops.map(\.position)
        let w = img.width, h = img.height
        img.pixels.withUnsafeMutableBufferPointer { p in
            rk_gradient_rgba(p.baseAddress, Int32(w), Int32(h), kind, angle, colors, positions, Int32(stops.count))
        }
    }

    /// Coverage of a shape (0...255 per pixel).
    static func coverage(_ shape: ShapeKind, width: Int, height: Int, radius: Double, stroke: Double = 0) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height)
        let kind: Int32
        var r = radius
        switch shape {
        case .rectangle: kind = radius > 0 ? 1 : 0
        case .roundedRectangle: kind = 1
        case .pill: kind = 1; r = Double(min(width, height)) / 2
        case .ellipse: kind = 2
        }
        rk_shape_coverage(&out, Int32(width), Int32(height), kind, r, stroke)
        return out
    }

    /// Multiplies the image's alpha by `mask`.
    static func mask(_ img: inout RGBAImage, _ mask: [UInt8]) {
        for i in 0..<min(mask.count, img.width * img.height) where mask[i] != 255 {
            img.pixels[4 * i + 3] = UInt8((Int(img.pixels[4 * i + 3]) * Int(mask[i]) + 127) / 255)
        }
    }

    /// `top` drawn over `bottom` (same size).
    static func over(_ bottom: inout RGBAImage, _ top: RGBAImage) {
        top.pixels.withUnsafeBufferPointer { t in
            bottom.pixels.withUnsafeMutableBufferPointer { b in rk_over_rgba(b.baseAddress, t.baseAddress, top.width * top.height) }
        }
    }

    /// The drop shadow of the image's alpha on a larger transparent canvas; returns it and where the image's
    /// top-left corner lands in it.
    static func shadow(of img: RGBAImage, _ shadow: Shadow) -> (RGBAImage, left: Int, top: Int) {
        let pad = shadow.blur * 2 + 2
        let left = pad + max(0, -shadow.offsetX), top = pad + max(0, -shadow.offsetY)
        let w = img.width + 2 * pad + abs(shadow.offsetX), h = img.height + 2 * pad + abs(shadow.offsetY)
        var out = RGBAImage(width: w, height: h)
        var alpha = [UInt8](repeating: 0, count: w * h)
        for row in 0..<img.height {
            for col in 0..<img.width {
                alpha[(row + top + shadow.offsetY) * w + col + left + shadow.offsetX] = img.pixels[(row * img.width + col) * 4 + 3]
            }
        }
        if shadow.blur > 0 { rk_box_blur(&alpha, Int32(w), Int32(h), 1, Int32(max(1, shadow.blur / 2)), 3) }
        let c = shadow.color
        for i in 0..<(w * h) {
            out.pixels[4 * i] = c.r; out.pixels[4 * i + 1] = c.g; out.pixels[4 * i + 2] = c.b
            out.pixels[4 * i + 3] = UInt8((Int(alpha[i]) * Int(c.a) + 127) / 255)
        }
        return (out, left, top)
    }

    /// The image on a larger transparent canvas with its drop shadow under it; returns the new image and how far
    /// its top-left corner moved (negative: up and left).
    static func withShadow(_ img: RGBAImage, _ s: Shadow) -> (RGBAImage, dx: Int, dy: Int) {
        var (out, left, top) = shadow(of: img, s)
        var placed = RGBAImage(width: out.width, height: out.height)
        place(img.pixels, width: img.width, height: img.height, at: (left, top), into: &placed)
        over(&out, placed)
        return (out, -left, -top)
    }

    /// Copies RGBA `pixels` (width x height) into `canvas` with its top-left corner at `origin`, clipped to the
    /// canvas (the part outside is dropped).
    static func place(_ pixels: [UInt8], width: Int, height: Int, at origin: (x: Int, y: Int), into canvas: inout RGBAImage) {
        let c0 = max(0, origin.x), c1 = min(canvas.width, origin.x + width)
        guard c1 > c0 else { return }
        for row in max(0, origin.y)..<max(max(0, origin.y), min(canvas.height, origin.y + height)) {
            let s = ((row - origin.y) * width + (c0 - origin.x)) * 4, d = (row * canvas.width + c0) * 4
            canvas.pixels.replaceSubrange(d..<(d + (c1 - c0) * 4), with: pixels[s..<(s + (c1 - c0) * 4)])
        }
    }

    /// A solid border `thickness` pixels wide inside a `width` x `height` box (rounded when `radius` > 0).
    static func border(width: Int, height: Int, color: Color, thickness: Int, radius: Int) -> RGBAImage {
        var img = fill(.solid(color), width: width, height: height)
        if radius > 0 {
            mask(&img, coverage(.roundedRectangle, width: width, height: height, radius: Double(radius), stroke: Double(thickness)))
        } else {
            img.pixels.withUnsafeMutableBufferPointer { p in
                for y in thickness..<max(thickness, height - thickness) {
                    for x in thickness..<max(thickness, width - thickness) { p[(y * width + x) * 4 + 3] = 0 }
                }
            }
        }
        return img
    }
}
