internal import CTextShaping

/// Draws shaped glyphs into a `CaptionCanvas` at one text size: outline glyphs (fill and FT_Stroker border)
/// at quarter-pixel positions, colour bitmap glyphs resampled from their strike.
final class GlyphRasterizer {
    let chain: FontChain
    let size: Double
    let stroker: Stroker?

    private struct Key: Hashable {
        var font: Int
        var glyph: UInt32
        var fx: Int
        var fy: Int
    }
    private var outlineCache: [Key: (fill: CoverageBitmap?, stroke: CoverageBitmap?)] = [:]
    private(set) var usedFonts: Set<Int> = []

    init(chain: FontChain, size: Double, strokeRadius: Double) throws {
        self.chain = chain
        self.size = size
        stroker = strokeRadius > 0.01 ? try Stroker(library: chain.cache.freeType(), radius: strokeRadius) : nil
    }

    /// Draws glyph `glyph` of chain font `font` with its origin at (`penX`, `penY`) (pixels, y down).
    func draw(font: Int, glyph: UInt32, penX: Double, penY: Double, opacity: Float, into canvas: inout CaptionCanvas) throws {
        guard let face = chain.face(font) else { return }
        usedFonts.insert(font)
        if face.isColorBitmap {
            try drawColor(face: face, font: font, glyph: glyph, penX: penX, penY: penY, opacity: opacity, into: &canvas)
            return
        }
        let ix = Int(penX.rounded(.down)), iy = Int(penY.rounded(.down))
        var fx = Int(((penX - Double(ix)) * 4).rounded()), fy = Int(((penY - Double(iy)) * 4).rounded())
        var x = ix, y = iy
        if fx == 4 { fx = 0; x += 1 }
        if fy == 4 { fy = 0; y += 1 }
        let key = Key(font: font, glyph: glyph, fx: fx, fy: fy)
        let images: (fill: CoverageBitmap?, stroke: CoverageBitmap?)
        if let cached = outlineCache[key] {
            images = cached
        } else {
            images = try rasterizeOutline(face: face, glyph: glyph, fx: fx, fy: fy)
            outlineCache[key] = images
        }
        if let s = images.stroke { canvas.add(s, x: x + s.left, y: y - s.top, toStroke: true) }
        if let f = images.fill { canvas.add(f, x: x + f.left, y: y - f.top, toStroke: false) }
    }

    private func rasterizeOutline(face: FontFace, glyph: UInt32, fx: Int, fy: Int) throws -> (fill: CoverageBitmap?, stroke: CoverageBitmap?) {
        try face.setPixelSize(size)
        let flags = FT_Int32(FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP)
        guard FT_Load_Glyph(face.face, FT_UInt(glyph), flags) == 0, let slot = face.face.pointee.glyph else {
            return (nil, nil)  // a broken glyph in a font is skipped, not fatal
        }
        let isOutline = slot.pointee.format == FT_GLYPH_FORMAT_OUTLINE
        let base = try GlyphImage(slot: slot)
        // Quarter-pixel origin: right is +x, and moving down is -y in FreeType's y-up space.
        let ox = fx * 16, oy = -fy * 16
        var strokeBitmap: CoverageBitmap?
        if let stroker, isOutline {
            let border = try base.copy()
            try border.strokeOutside(stroker)
            strokeBitmap = try border.rasterize(originX: ox, originY: oy)
        }
        let fill = try base.rasterize(originX: isOutline ? ox : 0, originY: isOutline ? oy : 0)
        return (fill, strokeBitmap)
    }

    private func drawColor(
        face: FontFace, font: Int, glyph: UInt32, penX: Double, penY: Double, opacity: Float, into canvas: inout CaptionCanvas
    ) throws {
        let source: ColorBitmap?
        if let cached = face.colorBitmaps[glyph] {
            source = cached
        } else {
            source = loadColorBitmap(face: face, glyph: glyph)
            if let source, face.colorBitmaps.count < FontFace.colorBitmapCacheLimit { face.colorBitmaps[glyph] = source }
        }
        guard let src = source, src.width > 0, src.height > 0, face.strikePixelSize > 0 else { return }
        let scale = size / face.strikePixelSize
        let patch = Resampler.resample(
            src.pixels, sw: src.width, sh: src.height, scale: scale,
            dx: penX + Double(src.left) * scale, dy: penY - Double(src.top) * scale,
            clipWidth: canvas.width, clipHeight: canvas.height)
        canvas.addColor(patch, opacity: opacity)
    }

    /// The strike bitmap of a colour glyph as premultiplied float RGBA (FreeType gives premultiplied BGRA).
    private func loadColorBitmap(face: FontFace, glyph: UInt32) -> ColorBitmap? {
        guard FT_Load_Glyph(face.face, FT_UInt(glyph), FT_Int32(FT_LOAD_COLOR)) == 0, let slot = face.face.pointee.glyph else {
            return nil
        }
        let bm = slot.pointee.bitmap
        let w = Int(bm.width), h = Int(bm.rows), pitch = Int(bm.pitch)
        guard w > 0, h > 0, let buf = bm.buffer else { return nil }
        var px = [Float](repeating: 0, count: w * h * 4)
        let mode = bm.pixel_mode
        if mode == UInt8(FT_PIXEL_MODE_BGRA.rawValue) {
            for y in 0..<h {
                let row = buf + y * pitch
                for x in 0..<w {
                    let s = row + x * 4, d = (y * w + x) * 4
                    px[d] = Float(s[2]) / 255
                    px[d + 1] = Float(s[1]) / 255
                    px[d + 2] = Float(s[0]) / 255
                    px[d + 3] = Float(s[3]) / 255
                }
            }
        } else if mode == UInt8(FT_PIXEL_MODE_GRAY.rawValue) {
            for y in 0..<h {
                let row = buf + y * pitch
                for x in 0..<w {
                    let a = Float(row[x]) / 255, d = (y * w + x) * 4
                    px[d] = a; px[d + 1] = a; px[d + 2] = a; px[d + 3] = a
                }
            }
        } else {
            return nil
        }
        return ColorBitmap(left: Int(slot.pointee.bitmap_left), top: Int(slot.pointee.bitmap_top), width: w, height: h, pixels: px)
    }
}
