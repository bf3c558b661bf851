import Foundation
import ObjectStorage

/// A minimal local-directory store used until ObjectStorage's LocalDirectoryStore lands on main.
package struct InterimLocalStore: LocalFileBackedStore {
    package let root: String
    package init(root: String) { self.root = root }

    package func filePath(forKey key: String) throws -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw ObjectStoreError(key: key, message: "invalid key")
        }
        return (root as NSString).appendingPathComponent(key)
    }

    package func put(localPath: String, key: String, contentType: String) async throws {
        let target = try filePath(forKey: key)
        let fm = FileManager.default
        try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temp = target + ".tmp-\(UUID().uuidString)"
        try fm.copyItem(atPath: localPath, toPath: temp)
        if rename(temp, target) != 0 {
            try? fm.removeItem(atPath: temp)
            throw ObjectStoreError(key: key, message: "rename failed")
        }
    }

    package func get(key: String, to localPath: String) async throws {
        let source = try filePath(forKey: key)
        guard FileManager.default.fileExists(atPath: source) else { throw ObjectStoreError(key: key, message: "not found") }
        try? FileManager.default.removeItem(atPath: localPath)
        try FileManager.default.copyItem(atPath: source, toPath: localPath)
    }

    package func delete(key: String) async throws {
        try? FileManager.default.removeItem(atPath: try filePath(forKey: key))
    }

    package func exists(key: String) async throws -> Bool {
        FileManager.default.fileExists(atPath: try filePath(forKey: key))
    }

    package func presignedGetURL(key: String, expiresIn: Int) async throws -> URL? { nil }
}
