import Foundation

/// Where `rendc studio` reads and writes. The CLI builds it from its flags; nothing here reads the environment.
public struct StudioConfiguration: Sendable {
    /// Interface to bind (loopback by default: the studio has no authentication).
    public var host: String
    public var port: Int
    /// The shipped templates (`specs/`), listed read-only.
    public var builtinDirectory: String
    /// The designer's folder (`--templates DIR`): listed, editable, and where Save writes. Nil: nothing is writable.
    public var editableDirectory: String?
    /// The studio's own scratch folder (drafts, stills, preview videos, dropped inputs); created if missing and
    /// removed by the CLI when the studio stops.
    public var workDirectory: String
    /// Length of the eco preview video, in seconds.
    public var previewVideoSeconds: Double
    /// Largest dropped picture or music track, in bytes.
    public var maxUploadBytes: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8090, builtinDirectory: String, editableDirectory: String?,
        workDirectory: String, previewVideoSeconds: Double = 6, maxUploadBytes: Int = 50 * 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.builtinDirectory = builtinDirectory
        self.editableDirectory = editableDirectory
        self.workDirectory = workDirectory
        self.previewVideoSeconds = previewVideoSeconds
        self.maxUploadBytes = maxUploadBytes
    }
}

/// A studio request that cannot be served, with the HTTP status it maps to and a message for the designer.
/// Messages name templates and inputs by their file names only, never by server paths.
public struct StudioError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Equatable, CustomStringConvertible {
        private enum Value: String {
            case notFound = "not_found", invalid = "invalid", readOnly = "read_only", forbidden, conflict, tooLarge = "too_large", render
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }
        public static let notFound = Code(.notFound)
        public static let invalid = Code(.invalid)
        public static let readOnly = Code(.readOnly)
        public static let forbidden = Code(.forbidden)
        public static let conflict = Code(.conflict)
        public static let tooLarge = Code(.tooLarge)
        public static let render = Code(.render)
        public var description: String { value.rawValue }
        var status: Int {
            switch value {
            case .notFound: 404
            case .invalid: 400
            case .readOnly, .forbidden: 403
            case .conflict: 409
            case .tooLarge: 413
            case .render: 422
            }
        }
    }

    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}
