import Foundation

/// A failure reading, decoding, filtering, encoding or writing media, naming the file and what is wrong.
///
/// `isPermanent` says whether trying again can help: bad input (a corrupt, truncated, oversized or refused file) fails
/// the same way every time; a full disk, missing memory or a busy machine may not.
public struct MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Stage: String, Sendable { case openInput = "open", decode, encode, filter, write, prepare, cancelled }

    /// What went wrong, independent of the file.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable {
            case fileNotFound, unreadable, refused, noStream, decoderUnavailable, corrupt, truncated, tooLarge
            case invalidSamples, outOfMemory, failed, cancelled
        }
        let base: Base
        /// No file at the path, or it cannot be read.
        public static let fileNotFound = Code(base: .fileNotFound)
        /// Not a media file libav* can parse (garbage, empty, a header cut short).
        public static let unreadable = Code(base: .unreadable)
        /// A format outside the allow-list for this kind of input, or a container whose structure is inconsistent.
        public static let refused = Code(base: .refused)
        /// The container has no stream of the kind asked for.
        public static let noStream = Code(base: .noStream)
        public static let decoderUnavailable = Code(base: .decoderUnavailable)
        /// The decoder rejected the data.
        public static let corrupt = Code(base: .corrupt)
        /// The data ends before the container says it should.
        public static let truncated = Code(base: .truncated)
        /// A picture larger than the pixel limit.
        public static let tooLarge = Code(base: .tooLarge)
        /// Audio samples that are NaN or infinite.
        public static let invalidSamples = Code(base: .invalidSamples)
        public static let outOfMemory = Code(base: .outOfMemory)
        /// Anything else (an encoder or muxer error, a write error).
        public static let failed = Code(base: .failed)
        public static let cancelled = Code(base: .cancelled)
        public var description: String { base.rawValue }

        /// Codes that describe the input itself: retrying cannot help.
        var isBadInput: Bool {
            switch base {
            case .fileNotFound, .unreadable, .refused, .noStream, .decoderUnavailable, .corrupt, .truncated, .tooLarge, .invalidSamples: true
            case .outOfMemory, .failed, .cancelled: false
            }
        }
    }

    public var stage: Stage
    public var code: Code
    /// The file involved (an input, or the output), when there is one.
    public var path: String?
    public var message: String

    public init(_ stage: Stage, code: Code? = nil, path: String? = nil, _ message: String) {
        self.stage = stage
        // Without a code, opening and decoding failures blame the input; the other stages the machine.
        self.code =
            code
            ?? {
                switch stage {
                case .openInput: .unreadable
                case .decode: .corrupt
                case .cancelled: .cancelled
                case .encode, .filter, .write, .prepare: .failed
                }
            }()
        self.path = path
        self.message = message
    }

    /// True when the input is bad and the same work will fail the same way again (fail the job at once); false
    /// when the machine may be to blame (retry).
    public var isPermanent: Bool { code.isBadInput }

    public var description: String {
        if let path { return "\(stage.rawValue) \(path): \(message)" }
        return "\(stage.rawValue): \(message)"
    }
}
