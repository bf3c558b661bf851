import Foundation
import SpecLang

extension Planner {
    /// Characters of a field's text a note quotes at most: enough to recognise it, never the whole of a hostile one.
    public static let quotedCharacters = 24

    /// The fields a text uses (`{{name}}`), in order, each once.
    public static func fieldNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if !names.contains(name) { names.append(name) }
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// At most `limit` characters of `text` in quotes, whole characters only (a cut never splits a UTF-8 sequence,
    /// an emoji or a letter from its accents), line breaks and other control characters shown as spaces, and "…" when
    /// there was more.
    public static func quotedPrefix(_ text: String, limit: Int = quotedCharacters) -> String {
        let shown = text.prefix(limit).map { c in
            c.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
                && !c.unicodeScalars.contains { $0.properties.isEmojiPresentation } ? " " : String(c)
        }
        return "\"" + shown.joined() + (text.count > limit ? "…" : "") + "\""
    }

    /// The plan note for a text layer (`layers[index]`) whose text, filled from `fields`, did not fit its box at the
    /// smallest size and was cut: which fields, how (with "…" or by leaving lines out), how much of it shows, and the
    /// start of the text (at most ``quotedCharacters``).
    public static func cutNote(
        layer index: Int, fields: [String], text: String, shownCharacters: Int, box: Rect, size: Double, lines: Int, ellipsis: Bool
    ) -> String {
        let which = fields.count == 1 ? "the field \(fields[0])" : "the fields " + fields.joined(separator: ", ")
        let how = ellipsis ? "cut with \"…\"" : "cut (ellipsis: false: the lines that do not fit are left out)"
        return "layers[\(index)] (text): \(which) did not fit the \(box.width)x\(box.height) box at the smallest size (\(Int(size.rounded())) px, "
            + "\(lines) line\(lines == 1 ? "" : "s")) and was \(how): \(shownCharacters) of its \(text.count) characters show, "
            + "of \(quotedPrefix(text))"
    }
}
