import Foundation
import Logging
import Testing

@testable import ObjectStorage

/// svc12: a SIGKILL between the local store's copy to `.<name>.rendc-tmp-<UUID>` and its rename left that file for
/// ever. `makeStore` now sweeps a local store when `serve` or `worker` starts: stale temporaries of this store's own
/// naming go; a write in progress, look-alikes and everything outside the root stay.
@Suite struct TemporarySweepTests {
    /// Sets the file's modification time `hours` into the past.
    static func age(_ path: String, hours: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -hours * 3600)], ofItemAtPath: path)
    }

    @Test func aStartupSweepRemovesStaleTemporariesAndNothingElse() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let root = dir.file("root")
        let store = LocalDirectoryStore(root: root)
        let payload = Data("mp4 bytes".utf8)
        try await store.put(localPath: try dir.write("in.mp4", payload), key: "videos/t1/j1.mp4", contentType: "video/mp4")
        let object = try store.filePath(forKey: "videos/t1/j1.mp4")
        try Self.age(object, hours: 48)

        // What a kill between copy and rename leaves: a temporary named by the store itself, two hours old.
        let stale = LocalFiles.temporaryPath(beside: try store.filePath(forKey: "videos/t1/j2.mp4"))
        try dir.write(String(stale.dropFirst(dir.path.count + 1)), payload)
        try Self.age(stale, hours: 2)
        let staleDeeper = LocalFiles.temporaryPath(beside: try store.filePath(forKey: "assets/t2/a/b/photo.png"))
        try dir.write(String(staleDeeper.dropFirst(dir.path.count + 1)), payload)
        try Self.age(staleDeeper, hours: 30)
        // Another process's write in progress: the same naming, a fresh modification time.
        let fresh = LocalFiles.temporaryPath(beside: try store.filePath(forKey: "videos/t1/j3.mp4"))
        try dir.write(String(fresh.dropFirst(dir.path.count + 1)), payload)
        // Look-alikes, just as old: not what the store names its temporaries.
        let uuid = UUID().uuidString
        let lookAlikes = [
            "root/videos/t1/.j1.mp4.rendc-tmp-notes",  // no UUID
            "root/videos/t1/j1.mp4.rendc-tmp-\(uuid)",  // not hidden
            "root/videos/t1/.j1.mp4.rendc-tmp-\(uuid.lowercased())",  // a UUID the store never writes
            "root/videos/t1/.rendc-tmp-\(uuid)",  // no destination name
            "root/videos/t1/.j1.mp4.rendc-tmp-\(uuid).bak",  // something after the UUID
            "root/videos/t1/.j1.mp4.rendc-tmp-\(uuid)x",
        ].map { try! dir.write($0, payload) }
        for path in lookAlikes { try Self.age(path, hours: 5) }
        // A stale temporary outside the root, reachable through a symbolic link inside it: links are not followed.
        let outside = try dir.write("elsewhere/.secret.rendc-tmp-\(UUID().uuidString)", payload)
        try Self.age(outside, hours: 5)
        try FileManager.default.createSymbolicLink(atPath: root + "/videos/link", withDestinationPath: dir.file("elsewhere"))
        // A directory named like a temporary is not a file: kept.
        let directory = root + "/videos/.x.rendc-tmp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.age(directory, hours: 5)

        var logger = Logger(label: "rendc.test.sweep")
        logger.logLevel = .critical
        _ = try makeStore(configuration: StorageConfiguration(backend: .local(directory: root)), logger: logger)

        #expect(!FileManager.default.fileExists(atPath: stale), "the stale temporary is gone")
        #expect(!FileManager.default.fileExists(atPath: staleDeeper))
        #expect(FileManager.default.fileExists(atPath: fresh), "a write in progress is kept")
        #expect(try dir.read(object) == payload, "objects are kept, however old")
        for path in lookAlikes { #expect(FileManager.default.fileExists(atPath: path), "\(path)") }
        #expect(FileManager.default.fileExists(atPath: outside), "nothing outside the root, links not followed")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(store.sweepStaleTemporaries() == .init(removed: 0, failed: 0), "nothing left to sweep")
        // Once the write in progress is as old as the bound, it goes too.
        try Self.age(fresh, hours: 1.5)
        #expect(store.sweepStaleTemporaries() == .init(removed: 1, failed: 0))
        #expect(!FileManager.default.fileExists(atPath: fresh))
    }

    /// No object can be named like a temporary, so no sweep can take one for a leftover.
    @Test func keysNamedLikeTemporariesAreRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = LocalDirectoryStore(root: dir.file("root"))
        let key = "videos/t1/.j1.mp4.rendc-tmp-\(UUID().uuidString)"
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.put(localPath: try dir.write("in", Data("x".utf8)), key: key, contentType: "video/mp4")
        }
        #expect(error?.code == .invalidKey)
        #expect(!FileManager.default.fileExists(atPath: dir.file("root/videos")))
        // A hidden key of another shape is still fine.
        try await store.put(localPath: try dir.write("in2", Data("x".utf8)), key: "videos/t1/.j1.mp4.rendc-tmp-notes", contentType: "x/y")
    }
}
