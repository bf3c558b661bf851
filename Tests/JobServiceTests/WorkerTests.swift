import Foundation
import JobQueue
import JobWorker
import Logging
import ObjectStorage
import RendcTestSupport
import Testing

/// A tenant with `count` image assets stored in `objects`.
func makeTenantWithImages(_ store: JobStore, objects: LocalDirectoryStore, count: Int = 2, cap: Int = 8) async throws -> (Tenant, [UUID]) {
    let tenant = try await store.createTenant(name: "worker-test", maxRunningJobs: cap)
    let scratch = try Fixtures.temporaryDirectory("rendc-img")
    defer { try? FileManager.default.removeItem(at: scratch) }
    var ids: [UUID] = []
    for index in 0..<count {
        let file = scratch.appendingPathComponent("image-\(index).png")
        try Data("not really a png \(index)".utf8).write(to: file)
        let key = "assets/\(tenant.id.uuidString.lowercased())/image-\(index).png"
        try await objects.put(localPath: file.path, key: key, contentType: "image/png")
        ids.append(try await store.insertAsset(NewAsset(tenantId: tenant.id, type: .image, name: "image-\(index).png", filePath: key)).id)
    }
    return (tenant, ids)
}

/// Runs a worker for the body's duration, then shuts it down gracefully and waits for it.
func withWorker<R: Sendable>(
    store: JobStore, objects: any ObjectStore, renderer: any JobRenderer, configuration: WorkerConfiguration,
    _ body: @Sendable (JobWorker) async throws -> R
) async throws -> R {
    var logger = Logger(label: "rendc.test.worker")
    logger.logLevel = .warning
    let worker = JobWorker(store: store, objectStore: objects, renderer: renderer, configuration: configuration, logger: logger)
    let running = Task { try await worker.run() }
    do {
        let result = try await body(worker)
        worker.beginShutdown()
        try await running.value
        return result
    } catch {
        worker.beginShutdown()
        _ = try? await running.value
        throw error
    }
}

func folderIsEmpty(_ path: String) -> Bool {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).isEmpty
}

@Suite struct WorkerTests {
    @Test func workerRendersUploadsAndCompletesJobs() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-worker")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects)
            var ids: [UUID] = []
            for _ in 0..<6 { ids.append(try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "hi"))) }
            let temp = root.path + "/tmp"
            let config = WorkerConfiguration(concurrency: 3, temporaryDirectory: temp, identity: "w-test", pollInterval: 5)
            try await withWorker(store: store, objects: objects, renderer: SimulatedRenderer(duration: 0.3), configuration: config) {
                (_: JobWorker) async throws -> Void in
                let done = try await eventually(timeout: 60) { try await store.statusCounts(tenantId: tenant.id)[.completed] == 6 }
                #expect(done)
            }
            for id in ids {
                let job = try #require(try await store.job(id: id))
                #expect(job.status == .completed && job.progress == 100 && job.attempts == 1)
                #expect(job.outputVideoKey == OutputKeys.video(tenantId: tenant.id, jobId: id))
                #expect(job.outputThumbnailKey == OutputKeys.thumbnail(tenantId: tenant.id, jobId: id))
                #expect((job.processingTimeMs ?? 0) >= 300)
                let video = try String(contentsOfFile: root.path + "/storage/" + (job.outputVideoKey ?? ""), encoding: .utf8)
                #expect(video.contains(id.uuidString.lowercased()))
                #expect(try await objects.exists(key: job.outputThumbnailKey ?? ""))
            }
            #expect(folderIsEmpty(temp), "per-job temporary folders are removed")
        }
    }

    @Test func newJobsArePickedUpByNotifyNotByPolling() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-worker")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects, count: 1)
            // The poll is 30 s: only NOTIFY can explain a fast pickup.
            let config = WorkerConfiguration(concurrency: 2, temporaryDirectory: root.path + "/tmp", identity: "w-notify", pollInterval: 30)
            let waits = try await withWorker(store: store, objects: objects, renderer: SimulatedRenderer(duration: 0), configuration: config) {
                (_: JobWorker) async throws -> [Double] in
                try await Task.sleep(for: .milliseconds(500))  // LISTEN is up
                var waits: [Double] = []
                for _ in 0..<5 {
                    let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images))
                    // Under 10 s against a 30 s poll: only NOTIFY explains it, however busy the machine is.
                    #expect(try await eventually(timeout: 10) { try await store.job(id: id)?.status == .completed })
                    let job = try #require(try await store.job(id: id))
                    // Both times come from the database clock.
                    waits.append(try #require(job.startedAt).timeIntervalSince(job.createdAt))
                }
                return waits.sorted()
            }
            let median = waits[waits.count / 2] * 1000
            let worst = (waits.last ?? 0) * 1000
            print(
                "worker pickup latency (created_at -> started_at, NOTIFY, idle worker): median \(String(format: "%.1f", median)) ms, max \(String(format: "%.1f", worst)) ms (a figure, not a bound)"
            )
        }
    }

    @Test func aBadJobFailsWithItsReasonAndTheWorkerGoesOn() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-worker")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects, count: 1)
            let missing = UUID()
            let bad = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: [missing], priority: 5))
            let badAudio = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, audioAssetId: "song.mp3", priority: 4))
            let failing = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "FAIL", priority: 3))
            let good = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images))
            let temp = root.path + "/tmp"
            let config = WorkerConfiguration(concurrency: 1, temporaryDirectory: temp, identity: "w-bad", pollInterval: 0.5)
            try await withWorker(store: store, objects: objects, renderer: SimulatedRenderer(duration: 0.05), configuration: config) {
                (_: JobWorker) async throws -> Void in
                #expect(try await eventually(timeout: 30) { try await store.job(id: good)?.status == .completed })
            }
            let badJob = try #require(try await store.job(id: bad))
            #expect(badJob.status == .failed && badJob.attempts == 1)
            #expect(badJob.lastError == "image asset \(missing.uuidString.lowercased()) does not exist for this tenant")
            #expect(try await store.job(id: badAudio)?.lastError == "audio_file 'song.mp3' is not an asset id")
            #expect(try await store.job(id: failing)?.lastError == "simulated render failure for text 'FAIL'")
            #expect(folderIsEmpty(temp))
        }
    }

    @Test func cancellingARunningJobStopsItsRender() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-worker")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects, count: 1)
            let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images))
            let temp = root.path + "/tmp"
            let config = WorkerConfiguration(
                concurrency: 1, temporaryDirectory: temp, identity: "w-cancel", pollInterval: 1, heartbeatInterval: 0.2,
                progressInterval: 0.1)
            try await withWorker(store: store, objects: objects, renderer: SimulatedRenderer(duration: 30), configuration: config) {
                (_: JobWorker) async throws -> Void in
                #expect(try await eventually(timeout: 30) { (try await store.job(id: id)?.progress ?? 0) > 0 })
                #expect(try await store.requestCancel(jobId: id, tenantId: tenant.id) == .requested)
                let start = Date()
                #expect(try await eventually(timeout: 30) { try await store.job(id: id)?.status == .cancelled })
                print("cancel of a running job took effect in \(Int(Date().timeIntervalSince(start) * 1000)) ms")
            }
            #expect(try await objects.exists(key: OutputKeys.video(tenantId: tenant.id, jobId: id)) == false)
            #expect(folderIsEmpty(temp))
        }
    }

    @Test func aWorkerThatLostItsLeaseStopsAndWritesNothing() async throws {
        // The worker heartbeats too rarely for its 0.5 s lease (a stalled process); the job is reaped and
        // claimed by another owner, and the worker notices at its next progress write.
        // The reaped job waits 2 s (backoff) before anyone may claim it: the worker, woken by the reaper's NOTIFY
        // while nothing is due, goes back to its 30 s poll, so the thief's claim cannot lose a race to it.
        let policy = QueuePolicy(leaseDuration: 0.5, backoff: BackoffPolicy(base: 2, jitter: 0))
        try await withTestStore(policy: policy) { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-worker")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects, count: 1)
            let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images))
            let temp = root.path + "/tmp"
            let config = WorkerConfiguration(
                concurrency: 1, temporaryDirectory: temp, identity: "w-stalled", pollInterval: 30, heartbeatInterval: 60,
                reaperInterval: 600, progressInterval: 0.1)
            try await withWorker(store: store, objects: objects, renderer: SimulatedRenderer(duration: 600), configuration: config) { worker in
                #expect(try await eventually(timeout: 30) { try await store.job(id: id)?.status == .processing })
                #expect(try await eventually(timeout: 30) { try await store.reapExpiredLeases().map(\.jobId) == [id] })
                var claimed: ClaimedJob?
                #expect(
                    try await eventually(timeout: 30) {
                        claimed = try await store.claim(owner: "thief", limit: 1).first
                        return claimed != nil
                    })
                let thief = try #require(claimed)
                #expect(try await eventually(timeout: 30) { worker.busySlots == 0 }, "the worker stopped the render")
                #expect(try await store.job(id: id)?.leaseOwner == "thief")
                #expect(try await store.complete(thief.lease, videoURL: "thief.mp4", thumbnailURL: nil, processingTimeMs: 1))
            }
            #expect(try await store.job(id: id)?.outputVideoKey == "thief.mp4")
            #expect(try await objects.exists(key: OutputKeys.video(tenantId: tenant.id, jobId: id)) == false)
            #expect(folderIsEmpty(temp))
        }
    }

    @Test func gracefulShutdownReleasesJobsThatOutliveTheGracePeriod() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-worker")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects, count: 1)
            let slow = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "slow"))
            let temp = root.path + "/tmp"
            let config = WorkerConfiguration(
                concurrency: 2, temporaryDirectory: temp, identity: "w-stop", pollInterval: 1, shutdownGracePeriod: 0.5)
            let markers = root.path + "/markers"
            try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)
            try await withWorker(
                store: store, objects: objects, renderer: SimulatedRenderer(duration: 60, markerDirectory: markers), configuration: config
            ) { (_: JobWorker) async throws -> Void in
                #expect(try await eventually(timeout: 30) { try await store.job(id: slow)?.status == .processing })
            }
            // The render was stopped, not waited for: it started and never finished.
            let marks = (try? String(contentsOfFile: markers + "/" + slow.uuidString.lowercased(), encoding: .utf8)) ?? ""
            #expect(marks.contains("started") && !marks.contains("finished"), "\(marks)")
            let job = try #require(try await store.job(id: slow))
            #expect(job.status == .pending && job.attempts == 0 && job.leaseOwner == nil)
            #expect(folderIsEmpty(temp))
        }
    }
}
