internal import CTextShaping

/// One user-perceived character (extended grapheme cluster) of a paragraph.
struct Grapheme {
    var scalars: Range<Int>
    /// Chain index of the font that draws it.
    var font: Int
    var level: UInt8
    var isSpace: Bool
    /// Total advance of its glyphs, in em.
    var advance: Double
    /// A line may break before it in `word` mode (after spaces, around CJK and emoji, after hyphens).
    var breakBefore: Bool
}

struct ShapedGlyph {
    var font: Int
    var glyph: UInt32
    /// Index of the grapheme the glyph belongs to (HarfBuzz's cluster, mapped).
    var grapheme: Int
    /// In em.
    var advance: Double
    var offsetX: Double
    var offsetY: Double
}

/// A maximal stretch of graphemes with one font, one bidi level and one script, shaped as a unit.
struct ShapedRun {
    var level: UInt8
    var graphemes: Range<Int>
    /// In visual order (HarfBuzz returns right-to-left runs already reversed).
    var glyphs: [ShapedGlyph]
}

struct ShapedParagraph {
    var level: UInt8
    var scalars: [Unicode.Scalar]
    var graphemes: [Grapheme]
    var runs: [ShapedRun]

    /// The text of graphemes `range` (for reports and tests).
    func text(_ range: Range<Int>) -> String {
        guard !range.isEmpty else { return "" }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[graphemes[range.lowerBound].scalars.lowerBound..<graphemes[range.upperBound - 1].scalars.upperBound])
        return String(s)
    }
}

/// Owns one `hb_buffer_t`.
final class ShapingBuffer {
    let handle: OpaquePointer

    init() throws {
        guard let b = hb_buffer_create(), hb_buffer_allocation_successful(b) != 0 else {
            throw CaptionError.engine(operation: "hb_buffer_create", code: 0)
        }
        handle = b
    }

    deinit { hb_buffer_destroy(handle) }
}

/// Itemises a paragraph into font/level/script runs and shapes each run with HarfBuzz.
struct Shaper {
    let chain: FontChain
    let buffer: ShapingBuffer
    /// Extra space after every grapheme, in em (letter spacing); 0 for none.
    var tracking: Double = 0

    func shape(_ scalars: [Unicode.Scalar]) throws -> ShapedParagraph {
        let (paraLevel, levels) = Bidi.resolve(scalars)

        // Grapheme clusters (Swift's segmentation: ZWJ sequences, flags, skin tones, combining marks stay whole).
        var ranges: [Range<Int>] = []
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        var pos = 0
        for ch in String(view) {
            let n = ch.unicodeScalars.count
            ranges.append(pos..<(pos + n))
            pos += n
        }

        let scripts = Self.resolvedScripts(scalars)
        var graphemes: [Grapheme] = []
        graphemes.reserveCapacity(ranges.count)
        var previousFont: Int?
        for r in ranges {
            let cluster = Array(scalars[r])
            let font = chooseFont(cluster, scriptIsCommon: Self.isCommonScript(Bidi.scriptOf(cluster[0])), previous: previousFont)
            previousFont = font
            let space = cluster.allSatisfy(TextInput.isWhitespace)
            graphemes.append(Grapheme(scalars: r, font: font, level: levels[r.lowerBound], isSpace: space, advance: 0, breakBefore: false))
        }
        LineBreaking.markBreakOpportunities(&graphemes, scalars: scalars)

        var scalarToGrapheme = [Int](repeating: 0, count: scalars.count)
        for (gi, g) in graphemes.enumerated() {
            for s in g.scalars { scalarToGrapheme[s] = gi }
        }

        // Runs: split where the font, the level or the script changes.
        var runs: [ShapedRun] = []
        var start = 0
        let codepoints = scalars.map { hb_codepoint_t($0.value) }
        while start < graphemes.count {
            var end = start + 1
            let g0 = graphemes[start]
            let script0 = scripts[g0.scalars.lowerBound]
            while end < graphemes.count {
                let g = graphemes[end]
                if g.font != g0.font || g.level != g0.level || scripts[g.scalars.lowerBound] != script0 { break }
                end += 1
            }
            var glyphs = try shapeRun(
                codepoints: codepoints, scalarRange: graphemes[start].scalars.lowerBound..<graphemes[end - 1].scalars.upperBound,
                font: g0.font, level: g0.level, script: script0, scalarToGrapheme: scalarToGrapheme)
            for g in glyphs { graphemes[g.grapheme].advance += g.advance }
            if tracking != 0 {
                // Each grapheme's space goes after the glyph that comes last in the run's order, so a cluster's
                // marks and ligature parts stay together.
                var last: [Int: Int] = [:]
                for (i, g) in glyphs.enumerated() { last[g.grapheme] = i }
                for (grapheme, i) in last {
                    glyphs[i].advance += tracking
                    graphemes[grapheme].advance += tracking
                }
            }
            runs.append(ShapedRun(level: g0.level, graphemes: start..<end, glyphs: glyphs))
            start = end
        }
        return ShapedParagraph(level: paraLevel, scalars: scalars, graphemes: graphemes, runs: runs)
    }

    private func shapeRun(
        codepoints: [hb_codepoint_t], scalarRange: Range<Int>, font: Int, level: UInt8, script: hb_script_t,
        scalarToGrapheme: [Int]
    ) throws -> [ShapedGlyph] {
        guard let face = chain.face(font) else { return [] }
        let buf = buffer.handle
        hb_buffer_clear_contents(buf)
        var flags: UInt32 = 0
        if scalarRange.lowerBound == 0 { flags |= HB_BUFFER_FLAG_BOT.rawValue }
        if scalarRange.upperBound == codepoints.count { flags |= HB_BUFFER_FLAG_EOT.rawValue }
        hb_buffer_set_flags(buf, hb_buffer_flags_t(rawValue: flags))
        codepoints.withUnsafeBufferPointer { cps in
            hb_buffer_add_codepoints(
                buf, cps.baseAddress, Int32(cps.count), UInt32(scalarRange.lowerBound), Int32(scalarRange.count))
        }
        hb_buffer_set_direction(buf, level % 2 == 1 ? HB_DIRECTION_RTL : HB_DIRECTION_LTR)
        if !Self.isCommonScript(script) { hb_buffer_set_script(buf, script) }
        hb_buffer_guess_segment_properties(buf)
        if tracking != 0 {
            // Spaced letters are not joined: optional ligatures off (fi, fl, ffi would keep their letters together
            // while the others are spaced), as CSS does for letter-spacing. Required ones (Arabic's) stay.
            var features = ["liga", "clig", "dlig"].map { tag in
                let t = tag.unicodeScalars.reduce(UInt32(0)) { $0 << 8 | $1.value }
                return hb_feature_t(tag: t, value: 0, start: 0, end: UInt32.max)
            }
            hb_shape(face.hbFont, buf, &features, UInt32(features.count))
        } else {
            hb_shape(face.hbFont, buf, nil, 0)
        }
        guard hb_buffer_allocation_successful(buf) != 0 else {
            throw CaptionError.engine(operation: "hb_shape", code: 0)
        }

        var count: UInt32 = 0
        guard let infos = hb_buffer_get_glyph_infos(buf, &count), let positions = hb_buffer_get_glyph_positions(buf, &count) else {
            return []
        }
        let em = face.unitsPerEm
        var glyphs: [ShapedGlyph] = []
        glyphs.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            let cluster = min(max(Int(infos[i].cluster), scalarRange.lowerBound), scalarRange.upperBound - 1)
            glyphs.append(
                ShapedGlyph(
                    font: font, glyph: infos[i].codepoint, grapheme: scalarToGrapheme[cluster],
                    advance: Double(positions[i].x_advance) / em,
                    offsetX: Double(positions[i].x_offset) / em,
                    offsetY: Double(positions[i].y_offset) / em))
        }
        return glyphs
    }

    // MARK: Font choice per grapheme

    /// Scalars that need no glyph of their own for coverage purposes (joiners, variation selectors, tags).
    static func isIgnorableForCoverage(_ v: UInt32) -> Bool {
        switch v {
        case 0x200B...0x200F, 0x2060...0x2064, 0xFE00...0xFE0F, 0xE0000...0xE0FFF, 0x034F, 0x061C, 0x180B...0x180F:
            return true
        default:
            return false
        }
    }

    /// Whether a grapheme should be drawn as a colour emoji (emoji presentation by default or by VS16,
    /// keycaps, flags, skin-tone and ZWJ sequences), unless it asks for text presentation (VS15).
    static func wantsEmoji(_ cluster: [Unicode.Scalar]) -> Bool {
        if cluster.contains(where: { $0.value == 0xFE0E }) { return false }
        guard let first = cluster.first else { return false }
        if first.properties.isEmojiPresentation { return true }
        for s in cluster {
            switch s.value {
            case 0xFE0F, 0x20E3, 0x1F3FB...0x1F3FF, 0x1F1E6...0x1F1FF, 0xE0020...0xE007F: return true
            case 0x200D where first.properties.isEmoji: return true
            default: continue
            }
        }
        return false
    }

    private func covers(_ face: FontFace, _ cluster: [Unicode.Scalar]) -> Bool {
        for s in cluster where !Self.isIgnorableForCoverage(s.value) {
            if !face.covers(s.value) { return false }
        }
        return true
    }

    func chooseFont(_ cluster: [Unicode.Scalar], scriptIsCommon: Bool, previous: Int?) -> Int {
        if Self.wantsEmoji(cluster), let e = chain.emojiIndex, let face = chain.face(e), face.covers(cluster[0].value) {
            return e
        }
        // Spaces and punctuation stay in the font of the text around them, so runs do not fragment.
        if scriptIsCommon, let p = previous, p != chain.emojiIndex, let face = chain.face(p), covers(face, cluster) {
            return p
        }
        let key = cluster.first { !Self.isIgnorableForCoverage($0.value) } ?? cluster[0]
        for i in 0..<chain.count where i != chain.emojiIndex || Self.wantsEmojiFallback(cluster) {
            if let face = chain.face(i), covers(face, cluster) { return i }
        }
        for i in 0..<chain.count where i != chain.emojiIndex {
            if let face = chain.face(i), face.covers(key.value) { return i }
        }
        if let i = chain.scanned(for: key.value) { return i }
        if let e = chain.emojiIndex, let face = chain.face(e), face.covers(key.value) { return e }
        return 0  // nothing covers it: the primary font's .notdef box
    }

    /// The emoji font is a fallback for symbols only Noto Color Emoji has, but not for text-presentation requests.
    private static func wantsEmojiFallback(_ cluster: [Unicode.Scalar]) -> Bool {
        !cluster.contains { $0.value == 0xFE0E }
    }

    // MARK: Scripts

    static func isCommonScript(_ s: hb_script_t) -> Bool {
        s == HB_SCRIPT_COMMON || s == HB_SCRIPT_INHERITED || s == HB_SCRIPT_UNKNOWN
    }

    /// Each scalar's script, with Common and Inherited resolved to the script of the text before them
    /// (or after them at the start of the paragraph).
    static func resolvedScripts(_ scalars: [Unicode.Scalar]) -> [hb_script_t] {
        var scripts = scalars.map(Bidi.scriptOf)
        var last: hb_script_t?
        for i in scripts.indices {
            if isCommonScript(scripts[i]) {
                if let l = last { scripts[i] = l }
            } else {
                last = scripts[i]
            }
        }
        if let firstReal = scripts.first(where: { !isCommonScript($0) }) {
            for i in scripts.indices {
                if isCommonScript(scripts[i]) { scripts[i] = firstReal } else { break }
            }
        }
        return scripts
    }
}
