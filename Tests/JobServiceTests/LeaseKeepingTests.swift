import Foundation
import JobQueue
import JobWorker
import ObjectStorage
import QueueTestSupport
import RendcTestSupport
import Testing

/// A local store whose `get` or `put` waits at a gate until the test opens it: slow storage on demand. The wait
/// sleeps in small steps, so a cancelled task stops waiting (as an HTTP transfer does when its task is cancelled).
final class GatedObjectStore: ObjectStore, @unchecked Sendable {
    enum Operation: Sendable, Hashable { case get, put }
    struct State {
        var gated: Set<Operation> = []
        var calls: [Operation: Int] = [:]
        var waiting: [Operation: Int] = [:]
        var cancelled: [Operation: Int] = [:]
    }
    let inner: LocalDirectoryStore
    private let lock = NSLock()
    private var state = State()

    init(inner: LocalDirectoryStore, gated: Set<Operation>) {
        self.inner = inner
        state.gated = gated
    }

    var current: State { lock.withLock { state } }
    func open(_ operation: Operation) { lock.withLock { _ = state.gated.remove(operation) } }

    private func pass(_ operation: Operation) async throws {
        lock.withLock {
            state.calls[operation, default: 0] += 1
            state.waiting[operation, default: 0] += 1
        }
        defer { lock.withLock { state.waiting[operation, default: 0] -= 1 } }
        while lock.withLock({ state.gated.contains(operation) }) {
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                lock.withLock { state.cancelled[operation, default: 0] += 1 }
                throw error
            }
        }
    }

    func put(localPath: String, key: String, contentType: String) async throws {
        try await pass(.put)
        try await inner.put(localPath: localPath, key: key, contentType: contentType)
    }
    func get(key: String, to localPath: String) async throws {
        try await pass(.get)
        try await inner.get(key: key, to: localPath)
    }
    func delete(key: String) async throws { try await inner.delete(key: key) }
    func exists(key: String) async throws -> Bool { try await inner.exists(key: key) }
    func presignedGetURL(key: String, expiresIn: Int) async throws -> URL? { nil }
}

/// The lease is kept for the whole job, not only while rendering (security review: a job whose input fetch or
/// upload outlived its 30 s lease was reaped and run twice at once, using up its attempts).
@Suite struct LeaseKeepingTests {
    /// Leases of 6 s, renewed every 0.2 s; the worker's own reaper looks every 0.2 s. The fetch and the upload each
    /// wait at a gate for two lease periods: without renewal during those steps the reaper takes the job back and
    /// the row's lease never moves. With it, the lease keeps moving, nothing is reaped, the job runs once and
    /// completes. (The lease is long against the renewal interval: tests running beside this one can hold the
    /// shared threads for a second or more, which a 1.5 s lease did not survive on a loaded CI machine.)
    @Test func aJobKeepsItsLeaseWhileItsInputsAndOutputsAreSlow() async throws {
        let policy = QueuePolicy(leaseDuration: 6, backoff: BackoffPolicy(base: 0, jitter: 0))
        try await withTestStore(policy: policy) { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-lease")
            defer { try? FileManager.default.removeItem(at: root) }
            let local = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: local, count: 1)
            let objects = GatedObjectStore(inner: local, gated: [.get, .put])
            let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images))
            let markers = root.path + "/markers"
            try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)
            let config = WorkerConfiguration(
                concurrency: 2, temporaryDirectory: root.path + "/tmp", identity: "w-slow-storage", pollInterval: 0.2,
                heartbeatInterval: 0.2, reaperInterval: 0.2, progressInterval: 0.1)
            try await withWorker(
                store: store, objects: objects, renderer: SimulatedRenderer(duration: 0.05, markerDirectory: markers), configuration: config
            ) { (_: JobWorker) async throws -> Void in
                for step in [GatedObjectStore.Operation.get, .put] {
                    #expect(try await eventually(timeout: 60) { objects.current.waiting[step, default: 0] == 1 }, "\(step) started")
                    let before = try #require(try await store.job(id: id)?.leaseExpiresAt)
                    // Two lease periods (by the lease's own clock: past the expiry seen at the start).
                    #expect(try await eventually(timeout: 60) { Date() > before.addingTimeInterval(12) })
                    let job = try #require(try await store.job(id: id))
                    #expect(job.status == .processing && job.attempts == 1, "\(step): \(job.status) attempt \(job.attempts)")
                    #expect((job.leaseExpiresAt ?? .distantPast) > before.addingTimeInterval(6), "\(step): the lease was renewed")
                    objects.open(step)
                }
                #expect(try await eventually(timeout: 60) { try await store.job(id: id)?.status == .completed })
            }
            let job = try #require(try await store.job(id: id))
            #expect(job.status == .completed && job.attempts == 1 && job.lastError == nil)
            #expect(objects.current.calls[.get] == 1, "the input was fetched by one attempt only")
            #expect(objects.current.calls[.put] == 2, "one video and one thumbnail upload")
            let marks = try String(contentsOfFile: markers + "/" + id.uuidString.lowercased(), encoding: .utf8)
            #expect(marks.components(separatedBy: "started").count == 2, "rendered once: \(marks)")
        }
    }

    /// When the lease is lost while the job waits on storage, the keeper stops that step at once (the gate is never
    /// opened: only cancellation explains that the worker frees its slot) and nothing is written for the job.
    @Test(arguments: [GatedObjectStore.Operation.get, .put])
    func aLostLeaseStopsASlowFetchOrUploadAndWritesNothing(_ step: GatedObjectStore.Operation) async throws {
        try await withTestStore { store, configuration in
            let root = try Fixtures.temporaryDirectory("rendc-lease")
            defer { try? FileManager.default.removeItem(at: root) }
            let local = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: local, count: 1)
            let objects = GatedObjectStore(inner: local, gated: [step])
            let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images))
            let temp = root.path + "/tmp"
            let config = WorkerConfiguration(
                concurrency: 1, temporaryDirectory: temp, identity: "w-lost", pollInterval: 30, heartbeatInterval: 0.1,
                reaperInterval: 600, progressInterval: 0.1)
            try await withWorker(store: store, objects: objects, renderer: SimulatedRenderer(duration: 0.05), configuration: config) { worker in
                #expect(try await eventually(timeout: 60) { objects.current.waiting[step, default: 0] == 1 })
                // Another owner takes the job (as after a reap and a new claim).
                try TestDatabase.psql(
                    configuration,
                    """
                    UPDATE video_processing_jobs SET lease_owner = 'thief', lease_epoch = lease_epoch + 1, attempts = attempts + 1
                    WHERE id = '\(id.uuidString)'
                    """)
                #expect(try await eventually(timeout: 60) { worker.busySlots == 0 }, "the worker stopped the job")
            }
            #expect(objects.current.cancelled[step] == 1, "the \(step) was cancelled, not waited for")
            let job = try #require(try await store.job(id: id))
            #expect(job.status == .processing && job.leaseOwner == "thief" && job.outputVideoKey == nil)
            #expect(try await local.exists(key: OutputKeys.video(tenantId: tenant.id, jobId: id)) == false)
            #expect(folderIsEmpty(temp))
        }
    }
}
