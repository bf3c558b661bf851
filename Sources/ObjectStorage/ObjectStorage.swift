import Foundation

/// Where rendered videos, thumbnails and uploaded assets live. Keys are relative, `/`-separated paths such as
/// `videos/{tenantId}/{jobId}.mp4`; every backend (local directory, S3-compatible) implements this one protocol.
public protocol ObjectStore: Sendable {
    /// Stores the file at `localPath` under `key`, replacing any object there. Atomic for readers: an object is
    /// either the old one or the whole new one.
    func put(localPath: String, key: String, contentType: String) async throws
    /// Copies the object at `key` to `localPath` (written to a temporary file and renamed).
    func get(key: String, to localPath: String) async throws
    func delete(key: String) async throws
    func exists(key: String) async throws -> Bool
    /// A URL a client can GET the object from until `expiresIn` seconds from now, when the backend can make one
    /// itself (S3 presigned URLs); nil when the HTTP API must serve the object through its own signed URLs.
    func presignedGetURL(key: String, expiresIn: Int) async throws -> URL?
}

/// A storage failure. `description` names the key and what went wrong, never a credential.
public struct ObjectStoreError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure, so callers can tell "not there" (HTTP 404) from "broken" (HTTP 5xx).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidKey, notFound, localFile, remote, accessDenied, configuration, failed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The key is not a safe relative path (empty segment, `..`, absolute, NUL, backslash...).
        public static let invalidKey = Code(.invalidKey)
        /// No object under the key.
        public static let notFound = Code(.notFound)
        /// The local file to upload, or the download destination, could not be read or written.
        public static let localFile = Code(.localFile)
        /// The remote store answered with an error (after retries) or could not be reached.
        public static let remote = Code(.remote)
        /// The remote store refused the credentials or the signature.
        public static let accessDenied = Code(.accessDenied)
        /// The storage settings are incomplete or malformed.
        public static let configuration = Code(.configuration)
        /// Anything else.
        public static let failed = Code(.failed)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.init(code: .failed, key: key, message: message)
    }

    public init(code: Code, key: String, message: String) {
        self.code = code
        self.key = key
        self.message = message
    }

    /// Invalid keys are shown escaped (quoted, control characters visible) so they cannot forge log lines.
    public var description: String { "storage: \(code == .invalidKey ? key.debugDescription : key): \(message)" }
}

/// Object keys are relative `/`-separated paths. A bad key is an error, never a path outside the store.
public enum ObjectKey {
    /// S3's limit, applied to every backend so a key that works locally also works remotely.
    public static let maximumUTF8Length = 1024

    /// Throws `ObjectStoreError` with code `.invalidKey` unless `key` is a safe relative path: not empty, not
    /// absolute, no empty, `.` or `..` segment, no NUL, backslash or other control character, at most 1024 bytes.
    public static func validate(_ key: String) throws {
        func bad(_ why: String) -> ObjectStoreError {
            ObjectStoreError(code: .invalidKey, key: key, message: "invalid object key: \(why)")
        }
        if key.isEmpty { throw bad("empty") }
        if key.utf8.count > maximumUTF8Length { throw bad("longer than \(maximumUTF8Length) bytes") }
        if key.hasPrefix("/") { throw bad("absolute path (starts with '/')") }
        for scalar in key.unicodeScalars {
            if scalar == "\0" { throw bad("contains a NUL character") }
            if scalar == "\\" { throw bad("contains a backslash") }
            if scalar.value < 0x20 || scalar.value == 0x7F { throw bad("contains a control character") }
        }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { throw bad("empty path segment ('//' or a trailing '/')") }
            if segment == "." || segment == ".." { throw bad("'\(segment)' path segment") }
        }
    }
}
