import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import Logging
import ObjectStorage
import QueueTestSupport
import RendcTestSupport
import Testing

@testable import JobAPI

/// Issue: a killed `serve` left its upload spools (`rendc-upload-*`) forever, and `/files` for remote stores left its
/// `rendc-download-*` copy behind on HEAD or when the body was never written.
@Suite struct TemporaryFilesTests {
    @Test func serveStartSweepsOnlyStaleSpoolsAndDownloadsOfItsOwnNaming() throws {
        let directory = try Fixtures.temporaryDirectory("rendc-spool-sweep")
        defer { try? FileManager.default.removeItem(at: directory) }
        let outside = try Fixtures.temporaryDirectory("rendc-spool-outside")
        defer { try? FileManager.default.removeItem(at: outside) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let now = Date()
        let old = now.addingTimeInterval(-7200), recent = now.addingTimeInterval(-60)
        func file(_ name: String, modified: Date) throws {
            FileManager.default.createFile(atPath: path(name), contents: Data("spool".utf8))
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: path(name))
        }
        let staleUpload = "rendc-upload-\(UUID().uuidString)", staleDownload = "rendc-download-\(UUID().uuidString)"
        let liveUpload = "rendc-upload-\(UUID().uuidString)"
        try file(staleUpload, modified: old)
        try file(staleDownload, modified: old)
        try file(liveUpload, modified: recent)  // another serve may still be writing it
        try file("rendc-upload-not-a-uuid", modified: old)
        try file("notes.txt", modified: old)
        try file("rendc-worker-\(UUID().uuidString)", modified: old)  // the worker's business, not this sweep's
        // A folder and a symbolic link with a spool's name: not regular files, left alone (the link's target too).
        let folder = "rendc-upload-\(UUID().uuidString)", link = "rendc-upload-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path(folder), withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path(folder))
        let target = outside.appendingPathComponent("precious").path
        FileManager.default.createFile(atPath: target, contents: Data("keep".utf8))
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: target)
        try FileManager.default.createSymbolicLink(atPath: path(link), withDestinationPath: target)

        #expect(APITemporaryFiles.sweep(directory.path, minimumAge: 3600, now: now) == 2)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        #expect(!left.contains(staleUpload) && !left.contains(staleDownload))
        #expect(left.isSuperset(of: [liveUpload, "rendc-upload-not-a-uuid", "notes.txt", folder, link]))
        #expect(FileManager.default.fileExists(atPath: target))
        // A second sweep finds nothing more; the recent spool goes once it is old enough.
        #expect(APITemporaryFiles.sweep(directory.path, minimumAge: 3600, now: now) == 0)
        #expect(APITemporaryFiles.sweep(directory.path, minimumAge: 3600, now: now.addingTimeInterval(3600)) == 1)
        #expect(!FileManager.default.fileExists(atPath: path(liveUpload)))
        #expect(APITemporaryFiles.staleAge(bodyTimeoutSeconds: 600) == 3600 && APITemporaryFiles.staleAge(bodyTimeoutSeconds: 7200) == 14400)
    }

    /// svc13: the sweeps ran only when `serve` started, so a temporary left while it ran stayed until a restart. The
    /// sweeper runs them again while the process runs: files left after it started go once stale; a fresh temporary
    /// (a write in progress) and a real object, however old, stay.
    @Test func theSweeperRemovesStaleTemporariesLeftWhileItRuns() async throws {
        let root = try Fixtures.temporaryDirectory("rendc-periodic-sweep")
        defer { try? FileManager.default.removeItem(at: root) }
        let spools = root.appendingPathComponent("spool").path, storage = root.appendingPathComponent("storage").path
        try FileManager.default.createDirectory(atPath: spools, withIntermediateDirectories: true)
        let store = LocalDirectoryStore(root: storage)
        let sweeper = TemporarySweeper(
            sweeps: [
                try #require(TemporarySweeper.Sweep.localStore(store)), APITemporaryFiles.periodicSweep(spools, bodyTimeoutSeconds: 60),
            ],
            interval: 0.05, logger: Logger(label: "rendc.test.sweeper"))
        #expect(TemporarySweeper.Sweep.localStore(TemporaryFilesTests.RemoteLikeStore(inner: store)) == nil)
        let running = Task { try await sweeper.run() }
        defer { running.cancel() }

        // Left after the process started: an interrupted put (hour-old and a minute-old one) and spools alike.
        let old = Date().addingTimeInterval(-7200), recent = Date().addingTimeInterval(-60)
        func file(_ path: String, modified: Date) throws {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: Data("partial".utf8))
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: path)
        }
        let folder = storage + "/videos/t1"
        let staleTemporary = folder + "/.j1.mp4.rendc-tmp-\(UUID().uuidString)", freshTemporary = folder + "/.j2.mp4.rendc-tmp-\(UUID().uuidString)"
        let staleSpool = spools + "/rendc-upload-\(UUID().uuidString)", freshSpool = spools + "/rendc-upload-\(UUID().uuidString)"
        try file(staleTemporary, modified: old)
        try file(freshTemporary, modified: recent)
        try file(staleSpool, modified: old)
        try file(freshSpool, modified: recent)
        let source = root.appendingPathComponent("object.mp4").path
        FileManager.default.createFile(atPath: source, contents: Data("video".utf8))
        try await store.put(localPath: source, key: "videos/t1/j0.mp4", contentType: "video/mp4")
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: try store.filePath(forKey: "videos/t1/j0.mp4"))

        // Waits for the sweeps (no bound on when: the loaded machine decides), then checks what stayed.
        let deadline = Date().addingTimeInterval(60)
        while FileManager.default.fileExists(atPath: staleTemporary) || FileManager.default.fileExists(atPath: staleSpool), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!FileManager.default.fileExists(atPath: staleTemporary))
        #expect(!FileManager.default.fileExists(atPath: staleSpool))
        #expect(FileManager.default.fileExists(atPath: freshTemporary))
        #expect(FileManager.default.fileExists(atPath: freshSpool))
        #expect(try await store.exists(key: "videos/t1/j0.mp4"))
        running.cancel()
        try await running.value
    }

    /// A store that is not on local disk as far as `/files` can tell (as S3 is): downloads go through a temporary copy.
    struct RemoteLikeStore: ObjectStore {
        let inner: LocalDirectoryStore
        func put(localPath: String, key: String, contentType: String) async throws {
            try await inner.put(localPath: localPath, key: key, contentType: contentType)
        }
        func get(key: String, to localPath: String) async throws { try await inner.get(key: key, to: localPath) }
        func delete(key: String) async throws { try await inner.delete(key: key) }
        func exists(key: String) async throws -> Bool { try await inner.exists(key: key) }
        func presignedGetURL(key: String, expiresIn: Int) async throws -> URL? { nil }
    }

    @Test func remoteDownloadsLeaveNoTemporaryCopyWhetherTheBodyIsSentOrNot() async throws {
        try await withAPI { api in
            let remote = RemoteLikeStore(inner: try #require(api.objectStore as? LocalDirectoryStore))
            let server = JobAPIServer(
                configuration: api.configuration, store: QueueAPIStore(api.store), objectStore: remote, templates: stubTemplates,
                metrics: nil, logger: TestDatabase.logger("rendc.test.files"))
            let key = "videos/\(api.tenantA.uuidString.lowercased())/download.mp4"
            let source = Fixtures.temporaryFile("rendc-download-source", extension: "mp4")
            defer { try? FileManager.default.removeItem(atPath: source) }
            let bytes = Data((0..<4096).map { UInt8($0 % 251) })
            FileManager.default.createFile(atPath: source, contents: bytes)
            try await remote.put(localPath: source, key: key, contentType: "video/mp4")
            let expires = Int(Date().timeIntervalSince1970) + 600
            let url = URLSigner.queryPath(key: key, expires: expires, signature: api.signer.signature(key: key, expires: expires))
            let spool = api.configuration.temporaryDirectory
            @Sendable func downloads() throws -> [String] {
                try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasPrefix("rendc-download-") }
            }
            try await server.makeApplication().test(.router) { client in
                let head = try await client.executeRequest(uri: url, method: .head, headers: [:], body: nil)
                #expect(head.status == .ok && head.headers[.contentLength] == "4096")
                #expect(try downloads().isEmpty, "HEAD sends no body; its copy must go anyway")
                let range = try await client.executeRequest(uri: url, method: .get, headers: [.range: "bytes=9999-"], body: nil)
                #expect(range.status == .rangeNotSatisfiable)
                #expect(try downloads().isEmpty)
                let get = try await client.executeRequest(uri: url, method: .get, headers: [:], body: nil)
                #expect(get.status == .ok && Data(get.body.readableBytesView) == bytes)
                #expect(try downloads().isEmpty)
            }
        }
    }
}
