/// Turning raw caption input into clean paragraphs of Unicode scalars, before any font is involved.
enum TextInput {
    /// Returns the offset of the first byte of the first invalid UTF-8 sequence, or nil when `bytes` is valid.
    /// Rejects what RFC 3629 rejects: stray continuation bytes, truncated sequences, overlong forms,
    /// UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF.
    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF  // allowed range of the second byte
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; hi = 0x9F
            case 0xF0: length = 4; lo = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; hi = 0x8F
            default: return i  // 0x80...0xC1 (continuation or overlong lead), 0xF5...0xFF
            }
            guard i + length <= n else { return i }
            guard bytes[i + 1] >= lo && bytes[i + 1] <= hi else { return i }
            var k = 2
            while k < length {
                guard bytes[i + k] & 0xC0 == 0x80 else { return i }
                k += 1
            }
            i += length
        }
        return nil
    }

    /// Splits `text` into paragraphs (explicit line breaks), after the clean-up rules:
    /// - CR LF, CR, LF, VT, FF, NEL, U+2028 and U+2029 break the line;
    /// - a tab becomes a space;
    /// - other control characters (C0, DEL, C1), explicit bidi embeddings/overrides/isolates, the BOM and
    ///   noncharacters are dropped (they have no glyph, and unbalanced bidi controls would leak into layout);
    /// - leading and trailing blank lines are removed, as is whitespace at both ends of each paragraph.
    /// An empty result means nothing is drawn.
    static func paragraphs(_ text: String) -> [[Unicode.Scalar]] {
        var result: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var previousWasCR = false
        for s in text.unicodeScalars {
            let v = s.value
            if v == 0x0A && previousWasCR { previousWasCR = false; continue }
            previousWasCR = (v == 0x0D)
            switch v {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029:
                result.append(current)
                current = []
            case 0x09:
                current.append(" ")
            case 0x00...0x1F, 0x7F...0x9F:
                continue
            case 0x202A...0x202E, 0x2066...0x2069, 0xFEFF:
                continue
            case 0xFDD0...0xFDEF:
                continue
            default:
                if v & 0xFFFE == 0xFFFE { continue }  // U+xFFFE and U+xFFFF in every plane
                current.append(s)
            }
        }
        result.append(current)
        result = result.map(trimWhitespace)
        while let first = result.first, first.isEmpty { result.removeFirst() }
        while let last = result.last, last.isEmpty { result.removeLast() }
        return result
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || s.value == 0x200B
    }

    private static func trimWhitespace(_ p: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var start = 0, end = p.count
        while start < end && isWhitespace(p[start]) { start += 1 }
        while end > start && isWhitespace(p[end - 1]) { end -= 1 }
        return Array(p[start..<end])
    }
}
