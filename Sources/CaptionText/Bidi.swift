internal import CTextShaping

/// A compact implementation of the Unicode Bidirectional Algorithm (UAX #9) for one paragraph without explicit
/// embeddings: paragraph level (P2/P3), weak types (W1-W7), neutrals (N1/N2) and implicit levels (I1/I2).
/// Reordering (L2) is done per line by the layout. Explicit embedding controls are dropped by `TextInput`;
/// LRM, RLM and ALM act as strong marks.
enum Bidi {
    enum Class: UInt8 { case L, R, AL, EN, AN, ES, ET, CS, NSM, BN, WS, ON }

    static func scriptOf(_ s: Unicode.Scalar) -> hb_script_t {
        hb_unicode_script(hb_unicode_funcs_get_default(), hb_codepoint_t(s.value))
    }

    static func bidiClass(_ s: Unicode.Scalar) -> Class {
        let v = s.value
        switch v {
        case 0x200E: return .L
        case 0x200F: return .R
        case 0x061C: return .AL
        case 0x0030...0x0039, 0x06F0...0x06F9, 0xFF10...0xFF19, 0x00B2, 0x00B3, 0x00B9, 0x2070...0x2079,
            0x2080...0x2089, 0x1D7CE...0x1D7FF:
            return .EN
        case 0x0660...0x0669, 0x066B, 0x066C, 0x10E60...0x10E7E:
            return .AN
        case 0x002B, 0x002D, 0x207A, 0x207B, 0x208A, 0x208B, 0x2212, 0xFB29, 0xFE62, 0xFE63, 0xFF0B, 0xFF0D:
            return .ES
        case 0x0023, 0x0024, 0x0025, 0x00A2...0x00A5, 0x00B0, 0x00B1, 0x066A, 0x2030...0x2034, 0x20A0...0x20CF,
            0x212E, 0x2213, 0xFE5F, 0xFE69, 0xFE6A, 0xFF03...0xFF05, 0xFFE0, 0xFFE1, 0xFFE5, 0xFFE6:
            return .ET
        case 0x002C, 0x002E, 0x002F, 0x003A, 0x00A0, 0x060C, 0x202F, 0x2044, 0xFE50, 0xFE52, 0xFE55, 0xFF0C,
            0xFF0E, 0xFF0F, 0xFF1A:
            return .CS
        default: break
        }
        let p = s.properties
        switch p.generalCategory {
        case .nonspacingMark, .enclosingMark:
            return .NSM
        case .format:
            return .BN
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return .WS
        case .decimalNumber:
            return .L  // digits of other scripts (Devanagari, Thai...) are strong L
        case .currencySymbol:
            return .ET
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .spacingMark, .letterNumber, .otherNumber, .privateUse, .unassigned:
            return strongClass(of: s)
        default:
            // Punctuation and symbols are neutral, except in right-to-left script blocks (e.g. Arabic marks).
            return .ON
        }
    }

    private static func strongClass(of s: Unicode.Scalar) -> Class {
        let script = scriptOf(s)
        if script == HB_SCRIPT_ARABIC || script == HB_SCRIPT_SYRIAC || script == HB_SCRIPT_THAANA
            || script == HB_SCRIPT_NKO || script == HB_SCRIPT_HANIFI_ROHINGYA
        {
            return .AL
        }
        if hb_script_get_horizontal_direction(script) == HB_DIRECTION_RTL { return .R }
        // Unassigned code points in right-to-left blocks default to R (UAX #9 DerivedBidiClass).
        let v = s.value
        if (0x0590...0x08FF).contains(v) || (0xFB1D...0xFDFF).contains(v) || (0xFE70...0xFEFF).contains(v)
            || (0x10800...0x10FFF).contains(v) || (0x1E800...0x1EFFF).contains(v)
        {
            return p2AL(v) ? .AL : .R
        }
        return .L
    }

    private static func p2AL(_ v: UInt32) -> Bool {
        (0x0600...0x07BF).contains(v) || (0x0860...0x08FF).contains(v) || (0xFB50...0xFDFF).contains(v)
            || (0xFE70...0xFEFF).contains(v)
    }

    /// The paragraph embedding level (0 left-to-right, 1 right-to-left) and the resolved level of each scalar.
    static func resolve(_ scalars: [Unicode.Scalar]) -> (paragraphLevel: UInt8, levels: [UInt8]) {
        let n = scalars.count
        let original = scalars.map(bidiClass)
        // P2/P3: the first strong character decides.
        var paraLevel: UInt8 = 0
        for c in original {
            if c == .L { break }
            if c == .R || c == .AL { paraLevel = 1; break }
        }
        guard n > 0 else { return (paraLevel, []) }
        let sos: Class = paraLevel == 1 ? .R : .L
        var t = original

        // W1: NSM (and BN, which X9 would remove) take the type of the previous character.
        for i in 0..<n where t[i] == .NSM || t[i] == .BN {
            t[i] = i == 0 ? sos : t[i - 1]
            if t[i] == .WS { t[i] = .ON }
        }
        // W2: EN after AL becomes AN. W3: AL becomes R.
        var lastStrong = sos
        for i in 0..<n {
            switch t[i] {
            case .L, .R, .AL: lastStrong = t[i]
            case .EN: if lastStrong == .AL { t[i] = .AN }
            default: break
            }
        }
        for i in 0..<n where t[i] == .AL { t[i] = .R }
        // W4: a single separator between two numbers of the same type joins them.
        if n >= 3 {
            for i in 1..<(n - 1) {
                if t[i] == .ES && t[i - 1] == .EN && t[i + 1] == .EN {
                    t[i] = .EN
                } else if t[i] == .CS && t[i - 1] == .EN && t[i + 1] == .EN {
                    t[i] = .EN
                } else if t[i] == .CS && t[i - 1] == .AN && t[i + 1] == .AN {
                    t[i] = .AN
                }
            }
        }
        // W5: terminators next to European numbers become EN.
        var i = 0
        while i < n {
            if t[i] == .ET {
                var j = i
                while j < n && t[j] == .ET { j += 1 }
                let touchesEN = (i > 0 && t[i - 1] == .EN) || (j < n && t[j] == .EN)
                if touchesEN { for k in i..<j { t[k] = .EN } }
                i = j
            } else {
                i += 1
            }
        }
        // W6: remaining separators and terminators are neutral.
        for k in 0..<n where t[k] == .ES || t[k] == .ET || t[k] == .CS { t[k] = .ON }
        // W7: EN after a strong L (or at an L start) becomes L.
        lastStrong = sos
        for k in 0..<n {
            switch t[k] {
            case .L, .R: lastStrong = t[k]
            case .EN: if lastStrong == .L { t[k] = .L }
            default: break
            }
        }
        func strongDir(_ c: Class) -> Class? {
            switch c {
            case .L: return .L
            case .R, .EN, .AN: return .R
            default: return nil
            }
        }
        let embeddingDir: Class = paraLevel == 1 ? .R : .L
        // N0: paired brackets take the direction of what they enclose, so "(test)" in Hebrew stays whole.
        for (open, close) in bracketPairs(scalars, types: t) {
            var sawEmbedding = false, sawOpposite = false
            for k in (open + 1)..<close {
                guard let d = strongDir(t[k]) else { continue }
                if d == embeddingDir { sawEmbedding = true; break } else { sawOpposite = true }
            }
            let dir: Class
            if sawEmbedding {
                dir = embeddingDir
            } else if sawOpposite {
                var before = embeddingDir
                var k = open - 1
                while k >= 0 {
                    if let d = strongDir(t[k]) { before = d; break }
                    k -= 1
                }
                dir = before == embeddingDir ? embeddingDir : before
            } else {
                continue
            }
            t[open] = dir
            t[close] = dir
        }
        // N1/N2: runs of neutrals take the surrounding direction when both sides agree (numbers count as R),
        // otherwise the embedding direction.
        i = 0
        while i < n {
            if strongDir(t[i]) == nil {
                var j = i
                while j < n && strongDir(t[j]) == nil { j += 1 }
                let before = i > 0 ? (strongDir(t[i - 1]) ?? embeddingDir) : embeddingDir
                let after = j < n ? (strongDir(t[j]) ?? embeddingDir) : embeddingDir
                let dir = before == after ? before : embeddingDir
                for k in i..<j { t[k] = dir }
                i = j
            } else {
                i += 1
            }
        }
        // I1/I2.
        var levels = [UInt8](repeating: paraLevel, count: n)
        for k in 0..<n {
            switch (paraLevel, t[k]) {
            case (0, .R): levels[k] = 1
            case (0, .EN), (0, .AN): levels[k] = 2
            case (1, .L), (1, .EN), (1, .AN): levels[k] = 2
            default: levels[k] = paraLevel
            }
        }
        return (paraLevel, levels)
    }

    /// Opening bracket -> closing bracket (Bidi_Paired_Bracket for the common pairs).
    static let closingBracket: [UInt32: UInt32] = [
        0x28: 0x29, 0x5B: 0x5D, 0x7B: 0x7D, 0x2045: 0x2046, 0x207D: 0x207E, 0x208D: 0x208E, 0x2329: 0x232A,
        0x2768: 0x2769, 0x276A: 0x276B, 0x27E6: 0x27E7, 0x27E8: 0x27E9, 0x3008: 0x3009, 0x300A: 0x300B,
        0x300C: 0x300D, 0x300E: 0x300F, 0x3010: 0x3011, 0x3014: 0x3015, 0x3016: 0x3017, 0x3018: 0x3019,
        0x301A: 0x301B, 0xFE59: 0xFE5A, 0xFE5B: 0xFE5C, 0xFE5D: 0xFE5E, 0xFF08: 0xFF09, 0xFF3B: 0xFF3D,
        0xFF5B: 0xFF5D, 0xFF5F: 0xFF60, 0xFF62: 0xFF63,
    ]

    /// BD16: matching bracket pairs among neutral characters, sorted by the opening position.
    static func bracketPairs(_ scalars: [Unicode.Scalar], types: [Class]) -> [(Int, Int)] {
        var stack: [(close: UInt32, index: Int)] = []
        var pairs: [(Int, Int)] = []
        for (i, s) in scalars.enumerated() where types[i] == .ON {
            let v = s.value
            if let close = closingBracket[v] {
                guard stack.count < 63 else { break }
                stack.append((close, i))
            } else if let k = stack.lastIndex(where: { $0.close == v }) {
                pairs.append((stack[k].index, i))
                stack.removeSubrange(k...)
            }
        }
        return pairs.sorted { $0.0 < $1.0 }
    }

    /// L2: the visual order of items with `levels`: from the highest level down to the lowest odd level,
    /// reverse every maximal sequence at that level or higher.
    static func visualOrder(levels: [UInt8]) -> [Int] {
        var order = Array(levels.indices)
        guard let maxLevel = levels.max() else { return order }
        let minOdd = levels.filter { $0 % 2 == 1 }.min() ?? (maxLevel + 1)
        guard maxLevel >= minOdd else { return order }
        var level = maxLevel
        while level >= minOdd {
            var i = 0
            while i < order.count {
                if levels[order[i]] >= level {
                    var j = i
                    while j < order.count && levels[order[j]] >= level { j += 1 }
                    order[i..<j].reverse()
                    i = j
                } else {
                    i += 1
                }
            }
            if level == 0 { break }
            level -= 1
        }
        return order
    }
}
