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
    /// an emoji or a letter from its accents), line breaks and other control characters shown as spaces, characters
    /// that draw nothing (zero-width space and joiner after a letter, bidi controls, byte-order mark, soft hyphen) left
    /// out as the frame leaves them out, emoji sequences whole, `"` and `\` escaped, and "…" when there was more.
    public static func quotedPrefix(_ text: String, limit: Int = quotedCharacters) -> String {
        var shown = ""
        for c in text.prefix(limit) {
            let scalars = c.unicodeScalars
            if scalars.contains(where: { [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) }) {
                shown += " "
                continue
            }
            // A joiner or tag inside an emoji sequence (a family, a subdivision flag) is part of what is drawn.
            let emoji = scalars.count > 1 && scalars.contains { $0.properties.isEmoji && $0.value > 0xFF }
            for u in scalars where emoji || u.properties.generalCategory != .format {
                shown += u == "\"" || u == "\\" ? "\\" + String(u) : String(u)
            }
        }
        return "\"" + shown + (text.count > limit ? "…" : "") + "\""
    }

    /// The plan note for a text layer (`layers[index]`) whose text, filled from `fields`, did not fit its box at the
    /// smallest size and was cut: which fields, how (with "…" or by leaving lines out), how much of it shows, the start
    /// of the text (at most ``quotedCharacters``) and what the template can do about it. `box` and `size` are in the
    /// template's pixels (an eco plan's are scaled back), so they can be compared with the file.
    public static func cutNote(
        layer index: Int, fields: [String], text: String, shownCharacters: Int, box: Rect, size: Double, lines: Int, ellipsis: Bool
    ) -> String {
        let which = fields.count == 1 ? "the field \(fields[0])" : "the fields " + fields.joined(separator: ", ")
        let how = ellipsis ? "cut with \"…\"" : "cut (ellipsis: false: the lines that do not fit are left out)"
        return "layers[\(index)] (text): \(which) did not fit the \(box.width)x\(box.height) box at the smallest size (\(Int(size.rounded())) px, "
            + "\(lines) line\(lines == 1 ? "" : "s")) and was \(how): \(shownCharacters) of its \(text.count) characters show, "
            + "of \(quotedPrefix(text)); to show more, widen the box, allow more lines (max_lines), lower min_size, "
            + "or limit the field (max_length)"
    }
}

/// A text layer whose merge fields' text did not fit its box at the smallest size and was cut (measured by the text
/// renderer, which the planner cannot call): what the plan's note says, and what submit tells a store.
public struct FieldCut: Sendable, Equatable {
    /// The layer's index in the template.
    public var layer: Int
    /// The fields the text is filled from.
    public var fields: [String]
    /// The whole text, filled.
    public var text: String
    public var shownCharacters: Int
    /// The box and the smallest size, in the template's pixels.
    public var box: Rect
    public var size: Double
    public var lines: Int
    public var ellipsis: Bool
    public init(layer: Int, fields: [String], text: String, shownCharacters: Int, box: Rect, size: Double, lines: Int, ellipsis: Bool) {
        self.layer = layer
        self.fields = fields
        self.text = text
        self.shownCharacters = shownCharacters
        self.box = box
        self.size = size
        self.lines = lines
        self.ellipsis = ellipsis
    }

    /// The plan's note (for the template's designer: what the template can change).
    public var note: String {
        Planner.cutNote(
            layer: layer, fields: fields, text: text, shownCharacters: shownCharacters, box: box, size: size, lines: lines, ellipsis: ellipsis)
    }
}
