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
    /// Lease renewal period of a running job (fetch, render, upload), seconds (well under the store's lease duration).
    public var heartbeatInterval: Double
    /// How often this process looks for expired leases, seconds.
    public var reaperInterval: Double
    /// Minimum gap between progress writes of one job, seconds.
    public var progressInterval: Double
    /// On graceful shutdown, how long running jobs may go on before they are stopped and released, seconds.
    public var shutdownGracePeriod: Double
    /// The longest one attempt (fetch, render, upload) may run, seconds: a render that hangs on some input would
    /// otherwise keep its lease (heartbeats go on), a worker slot and a tenant slot for ever. Past it the attempt
    /// is stopped and fails as retryable, so its attempts are counted and it ends failed.
    public var attemptTimeout: Double
    /// Completed, failed and cancelled jobs older than this many seconds are deleted (checked every
    /// `pruneInterval`); nil keeps them forever.
    public var finishedJobRetention: Double?
    public var pruneInterval: Double

    public init(
        concurrency: Int = 2, temporaryDirectory: String, identity: String, pollInterval: Double = 2,
        heartbeatInterval: Double = 5, reaperInterval: Double = 5, progressInterval: Double = 0.5,
        shutdownGracePeriod: Double = 30, attemptTimeout: Double = 1800, finishedJobRetention: Double? = nil, pruneInterval: Double = 600
    ) {
        self.concurrency = max(1, concurrency)
        self.temporaryDirectory = temporaryDirectory
        self.identity = identity
        self.pollInterval = pollInterval
        self.heartbeatInterval = heartbeatInterval
        self.reaperInterval = reaperInterval
        self.progressInterval = progressInterval
        self.shutdownGracePeriod = shutdownGracePeriod
        self.attemptTimeout = attemptTimeout
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
    let state = Locked(RunState())

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
                    logger.warning(
                        "job lease expired",
                        metadata: [
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
                (ContinuousClock.now - lastPrune) / .seconds(1) >= configuration.pruneInterval
            {
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

}

extension JobWorker {
    /// What the client calls each local input file: `image asset <id> (imageIds[i])`, `audio asset <id>`.
    static func inputNames(_ job: Job, _ input: RenderInput) -> [(String, String)] {
        var names: [(String, String)] = []
        for (index, path) in input.images.enumerated() where index < job.imageIds.count {
            names.append((path, "image asset \(job.imageIds[index].uuidString.lowercased()) (imageIds[\(index)])"))
        }
        if let audio = input.audio { names.append((audio, "audio asset \(job.audioAssetId ?? "?")")) }
        if let voice = input.voice { names.append((voice, "voice asset \(job.voiceAssetId ?? "?") (voiceFile)")) }
        return names
    }
}
