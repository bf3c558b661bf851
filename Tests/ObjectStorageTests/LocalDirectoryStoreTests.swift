import Foundation
import Testing
@testable import ObjectStorage

@Suite struct ObjectKeyTests {
    @Test(arguments: [
        "videos/t1/j1.mp4", "thumbnails/tenant-a/0b5f.jpg", "assets/t/a b/ü 😀.png", "a", "a/.hidden", "a/..b/c..",
    ])
    func acceptsRelativeKeys(key: String) throws {
        try ObjectKey.validate(key)
    }

    @Test(arguments: [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("../escape", "'..'"),
        ("videos/../../escape", "'..'"),
        ("videos/./x", "'.'"),
        ("videos//x", "empty path segment"),
        ("videos/x/", "empty path segment"),
        ("videos\\..\\x", "backslash"),
        ("videos/x\0.mp4", "NUL"),
        ("videos/x\n.mp4", "control character"),
        (String(repeating: "k", count: 1025), "longer than 1024 bytes"),
    ])
    func rejectsUnsafeKeys(key: String, reason: String) {
        do {
            try ObjectKey.validate(key)
            Issue.record("accepted \(key.debugDescription)")
        } catch let error as ObjectStoreError {
            #expect(error.code == .invalidKey)
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite struct LocalDirectoryStoreTests {
    @Test func putGetExistsDeleteRoundTrip() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = LocalDirectoryStore(root: dir.file("root"))
        let payload = patternedData(count: 300_000)
        let source = try dir.write("in.mp4", payload)

        #expect(try await store.exists(key: "videos/t1/j1.mp4") == false)
        try await store.put(localPath: source, key: "videos/t1/j1.mp4", contentType: "video/mp4")
        #expect(try await store.exists(key: "videos/t1/j1.mp4"))
        #expect(try dir.read(dir.file("root/videos/t1/j1.mp4")) == payload)
        // The source is copied, not moved.
        #expect(FileManager.default.fileExists(atPath: source))

        let out = dir.file("out/copy.mp4")
        try await store.get(key: "videos/t1/j1.mp4", to: out)
        #expect(try dir.read(out) == payload)
        // No temporary files left behind on either side.
        #expect(dir.entries(dir.file("root/videos/t1")) == ["j1.mp4"])
        #expect(dir.entries(dir.file("out")) == ["copy.mp4"])

        try await store.delete(key: "videos/t1/j1.mp4")
        #expect(try await store.exists(key: "videos/t1/j1.mp4") == false)
        // Deleting again is fine (idempotent, like S3).
        try await store.delete(key: "videos/t1/j1.mp4")
    }

    @Test func putReplacesExistingObject() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = LocalDirectoryStore(root: dir.file("root"))
        try await store.put(localPath: try dir.write("a", Data("old".utf8)), key: "k/x", contentType: "text/plain")
        try await store.put(localPath: try dir.write("b", Data("new!".utf8)), key: "k/x", contentType: "text/plain")
        #expect(try dir.read(dir.file("root/k/x")) == Data("new!".utf8))
        #expect(dir.entries(dir.file("root/k")) == ["x"])
    }

    @Test func replacementIsAtomicForAnOpenReader() async throws {
        // A reader that opened the old object keeps reading the old bytes: the new one arrives by rename.
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = LocalDirectoryStore(root: dir.file("root"))
        let old = patternedData(count: 100_000, seed: 1)
        let new = patternedData(count: 200_000, seed: 2)
        try await store.put(localPath: try dir.write("old", old), key: "v/x", contentType: "video/mp4")
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: dir.file("root/v/x")))
        defer { try? reader.close() }
        try await store.put(localPath: try dir.write("new", new), key: "v/x", contentType: "video/mp4")
        #expect(try reader.readToEnd() == old)
        #expect(try dir.read(dir.file("root/v/x")) == new)
    }

    @Test func getOfMissingObjectIsNotFound() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = LocalDirectoryStore(root: dir.path)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.get(key: "videos/none.mp4", to: dir.file("out"))
        }
        #expect(error?.code == .notFound)
        #expect(error?.description == "storage: videos/none.mp4: no such object")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out")))
    }

    @Test func directoryIsNotAnObject() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = LocalDirectoryStore(root: dir.path)
        try await store.put(localPath: try dir.write("a", Data("x".utf8)), key: "videos/t/j", contentType: "x/y")
        #expect(try await store.exists(key: "videos/t") == false)
        await #expect(throws: ObjectStoreError.self) { try await store.get(key: "videos/t", to: dir.file("o")) }
    }

    @Test func putOfMissingSourceFails() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = LocalDirectoryStore(root: dir.path)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.put(localPath: dir.file("nope.mp4"), key: "videos/a.mp4", contentType: "video/mp4")
        }
        #expect(error?.code == .localFile)
        #expect(error?.description.contains("nope.mp4") == true)
    }

    @Test func unsafeKeysNeverTouchTheFileSystem() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = LocalDirectoryStore(root: dir.file("root"))
        let source = try dir.write("payload", Data("secret".utf8))
        for key in ["../outside", "/tmp/abs", "a/../../outside", "a//b", "a\\b"] {
            let error = await #expect(throws: ObjectStoreError.self) {
                try await store.put(localPath: source, key: key, contentType: "text/plain")
            }
            #expect(error?.code == .invalidKey)
            await #expect(throws: ObjectStoreError.self) { try await store.exists(key: key) }
            await #expect(throws: ObjectStoreError.self) { try await store.delete(key: key) }
            await #expect(throws: ObjectStoreError.self) { try await store.get(key: key, to: dir.file("o")) }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("outside")))
        #expect(!FileManager.default.fileExists(atPath: dir.file("root")))
    }

    @Test func relativeRootResolvesAgainstWorkingDirectory() throws {
        let store = LocalDirectoryStore(root: "storage")
        #expect(store.root == FileManager.default.currentDirectoryPath + "/storage")
        #expect(try store.filePath(forKey: "videos/t/j.mp4") == store.root + "/videos/t/j.mp4")
    }

    @Test func presignedURLIsNilForLocalStore() async throws {
        let store = LocalDirectoryStore(root: "/tmp/x")
        #expect(try await store.presignedGetURL(key: "videos/a.mp4", expiresIn: 60) == nil)
    }
}
