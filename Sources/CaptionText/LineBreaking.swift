import SpecLang

/// Line-break opportunities (a practical subset of UAX #14) and the greedy line filler.
enum LineBreaking {
    /// Characters that must not start a line: closing brackets and quotes, sentence punctuation, CJK
    /// small kana and iteration marks (Japanese kinsoku shori).
    static func isNoStart(_ v: UInt32) -> Bool {
        switch v {
        case 0x21, 0x25, 0x29, 0x2C, 0x2E, 0x3A, 0x3B, 0x3F, 0x5D, 0x7D, 0xBB, 0x203A, 0x2019, 0x201D, 0x2026,
            0x203C, 0x2047...0x2049, 0x3001, 0x3002, 0x3005, 0x3009, 0x300B, 0x300D, 0x300F, 0x3011, 0x3015,
            0x3017, 0x3019, 0x301B, 0x301C, 0x30FB, 0x30FC, 0x309B...0x309E, 0x30FD, 0x30FE,
            0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063, 0x3083, 0x3085, 0x3087, 0x308E, 0x3095, 0x3096,
            0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9, 0x30C3, 0x30E3, 0x30E5, 0x30E7, 0x30EE, 0x30F5, 0x30F6,
            0x31F0...0x31FF, 0xFF01, 0xFF09, 0xFF0C, 0xFF0E, 0xFF1A, 0xFF1B, 0xFF1F, 0xFF3D, 0xFF5D, 0xFF60,
            0xFF61, 0xFF63, 0xFF64, 0x060C, 0x061B, 0x061F, 0x06D4:
            return true
        default:
            return false
        }
    }

    /// Characters that must not end a line: opening brackets and quotes.
    static func isNoEnd(_ v: UInt32) -> Bool {
        switch v {
        case 0x28, 0x5B, 0x7B, 0xAB, 0x2039, 0x2018, 0x201C, 0x3008, 0x300A, 0x300C, 0x300E, 0x3010, 0x3014,
            0x3016, 0x3018, 0x301A, 0xFF08, 0xFF3B, 0xFF5B, 0xFF5F, 0xFF62:
            return true
        default:
            return false
        }
    }

    /// Scripts written without spaces, where a line may break between any two characters.
    static func isBreakAnywhereChar(_ v: UInt32) -> Bool {
        switch v {
        case 0x2E80...0x2FFF, 0x3000...0x303F, 0x3040...0x30FF, 0x3100...0x312F, 0x3130...0x318F,
            0x3190...0x31FF, 0x3200...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7AF, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFFEF, 0x20000...0x3FFFF:
            return true
        default:
            return false
        }
    }

    static func isHyphen(_ v: UInt32) -> Bool { v == 0x2D || v == 0x2010 || v == 0x2013 }

    static func markBreakOpportunities(_ graphemes: inout [Grapheme], scalars: [Unicode.Scalar]) {
        guard graphemes.count > 1 else { return }
        func first(_ g: Grapheme) -> Unicode.Scalar { scalars[g.scalars.lowerBound] }
        func last(_ g: Grapheme) -> Unicode.Scalar { scalars[g.scalars.upperBound - 1] }
        func isIdeographicLike(_ g: Grapheme) -> Bool {
            let s = first(g)
            return isBreakAnywhereChar(s.value) || Shaper.wantsEmoji(Array(scalars[g.scalars]))
        }
        for i in 1..<graphemes.count {
            let prev = graphemes[i - 1], cur = graphemes[i]
            let c = first(cur).value, p = last(prev).value
            if cur.isSpace || isNoStart(c) { continue }
            if prev.isSpace {
                graphemes[i].breakBefore = true
                continue
            }
            if isNoEnd(p) { continue }
            if isIdeographicLike(prev) || isIdeographicLike(cur) {
                graphemes[i].breakBefore = true
                continue
            }
            // "well-known": after a hyphen between letters.
            if isHyphen(p), i >= 2, first(cur).properties.isAlphabetic,
                last(graphemes[i - 2]).properties.isAlphabetic
            {
                graphemes[i].breakBefore = true
            }
        }
    }

    /// A line: graphemes `start..<end` of paragraph `paragraph` (trailing spaces excluded).
    struct Line: Equatable {
        var paragraph: Int
        var start: Int
        var end: Int
        /// In em, trailing spaces excluded.
        var width: Double
        var ellipsis = false
    }

    struct Result {
        var lines: [Line]
        /// Some line is wider than allowed (an unbreakable word, or `wrap: none`).
        var overflow: Bool
    }

    /// Fills lines greedily up to `maxWidth` em. `emergency` allows breaking inside a word that alone is wider
    /// than a line (at a grapheme boundary).
    static func breakLines(_ paragraphs: [ShapedParagraph], maxWidth: Double, mode: WrapMode, emergency: Bool) -> Result {
        var lines: [Line] = []
        var overflow = false
        for (pi, p) in paragraphs.enumerated() {
            let g = p.graphemes
            let n = g.count
            if n == 0 {
                lines.append(Line(paragraph: pi, start: 0, end: 0, width: 0))
                continue
            }
            var prefix = [Double](repeating: 0, count: n + 1)
            for i in 0..<n { prefix[i + 1] = prefix[i] + g[i].advance }
            func trimmedEnd(_ s: Int, _ e: Int) -> Int {
                var e = e
                while e > s && g[e - 1].isSpace { e -= 1 }
                return e
            }
            func width(_ s: Int, _ e: Int) -> Double { prefix[trimmedEnd(s, e)] - prefix[s] }
            func canBreak(_ i: Int) -> Bool {
                switch mode {
                case .none: return false
                case .word: return g[i].breakBefore
                case .anywhere: return !g[i].isSpace
                }
            }

            var start = 0
            while start < n {
                var lastBreak: Int?
                var exceeded = false
                var end = n
                var i = start
                while i < n {
                    if i > start && canBreak(i) {
                        if exceeded { end = i; break }
                        lastBreak = i
                    }
                    if !exceeded && width(start, i + 1) > maxWidth + 1e-9 {
                        if let b = lastBreak { end = b; break }
                        if emergency && mode != .none {
                            end = i > start ? i : i + 1
                            break
                        }
                        exceeded = true
                        overflow = true
                    }
                    i += 1
                }
                let e = trimmedEnd(start, end)
                lines.append(Line(paragraph: pi, start: start, end: e, width: prefix[e] - prefix[start]))
                start = end
                while start < n && g[start].isSpace { start += 1 }
            }
        }
        return Result(lines: lines, overflow: overflow)
    }
}
