import RasterImage
import SpecLang

/// The layers of one caption, kept apart until the end so the stroke lies under every glyph's fill and the
/// shadow under both: fill and stroke coverage (0...1) and a premultiplied colour layer for emoji.
struct CaptionCanvas {
    let width: Int
    let height: Int
    var fill: [Float]
    var stroke: [Float]
    /// Premultiplied RGBA, allocated on the first colour glyph.
    var color: [Float]?

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

    /// Composites a premultiplied RGBA patch (`pw` x `ph`, top-left at `px`, `py`) over the colour layer.
    mutating func addColor(_ patch: [Float], px: Int, py: Int, pw: Int, ph: Int, opacity: Float) {
        let w = width, h = height
        let x0 = max(0, px), y0 = max(0, py)
        let x1 = min(w, px + pw), y1 = min(h, py + ph)
        guard x0 < x1, y0 < y1 else { return }
        var layer = color ?? [Float](repeating: 0, count: width * height * 4)
        color = nil  // keep the buffer uniquely referenced while it is written
        defer { color = layer }
        patch.withUnsafeBufferPointer { src in
            layer.withUnsafeMutableBufferPointer { dst in
                for yy in y0..<y1 {
                    for xx in x0..<x1 {
                        let si = ((yy - py) * pw + (xx - px)) * 4
                        let a = src[si + 3] * opacity
                        guard a > 0 else { continue }
                        let di = (yy * w + xx) * 4
                        let k = 1 - a
                        dst[di] = src[si] * opacity + dst[di] * k
                        dst[di + 1] = src[si + 1] * opacity + dst[di + 1] * k
                        dst[di + 2] = src[si + 2] * opacity + dst[di + 2] * k
                        dst[di + 3] = a + dst[di + 3] * k
                    }
                }
            }
        }
    }

    /// Flattens the layers, bottom to top: background box, shadow, stroke, fill, colour glyphs.
    func composite(
        fillColor: Color, strokeColor: Color?, shadow: Shadow?, shadowScale: Double,
        box: (rect: (x0: Double, y0: Double, x1: Double, y1: Double), radius: Double, color: Color)?
    ) -> RGBAImage {
        let n = width * height
        var out = [Float](repeating: 0, count: n * 4)

        func over(_ i: Int, _ c: Color, _ coverage: Float, _ out: inout UnsafeMutableBufferPointer<Float>) {
            let a = coverage * Float(c.a) / 255
            guard a > 0 else { return }
            let k = 1 - a, o = i * 4
            out[o] = Float(c.r) / 255 * a + out[o] * k
            out[o + 1] = Float(c.g) / 255 * a + out[o + 1] * k
            out[o + 2] = Float(c.b) / 255 * a + out[o + 2] * k
            out[o + 3] = a + out[o + 3] * k
        }

        out.withUnsafeMutableBufferPointer { o in
            if let box {
                let cov = Self.roundedRectCoverage(width: width, height: height, rect: box.rect, radius: box.radius)
                for i in 0..<n where cov[i] > 0 { over(i, box.color, cov[i], &o) }
            }
            if let shadow, shadow.color.a > 0 {
                var mask = [Float](repeating: 0, count: n)
                for i in 0..<n {
                    let s = stroke[i], f = fill[i]
                    var m = s + f * (1 - s)
                    if let color { m = m + color[i * 4 + 3] * (1 - m) }
                    mask[i] = m
                }
                let sigma = Double(shadow.blur) * shadowScale / 2
                mask = Self.gaussianBlur(mask, width: width, height: height, sigma: sigma)
                let dx = Int((Double(shadow.offsetX) * shadowScale).rounded())
                let dy = Int((Double(shadow.offsetY) * shadowScale).rounded())
                for y in 0..<height {
                    let sy = y - dy
                    guard sy >= 0 && sy < height else { continue }
                    for x in 0..<width {
                        let sx = x - dx
                        guard sx >= 0 && sx < width else { continue }
                        let m = mask[sy * width + sx]
                        if m > 0 { over(y * width + x, shadow.color, m, &o) }
                    }
                }
            }
            if let strokeColor {
                for i in 0..<n where stroke[i] > 0 { over(i, strokeColor, stroke[i], &o) }
            }
            for i in 0..<n where fill[i] > 0 { over(i, fillColor, fill[i], &o) }
            if let color {
                for i in 0..<n {
                    let a = color[i * 4 + 3]
                    guard a > 0 else { continue }
                    let k = 1 - a, j = i * 4
                    o[j] = color[j] + o[j] * k
                    o[j + 1] = color[j + 1] + o[j + 1] * k
                    o[j + 2] = color[j + 2] + o[j + 2] * k
                    o[j + 3] = a + o[j + 3] * k
                }
            }
        }

        // Premultiplied float -> straight 8-bit.
        var pixels = [UInt8](repeating: 0, count: n * 4)
        pixels.withUnsafeMutableBufferPointer { p in
            out.withUnsafeBufferPointer { o in
                for i in 0..<n {
                    let j = i * 4
                    let a = min(1, o[j + 3])
                    guard a > 0.5 / 255 else { continue }
                    let inv = 1 / a
                    p[j] = UInt8(min(255, max(0, o[j] * inv * 255 + 0.5)))
                    p[j + 1] = UInt8(min(255, max(0, o[j + 1] * inv * 255 + 0.5)))
                    p[j + 2] = UInt8(min(255, max(0, o[j + 2] * inv * 255 + 0.5)))
                    p[j + 3] = UInt8(min(255, a * 255 + 0.5))
                }
            }
        }
        return RGBAImage(width: width, height: height, pixels: pixels)
    }

    /// Anti-aliased coverage of a rounded rectangle (signed distance, one-pixel ramp).
    static func roundedRectCoverage(
        width: Int, height: Int, rect: (x0: Double, y0: Double, x1: Double, y1: Double), radius: Double
    ) -> [Float] {
        var cov = [Float](repeating: 0, count: width * height)
        let cx = (rect.x0 + rect.x1) / 2, cy = (rect.y0 + rect.y1) / 2
        let hx = max(0, (rect.x1 - rect.x0) / 2), hy = max(0, (rect.y1 - rect.y0) / 2)
        let r = min(max(0, radius), min(hx, hy))
        let ys = max(0, Int(rect.y0.rounded(.down)) - 1), ye = min(height, Int(rect.y1.rounded(.up)) + 1)
        let xs = max(0, Int(rect.x0.rounded(.down)) - 1), xe = min(width, Int(rect.x1.rounded(.up)) + 1)
        guard ys < ye, xs < xe else { return cov }
        for y in ys..<ye {
            let qy = abs(Double(y) + 0.5 - cy) - (hy - r)
            for x in xs..<xe {
                let qx = abs(Double(x) + 0.5 - cx) - (hx - r)
                let ox = max(qx, 0), oy = max(qy, 0)
                let d = (ox * ox + oy * oy).squareRoot() + min(max(qx, qy), 0) - r
                let c = min(1, max(0, 0.5 - d))
                cov[y * width + x] = Float(c)
            }
        }
        return cov
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
    static func resample(_ src: [Float], sw: Int, sh: Int, scale: Double, dx: Double, dy: Double) -> Patch {
        let xw = weights(count: sw, scale: scale, origin: dx)
        let yw = weights(count: sh, scale: scale, origin: dy)
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
    private static func weights(count: Int, scale: Double, origin: Double) -> (first: Int, taps: [[(Int, Float)]]) {
        let radius = max(1, 1 / scale)  // in source pixels
        let first = Int((origin - radius * scale).rounded(.down))
        let last = Int((origin + Double(count) * scale + radius * scale).rounded(.up))
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
