import Foundation
import Hummingbird
import HummingbirdTesting
import JobQueue
import JobWorker
import Logging
import ObjectStorage
import QueueTestSupport
import RendcTestSupport
import Testing
import Webhooks

/// What the local receiver got.
actor HookInbox {
    struct Post: Sendable {
        var path: String
        var headers: [String: String]
        var body: Data
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var job: [String: Any]? { json?["job"] as? [String: Any] }
    }
    var posts: [Post] = []
    /// Answers 503 to this many first calls.
    var failures = 0
    func add(_ post: Post) -> Bool {
        posts.append(post)
        if failures > 0 { failures -= 1; return false }
        return true
    }
    func setFailures(_ n: Int) { failures = n }
    func posts(for jobId: UUID) -> [Post] {
        posts.filter { ($0.job?["id"] as? String) == jobId.uuidString.lowercased() }
    }
}

/// The deployment's master secret (`RENDC_WEBHOOK_SECRET`); each tenant's deliveries are signed with the secret
/// derived from it for that tenant.
let hookSecret = "worker-webhook-secret"
let hookSecrets = WebhookSecrets(master: hookSecret)

/// A receiver on 127.0.0.1 (`/hook`), allowed through the allow-list as an operator would.
func withHookReceiver(_ body: @Sendable (HookInbox, Int) async throws -> Void) async throws {
    let inbox = HookInbox()
    let router = Router()
    router.post("/hook") { request, _ -> Response in
        let bytes = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let ok = await inbox.add(.init(path: "/hook", headers: headers, body: Data(buffer: bytes)))
        return Response(status: ok ? .noContent : .serviceUnavailable)
    }
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await app.test(.live) { client in try await body(inbox, try #require(client.port)) }
}

/// Patient timeouts by default: these tests count attempts, and a loaded CI machine must not add a timed-out one.
func makeDelivery(
    _ store: JobStore, objects: any ObjectStore, owner: String = "w-hooks",
    timeouts: WebhookTimeouts = WebhookTimeouts(connect: 60, read: 60, total: 120),
    configuration: WebhookDeliveryConfiguration = WebhookDeliveryConfiguration(
        pollInterval: 0.2, retry: WebhookRetryPolicy(attempts: 4, baseDelay: 0.2, maxDelay: 1))
) -> WebhookDeliveryService {
    var logger = Logger(label: "rendc.test.webhooks")
    logger.logLevel = .critical
    let sender = WebhookSender(policy: try! WebhookTargetPolicy(allowList: "127.0.0.1/32"), timeouts: timeouts, logger: logger)
    let links = DownloadLinks(
        objectStore: objects, signer: URLSigner(secret: Array("url-signing-secret-0123".utf8)), baseURL: "https://api.example.test/", lifetime: 600)
    return WebhookDeliveryService(
        store: store, sender: sender, secrets: hookSecrets, links: links, configuration: configuration, owner: owner, logger: logger)
}

/// Runs the delivery loop for the body's duration.
func withDelivery<R: Sendable>(_ service: WebhookDeliveryService, _ body: @Sendable () async throws -> R) async throws -> R {
    let running = Task { await service.run() }
    defer { running.cancel() }
    let result = try await body()
    service.stop()
    await running.value
    return result
}

@Suite struct WebhookWorkerTests {
    @Test func finalStatesPostSignedEventsWithSignedDownloadURLs() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-webhook")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects)
            try await withHookReceiver { inbox, port in
                let url = "http://127.0.0.1:\(port)/hook"
                let good = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "✨ hi", callbackURL: url))
                let silent = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "no hook"))
                let bad = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "FAIL", callbackURL: url))
                // Cancelled while still pending, through the API's path: it gets its event too.
                let cancelled = try await store.enqueue(
                    NewJob(tenantId: tenant.id, imageIds: images, callbackURL: url, runAfter: Date().addingTimeInterval(3600)))
                #expect(try await store.requestCancel(jobId: cancelled, tenantId: tenant.id) == .cancelled)

                var logger = Logger(label: "rendc.test.webhooks")
                logger.logLevel = .critical
                let delivery = makeDelivery(store, objects: objects)
                let worker = JobWorker(
                    store: store, objectStore: objects, renderer: SimulatedRenderer(duration: 0.1),
                    configuration: WorkerConfiguration(
                        concurrency: 2, temporaryDirectory: root.path + "/tmp", identity: "host-a:4242:abcd", pollInterval: 1),
                    logger: logger, webhooks: delivery)
                let running = Task { try await worker.run() }
                #expect(try await eventually(timeout: 30) { await inbox.posts.count >= 3 })
                worker.beginShutdown()
                try await running.value

                let posts = await inbox.posts
                #expect(posts.count == 3, "one event per job with a callback URL: \(posts.map { $0.json?["type"] ?? "?" })")
                #expect(await inbox.posts(for: silent).isEmpty)
                // Signed with the tenant's own secret, not with the deployment's master secret.
                let signer = hookSecrets.signer(tenantId: tenant.id, generation: 1)
                for post in posts {
                    let now = Int(Date().timeIntervalSince1970)
                    #expect(signer.verify(header: post.headers["x-rendc-signature"] ?? "", body: post.body, now: now))
                    #expect(!WebhookSigner(secret: hookSecret).verify(header: post.headers["x-rendc-signature"] ?? "", body: post.body, now: now))
                    #expect(post.headers["webhook-id"] == post.json?["id"] as? String, "the header and the body carry the event id")
                    #expect(post.headers["x-rendc-event"] == post.json?["type"] as? String)
                }
                let done = try #require(await inbox.posts(for: good).first)
                let job = try #require(done.job)
                #expect(done.json?["type"] as? String == "job.completed")
                #expect(job["status"] as? String == "completed" && job["tenantId"] as? String == tenant.id.uuidString.lowercased())
                let videoKey = OutputKeys.video(tenantId: tenant.id, jobId: good)
                #expect(job["outputVideoKey"] as? String == videoKey)
                let videoURL = try #require(job["outputVideoUrl"] as? String)
                // The same form the API hands out (trial15b: the webhook's was the older path form).
                #expect(videoURL.hasPrefix("https://api.example.test/files?key=videos%2F"), "\(videoURL)")
                // The URL verifies with the API's signer and expires when the body says.
                let query = try #require(URLComponents(string: videoURL)?.queryItems)
                let expires = try #require(Int(query.first { $0.name == "expires" }?.value ?? ""))
                let signature = try #require(query.first { $0.name == "signature" }?.value)
                #expect(
                    URLSigner(secret: Array("url-signing-secret-0123".utf8)).verify(key: videoKey, expires: expires, signature: signature) == .valid)
                let expiry = try #require(job["urlsExpireAt"] as? String)
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                #expect(formatter.date(from: expiry).map { Int($0.timeIntervalSince1970) } == expires)

                let failed = try #require(await inbox.posts(for: bad).first)
                #expect(failed.json?["type"] as? String == "job.failed")
                let lastError = try #require(failed.job?["lastError"] as? String)
                #expect(lastError.contains("simulated render failure"))
                #expect(!lastError.contains("4242") && !lastError.contains(root.path), "no pid or temp path: \(lastError)")
                #expect(failed.job?["outputVideoUrl"] == nil)

                let cancel = try #require(await inbox.posts(for: cancelled).first)
                #expect(cancel.json?["type"] as? String == "job.cancelled" && cancel.job?["status"] as? String == "cancelled")
                for id in [good, bad, cancelled] {
                    #expect(try await store.webhookDeliveries(jobId: id).map(\.status) == ["delivered"])
                }
            }
        }
    }

    /// Every way a job can end queues exactly its event, in the same statement; a retry or a release queues none.
    @Test func everyFinalTransitionQueuesItsEventAndOthersNone() async throws {
        try await withTestStore(policy: QueuePolicy(leaseDuration: 0.3, backoff: BackoffPolicy(base: 0, jitter: 0))) { store, _ in
            let tenant = try await store.createTenant(name: "transitions", maxRunningJobs: 100)
            var priority = 0
            // Each new job outranks the ones left pending before it, so the claim takes it.
            func job(_ attempts: Int = 3) async throws -> (UUID, Lease) {
                priority += 1
                let id = try await store.enqueue(
                    NewJob(
                        tenantId: tenant.id, imageIds: [UUID()], priority: priority, maxAttempts: attempts, callbackURL: "https://93.184.216.34/hook")
                )
                let claimed = try await store.claim(owner: "w", limit: 1)
                let lease = try #require(claimed.first { $0.job.id == id }).lease
                return (id, lease)
            }
            func events(_ id: UUID) async throws -> [String] { try await store.webhookDeliveries(jobId: id).map(\.eventType) }

            let (completed, l1) = try await job()
            #expect(try await store.complete(l1, videoURL: "v", thumbnailURL: nil, processingTimeMs: 1))
            #expect(try await events(completed) == ["job.completed"])
            #expect(try await store.complete(l1, videoURL: "v", thumbnailURL: nil, processingTimeMs: 1) == false)
            #expect(try await events(completed) == ["job.completed"], "a repeated (fenced) write queues nothing")

            let (failed, l2) = try await job()
            #expect(try await store.fail(l2, error: "bad input", retryable: false) == .failed)
            #expect(try await events(failed) == ["job.failed"])

            let (retried, l3) = try await job()
            guard case .retrying = try await store.fail(l3, error: "flaky", retryable: true) else { Issue.record("expected a retry"); return }
            #expect(try await events(retried).isEmpty, "a retry is not a final state")

            let (released, l4) = try await job()
            #expect(try await store.release(l4))
            #expect(try await events(released).isEmpty)

            let (stopped, l5) = try await job()
            #expect(try await store.requestCancel(jobId: stopped, tenantId: tenant.id) == .requested)
            #expect(try await events(stopped).isEmpty, "a running job is cancelled when its worker stops it")
            #expect(try await store.markCancelled(l5))
            #expect(try await events(stopped) == ["job.cancelled"])

            let (cancelledOnRelease, l6) = try await job()
            #expect(try await store.requestCancel(jobId: cancelledOnRelease, tenantId: tenant.id) == .requested)
            #expect(try await store.release(l6))
            #expect(try await events(cancelledOnRelease) == ["job.cancelled"])

            let (crashed, _) = try await job(1)
            #expect(try await eventually(timeout: 30) { try await store.reapExpiredLeases().contains { $0.jobId == crashed } })
            #expect(try await events(crashed) == ["job.failed"], "the reaper's final failure queues the event too")

            let pending = try await store.enqueue(
                NewJob(tenantId: tenant.id, imageIds: [UUID()], callbackURL: "https://93.184.216.34/hook", runAfter: Date().addingTimeInterval(3600)))
            #expect(try await store.requestCancel(jobId: pending, tenantId: tenant.id) == .cancelled)
            #expect(try await events(pending) == ["job.cancelled"], "cancelling a pending job sends job.cancelled")
            #expect(try await store.requestCancel(jobId: pending, tenantId: tenant.id) == .alreadyFinished(.cancelled))
            #expect(try await events(pending) == ["job.cancelled"])

            let silent = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: [UUID()], runAfter: Date().addingTimeInterval(3600)))
            #expect(try await store.requestCancel(jobId: silent, tenantId: tenant.id) == .cancelled)
            #expect(try await events(silent).isEmpty, "no callback URL, no event")
        }
    }

    /// Issue: one deployment-wide signing secret let any tenant that could verify its webhooks forge one for any other
    /// tenant. Each delivery is now signed with its job's tenant's secret, and rotation takes effect at the next send.
    @Test func eachTenantsDeliveriesVerifyOnlyWithItsOwnSecretAndRotationTakesEffectAtTheNextSend() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-webhook")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let a = try await store.createTenant(name: "tenant A", maxRunningJobs: 10)
            let b = try await store.createTenant(name: "tenant B", maxRunningJobs: 10)
            try await withHookReceiver { inbox, port in
                let url = "http://127.0.0.1:\(port)/hook"
                /// Enqueues, claims and completes a job of `tenant`: its event is queued with the final state.
                func finish(_ tenant: Tenant) async throws -> UUID {
                    let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: [UUID()], callbackURL: url))
                    let lease = try #require(try await store.claim(owner: "w", limit: 10).first { $0.job.id == id }).lease
                    #expect(try await store.complete(lease, videoURL: "videos/\(id).mp4", thumbnailURL: nil, processingTimeMs: 1))
                    return id
                }
                func verifies(_ post: HookInbox.Post, _ tenant: Tenant, generation: Int) -> Bool {
                    hookSecrets.signer(tenantId: tenant.id, generation: generation)
                        .verify(header: post.headers["x-rendc-signature"] ?? "", body: post.body, now: Int(Date().timeIntervalSince1970))
                }
                let jobA = try await finish(a), jobB = try await finish(b)
                try await withDelivery(makeDelivery(store, objects: objects)) { () async throws -> Void in
                    #expect(try await eventually(timeout: 30) { await inbox.posts.count >= 2 })
                }
                let postA = try #require(await inbox.posts(for: jobA).first), postB = try #require(await inbox.posts(for: jobB).first)
                #expect(verifies(postA, a, generation: 1) && !verifies(postA, b, generation: 1), "A's delivery: A's secret only")
                #expect(verifies(postB, b, generation: 1) && !verifies(postB, a, generation: 1), "B's delivery: B's secret only")

                // A rotates: its next delivery verifies with the new secret only; B is unaffected.
                #expect(try await store.webhookSecretGeneration(tenantId: a.id) == 1)
                #expect(try await store.rotateWebhookSecret(tenantId: a.id) == 2)
                #expect(try await store.webhookSecretGeneration(tenantId: b.id) == 1)
                let jobA2 = try await finish(a), jobB2 = try await finish(b)
                try await withDelivery(makeDelivery(store, objects: objects)) { () async throws -> Void in
                    #expect(try await eventually(timeout: 30) { await inbox.posts.count >= 4 })
                }
                let postA2 = try #require(await inbox.posts(for: jobA2).first), postB2 = try #require(await inbox.posts(for: jobB2).first)
                #expect(verifies(postA2, a, generation: 2) && !verifies(postA2, a, generation: 1), "the old secret no longer verifies")
                #expect(verifies(postB2, b, generation: 1))
            }
        }
    }

    @Test func queuedEventsSurviveAKilledDelivererAndKeepTheirId() async throws {
        try await withTestStore { store, configuration in
            let root = try Fixtures.temporaryDirectory("rendc-webhook")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let tenant = try await store.createTenant(name: "durable")
            try await withHookReceiver { inbox, port in
                let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: [UUID()], callbackURL: "http://127.0.0.1:\(port)/hook"))
                let lease = try #require(try await store.claim(owner: "w", limit: 1).first).lease
                // The event is written with the final state, in the same statement: no process needs to be alive.
                let loudness = JobAudioLoudness(inputLufs: -21.5, outputLufs: -14.0, outputTruePeakDbtp: -1.5)
                let notes = [
                    "layers[2] (text): the field price did not fit … of \"Nuevo 👟 -30%\"", "2 shots for 1 picture(s): pictures repeat in order",
                ]
                #expect(
                    try await store.complete(
                        lease, videoURL: "videos/x.mp4", thumbnailURL: nil, processingTimeMs: 5, audioLoudness: loudness, notes: notes))
                // The render's notes are the job's, as written (UTF-8, quotes and all).
                #expect(try await store.job(id: id)?.renderNotes == notes)
                let queued = try await store.webhookDeliveries(jobId: id)
                #expect(queued.map(\.status) == ["pending"] && queued.first?.eventType == "job.completed")
                // A worker claims the attempt and is killed before it records anything (its lease stays behind). The lease is
                // long, so no pause of a loaded machine between these two claims can outlast it.
                let dead = try #require(try await store.claimDeliveries(owner: "dead-worker", limit: 10, perTenant: 4, leaseSeconds: 600).first)
                #expect(dead.id == queued.first?.id)
                #expect(
                    try await store.claimDeliveries(owner: "other", limit: 10, perTenant: 4, leaseSeconds: 1).isEmpty, "leased: nobody else takes it")
                // The dead worker's lease runs out (moved into the past in the row, as time would).
                try TestDatabase.psql(
                    configuration, "UPDATE webhook_deliveries SET lease_expires_at = now() - interval '1 second' WHERE id = '\(dead.id.uuidString)'")
                // Another process delivers it, with the same event id.
                try await withDelivery(makeDelivery(store, objects: objects, owner: "survivor")) { () async throws -> Void in
                    #expect(try await eventually(timeout: 20) { await inbox.posts.count == 1 })
                }
                let post = try #require(await inbox.posts.first)
                #expect(post.headers["webhook-id"] == dead.id.uuidString.lowercased())
                // The body carries the measured loudness of the job's audio.
                let body = try #require(try JSONSerialization.jsonObject(with: post.body) as? [String: Any])
                let measured = (body["job"] as? [String: Any])?["audioLoudness"] as? [String: Double]
                #expect(measured == ["inputLufs": -21.5, "outputLufs": -14.0, "outputTruePeakDbtp": -1.5])
                #expect((body["job"] as? [String: Any])?["notes"] as? [String] == notes)
                let row = try #require(try await store.webhookDeliveries(jobId: id).first)
                #expect(row.status == "delivered" && row.attempts == 2)
                // The dead worker's late outcome is fenced off.
                #expect(try await store.recordDelivery(dead, outcome: .failed(reason: "late"), maxAttempts: 4) == false)
                #expect(try await store.webhookDeliveries(jobId: id).first?.status == "delivered")
            }
        }
    }

    @Test func aRetryIsScheduledInTheDatabaseAndDoesNotHoldASlot() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-webhook")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let tenant = try await store.createTenant(name: "retry")
            try await withHookReceiver { inbox, port in
                await inbox.setFailures(2)
                let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: [UUID()], callbackURL: "http://127.0.0.1:\(port)/hook"))
                let lease = try #require(try await store.claim(owner: "w", limit: 1).first).lease
                #expect(try await store.fail(lease, error: "bad input", retryable: false) == .failed)
                // One slot only: after a 503 the slot is free again and the delivery waits in the database.
                let service = makeDelivery(
                    store, objects: objects,
                    configuration: WebhookDeliveryConfiguration(
                        concurrency: 1, pollInterval: 0.1, retry: WebhookRetryPolicy(attempts: 5, baseDelay: 2, maxDelay: 2)))
                try await withDelivery(service) { () async throws -> Void in
                    #expect(try await eventually(timeout: 20) { await inbox.posts.count >= 1 })
                    #expect(
                        try await eventually(timeout: 30) {
                            let row = try await store.webhookDeliveries(jobId: id).first
                            return row?.status == "pending" && row?.leaseOwner == nil && row?.lastError == "HTTP 503"
                        }, "between attempts the row is pending, unleased, with the last error")
                    #expect(try await eventually(timeout: 20) { try await store.webhookDeliveries(jobId: id).first?.status == "delivered" })
                }
                let posts = await inbox.posts
                #expect(posts.count == 3 && Set(posts.map { $0.headers["webhook-id"] ?? "" }).count == 1, "three attempts of one event")
            }
        }
    }

    @Test func oneTenantsHangingReceiverDoesNotDelayAnotherTenant() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-webhook")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let slowTenant = try await store.createTenant(name: "slow")
            let otherTenant = try await store.createTenant(name: "other")
            let hanging = try SilentListener()
            defer { hanging.close() }
            try await withHookReceiver { inbox, port in
                // Eight events to a receiver that accepts and never answers, queued first.
                var slowJobs: [UUID] = []
                for _ in 0..<8 {
                    let id = try await store.enqueue(
                        NewJob(tenantId: slowTenant.id, imageIds: [UUID()], callbackURL: "http://127.0.0.1:\(hanging.port)/hook"))
                    slowJobs.append(id)
                }
                for _ in 0..<8 {
                    let lease = try #require(try await store.claim(owner: "w", limit: 1).first).lease
                    #expect(try await store.complete(lease, videoURL: "v", thumbnailURL: nil, processingTimeMs: 1))
                }
                let other = try await store.enqueue(
                    NewJob(tenantId: otherTenant.id, imageIds: [UUID()], callbackURL: "http://127.0.0.1:\(port)/hook"))
                let lease = try #require(try await store.claim(owner: "w", limit: 1).first).lease
                #expect(try await store.complete(lease, videoURL: "v", thumbnailURL: nil, processingTimeMs: 1))
                // Four slots, and attempts that would hang for a minute: only fairness lets the other tenant through.
                let service = makeDelivery(
                    store, objects: objects, timeouts: WebhookTimeouts(connect: 60, read: 60, total: 60),
                    configuration: WebhookDeliveryConfiguration(concurrency: 4, perTenant: 1, pollInterval: 0.1))
                let running = Task { await service.run() }
                #expect(try await eventually(timeout: 20) { await inbox.posts(for: other).count == 1 })
                // Every slow event is still undelivered and unrecorded: the other tenant's went past them.
                var slowRows: [WebhookDeliveryRecord] = []
                for id in slowJobs { slowRows += try await store.webhookDeliveries(jobId: id) }
                #expect(slowRows.allSatisfy { $0.status == "pending" && $0.lastError == nil })
                #expect(slowRows.filter { $0.leaseOwner != nil }.count == 1, "the slow tenant holds one slot, not four")
                #expect(hanging.connections <= 1)
                hanging.close()  // the hanging attempt ends; it is retried later
                service.stop()
                await running.value
                #expect(try await store.webhookDeliveries(jobId: other).first?.status == "delivered")
            }
        }
    }
}
