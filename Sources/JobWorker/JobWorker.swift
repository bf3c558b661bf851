import Foundation
import JobQueue
import Logging
import Metrics
import ObjectStorage
import ServiceLifecycle
import Webhooks

/// How a worker process runs. The CLI fills it from `VIDEO_WORKER_CONCURRENCY`, `VIDEO_TEMP_DIR` and flags.
public struct WorkerConfiguration: Sendable, Equatable {
    /// Jobs rendered at once by this process (slots).
    public var concurrency: Int
    /// Parent of the per-job temporary folders.
    public var temporaryDirectory: String
    /// This process's `lease_owner` (see `makeWorkerIdentity`).
    public var identity: String
    /// Safety-net poll when no NOTIFY arrives, seconds.
    public var pollInterval: Double
    /// Lease renewal period while rendering, seconds (well under the store's lease duration).
    public var heartbeatInterval: Double
    /// How often this process looks for expired leases, seconds.
    public var reaperInterval: Double
    /// Minimum gap between progress writes of one job, seconds.
    public var progressInterval: Double
    /// On graceful shutdown, how long running jobs may go on before they are stopped and released, seconds.
    public var shutdownGracePeriod: Double
    /// Completed, failed and cancelled jobs older than this many seconds are deleted (checked every
    /// `pruneInterval`); nil keeps them forever.
    public var finishedJobRetention: Double?
    public var pruneInterval: Double

    public init(
        concurrency: Int = 2, temporaryDirectory: String, identity: String, pollInterval: Double = 2,
        heartbeatInterval: Double = 5, reaperInterval: Double = 5, progressInterval: Double = 0.5,
        shutdownGracePeriod: Double = 30, finishedJobRetention: Double? = nil, pruneInterval: Double = 600
    ) {
        self.concurrency = max(1, concurrency)
        self.temporaryDirectory = temporaryDirectory
        self.identity = identity
        self.pollInterval = pollInterval
        self.heartbeatInterval = heartbeatInterval
        self.reaperInterval = reaperInterval
        self.progressInterval = progressInterval
        self.shutdownGracePeriod = shutdownGracePeriod
        self.finishedJobRetention = finishedJobRetention
        self.pruneInterval = pruneInterval
    }
}

/// `rendc worker`: claims jobs (woken by LISTEN/NOTIFY, with a slow poll), renders each in its own temporary
/// folder on a dedicated thread while heartbeating its lease, uploads the outputs under deterministic keys and
/// completes the job, fenced by its lease. Also reaps expired leases. On graceful shutdown it stops claiming,
/// lets running jobs finish within the grace period, releases the rest and returns.
public final class JobWorker: Service, Sendable {
    let store: JobStore
    let objectStore: any ObjectStore
    let renderer: any JobRenderer
    public let configuration: WorkerConfiguration
    let logger: Logger
    /// Delivers the webhooks queued with final job states (all tenants'); nil leaves them queued for a process
    /// that has a webhook secret.
    let webhooks: WebhookDeliveryService?

    private let doorbell = Doorbell()
    private let state = Locked(RunState())

    struct RunState: Sendable {
        var stopping = false
        var graceExpired = false
        var running = 0
    }

    public init(
        store: JobStore, objectStore: any ObjectStore, renderer: any JobRenderer, configuration: WorkerConfiguration,
        logger: Logger, webhooks: WebhookDeliveryService? = nil
    ) {
        self.webhooks = webhooks
        self.store = store
        self.objectStore = objectStore
        self.renderer = renderer
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.identity)"
        self.logger = logger
    }

    /// Jobs running right now in this process.
    public var busySlots: Int { state.current.running }

    /// This process's folder under the temporary directory; each job gets a folder inside it. The name holds the
    /// pid and a random part (pids are reused); liveness is the lock in it, not the pid.
    var processFolder: String {
        configuration.temporaryDirectory + "/\(TemporaryFolders.prefix)\(getpid())-\(folderSuffix)"
    }
    private let folderSuffix = UUID().uuidString.prefix(8).lowercased()

    static let processFolderPrefix = TemporaryFolders.prefix

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: configuration.temporaryDirectory, withIntermediateDirectories: true)
        // The lock marks the folder live for as long as this process exists (see ``TemporaryFolders``).
        let fd = try TemporaryFolders.createLocked(processFolder)
        defer {
            try? FileManager.default.removeItem(atPath: processFolder)
            close(fd)
        }
        let swept = Self.removeStaleTemporaryFolders(in: configuration.temporaryDirectory)
        if swept > 0 { logger.info("removed temporary folders of dead worker processes", metadata: ["count": "\(swept)"]) }
        logger.info("worker started", metadata: ["concurrency": "\(configuration.concurrency)"])
        let webhookDelivery = Task { await webhooks?.run() }
        defer { webhookDelivery.cancel() }
        await withDiscardingTaskGroup { background in
            background.addTask { await self.listenLoop() }
            background.addTask { await self.reaperLoop() }
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { jobs in
                    await self.claimLoop(jobs: &jobs)
                    jobs.addTask { await self.graceTimer() }
                }
            } onGracefulShutdown: {
                self.beginShutdown()
            }
            background.cancelAll()
        }
        if let webhooks {
            // Attempts in flight finish (each bounded by its timeouts); queued ones stay in the database for the
            // next process.
            webhooks.stop()
            await webhookDelivery.value
        }
        logger.info("worker stopped")
    }

    /// Removes the folders that worker processes which no longer run left in `directory` (killed before they
    /// could clean up); returns how many. A folder is live while its owner holds the lock in it, which the kernel
    /// drops when the process dies, so a folder is swept even when its pid is still (or again) in use. Called at
    /// start and again by the reaper loop, which also catches a killed process that was still exiting at start.
    @discardableResult
    public static func removeStaleTemporaryFolders(in directory: String, minimumAge: Double = 30) -> Int {
        TemporaryFolders.sweep(directory, minimumAge: minimumAge)
    }

    /// Stops claiming; running jobs get the grace period. Called by the service group on SIGTERM/SIGINT.
    public func beginShutdown() {
        let first = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first { logger.info("shutting down: no new claims", metadata: ["running": "\(busySlots)"]) }
        doorbell.ring()
    }

    // MARK: - Loops

    private func claimLoop(jobs: inout DiscardingTaskGroup) async {
        while !state.current.stopping && !Task.isCancelled {
            let free = configuration.concurrency - state.current.running
            var claimedAll = false
            if free > 0 {
                do {
                    let claimed = try await store.claim(owner: configuration.identity, limit: free)
                    for job in claimed {
                        state.withLock { $0.running += 1 }
                        Gauge(label: "rendc_worker_busy_slots").record(state.current.running)
                        jobs.addTask {
                            await self.process(job)
                            self.state.withLock { $0.running -= 1 }
                            Gauge(label: "rendc_worker_busy_slots").record(self.state.current.running)
                            self.doorbell.ring()
                        }
                    }
                    claimedAll = claimed.count == free
                } catch {
                    logger.error("claim failed", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
            }
            if claimedAll { continue }  // maybe more work: the next turn waits only for a free slot
            await doorbell.wait(timeout: configuration.pollInterval)
        }
    }

    private func graceTimer() async {
        let deadline = ContinuousClock.now + .milliseconds(Int(configuration.shutdownGracePeriod * 1000))
        while state.current.running > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if state.current.running > 0 {
            logger.warning("grace period over: releasing running jobs", metadata: ["running": "\(state.current.running)"])
            state.withLock { $0.graceExpired = true }
        }
    }

    private func listenLoop() async {
        while !Task.isCancelled {
            do {
                doorbell.ring()  // anything enqueued while not listening
                try await store.listenForNewJobs { [doorbell] in doorbell.ring() }
            } catch {
                if Task.isCancelled { return }
                logger.warning("LISTEN connection lost; polling until it is back", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func reaperLoop() async {
        var lastPrune = ContinuousClock.now
        while !Task.isCancelled {
            let jitter = Double.random(in: 0.8...1.2)
            try? await Task.sleep(for: .milliseconds(Int(configuration.reaperInterval * jitter * 1000)))
            if Task.isCancelled { return }
            do {
                for job in try await store.reapExpiredLeases() {
                    logger.warning("job lease expired", metadata: [
                        "jobId": "\(job.jobId)", "tenantId": "\(job.tenantId)", "status": "\(job.newStatus.rawValue)",
                        "attempts": "\(job.attempts)",
                    ])
                    Counter(label: "rendc_jobs_reaped_total", dimensions: [("tenant", job.tenantId.uuidString.lowercased())]).increment()
                    if job.newStatus == .failed {
                        Counter(label: "rendc_jobs_failed_total", dimensions: [("tenant", job.tenantId.uuidString.lowercased())]).increment()
                    }
                }
            } catch {
                logger.error("reaper failed", metadata: ["error": "\(error)"])
            }
            Self.removeStaleTemporaryFolders(in: configuration.temporaryDirectory)
            if let retention = configuration.finishedJobRetention,
               (ContinuousClock.now - lastPrune).seconds >= configuration.pruneInterval {
                lastPrune = ContinuousClock.now
                do {
                    let pruned = try await store.pruneFinishedJobs(olderThan: retention)
                    if pruned > 0 { logger.info("pruned finished jobs", metadata: ["count": "\(pruned)"]) }
                } catch {
                    logger.error("pruning finished jobs failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    // MARK: - One job

    enum StopReason: Sendable, Equatable { case cancelled, lostLease, shutdown }

    enum Outcome: Sendable {
        case rendered(RenderedFiles)
        case failed(String, retryable: Bool)
        case stopped(StopReason)
    }

    struct RenderControl: Sendable {
        var progress = 0.0
        var stop: StopReason?
        var finished = false
    }

    func process(_ claimed: ClaimedJob) async {
        let job = claimed.job
        let lease = claimed.lease
        let started = ContinuousClock.now
        let tenant = job.tenantId.uuidString.lowercased()
        var logger = self.logger
        logger[metadataKey: "jobId"] = "\(job.id.uuidString.lowercased())"
        logger[metadataKey: "tenantId"] = "\(tenant)"
        logger[metadataKey: "attempt"] = "\(lease.attempt)"
        logger.info("job processing", metadata: ["template": "\(job.template)"])
        if lease.attempt == 1 {
            Metrics.Timer(label: "rendc_job_queue_wait_seconds", dimensions: [("tenant", tenant)])
                .record(duration: .milliseconds(max(0, Int(Date().timeIntervalSince(job.createdAt) * 1000))))
        }

        let directory = processFolder + "/job-\(job.id.uuidString.lowercased())-\(lease.epoch)"
        defer { try? FileManager.default.removeItem(atPath: directory) }

        var outcome: Outcome
        var inputNames: [(String, String)] = []
        do {
            try FileManager.default.createDirectory(atPath: directory + "/inputs", withIntermediateDirectories: true)
            let input = try await fetchInputs(job, epoch: lease.epoch, directory: directory)
            inputNames = Self.inputNames(job, input)
            outcome = await renderSupervised(input, lease: lease)
        } catch {
            let failure = JobFailure.classify(error)
            outcome = .failed(failure.message, retryable: !failure.permanent)
        }
        if case .failed(let message, let retryable) = outcome {
            // The client sees the job's last_error and webhook: no temp paths, pids or host names there.
            let scrubbed = JobFailure.clientMessage(
                message, inputs: inputNames, workDirectory: directory, temporaryDirectory: configuration.temporaryDirectory,
                identity: configuration.identity)
            if scrubbed != message { logger.info("job failure details", metadata: ["error": "\(message)"]) }
            outcome = .failed(scrubbed, retryable: retryable)
        }
        let elapsed = ContinuousClock.now - started
        await finish(job, lease: lease, outcome: outcome, elapsed: elapsed, logger: logger)
    }

    func fetchInputs(_ job: Job, epoch: Int64, directory: String) async throws -> RenderInput {
        let assets = try await store.assets(ids: job.imageIds, tenantId: job.tenantId)
        if assets.count != job.imageIds.count {
            let found = Set(assets.map(\.id))
            let missing = job.imageIds.first { !found.contains($0) }.map { $0.uuidString.lowercased() } ?? "?"
            throw PermanentJobError("image asset \(missing) does not exist for this tenant")
        }
        var images: [String] = []
        for (index, asset) in assets.enumerated() {
            guard asset.type == .image || asset.type == .video else {
                throw PermanentJobError("asset \(asset.id.uuidString.lowercased()) is a \(asset.type.rawValue), not an image or a video")
            }
            let local = directory + "/inputs/image-\(index)" + Self.fileExtension(of: asset.filePath)
            try await fetch(asset, to: local)
            images.append(local)
        }
        var audio: String?
        if let audioAssetId = job.audioAssetId, !audioAssetId.isEmpty {
            guard let id = UUID(uuidString: audioAssetId) else {
                throw PermanentJobError("audio_file '\(audioAssetId.prefix(80))' is not an asset id")
            }
            guard let asset = try await store.asset(id: id, tenantId: job.tenantId), asset.type == .audio else {
                throw PermanentJobError("audio asset \(audioAssetId) does not exist for this tenant")
            }
            let local = directory + "/inputs/audio" + Self.fileExtension(of: asset.filePath)
            try await fetch(asset, to: local)
            audio = local
        }
        // The voice-over: an audio asset of the same tenant, like the music.
        var voice: String?
        if let voiceAssetId = job.voiceAssetId, !voiceAssetId.isEmpty {
            guard let id = UUID(uuidString: voiceAssetId) else {
                throw PermanentJobError("voice_file '\(voiceAssetId.prefix(80))' is not an asset id")
            }
            guard let asset = try await store.asset(id: id, tenantId: job.tenantId), asset.type == .audio else {
                throw PermanentJobError("voice asset \(voiceAssetId) does not exist for this tenant")
            }
            let local = directory + "/inputs/voice" + Self.fileExtension(of: asset.filePath)
            try await fetch(asset, to: local)
            voice = local
        }
        // Merge fields: text as given, pictures fetched like the product images.
        var fields: [String: String] = [:]
        for (name, value) in job.fields.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .text(let text):
                fields[name] = text
            case .asset(let id):
                guard let asset = try await store.asset(id: id, tenantId: job.tenantId), asset.type == .image else {
                    throw PermanentJobError("image asset \(id.uuidString.lowercased()) (fields.\(name)) does not exist for this tenant")
                }
                let local = directory + "/inputs/field-\(fields.count)" + Self.fileExtension(of: asset.filePath)
                try await fetch(asset, to: local)
                fields[name] = local
            }
        }
        var input = RenderInput(
            job: job, attemptEpoch: epoch, images: images, audio: audio, fields: fields, videoPath: directory + "/output.mp4",
            thumbnailPath: directory + "/thumbnail.jpg", workDirectory: directory)
        input.voice = voice
        return input
    }

    /// Copies an input from storage; a missing object or a bad key will not appear by retrying.
    func fetch(_ asset: Asset, to local: String) async throws {
        do {
            try await objectStore.get(key: asset.filePath, to: local)
        } catch let error as ObjectStoreError where error.code == .notFound || error.code == .invalidKey {
            throw PermanentJobError("\(asset.type.rawValue) asset \(asset.id.uuidString.lowercased()) is missing from storage: \(error)")
        }
    }

    static func fileExtension(of key: String) -> String {
        let ext = (key as NSString).pathExtension.lowercased()
        return ext.isEmpty || ext.count > 5 || !ext.allSatisfy({ $0.isLetter || $0.isNumber }) ? "" : "." + ext
    }

    /// Runs the render on its own thread; meanwhile writes throttled progress and heartbeats, and stops the render
    /// when the lease is lost, a cancel is requested, or the shutdown grace period ran out.
    func renderSupervised(_ input: RenderInput, lease: Lease) async -> Outcome {
        let control = Locked(RenderControl())
        let finishedBell = Doorbell()
        let renderer = self.renderer
        async let result: Result<RenderedFiles, any Error> = runOnDedicatedThread(name: "render-\(lease.jobId)") {
            defer {
                control.withLock { $0.finished = true }
                finishedBell.ring()
            }
            return Result {
                try renderer.render(
                    input,
                    progress: { value in control.withLock { $0.progress = value.isFinite ? min(max(value, 0), 1) : 0 } },
                    shouldCancel: { control.current.stop != nil })
            }
        }
        var throttle = ProgressThrottle(minimumInterval: configuration.progressInterval)
        let clock = ContinuousClock()
        let origin = clock.now
        var lastBeat = origin
        let tick = min(0.1, configuration.progressInterval / 2)
        while !control.current.finished {
            await finishedBell.wait(timeout: tick)
            if control.current.finished { break }
            if state.current.graceExpired || Task.isCancelled {
                control.withLock { $0.stop = $0.stop ?? .shutdown }
            }
            if control.current.stop != nil { continue }
            let now = clock.now
            var check: HeartbeatResult?
            let percent = min(99, Int(control.current.progress * 100))
            if throttle.shouldSend(percent, now: (now - origin).seconds) {
                check = try? await store.updateProgress(lease, percent: percent)
            }
            if (now - lastBeat).seconds >= configuration.heartbeatInterval {
                lastBeat = now
                check = try? await store.heartbeat(lease)
            }
            if let check {
                if !check.stillOwner {
                    control.withLock { $0.stop = .lostLease }
                } else if check.cancelRequested {
                    control.withLock { $0.stop = .cancelled }
                }
            }
        }
        let finalResult = await result
        let stop = control.current.stop
        switch (finalResult, stop) {
        case (.success(let files), nil), (.success(let files), .shutdown?):
            return .rendered(files)
        case (_, let reason?):
            return .stopped(reason)
        case (.failure(let error), nil):
            let failure = JobFailure.classify(error)
            return .failed(failure.permanent ? failure.message : "render failed: \(failure.message)", retryable: !failure.permanent)
        }
    }

    func finish(_ job: Job, lease: Lease, outcome: Outcome, elapsed: Duration, logger: Logger) async {
        let tenant = job.tenantId.uuidString.lowercased()
        let milliseconds = Int(elapsed.seconds * 1000)
        do {
            switch outcome {
            case .rendered(let files):
                // Do not upload for a job we no longer own.
                guard try await store.heartbeat(lease).stillOwner else {
                    logger.warning("job lease lost before upload: result discarded")
                    return
                }
                let videoKey = OutputKeys.video(tenantId: job.tenantId, jobId: job.id)
                try await objectStore.put(localPath: files.video, key: videoKey, contentType: "video/mp4")
                var thumbnailKey: String?
                if let thumbnail = files.thumbnail {
                    let key = OutputKeys.thumbnail(tenantId: job.tenantId, jobId: job.id)
                    try await objectStore.put(localPath: thumbnail, key: key, contentType: "image/jpeg")
                    thumbnailKey = key
                }
                if let plan = files.plan { try await store.recordPlan(lease, plan: plan) }
                if try await store.complete(lease, videoURL: videoKey, thumbnailURL: thumbnailKey, processingTimeMs: milliseconds, audioLoudness: files.audioLoudness) {
                    logger.info("job completed", metadata: ["processingTimeMs": "\(milliseconds)"])
                    webhooks?.wake()
                    Counter(label: "rendc_jobs_completed_total", dimensions: [("tenant", tenant)]).increment()
                    Metrics.Timer(label: "rendc_job_processing_seconds", dimensions: [("tenant", tenant)]).record(duration: elapsed)
                } else {
                    logger.warning("job lease lost at completion: another attempt owns the job, result discarded")
                }
            case .failed(let message, let retryable):
                switch try await store.fail(lease, error: message, retryable: retryable) {
                case .retrying(let at):
                    logger.warning("job attempt failed, will retry", metadata: ["error": "\(message)", "runAfter": "\(at)"])
                    Counter(label: "rendc_jobs_retried_total", dimensions: [("tenant", tenant)]).increment()
                case .failed:
                    logger.error("job failed", metadata: ["error": "\(message)"])
                    webhooks?.wake()
                    Counter(label: "rendc_jobs_failed_total", dimensions: [("tenant", tenant)]).increment()
                case .notOwner:
                    logger.warning("job attempt failed after its lease was lost", metadata: ["error": "\(message)"])
                }
            case .stopped(.cancelled):
                if try await store.markCancelled(lease) {
                    logger.info("job cancelled")
                    webhooks?.wake()
                    Counter(label: "rendc_jobs_cancelled_total", dimensions: [("tenant", tenant)]).increment()
                }
            case .stopped(.lostLease):
                logger.warning("job lease lost: render stopped, nothing written")
            case .stopped(.shutdown):
                if try await store.release(lease) {
                    logger.info("job released for another worker (shutdown)")
                    Counter(label: "rendc_jobs_released_total", dimensions: [("tenant", tenant)]).increment()
                }
            }
        } catch {
            // The lease runs out and the reaper hands the job on: nothing is lost.
            logger.error("could not record the job's outcome; its lease will expire", metadata: ["error": "\(error)"])
        }
    }
}

extension JobWorker {
    /// What the client calls each local input file: `image asset <id> (imageIds[i])`, `audio asset <id>`.
    static func inputNames(_ job: Job, _ input: RenderInput) -> [(String, String)] {
        var names: [(String, String)] = []
        for (index, path) in input.images.enumerated() where index < job.imageIds.count {
            names.append((path, "image asset \(job.imageIds[index].uuidString.lowercased()) (imageIds[\(index)])"))
        }
        if let audio = input.audio { names.append((audio, "audio asset \(job.audioAssetId ?? "?")")) }
        if let voice = input.voice { names.append((voice, "voice asset \(job.voiceAssetId ?? "?") (voiceAssetId)")) }
        return names
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
