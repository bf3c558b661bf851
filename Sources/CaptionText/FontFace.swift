internal import CTextShaping

/// Owns one `FT_Library`. Not thread-safe: every use happens under `FontCache`'s lock.
final class FreeTypeLibrary {
    let handle: FT_Library

    init() throws {
        var lib: FT_Library?
        let err = FT_Init_FreeType(&lib)
        guard err == 0, let lib else { throw CaptionError.engine(operation: "FT_Init_FreeType", code: err) }
        handle = lib
    }

    deinit { FT_Done_FreeType(handle) }
}

/// One font face: the FreeType face (glyph images) and a HarfBuzz font over the same tables (shaping).
///
/// HarfBuzz shapes in font units (`scale = upem`), so a run is shaped once and laid out at any size by
/// multiplying: shrink-to-fit never reshapes. FreeType is only asked for glyph images at the final size.
final class FontFace {
    let library: FreeTypeLibrary  // kept alive as long as the face
    let face: FT_Face
    let hbFont: OpaquePointer
    let path: String
    let index: Int
    /// A bitmap-only colour font (CBDT/sbix, e.g. Noto Color Emoji): glyphs come from a fixed strike and are scaled.
    let isColorBitmap: Bool
    let unitsPerEm: Double
    /// Font-wide ascender and descender (descender negative), in em.
    let ascender: Double
    let descender: Double
    /// Pixel size of the selected strike for bitmap fonts.
    let strikePixelSize: Double
    private var currentPixelSize: Double = -1
    /// Decoded strike bitmaps of colour glyphs (PNG inside CBDT), kept across renders; bounded.
    var colorBitmaps: [UInt32: ColorBitmap] = [:]
    static let colorBitmapCacheLimit = 512

    init(library: FreeTypeLibrary, path: String, index: Int) throws {
        var f: FT_Face?
        let err = FT_New_Face(library.handle, path, FT_Long(index), &f)
        guard err == 0, let f else { throw CaptionError.fontLoadFailed(path: path, freeTypeError: err) }
        self.library = library
        self.face = f
        self.path = path
        self.index = index

        let scalable = rendc_ft_is_scalable(f) != 0
        isColorBitmap = !scalable && rendc_ft_has_color(f) != 0
        var strike = 0.0
        if !scalable {
            // Pick the largest strike: downscaling a big bitmap filters better than upscaling a small one.
            let count = Int(f.pointee.num_fixed_sizes)
            var best = -1
            if count > 0, let sizes = f.pointee.available_sizes {
                for i in 0..<count where best < 0 || sizes[i].y_ppem > sizes[best].y_ppem { best = i }
            }
            guard best >= 0, let sizes = f.pointee.available_sizes else {
                FT_Done_Face(f)
                throw CaptionError.fontLoadFailed(path: path, freeTypeError: -1)
            }
            let sel = FT_Select_Size(f, FT_Int(best))
            guard sel == 0 else {
                FT_Done_Face(f)
                throw CaptionError.fontLoadFailed(path: path, freeTypeError: sel)
            }
            strike = Double(sizes[best].y_ppem) / 64
        }
        strikePixelSize = strike

        guard let hbFace = hb_ft_face_create_referenced(f) else {
            FT_Done_Face(f)
            throw CaptionError.engine(operation: "hb_ft_face_create_referenced", code: 0)
        }
        let upem = max(1, Int32(hb_face_get_upem(hbFace)))
        guard let font = hb_font_create(hbFace) else {
            hb_face_destroy(hbFace)
            FT_Done_Face(f)
            throw CaptionError.engine(operation: "hb_font_create", code: 0)
        }
        hb_face_destroy(hbFace)  // the font holds its own reference
        hb_font_set_scale(font, upem, upem)
        hbFont = font
        unitsPerEm = Double(upem)

        var asc = Double(f.pointee.ascender), desc = Double(f.pointee.descender)
        let faceUPEM = Double(f.pointee.units_per_EM)
        if faceUPEM > 0 && asc > 0 {
            asc /= faceUPEM; desc /= faceUPEM
        } else {
            asc = 0.9; desc = -0.25
        }
        ascender = asc
        descender = desc
    }

    deinit {
        hb_font_destroy(hbFont)
        FT_Done_Face(face)
    }

    func covers(_ codepoint: UInt32) -> Bool {
        FT_Get_Char_Index(face, FT_ULong(codepoint)) != 0
    }

    /// Sets the em size in pixels for outline glyph loading (no-op for bitmap fonts and when unchanged).
    func setPixelSize(_ size: Double) throws {
        guard !isColorBitmap, size != currentPixelSize else { return }
        let err = FT_Set_Char_Size(face, 0, FT_F26Dot6((size * 64).rounded()), 72, 72)
        guard err == 0 else { throw CaptionError.engine(operation: "FT_Set_Char_Size(\(size))", code: err) }
        currentPixelSize = size
    }
}

/// Owns one `FT_Stroker` set to a round-join radius.
final class Stroker {
    let handle: FT_Stroker

    init(library: FreeTypeLibrary, radius: Double) throws {
        var s: FT_Stroker?
        let err = FT_Stroker_New(library.handle, &s)
        guard err == 0, let s else { throw CaptionError.engine(operation: "FT_Stroker_New", code: err) }
        handle = s
        FT_Stroker_Set(s, FT_Fixed((radius * 64).rounded()), FT_STROKER_LINECAP_ROUND, FT_STROKER_LINEJOIN_ROUND, 0)
    }

    deinit { FT_Stroker_Done(handle) }
}

/// Owns one `FT_Glyph` (a copy of a loaded outline or bitmap glyph).
final class GlyphImage {
    private(set) var handle: FT_Glyph

    init(slot: FT_GlyphSlot) throws {
        var g: FT_Glyph?
        let err = FT_Get_Glyph(slot, &g)
        guard err == 0, let g else { throw CaptionError.engine(operation: "FT_Get_Glyph", code: err) }
        handle = g
    }

    private init(handle: FT_Glyph) { self.handle = handle }

    deinit { FT_Done_Glyph(handle) }

    func copy() throws -> GlyphImage {
        var g: FT_Glyph?
        let err = FT_Glyph_Copy(handle, &g)
        guard err == 0, let g else { throw CaptionError.engine(operation: "FT_Glyph_Copy", code: err) }
        return GlyphImage(handle: g)
    }

    /// Replaces the outline by its outer border (the glyph grown by the stroker's radius).
    func strokeOutside(_ stroker: Stroker) throws {
        var g: FT_Glyph? = handle
        let err = FT_Glyph_StrokeBorder(&g, stroker.handle, 0, 1)
        // On failure FreeType leaves the glyph untouched when destroy is set and the call fails early.
        if let g { handle = g }
        guard err == 0 else { throw CaptionError.engine(operation: "FT_Glyph_StrokeBorder", code: err) }
    }

    /// Renders to an 8-bit coverage bitmap, shifted by a sub-pixel origin (26.6 units, y up).
    func rasterize(originX: Int, originY: Int) throws -> CoverageBitmap {
        var g: FT_Glyph? = handle
        var origin = FT_Vector(x: FT_Pos(originX), y: FT_Pos(originY))
        let err = FT_Glyph_To_Bitmap(&g, FT_RENDER_MODE_NORMAL, &origin, 1)
        if let g { handle = g }
        guard err == 0 else { throw CaptionError.engine(operation: "FT_Glyph_To_Bitmap", code: err) }
        guard let bg = rendc_ft_bitmap_glyph(handle) else {
            throw CaptionError.engine(operation: "FT_Glyph_To_Bitmap (no bitmap)", code: 0)
        }
        let bm = bg.pointee.bitmap
        let w = Int(bm.width), h = Int(bm.rows), pitch = Int(bm.pitch)
        var pixels = [UInt8](repeating: 0, count: w * h)
        if w > 0, h > 0, let buf = bm.buffer, bm.pixel_mode == UInt8(FT_PIXEL_MODE_GRAY.rawValue) {
            pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = pitch >= 0 ? buf + y * pitch : buf + (h - 1 - y) * (-pitch)
                    for x in 0..<w { dst[y * w + x] = row[x] }
                }
            }
        }
        return CoverageBitmap(left: Int(bg.pointee.left), top: Int(bg.pointee.top), width: w, height: h, pixels: pixels)
    }
}

/// A colour glyph's strike bitmap as premultiplied float RGBA, placed relative to its origin (`top` is up).
struct ColorBitmap {
    var left: Int
    var top: Int
    var width: Int
    var height: Int
    var pixels: [Float]
}

/// An 8-bit coverage bitmap placed relative to a glyph origin (`top` is up from the baseline).
struct CoverageBitmap {
    var left: Int
    var top: Int
    var width: Int
    var height: Int
    var pixels: [UInt8]
}
