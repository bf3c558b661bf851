import Foundation
import JobQueue
import JobWorker
import ObjectStorage
import RendcTestSupport
import RenderPipeline
import Testing

/// A renderer that fails the way a job's text asks: `INPUT` as a bad input (the message names the local file, as
/// decoders do), `RENDER` as an encoder error in the job folder.
struct FailingRenderer: JobRenderer {
    func render(
        _ input: RenderInput, progress: @escaping @Sendable (Double) -> Void, shouldCancel: @escaping @Sendable () -> Bool
    ) throws -> RenderedFiles {
        switch input.job.textOverlay {
        case "INPUT":
            throw PipelineError(.input, "cannot decode \(input.images[0]): Invalid data found when processing input")
        default:
            throw PipelineError(.render, "encoder failed writing \(input.videoPath) in worker rendc-worker-\(getpid()): Cannot allocate memory")
        }
    }
}

/// A render that runs until it is told to stop (a decoder stuck on some input, as far as the worker can tell).
final class HangingRenderer: JobRenderer, @unchecked Sendable {
    private let lock = NSLock()
    private var stops = 0
    var stopped: Int { lock.withLock { stops } }

    func render(
        _ input: RenderInput, progress: @escaping @Sendable (Double) -> Void, shouldCancel: @escaping @Sendable () -> Bool
    ) throws -> RenderedFiles {
        while !shouldCancel() { usleep(20_000) }
        lock.withLock { stops += 1 }
        throw CancellationError()
    }
}

@Suite struct FailureClassificationTests {
    @Test func badInputFailsAtOnceNamingTheAssetAndTransientErrorsAreRetried() async throws {
        // Retries wait an hour: a job that is pending again after one attempt was classified transient.
        try await withTestStore(policy: QueuePolicy(backoff: BackoffPolicy(base: 3600, jitter: 0))) { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-failure")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects)
            let bad = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "INPUT", maxAttempts: 3))
            let flaky = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "RENDER", maxAttempts: 3))
            let identity = "render-host-7:31337:beef"
            let config = WorkerConfiguration(concurrency: 2, temporaryDirectory: root.path + "/tmp", identity: identity, pollInterval: 0.2)
            try await withWorker(store: store, objects: objects, renderer: FailingRenderer(), configuration: config) {
                (_: JobWorker) async throws -> Void in
                #expect(
                    try await eventually(timeout: 60) {
                        let badDone = try await store.job(id: bad)?.status == .failed
                        let flakyTried = try await store.job(id: flaky)?.lastError != nil
                        return badDone && flakyTried
                    })
            }
            let failed = try #require(try await store.job(id: bad))
            #expect(failed.status == .failed && failed.attempts == 1, "bad input is not retried")
            let message = try #require(failed.lastError)
            #expect(
                message
                    == "input: cannot decode image asset \(images[0].uuidString.lowercased()) (imageIds[0]): Invalid data found when processing input"
            )
            let retried = try #require(try await store.job(id: flaky))
            #expect(retried.status == .pending && retried.attempts == 1, "a render error is retried")
            let transient = try #require(retried.lastError)
            #expect(transient.hasPrefix("render failed: render: encoder failed writing output.mp4"))
            for text in [message, transient] {
                #expect(
                    !text.contains(root.path) && !text.contains("/tmp") && !text.contains("\(getpid())") && !text.contains(identity),
                    "no paths, pids or worker identity: \(text)")
            }
        }
    }

    /// A render that never ends (a decoder stuck on some input) kept its lease for ever: heartbeats went on, so
    /// the reaper never touched it. With a 2 s attempt limit and a 30 s lease renewed every 0.2 s, the attempt can
    /// only end by the limit; it ends as a counted, retryable failure, and the last attempt fails the job.
    @Test func anAttemptThatNeverEndsIsStoppedAtItsTimeLimit() async throws {
        try await withTestStore(policy: QueuePolicy(leaseDuration: 30, backoff: BackoffPolicy(base: 0.1, jitter: 0))) { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-hang")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects)
            let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, textOverlay: "hang", maxAttempts: 2))
            let config = WorkerConfiguration(
                concurrency: 1, temporaryDirectory: root.path + "/tmp", identity: "hang-test", pollInterval: 0.2, heartbeatInterval: 0.2,
                attemptTimeout: 2)
            let renderer = HangingRenderer()
            try await withWorker(store: store, objects: objects, renderer: renderer, configuration: config) { (_: JobWorker) async throws -> Void in
                #expect(try await eventually(timeout: 120) { try await store.job(id: id)?.status == .failed })
            }
            let job = try #require(try await store.job(id: id))
            #expect(job.attempts == 2)
            #expect(job.lastError == "the attempt ran longer than 2 s and was stopped", "\(job.lastError ?? "")")
            #expect(renderer.stopped == 2, "both renders were told to stop and returned")
        }
    }

    @Test func clientMessagesLoseMachineDetails() {
        let text = JobFailure.clientMessage(
            "cannot open /var/tmp/w/rendc-worker-99-ab12/job-1-2/inputs/audio.mp3 with font /usr/share/fonts/x.ttf on host-1:99:ab",
            inputs: [("/var/tmp/w/rendc-worker-99-ab12/job-1-2/inputs/audio.mp3", "audio asset A")],
            workDirectory: "/var/tmp/w/rendc-worker-99-ab12/job-1-2", temporaryDirectory: "/var/tmp/w", identity: "host-1:99:ab")
        #expect(text == "cannot open audio asset A with font <path> on a worker")
        #expect(
            JobFailure.clientMessage("left in /tmp/x/rendc-worker-1234", inputs: [], workDirectory: "", temporaryDirectory: "", identity: "")
                == "left in <path>")
        #expect(JobFailure.classify(PipelineError(.caption, "x")).permanent)
        #expect(!JobFailure.classify(PipelineError(.render, "x")).permanent)
        #expect(!JobFailure.classify(CancellationError()).permanent)
    }
}

@Suite struct TemporaryFolderTests {
    @Test func aFolderIsSweptWhenNoProcessHoldsItsLockWhateverItsPid() throws {
        let root = try Fixtures.temporaryDirectory("rendc-sweep")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.path
        // Live: this process holds the lock.
        let mine = dir + "/rendc-worker-\(getpid())-live"
        let fd = try TemporaryFolders.createLocked(mine)
        // Old format, no lock, and a pid that is alive (a process still exiting, or a reused pid): stale.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/usr/bin/sleep")
        sleeper.arguments = ["3600"]  // killed below; never timed (a starved machine can take minutes between steps)
        try sleeper.run()
        // SIGKILL, then reap: a child of this process may start with SIGTERM blocked, and a live one would keep the
        // test's output open.
        defer {
            kill(sleeper.processIdentifier, SIGKILL)
            sleeper.waitUntilExit()
        }
        let alivePid = dir + "/rendc-worker-\(sleeper.processIdentifier)"
        try FileManager.default.createDirectory(atPath: alivePid + "/job-x", withIntermediateDirectories: true)
        #expect(kill(sleeper.processIdentifier, 0) == 0, "the pid is alive")
        #expect(JobWorker.removeStaleTemporaryFolders(in: dir, minimumAge: 0) == 1)
        #expect(FileManager.default.fileExists(atPath: mine) && !FileManager.default.fileExists(atPath: alivePid))
        // Young folders are left for a moment (a starting worker locks just after it creates its folder).
        close(fd)
        #expect(JobWorker.removeStaleTemporaryFolders(in: dir, minimumAge: 3600) == 0)
        #expect(JobWorker.removeStaleTemporaryFolders(in: dir, minimumAge: 0) == 1, "the lock was dropped: stale")
        #expect(folderIsEmpty(dir))
    }

    @Test func aSIGKILLedHoldersFolderIsSwept() async throws {
        let root = try Fixtures.temporaryDirectory("rendc-sweep")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.path + "/rendc-worker-1-killed"
        try FileManager.default.createDirectory(atPath: folder + "/job-1/inputs", withIntermediateDirectories: true)
        // A holder that says when it has the lock (a file), then sleeps until it is SIGKILLed below (never for a fixed
        // time: on a starved machine minutes can pass between two steps of this test).
        let signals = try Fixtures.temporaryDirectory("rendc-sweep-ready")
        defer { try? FileManager.default.removeItem(at: signals) }
        let ready = signals.path + "/locked"
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = [
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], 'w').close()\nwhile True: time.sleep(60)",
            folder + "/.lock", ready,
        ]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        #expect(try await eventually(timeout: 60) { FileManager.default.fileExists(atPath: ready) }, "the holder took the lock")
        #expect(TemporaryFolders.isLive(folder))
        #expect(JobWorker.removeStaleTemporaryFolders(in: root.path, minimumAge: 0) == 0, "held: live")
        kill(holder.processIdentifier, SIGKILL)
        // The kernel drops the lock as the process dies (no clean-up of its own ran): then the folder is swept.
        #expect(try await eventually(timeout: 30) { JobWorker.removeStaleTemporaryFolders(in: root.path, minimumAge: 0) == 1 })
        #expect(folderIsEmpty(root.path))
    }
}
