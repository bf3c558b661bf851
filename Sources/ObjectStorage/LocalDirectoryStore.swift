import Foundation

/// Objects as files under one root directory: key `videos/t1/j1.mp4` is the file `{root}/videos/t1/j1.mp4`.
///
/// Keys are validated (`ObjectKey.validate`), so no key reaches outside the root. `put` copies to a temporary file
/// in the destination directory and renames it into place, so readers see the old or the whole new object.
/// `presignedGetURL` returns nil: the HTTP API serves local objects through its own signed URLs.
public struct LocalDirectoryStore: ObjectStore {
    /// The absolute root directory (a relative root given to `init` is resolved against the working directory).
    public let root: String

    public init(root: String) {
        var path = root.isEmpty ? "." : root
        if !path.hasPrefix("/") {
            path = FileManager.default.currentDirectoryPath + "/" + path
        }
        self.root = URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The file that holds (or would hold) the object at `key`. Throws `.invalidKey` for an unsafe key.
    public func filePath(forKey key: String) throws -> String {
        try ObjectKey.validate(key)
        return root + "/" + key
    }

    public func put(localPath: String, key: String, contentType: String) async throws {
        let destination = try filePath(forKey: key)
        guard LocalFiles.isRegularFile(localPath) else {
            throw ObjectStoreError(code: .localFile, key: key, message: "file to upload not found: \(localPath)")
        }
        do {
            try LocalFiles.atomicCopy(from: localPath, to: destination)
        } catch {
            throw ObjectStoreError(
                code: .localFile, key: key,
                message: "could not store \(localPath) under \(root): \(LocalFiles.reason(error))")
        }
    }

    public func get(key: String, to localPath: String) async throws {
        let source = try filePath(forKey: key)
        guard LocalFiles.isRegularFile(source) else {
            throw ObjectStoreError(code: .notFound, key: key, message: "no such object")
        }
        do {
            try LocalFiles.atomicCopy(from: source, to: localPath)
        } catch {
            throw ObjectStoreError(
                code: .localFile, key: key, message: "could not copy to \(localPath): \(LocalFiles.reason(error))")
        }
    }

    /// Deleting a missing object is not an error (as in S3).
    public func delete(key: String) async throws {
        let path = try filePath(forKey: key)
        guard LocalFiles.isRegularFile(path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            if !LocalFiles.isRegularFile(path) { return }  // removed concurrently
            throw ObjectStoreError(code: .localFile, key: key, message: "could not delete: \(LocalFiles.reason(error))")
        }
    }

    public func exists(key: String) async throws -> Bool {
        LocalFiles.isRegularFile(try filePath(forKey: key))
    }

    public func presignedGetURL(key: String, expiresIn: Int) async throws -> URL? {
        try ObjectKey.validate(key)
        return nil
    }
}
