import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import JobAPI
import JobQueue
import Logging
import ObjectStorage
import QueueTestSupport
import RendcTestSupport
import RenderPipeline
import ServiceLifecycle
import Studio
import Testing

/// The studio and the admin dashboard in Debian's Chromium, driven by Python Playwright (Tests/Browser/*.py).
/// The servers run in this process on loopback; the scripts check the pages as a person would use them.
@Suite(.serialized, .ownThreads) struct BrowserTests {
    @Test(.timeLimit(.minutes(10))) func studioEditsLintsPreviewsAndSaves() async throws {
        let work = try Fixtures.temporaryDirectory("rendc-studio-browser")
        defer { try? FileManager.default.removeItem(at: work) }
        let templates = work.appendingPathComponent("templates").path
        try FileManager.default.createDirectory(atPath: templates, withIntermediateDirectories: true)
        let logger = Self.logger
        let pipeline = Self.pipeline(work: work, templates: [templates])
        let studio = try StudioServer(
            configuration: StudioConfiguration(
                host: "127.0.0.1", port: 0, builtinDirectory: Fixtures.specsDirectory.path, editableDirectory: templates,
                workDirectory: work.appendingPathComponent("studio").path, previewVideoSeconds: 3),
            pipeline: pipeline, logger: logger)
        try await serve(studio.makeRouter()) { port in
            var arguments = ["--url", "http://127.0.0.1:\(port)", "--templates", templates]
            if let shots = ProcessInfo.processInfo.environment["RENDC_SCREENSHOTS"] { arguments += ["--screenshot", shots + "/studio.png"] }
            let result = try await runPython("studio_test.py", arguments)
            #expect(result.status == 0, "studio_test.py failed:\n\(result.output)")
        }
        // The built-in templates are untouched by the session.
        let shipped = try String(contentsOf: Fixtures.specsDirectory.appendingPathComponent("golden-frame.yaml"), encoding: .utf8)
        #expect(shipped.contains("color: \"#050505\""))
    }

    @Test(.timeLimit(.minutes(10))) func adminDashboardNeedsTheTokenAndShowsJobs() async throws {
        let work = try Fixtures.temporaryDirectory("rendc-admin-browser")
        defer { try? FileManager.default.removeItem(at: work) }
        let logger = Self.logger
        let database = try TestDatabase.configuration(prefix: "admin_browser")
        let objectStore = LocalDirectoryStore(root: work.appendingPathComponent("storage").path)
        let pipeline = Self.pipeline(work: work, templates: [])
        let token = "admin-test-token-\(UUID().uuidString)"

        try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
            try await store.migrate()
            let (tenant, _) = try await store.createTenantWithKey(name: "Browser store")
            // A job a worker finished: claimed, rendered (1 s, eco), stored, completed through the queue's own calls.
            // Its caption is too long for golden-frame's box (so the render notes the cut) and carries markup, which
            // the page must show as text.
            let caption = "Browser test caption <i>not italic</i> " + String(repeating: "with many more words to say ", count: 10)
            let doneId = try await store.enqueue(
                NewJob(tenantId: tenant.id, imageIds: [UUID()], textOverlay: caption, durationTarget: 1, qualityMode: .eco))
            let claimed = try #require(try await store.claim(owner: "browser-worker-1", limit: 1).first)
            #expect(claimed.job.id == doneId)
            let video = work.appendingPathComponent("out.mp4").path, thumb = work.appendingPathComponent("out.jpg").path
            let rendered = try pipeline.render(
                RenderRequest(
                    template: "golden-frame", images: try pipeline.assets.demoImages(), text: caption, duration: 1,
                    quality: .eco, output: video, thumbnail: thumb))
            #expect(try await store.recordPlan(claimed.lease, plan: rendered.plan), "the lease holder records its plan")
            let videoKey = OutputKeys.video(tenantId: tenant.id, jobId: doneId)
            let thumbKey = OutputKeys.thumbnail(tenantId: tenant.id, jobId: doneId)
            try await objectStore.put(localPath: video, key: videoKey, contentType: "video/mp4")
            try await objectStore.put(localPath: thumb, key: thumbKey, contentType: "image/jpeg")
            #expect(rendered.notes.contains { $0.contains("did not fit") }, "\(rendered.notes)")
            #expect(
                try await store.complete(
                    claimed.lease, videoURL: videoKey, thumbnailURL: thumbKey, processingTimeMs: 1234, notes: rendered.notes))
            // A lost lease records nothing (fenced like a heartbeat).
            #expect(try await store.recordPlan(claimed.lease, plan: "stale") == false)
            // And one still waiting.
            let pendingId = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: [UUID()], qualityMode: .normal))

            let api = JobAPIServer(
                configuration: APIConfiguration(
                    urlSigningSecret: Array("admin-browser-secret-\(UUID().uuidString)".utf8),
                    temporaryDirectory: work.path),
                jobStore: store, objectStore: objectStore, templates: { [] }, logger: logger
            ).enablingAdmin(token: token)
            try await serve(api.makeRouter()) { port in
                var arguments = [
                    "--url", "http://127.0.0.1:\(port)", "--token", token,
                    "--completed", doneId.uuidString.lowercased(), "--pending", pendingId.uuidString.lowercased(),
                ]
                if let shots = ProcessInfo.processInfo.environment["RENDC_SCREENSHOTS"] { arguments += ["--screenshot", shots + "/admin.png"] }
                let result = try await runPython("admin_test.py", arguments)
                #expect(result.status == 0, "admin_test.py failed:\n\(result.output)")
            }
            // Without RENDC_ADMIN_TOKEN there is no dashboard at all.
            let plain = JobAPIServer(
                configuration: APIConfiguration(urlSigningSecret: Array("another-secret-\(UUID().uuidString)".utf8), temporaryDirectory: work.path),
                jobStore: store, objectStore: objectStore, templates: { [] }, logger: logger
            ).enablingAdmin(token: nil)
            try await serve(plain.makeRouter()) { port in
                let (_, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/admin")!)
                #expect((response as? HTTPURLResponse)?.statusCode == 404)
            }
            // What the page did went through the queue: the pending job was cancelled, then retried.
            let after = try #require(try await store.job(id: pendingId))
            #expect(after.status == .pending && !after.cancelRequested)
            #expect(try await store.job(id: doneId)?.status == .completed)
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "rendc.test.browser")
        logger.logLevel = .warning
        return logger
    }

    /// Built-in assets and the beat cache, generated once for both tests (the suite is serialized).
    static let sharedAssets: URL = try! Fixtures.temporaryDirectory("rendc-browser-assets")

    static func pipeline(work: URL, templates: [String]) -> RenderPipeline {
        RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: templates + [Fixtures.specsDirectory.path],
                assetsDirectory: sharedAssets.appendingPathComponent("assets").path,
                cacheDirectory: sharedAssets.appendingPathComponent("cache").path,
                temporaryDirectory: work.path), logger: logger)
    }
}

/// Runs `router` on 127.0.0.1 at a free port for the duration of `body`.
func serve<Responder: HTTPResponderBuilder>(_ router: Responder, _ body: @Sendable (Int) async throws -> Void) async throws
where Responder.Responder.Context: RequestContext, Responder.Responder.Context.Source == ApplicationRequestContextSource {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            continuation.yield(channel.localAddress?.port ?? 0); continuation.finish()
        },
        logger: BrowserTests.logger)
    let group = ServiceGroup(configuration: .init(services: [app], logger: BrowserTests.logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do {
            try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// Runs a script of Tests/Browser with python3; output (stdout and stderr) is collected in a file, not a pipe, so
/// a chatty script cannot block. Killed after 9 minutes.
func runPython(_ script: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let folder = Fixtures.packageRoot.appendingPathComponent("Tests/Browser")
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("rendc-browser-\(UUID().uuidString).log")
    FileManager.default.createFile(atPath: log.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: log) }
    let handle = try FileHandle(forWritingTo: log)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", folder.appendingPathComponent(script).path] + arguments
    process.currentDirectoryURL = folder
    process.standardOutput = handle
    process.standardError = handle
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONUNBUFFERED"] = "1"
    // The script's and the browser's temporary files go with the test process's scratch folder (its root: the
    // browser puts a Unix socket there, and a socket's path must stay under 108 bytes).
    environment["TMPDIR"] = Fixtures.scratchRoot.path
    process.environment = environment
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error); return }
        DispatchQueue.global().asyncAfter(deadline: .now() + 540) { if process.isRunning { process.terminate() } }
    }
    try? handle.close()
    return (status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
}
