/// Why an audio file could not be analysed. The description names the file and what is wrong with it.
public struct BeatTrackingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, independent of the file.
    public struct Code: Equatable, Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Sendable {
            case fileNotFound, unreadable, noAudioStream, decoderUnavailable, decodeFailed, noAudio, truncated, resampleFailed, invalidArgument
        }
        let base: Base
        public static let fileNotFound = Code(base: .fileNotFound)
        /// libavformat cannot open or parse the container (not audio, corrupt header, empty file).
        public static let unreadable = Code(base: .unreadable)
        /// The container holds no audio stream (an image, a video without sound).
        public static let noAudioStream = Code(base: .noAudioStream)
        public static let decoderUnavailable = Code(base: .decoderUnavailable)
        /// The audio data is corrupt: the decoder rejected it.
        public static let decodeFailed = Code(base: .decodeFailed)
        /// The stream decoded to no samples at all.
        public static let noAudio = Code(base: .noAudio)
        /// The data ends well before the length the container declares.
        public static let truncated = Code(base: .truncated)
        public static let resampleFailed = Code(base: .resampleFailed)
        public static let invalidArgument = Code(base: .invalidArgument)
        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The file the error is about.
    public var path: String
    /// What is wrong, in words.
    public var message: String

    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
