/// A problem in a template file, reported the way a compiler reports one:
///
///     specs/golden-frame.yaml:14:14: error: layers[1].opacity: expected a number from 0 to 1, got 'high'
///         opacity: high
///                  ^
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The template file (as given), or `<string>` for in-memory YAML.
    public var file: String
    /// 1-based line and column (0 when the position is unknown).
    public var line: Int
    public var column: Int
    /// Path of the offending field, e.g. `layers[2].opacity`; empty for document-level problems.
    public var field: String
    public var message: String
    /// The source line the position points into, when known.
    public var sourceLine: String?
    /// Errors stop a template from loading; warnings are reported by `rendc lint` only.
    public var severity: Severity

    public enum Severity: String, Sendable, Equatable {
        case error, warning
    }

    public init(file: String, line: Int, column: Int, field: String, message: String, sourceLine: String? = nil, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
        self.sourceLine = sourceLine
        self.severity = severity
    }

    /// `file:line:col: error: field: message` with no source excerpt (one line, for logs and API errors).
    public var summary: String {
        let position = line > 0 ? "\(file):\(line):\(column)" : file
        let subject = field.isEmpty ? message : "\(field): \(message)"
        return Self.printable("\(position): \(severity.rawValue): \(subject)")
    }

    public var description: String {
        guard let sourceLine, line > 0 else { return summary }
        let caretPad = String(repeating: " ", count: max(0, column - 1))
        return "\(summary)\n    \(Self.printable(sourceLine))\n    \(caretPad)^"
    }

    /// `text` with control characters (C0 but tab, DEL, C1) and bidirectional overrides written as `\u{...}`: a
    /// template's values are echoed in messages, and a shared file must not clear a terminal, set its title or
    /// make a line read backwards.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isHidden) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isHidden(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar.value != 0x09) || (0x7F...0x9F).contains(scalar.value)
            || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }
}

/// Several problems found in one template (the linter reports them all, not just the first).
public struct SpecErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [SpecError]
    public init(_ errors: [SpecError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
