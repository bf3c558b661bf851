import RasterImage
import SpecLang

/// Draws a caption into an RGBA image the size of its caption box.
///
/// FreeType rasterises, HarfBuzz shapes (ligatures, marks, emoji ZWJ sequences, Arabic joining), a paragraph-level
/// bidi pass orders right-to-left runs, and fonts fall back from the template's font to Noto Sans, Noto Color Emoji,
/// Noto Sans CJK and the script fonts (see docs/text.md). The text shrinks from `size` towards `minSize` until it
/// fits `maxLines` lines in the box; only then is it cut with "…".
///
/// Renders are serialised per font directory set (FreeType objects are not thread-safe); a caption is rendered
/// once per video, so that costs nothing in practice.
public struct CaptionRenderer: Sendable {
    /// The longest caption accepted, in characters (extended grapheme clusters, Swift's `String.count`).
    public static let maximumCharacters = 500
    /// The most Unicode scalars accepted (guards against a few characters carrying thousands of marks).
    public static let maximumScalars = 4000
    /// The largest caption box side in pixels.
    public static let maximumBoxSide = 8192
    /// Where fonts are looked for by default (Debian's font packages install under /usr/share/fonts).
    public static let defaultFontDirectories = ["/usr/share/fonts", "/usr/local/share/fonts"]

    let fonts: FontCache

    public init() {
        self.init(fontDirectories: Self.defaultFontDirectories)
    }

    /// A renderer looking for fonts in `fontDirectories` (searched recursively by file name).
    public init(fontDirectories: [String]) {
        fonts = FontCache.shared(directories: fontDirectories)
    }

    /// The installed font families, for `TemplateParser.Options.fontFamilies` (so `rendc lint` reports a family
    /// nothing can draw at its line): a family exists when a caption would find a file for it at either weight.
    public func fontFamilies() -> TemplateParser.FontFamilies {
        let cache = fonts
        let names = cache.withLock { cache.catalog.familyNames }
        return TemplateParser.FontFamilies(names: names) { family in
            cache.withLock {
                FontWeight.allCases.contains { FontChain.familyFace(family: family, weight: $0, italic: false, catalog: cache.catalog) != nil }
            }
        }
    }

    /// Validates raw caption bytes as UTF-8 and returns the text. Throws `CaptionError.invalidUTF8` naming the
    /// offset of the first invalid sequence (overlong forms, surrogates and truncated sequences are invalid),
    /// and `CaptionError.tooLong` above `maximumCharacters`.
    public static func decodeCaption(_ bytes: [UInt8]) throws -> String {
        if let bad = TextInput.firstInvalidUTF8Offset(bytes) {
            throw CaptionError.invalidUTF8(byteOffset: bad, bytes: bytes)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        try validateLength(text)
        return text
    }

    static func validateLength(_ text: String) throws {
        let scalars = text.unicodeScalars.count
        if scalars > maximumScalars { throw CaptionError.tooManyScalars(scalars: scalars, limit: maximumScalars) }
        let n = text.count
        if n > maximumCharacters { throw CaptionError.tooLong(characters: n, limit: maximumCharacters) }
    }

    /// Renders `text` laid out in a `width` x `height` box with `style`. Relative font paths resolve
    /// against `baseDirectory`. The result is exactly `width` x `height`, straight alpha. Empty or
    /// whitespace-only text gives a fully transparent image.
    public func render(_ text: String, style: TextStyle, width: Int, height: Int, baseDirectory: String? = nil) throws -> RGBAImage {
        try renderDetailed(text, style: style, width: width, height: height, baseDirectory: baseDirectory).image
    }

    /// `render`, plus what the layout decided (for tests and diagnostics). With `blockLines`, the text is placed in
    /// the box (`vertical_align`) as a block of at least that many lines, its lines from the block's top: a typed
    /// text's parts are placed where the whole text is, so they do not climb as lines are added.
    package func renderDetailed(
        _ text: String, style: TextStyle, width: Int, height: Int, baseDirectory: String? = nil, blockLines: Int = 0
    ) throws -> CaptionRendering {
        try laidOut(text, style: style, width: width, height: height, baseDirectory: baseDirectory, blockLines: blockLines) { laid in
            guard let laid else {
                return CaptionRendering(
                    image: RGBAImage(width: width, height: height), fontSize: style.size, lines: [], truncated: false, fontFiles: [])
            }
            return try draw(
                laid.layout, paragraphs: laid.paragraphs, ellipsis: laid.ellipsis, chain: laid.chain, style: style, width: width, height: height)
        }
    }

    /// What `renderDetailed` decides (size, lines, whether the text was cut) without drawing it: the same checks,
    /// shaping and layout, so the same answer, for a text measured before the render (submit's warnings).
    package func measure(_ text: String, style: TextStyle, width: Int, height: Int, baseDirectory: String? = nil) throws -> CaptionMeasure {
        try laidOut(text, style: style, width: width, height: height, baseDirectory: baseDirectory, blockLines: 0) { laid in
            guard let laid else { return CaptionMeasure(fontSize: style.size, lines: [], truncated: false) }
            return CaptionMeasure(
                fontSize: laid.layout.size, lines: Self.lineTexts(laid.layout, laid.paragraphs), truncated: laid.layout.truncated)
        }
    }

    /// A text shaped and laid out in its box.
    private struct LaidOut {
        var layout: CaptionLayout
        var paragraphs: [ShapedParagraph]
        var ellipsis: ShapedParagraph
        var chain: FontChain
    }

    /// Checks the text, style and box, shapes the text and lays it out, then hands the result (nil for a text with
    /// nothing to draw) to `body`, all under the font cache's lock.
    private func laidOut<T>(
        _ text: String, style: TextStyle, width: Int, height: Int, baseDirectory: String?, blockLines: Int,
        _ body: (LaidOut?) throws -> T
    ) throws -> T {
        guard width >= 1, height >= 1, width <= Self.maximumBoxSide, height <= Self.maximumBoxSide else {
            throw CaptionError.invalidBoxSize(width: width, height: height)
        }
        try Self.validate(style)
        try Self.validateLength(text)
        let paragraphs = TextInput.paragraphs(text)
        guard !paragraphs.isEmpty else { return try body(nil) }
        return try fonts.withLock {
            let chain = try FontChain(
                cache: fonts, font: style.font, baseDirectory: baseDirectory,
                cjkFaceIndex: FontChain.cjkFaceIndex(for: paragraphs))
            let shaper = Shaper(chain: chain, buffer: try ShapingBuffer(), tracking: style.letterSpacing)
            let shaped = try paragraphs.map { try shaper.shape($0) }
            let ellipsis = try shaper.shape(["\u{2026}"])
            let layout = CaptionLayout.plan(
                paragraphs: shaped, ellipsis: ellipsis, style: style, width: width, height: height,
                ascender: chain.primary.ascender, descender: -chain.primary.descender, blockLines: blockLines)
            return try body(LaidOut(layout: layout, paragraphs: shaped, ellipsis: ellipsis, chain: chain))
        }
    }

    /// Each laid-out line's text, with "…" where the layout cut it.
    static func lineTexts(_ layout: CaptionLayout, _ paragraphs: [ShapedParagraph]) -> [String] {
        layout.lines.map { pl in paragraphs[pl.line.paragraph].text(pl.line.start..<pl.line.end) + (pl.line.ellipsis ? "\u{2026}" : "") }
    }

    static func validate(_ s: TextStyle) throws {
        func bad(_ field: String, _ message: String) -> CaptionError { .invalidStyle(field: field, message: message) }
        guard s.size.isFinite, s.size >= 1, s.size <= 2000 else { throw bad("size", "must be 1...2000 px, got \(s.size)") }
        guard s.minSize.isFinite, s.minSize >= 1 else { throw bad("min_size", "must be at least 1 px, got \(s.minSize)") }
        guard s.letterSpacing.isFinite, s.letterSpacing >= -0.5, s.letterSpacing <= 2 else {
            throw bad("letter_spacing", "must be -0.5...2 em, got \(s.letterSpacing)")
        }
        guard s.maxLines >= 1, s.maxLines <= 1000 else { throw bad("max_lines", "must be 1...1000, got \(s.maxLines)") }
        guard s.lineSpacing.isFinite, s.lineSpacing > 0, s.lineSpacing <= 20 else {
            throw bad("line_spacing", "must be above 0 and at most 20, got \(s.lineSpacing)")
        }
        if let st = s.stroke {
            guard st.width.isFinite, st.width >= 0, st.width <= 500 else { throw bad("stroke.width", "must be 0...500 px, got \(st.width)") }
        }
        if let b = s.background {
            guard b.padding >= 0, b.padding <= 4000 else { throw bad("background.padding", "must be 0...4000 px, got \(b.padding)") }
            guard b.radius >= 0, b.radius <= 4000 else { throw bad("background.radius", "must be 0...4000 px, got \(b.radius)") }
        }
        if let sh = s.shadow {
            guard sh.blur >= 0, sh.blur <= 500 else { throw bad("shadow.blur", "must be 0...500 px, got \(sh.blur)") }
            guard abs(sh.offsetX) <= 10000, abs(sh.offsetY) <= 10000 else { throw bad("shadow.offset", "must be within ±10000 px") }
        }
    }

    private func draw(
        _ layout: CaptionLayout, paragraphs: [ShapedParagraph], ellipsis: ShapedParagraph, chain: FontChain,
        style: TextStyle, width: Int, height: Int
    ) throws -> CaptionRendering {
        let size = layout.size
        let strokeColor = layout.strokeRadius > 0.01 ? style.stroke?.color : nil
        let rasterizer = try GlyphRasterizer(chain: chain, size: size, strokeRadius: strokeColor == nil ? 0 : layout.strokeRadius)
        var canvas = CaptionCanvas(width: width, height: height)
        let opacity = Float(style.color.a) / 255
        for placed in layout.lines {
            let glyphs = CaptionLayout.visualGlyphs(placed.line, paragraphs: paragraphs, ellipsis: ellipsis)
            var pen = placed.x
            for g in glyphs {
                try rasterizer.draw(
                    font: g.font, glyph: g.glyph, penX: pen + g.offsetX * size, penY: placed.baseline - g.offsetY * size,
                    opacity: opacity, into: &canvas)
                pen += g.advance * size
            }
            pen -= style.letterSpacing * size
            if style.decoration != .none && pen > placed.x {
                // A strikethrough through the middle of the lowercase letters (Noto Sans's OS/2 strikeout
                // position), an underline just under the baseline; 0.06 em thick, at least a pixel.
                let thickness = max(1, 0.06 * size)
                let centre = placed.baseline + (style.decoration == .strikethrough ? -0.3 : 0.13) * size
                let (y0, y1) = (centre - thickness / 2, centre + thickness / 2)
                canvas.addRect(x0: placed.x, y0: y0, x1: pen, y1: y1, toStroke: false)
                if strokeColor != nil {
                    let r = layout.strokeRadius
                    canvas.addRect(x0: placed.x - r, y0: y0 - r, x1: pen + r, y1: y1 + r, toStroke: true)
                }
            }
        }
        var box: (rect: (x0: Double, y0: Double, x1: Double, y1: Double), radius: Double, color: Color)?
        if let bg = style.background, let r = layout.blockRect, bg.color.a > 0 {
            let p = Double(bg.padding) + layout.strokeRadius
            box = ((r.x0 - p, r.y0 - p, r.x1 + p, r.y1 + p), Double(bg.radius), bg.color)
        }
        let image = canvas.composite(
            fillColor: style.color, strokeColor: strokeColor, shadow: style.shadow, shadowScale: 1, box: box)
        let lineTexts = Self.lineTexts(layout, paragraphs)
        let files = rasterizer.usedFonts.sorted().map { chain.keys[$0].description }
        return CaptionRendering(image: image, fontSize: size, lines: lineTexts, truncated: layout.truncated, fontFiles: files)
    }
}

/// What a layout decided, without a picture (`CaptionRenderer.measure`).
package struct CaptionMeasure: Sendable, Equatable {
    package var fontSize: Double
    package var lines: [String]
    package var truncated: Bool
}

/// What a render produced and decided.
package struct CaptionRendering: Sendable {
    package var image: RGBAImage
    /// The text size used, after shrink-to-fit.
    package var fontSize: Double
    /// Each drawn line's text in logical order ("…" appended where cut).
    package var lines: [String]
    /// Text was cut with an ellipsis (or dropped) because it did not fit at the minimum size.
    package var truncated: Bool
    /// Font files that drew at least one glyph.
    package var fontFiles: [String]
    /// The size and the number of lines: what a typed text's parts take from the whole text.
    package var fitted: (size: Double, lines: Int) { (fontSize, lines.count) }
}
