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
        return "\(position): \(severity.rawValue): \(subject)"
    }

    public var description: String {
        guard let sourceLine, line > 0 else { return summary }
        let caretPad = String(repeating: " ", count: max(0, column - 1))
        return "\(summary)\n    \(sourceLine)\n    \(caretPad)^"
    }
}

/// Several problems found in one template (the linter reports them all, not just the first).
public struct SpecErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [SpecError]
    public init(_ errors: [SpecError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
