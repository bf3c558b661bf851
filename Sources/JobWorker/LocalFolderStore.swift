import Foundation
import ObjectStorage

/// A minimal local-folder `ObjectStore` for the worker's own tests and the CLI until ObjectStorage's
/// `LocalDirectoryStore` is used everywhere. Keys are relative paths below `root`; writes go to a temporary file
/// renamed into place.
package struct LocalFolderStore: ObjectStore {
    package let root: String

    package init(root: String) {
        self.root = root
    }

    func path(for key: String) throws -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw ObjectStoreError(key: key, message: "not a valid relative key")
        }
        return root + "/" + key
    }

    package func put(localPath: String, key: String, contentType: String) async throws {
        try copy(from: localPath, to: try path(for: key), key: key)
    }

    package func get(key: String, to localPath: String) async throws {
        let source = try path(for: key)
        guard FileManager.default.fileExists(atPath: source) else { throw ObjectStoreError(key: key, message: "no such object") }
        try copy(from: source, to: localPath, key: key)
    }

    package func delete(key: String) async throws {
        let target = try path(for: key)
        if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
    }

    package func exists(key: String) async throws -> Bool {
        FileManager.default.fileExists(atPath: try path(for: key))
    }

    package func presignedGetURL(key: String, expiresIn: Int) async throws -> URL? { nil }

    private func copy(from source: String, to destination: String, key: String) throws {
        let folder = (destination as NSString).deletingLastPathComponent
        let temporary = destination + ".part-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source, toPath: temporary)
            if rename(temporary, destination) != 0 {
                throw ObjectStoreError(key: key, message: "rename failed (errno \(errno))")
            }
        } catch let error as ObjectStoreError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ObjectStoreError(key: key, message: "\(error)")
        }
    }
}
