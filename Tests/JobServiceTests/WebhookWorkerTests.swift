import Foundation
import Hummingbird
import HummingbirdTesting
import JobQueue
import JobWorker
import Logging
import ObjectStorage
import RendcTestSupport
import Testing
import Webhooks

actor HookInbox {
    var posts: [(signature: String, body: Data)] = []
    func add(_ signature: String, _ body: Data) { posts.append((signature, body)) }
}

@Suite struct WebhookWorkerTests {
    @Test func finishedJobsPostSignedWebhooksToTheirCallbackURL() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-webhook")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects)
            let inbox = HookInbox()
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                await inbox.add(request.headers[.init("X-Rendc-Signature")!] ?? "", Data(buffer: body))
                return Response(status: .noContent)
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let secret = "worker-webhook-secret"
                let good = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "✨ hi", callbackURL: "http://127.0.0.1:\(port)/hook"))
                let silent = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "no hook"))
                var logger = Logger(label: "rendc.test.webhooks")
                logger.logLevel = .warning
                let dispatcher = WebhookDispatcher(secret: secret, policy: WebhookRetryPolicy(attempts: 3, baseDelay: 0.05), logger: logger)
                let worker = JobWorker(
                    store: store, objectStore: objects, renderer: SimulatedRenderer(duration: 0.2),
                    configuration: WorkerConfiguration(concurrency: 2, temporaryDirectory: root.path + "/tmp", identity: "w-hook", pollInterval: 1),
                    logger: logger, webhooks: dispatcher)
                let running = Task { try await worker.run() }
                let delivered = try await eventually(timeout: 20) { await inbox.posts.count >= 1 }
                #expect(delivered)
                #expect(try await eventually(timeout: 10) { try await store.statusCounts(tenantId: tenant.id)[.completed] == 2 })
                try await Task.sleep(for: .milliseconds(300))
                worker.beginShutdown()
                try await running.value
                let posts = await inbox.posts
                #expect(posts.count == 1, "only the job with a callback URL posts")
                let post = try #require(posts.first)
                #expect(WebhookSigner(secret: secret).verify(header: post.signature, body: post.body, now: Int(Date().timeIntervalSince1970)))
                let json = try #require(try JSONSerialization.jsonObject(with: post.body) as? [String: Any])
                let job = try #require(json["job"] as? [String: Any])
                #expect(json["event"] as? String == "job.completed")
                #expect(job["id"] as? String == good.uuidString.lowercased())
                #expect(job["tenantId"] as? String == tenant.id.uuidString.lowercased())
                #expect(job["status"] as? String == "completed")
                #expect(job["outputVideoKey"] as? String == OutputKeys.video(tenantId: tenant.id, jobId: good))
                #expect(silent != good)
            }
        }
    }
}
