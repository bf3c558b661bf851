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

public struct ObjectStoreError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
    public var description: String { "storage: \(key): \(message)" }
}
