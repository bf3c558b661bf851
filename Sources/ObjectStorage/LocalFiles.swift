import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small file-system helpers shared by the stores: atomic replace through a temporary file in the destination's
/// own directory (so `rename(2)` never crosses file systems).
enum LocalFiles {
    /// What follows the destination's name in a temporary's name, before the UUID.
    static let temporaryMarker = ".rendc-tmp-"

    /// A fresh temporary path beside `path`: same directory, hidden, unique: `.<name>.rendc-tmp-<UUID>`.
    static func temporaryPath(beside path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        return directory + "/." + name + temporaryMarker + UUID().uuidString
    }

    /// Whether `name` (one path component) is exactly what ``temporaryPath(beside:)`` makes: a dot, a non-empty
    /// name, the marker, and an upper-case canonical UUID (`UUID().uuidString`) at the very end.
    static func isTemporaryName(_ name: String) -> Bool {
        guard name.hasPrefix("."), let marker = name.range(of: temporaryMarker, options: .backwards) else { return false }
        guard marker.lowerBound > name.index(after: name.startIndex) else { return false }
        let tail = name[marker.upperBound...]
        guard tail.utf8.count == 36, let uuid = UUID(uuidString: String(tail)) else { return false }
        return uuid.uuidString == tail
    }

    static func createParentDirectory(of path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Atomically replaces (or creates) `destination` with `temporary` (same directory), after flushing it to disk.
    static func commit(temporary: String, to destination: String) throws {
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            _ = fsync(fd)
            _ = close(fd)
        }
        if rename(temporary, destination) != 0 {
            let reason = String(cString: strerror(errno))
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "rename failed: \(reason)"])
        }
    }

    static func isRegularFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    static func fileSize(_ path: String) throws -> Int64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes[.size] as? NSNumber { return size.int64Value }
        if let size = attributes[.size] as? Int64 { return size }
        if let size = attributes[.size] as? Int { return Int64(size) }
        return 0
    }

    /// Copies `source` to `destination` atomically: the destination is either absent/old or the whole new file.
    static func atomicCopy(from source: String, to destination: String) throws {
        try createParentDirectory(of: destination)
        let temporary = temporaryPath(beside: destination)
        do {
            try FileManager.default.copyItem(atPath: source, toPath: temporary)
            try commit(temporary: temporary, to: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// A short reason for a Foundation / POSIX error, without file contents.
    static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError, let message = cocoa.userInfo[NSLocalizedDescriptionKey] as? String {
            return message
        }
        return (error as NSError).localizedDescription
    }
}
