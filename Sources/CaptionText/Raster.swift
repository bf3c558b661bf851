import RasterImage
import SpecLang

/// The layers of one caption, kept apart until the end so the stroke lies under every glyph's fill and the
/// shadow under both: fill and stroke coverage (0...1) and a premultiplied colour layer for emoji.
struct CaptionCanvas {
    let width: Int
    let height: Int
    var fill: [Float]
    var stroke: [Float]
    /// Colour glyphs (premultiplied RGBA patches) in drawing order, with their opacity.
    var patches: [(patch: Resampler.Patch, opacity: Float)] = []
    /// The rectangle any layer has touched (x0..<x1, y0..<y1); empty when x0 >= x1.
    private(set) var dirty = (x0: Int.max, y0: Int.max, x1: Int.min, y1: Int.min)

    private mutating func touch(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) {
        dirty = (min(dirty.x0, x0), min(dirty.y0, y0), max(dirty.x1, x1), max(dirty.y1, y1))
    }

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        fill = [Float](repeating: 0, count: width * height)
        stroke = [Float](repeating: 0, count: width * height)
    }

    /// Adds a coverage bitmap whose top-left pixel lands at (`x`, `y`), combining with "over".
    mutating func add(_ bm: CoverageBitmap, x: Int, y: Int, toStroke: Bool) {
        let w = width, h = height
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(w, x + bm.width), y1 = min(h, y + bm.height)
        guard x0 < x1, y0 < y1 else { return }
        touch(x0, y0, x1, y1)
        bm.pixels.withUnsafeBufferPointer { src in
            func blend(_ dst: inout UnsafeMutableBufferPointer<Float>) {
                for yy in y0..<y1 {
                    let srow = (yy - y) * bm.width - x
                    let drow = yy * w
                    for xx in x0..<x1 {
                        let c = Float(src[srow + xx]) * (1 / 255)
                        if c > 0 {
                            let d = dst[drow + xx]
                            dst[drow + xx] = d + c * (1 - d)
                        }
                    }
                }
            }
            if toStroke {
                stroke.withUnsafeMutableBufferPointer { blend(&$0) }
            } else {
                fill.withUnsafeMutableBufferPointer { blend(&$0) }
            }
        }
    }

    /// Adds a filled rectangle (a text decoration) to the fill or stroke coverage, its top and bottom edges
    /// anti-aliased by the fraction of each pixel row they cover.
    mutating func addRect(x0: Double, y0: Double, x1: Double, y1: Double, toStroke: Bool) {
        let px0 = max(0, Int(x0.rounded(.down))), px1 = min(width, Int(x1.rounded(.up)))
        let py0 = max(0, Int(y0.rounded(.down))), py1 = min(height, Int(y1.rounded(.up)))
        guard px0 < px1, py0 < py1 else { return }
        touch(px0, py0, px1, py1)
        func blend(_ dst: inout [Float]) {
            for y in py0..<py1 {
                let rowCover = Float(min(y1, Double(y + 1)) - max(y0, Double(y)))
                for x in px0..<px1 {
                    let c = rowCover * Float(min(x1, Double(x + 1)) - max(x0, Double(x)))
                    guard c > 0 else { continue }
                    let d = dst[y * width + x]
                    dst[y * width + x] = d + c * (1 - d)
                }
            }
        }
        if toStroke { blend(&stroke) } else { blend(&fill) }
    }

    /// Adds a colour glyph patch (drawn above every fill and stroke).
    mutating func addColor(_ patch: Resampler.Patch, opacity: Float) {
        let x0 = max(0, patch.x), y0 = max(0, patch.y)
        let x1 = min(width, patch.x + patch.width), y1 = min(height, patch.y + patch.height)
        guard x0 < x1, y0 < y1, opacity > 0 else { return }
        touch(x0, y0, x1, y1)
        patches.append((patch, opacity))
    }

    /// Calls `body(canvasIndex, premultiplied r, g, b, a)` for every patch pixel on the canvas, in order.
    private func forEachPatchPixel(_ body: (Int, Float, Float, Float, Float) -> Void) {
        for (p, opacity) in patches {
            let x0 = max(0, p.x), y0 = max(0, p.y)
            let x1 = min(width, p.x + p.width), y1 = min(height, p.y + p.height)
            guard x0 < x1, y0 < y1 else { continue }
            p.pixels.withUnsafeBufferPointer { src in
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let si = ((y - p.y) * p.width + (x - p.x)) * 4
                        let a = src[si + 3] * opacity
                        if a > 0 { body(y * width + x, src[si] * opacity, src[si + 1] * opacity, src[si + 2] * opacity, a) }
                    }
                }
            }
        }
    }

    /// Flattens the layers, bottom to top: background box, shadow, stroke, fill, colour glyphs, in one pass
    /// over the touched rectangle (everything else stays transparent).
    func composite(
        fillColor: Color, strokeColor: Color?, shadow: Shadow?, shadowScale: Double,
        box: (rect: (x0: Double, y0: Double, x1: Double, y1: Double), radius: Double, color: Color)?
    ) -> RGBAImage {
        let w = width, h = height
        var pixels = [UInt8](repeating: 0, count: w * h * 4)
        guard dirty.x0 < dirty.x1 else { return RGBAImage(width: w, height: h, pixels: pixels) }

        // The region to flatten: what glyphs touched, grown by the shadow's reach, plus the box.
        var rx0 = dirty.x0, ry0 = dirty.y0, rx1 = dirty.x1, ry1 = dirty.y1
        var shadowMask: [Float]?
        var sdx = 0, sdy = 0
        if let shadow, shadow.color.a > 0 {
            let sigma = Double(shadow.blur) * shadowScale / 2
            let reach = Int((3 * sigma).rounded(.up)) + 1
            sdx = Int((Double(shadow.offsetX) * shadowScale).rounded())
            sdy = Int((Double(shadow.offsetY) * shadowScale).rounded())
            rx0 = min(rx0, dirty.x0 + sdx - reach); rx1 = max(rx1, dirty.x1 + sdx + reach)
            ry0 = min(ry0, dirty.y0 + sdy - reach); ry1 = max(ry1, dirty.y1 + sdy + reach)
            var mask = [Float](repeating: 0, count: w * h)
            for y in dirty.y0..<dirty.y1 {
                for x in dirty.x0..<dirty.x1 {
                    let i = y * w + x
                    let s = stroke[i], f = fill[i]
                    mask[i] = s + f * (1 - s)
                }
            }
            forEachPatchPixel { i, _, _, _, a in mask[i] = mask[i] + a * (1 - mask[i]) }
            shadowMask = Self.gaussianBlur(mask, width: w, height: h, sigma: sigma)
        }
        var boxBounds: (x0: Int, y0: Int, x1: Int, y1: Int)?
        if let box {
            let b = (
                max(0, Int(box.rect.x0.rounded(.down)) - 1), max(0, Int(box.rect.y0.rounded(.down)) - 1),
                min(w, Int(box.rect.x1.rounded(.up)) + 1), min(h, Int(box.rect.y1.rounded(.up)) + 1)
            )
            if b.0 < b.2 && b.1 < b.3 {
                boxBounds = b
                rx0 = min(rx0, b.0); ry0 = min(ry0, b.1); rx1 = max(rx1, b.2); ry1 = max(ry1, b.3)
            }
        }
        rx0 = max(0, rx0); ry0 = max(0, ry0); rx1 = min(w, rx1); ry1 = min(h, ry1)
        guard rx0 < rx1, ry0 < ry1 else { return RGBAImage(width: w, height: h, pixels: pixels) }

        struct Paint { var r: Float, g: Float, b: Float, a: Float }
        func paint(_ c: Color) -> Paint { Paint(r: Float(c.r) / 255, g: Float(c.g) / 255, b: Float(c.b) / 255, a: Float(c.a) / 255) }
        let fillPaint = paint(fillColor)
        let strokePaint = strokeColor.map(paint)
        let shadowPaint = shadow.map { paint($0.color) }
        let boxPaint = box.map { paint($0.color) }
        let boxGeometry = box.map { b -> (cx: Double, cy: Double, hx: Double, hy: Double, r: Double) in
            let hx = max(0, (b.rect.x1 - b.rect.x0) / 2), hy = max(0, (b.rect.y1 - b.rect.y0) / 2)
            return ((b.rect.x0 + b.rect.x1) / 2, (b.rect.y0 + b.rect.y1) / 2, hx, hy, min(max(0, b.radius), min(hx, hy)))
        }

        pixels.withUnsafeMutableBufferPointer { out in
            fill.withUnsafeBufferPointer { fillM in
                stroke.withUnsafeBufferPointer { strokeM in
                    for y in ry0..<ry1 {
                        for x in rx0..<rx1 {
                            let i = y * w + x
                            // Premultiplied accumulator.
                            var r: Float = 0, g: Float = 0, b: Float = 0, a: Float = 0
                            @inline(__always) func over(_ p: Paint, _ coverage: Float) {
                                let ca = coverage * p.a
                                guard ca > 0 else { return }
                                let k = 1 - ca
                                r = p.r * ca + r * k; g = p.g * ca + g * k; b = p.b * ca + b * k; a = ca + a * k
                            }
                            if let bb = boxBounds, let bp = boxPaint, let geo = boxGeometry,
                                x >= bb.x0, x < bb.x1, y >= bb.y0, y < bb.y1
                            {
                                let qx = abs(Double(x) + 0.5 - geo.cx) - (geo.hx - geo.r)
                                let qy = abs(Double(y) + 0.5 - geo.cy) - (geo.hy - geo.r)
                                let ox = max(qx, 0), oy = max(qy, 0)
                                let d = (ox * ox + oy * oy).squareRoot() + min(max(qx, qy), 0) - geo.r
                                over(bp, Float(min(1, max(0, 0.5 - d))))
                            }
                            if let mask = shadowMask, let sp = shadowPaint {
                                let sx = x - sdx, sy = y - sdy
                                if sx >= 0, sx < w, sy >= 0, sy < h { over(sp, mask[sy * w + sx]) }
                            }
                            if let sp = strokePaint { over(sp, strokeM[i]) }
                            over(fillPaint, fillM[i])
                            let alpha = min(1, a)
                            guard alpha > 0.5 / 255 else { continue }
                            let inv = 1 / alpha, j = i * 4
                            out[j] = UInt8(min(255, max(0, r * inv * 255 + 0.5)))
                            out[j + 1] = UInt8(min(255, max(0, g * inv * 255 + 0.5)))
                            out[j + 2] = UInt8(min(255, max(0, b * inv * 255 + 0.5)))
                            out[j + 3] = UInt8(min(255, alpha * 255 + 0.5))
                        }
                    }
                }
            }
        }
        // Colour glyphs on top (back to premultiplied for the few pixels they cover).
        pixels.withUnsafeMutableBufferPointer { out in
            forEachPatchPixel { i, sr, sg, sb, sa in
                let j = i * 4, k = 1 - sa
                let da = Float(out[j + 3]) / 255
                let r = sr + Float(out[j]) / 255 * da * k
                let g = sg + Float(out[j + 1]) / 255 * da * k
                let b = sb + Float(out[j + 2]) / 255 * da * k
                let a = min(1, sa + da * k)
                guard a > 0.5 / 255 else { return }
                let inv = 1 / a
                out[j] = UInt8(min(255, max(0, r * inv * 255 + 0.5)))
                out[j + 1] = UInt8(min(255, max(0, g * inv * 255 + 0.5)))
                out[j + 2] = UInt8(min(255, max(0, b * inv * 255 + 0.5)))
                out[j + 3] = UInt8(min(255, a * 255 + 0.5))
            }
        }
        return RGBAImage(width: w, height: h, pixels: pixels)
    }

    /// Gaussian blur approximated by three box blurs per axis.
    static func gaussianBlur(_ src: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        guard sigma >= 0.3, width > 0, height > 0 else { return src }
        let ideal = (12 * sigma * sigma / 3 + 1).squareRoot()
        let radius = max(1, Int(((ideal - 1) / 2).rounded()))
        var a = src
        var b = [Float](repeating: 0, count: src.count)
        for _ in 0..<3 {
            boxBlurH(a, &b, width, height, radius)
            boxBlurV(b, &a, width, height, radius)
        }
        return a
    }

    private static func boxBlurH(_ src: [Float], _ dst: inout [Float], _ w: Int, _ h: Int, _ r: Int) {
        let scale = 1 / Float(2 * r + 1)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                for y in 0..<h {
                    let row = y * w
                    var acc: Float = 0
                    for k in -r...r where k >= 0 && k < w { acc += s[row + k] }
                    for x in 0..<w {
                        d[row + x] = acc * scale
                        let add = x + r + 1, sub = x - r
                        if add < w { acc += s[row + add] }
                        if sub >= 0 { acc -= s[row + sub] }
                    }
                }
            }
        }
    }

    private static func boxBlurV(_ src: [Float], _ dst: inout [Float], _ w: Int, _ h: Int, _ r: Int) {
        let scale = 1 / Float(2 * r + 1)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                for x in 0..<w {
                    var acc: Float = 0
                    for k in -r...r where k >= 0 && k < h { acc += s[k * w + x] }
                    for y in 0..<h {
                        d[y * w + x] = acc * scale
                        let add = y + r + 1, sub = y - r
                        if add < h { acc += s[add * w + x] }
                        if sub >= 0 { acc -= s[sub * w + x] }
                    }
                }
            }
        }
    }
}

/// Resampling of colour bitmap glyphs (premultiplied RGBA) to the text size: a tent filter as wide as the
/// scale step when shrinking (area-like averaging, no aliasing), bilinear when enlarging.
enum Resampler {
    struct Patch {
        var x: Int
        var y: Int
        var width: Int
        var height: Int
        var pixels: [Float]
    }

    /// Places the `sw` x `sh` source so its top-left corner lands at (`dx`, `dy`) (fractional) with `scale`.
    /// Only output pixels inside `clipWidth` x `clipHeight` (the canvas) are computed.
    static func resample(
        _ src: [Float], sw: Int, sh: Int, scale: Double, dx: Double, dy: Double, clipWidth: Int, clipHeight: Int
    ) -> Patch {
        let xw = weights(count: sw, scale: scale, origin: dx, clip: clipWidth)
        let yw = weights(count: sh, scale: scale, origin: dy, clip: clipHeight)
        let ow = xw.taps.count, oh = yw.taps.count
        // Horizontal pass: sh rows x ow columns.
        var tmp = [Float](repeating: 0, count: sh * ow * 4)
        src.withUnsafeBufferPointer { s in
            tmp.withUnsafeMutableBufferPointer { t in
                for y in 0..<sh {
                    for (ox, taps) in xw.taps.enumerated() {
                        var r: Float = 0, g: Float = 0, b: Float = 0, a: Float = 0
                        for (j, w) in taps {
                            let si = (y * sw + j) * 4
                            r += s[si] * w; g += s[si + 1] * w; b += s[si + 2] * w; a += s[si + 3] * w
                        }
                        let ti = (y * ow + ox) * 4
                        t[ti] = r; t[ti + 1] = g; t[ti + 2] = b; t[ti + 3] = a
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: oh * ow * 4)
        tmp.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in
                for (oy, taps) in yw.taps.enumerated() {
                    for ox in 0..<ow {
                        var r: Float = 0, g: Float = 0, b: Float = 0, a: Float = 0
                        for (j, w) in taps {
                            let ti = (j * ow + ox) * 4
                            r += t[ti] * w; g += t[ti + 1] * w; b += t[ti + 2] * w; a += t[ti + 3] * w
                        }
                        let oi = (oy * ow + ox) * 4
                        o[oi] = r; o[oi + 1] = g; o[oi + 2] = b; o[oi + 3] = min(1, a)
                    }
                }
            }
        }
        return Patch(x: xw.first, y: yw.first, width: ow, height: oh, pixels: out)
    }

    /// For each output pixel from `first` on, the source taps and their normalised weights.
    private static func weights(count: Int, scale: Double, origin: Double, clip: Int) -> (first: Int, taps: [[(Int, Float)]]) {
        let radius = max(1, 1 / scale)  // in source pixels
        let first = max(0, Int((origin - radius * scale).rounded(.down)))
        let last = min(clip, Int((origin + Double(count) * scale + radius * scale).rounded(.up)))
        var taps: [[(Int, Float)]] = []
        taps.reserveCapacity(max(0, last - first))
        for X in first..<max(first, last) {
            let s = (Double(X) + 0.5 - origin) / scale
            let j0 = Int((s - radius - 0.5).rounded(.down)), j1 = Int((s + radius - 0.5).rounded(.up))
            var total = 0.0
            var list: [(Int, Float)] = []
            for j in j0...j1 {
                let w = max(0, 1 - abs(Double(j) + 0.5 - s) / radius)
                total += w
                if w > 0 && j >= 0 && j < count { list.append((j, Float(w))) }
            }
            if total > 0 { list = list.map { ($0.0, $0.1 / Float(total)) } }
            taps.append(list)
        }
        return (first, taps)
    }
}
