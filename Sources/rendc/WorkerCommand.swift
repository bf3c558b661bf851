import ArgumentParser
import Foundation
import JobAPI
import JobQueue
import JobWorker
import Logging
import ObjectStorage
import RendcSettings
import RenderPipeline
import ServiceLifecycle
import Webhooks

/// `rendc worker`: renders queued jobs until SIGTERM/SIGINT (then finishes or releases running jobs and exits 0).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Render queued jobs (VIDEO_WORKER_CONCURRENCY at once) until SIGTERM.",
        discussion: """
            Database: DATABASE_URL, or DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD.
            Environment: VIDEO_WORKER_CONCURRENCY (2), VIDEO_TEMP_DIR (system temp); storage: RENDC_STORAGE_DIR
            (./storage) or S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY...; templates and assets as for
            `rendc render` (RENDC_TEMPLATES, RENDC_ASSETS_DIR, ...); webhooks: RENDC_WEBHOOK_SECRET,
            RENDC_WEBHOOK_ALLOWED_HOSTS, RENDC_URL_SIGNING_SECRET, RENDC_PUBLIC_URL, RENDC_SIGNED_URL_TTL. See .env.example.
            """
    )

    @Option(help: "Jobs rendered at once (default: VIDEO_WORKER_CONCURRENCY, else 2).")
    var concurrency: Int?

    @Option(help: "Folder for per-job temporary files (default: VIDEO_TEMP_DIR, else the system temp folder).")
    var tempDir: String?

    @Option(help: "Use this local storage folder for inputs and outputs (default: RENDC_STORAGE_DIR or the S3_* settings).")
    var storageDir: String?

    @Option(name: .customLong("templates"), help: "An extra folder of templates, searched before the built-in ones. Repeatable.")
    var templateDirectories: [String] = []

    @Option(help: "Lease length in seconds; a killed worker's jobs are picked up again after it.")
    var leaseSeconds: Double = 30

    @Option(help: "Lease renewal period in seconds.")
    var heartbeatSeconds: Double = 5

    @Option(help: "Safety-net poll period in seconds (NOTIFY normally wakes the worker at once).")
    var pollSeconds: Double = 2

    @Option(help: "How often to look for expired leases, in seconds.")
    var reaperSeconds: Double = 5

    @Option(help: "First retry delay in seconds (doubles per attempt, with jitter).")
    var retryBaseSeconds: Double = 5

    @Option(help: "On SIGTERM, how long running jobs may finish before they are released, in seconds.")
    var graceSeconds: Double = 30

    @Option(help: "The longest one attempt (fetch, render, upload) may run, in seconds; then it is stopped and retried (counted).")
    var attemptTimeoutSeconds: Double = 1800

    @Option(help: "Delete completed, failed and cancelled jobs this many days after they finished (0 keeps them).")
    var retentionDays: Double = 30

    /// TEST HOOK (the kill test in Tests/JobServiceTests): instead of rendering, sleep N ms per job and write
    /// placeholder outputs. Never use in production.
    @Option(name: .customLong("fake-render-ms"), help: .hidden)
    var fakeRenderMilliseconds: Int?

    /// TEST HOOK: with --fake-render-ms, append a line per finished render to DIR/<jobId>.
    @Option(name: .customLong("fake-marker-dir"), help: .hidden)
    var fakeMarkerDirectory: String?

    func validate() throws {
        if let concurrency, !(1...64).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 64") }
        if leaseSeconds < 1 { throw ValidationError("--lease-seconds must be at least 1") }
        if heartbeatSeconds <= 0 || heartbeatSeconds * 2 > leaseSeconds {
            throw ValidationError("--heartbeat-seconds must be positive and at most half of --lease-seconds")
        }
        if pollSeconds <= 0 || reaperSeconds <= 0 || graceSeconds < 0 || retryBaseSeconds < 0 {
            throw ValidationError("--poll-seconds and --reaper-seconds must be positive; --grace-seconds and --retry-base-seconds 0 or more")
        }
        if retentionDays < 0 { throw ValidationError("--retention-days must be 0 or more") }
        if let fakeRenderMilliseconds, fakeRenderMilliseconds < 0 { throw ValidationError("--fake-render-ms must be 0 or more") }
    }

    func run() async throws {
        let settings = try loadSettings()
        let database = try settings.database()
        let slots = try concurrency ?? settings.workerConcurrency()
        let temporary = tempDir ?? settings.workerTemporaryDirectory
        let logger = settings.logger("rendc.worker")
        let storage = try settings.storage(directory: storageDir)
        let objectStore = try makeStore(configuration: storage, logger: logger)
        logger.info("storage", metadata: ["backend": "\(storage)"])
        let identity = makeWorkerIdentity(host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier)
        let policy = QueuePolicy(leaseDuration: leaseSeconds, backoff: BackoffPolicy(base: retryBaseSeconds))
        var databaseSettings = database
        databaseSettings.maximumConnections = max(4, slots * 2 + 2)
        let store = JobStore(configuration: databaseSettings, policy: policy, logger: logger)

        let renderer: any JobRenderer
        if let fakeRenderMilliseconds {
            logger.warning("TEST HOOK: --fake-render-ms is set; jobs are not really rendered")
            renderer = SimulatedRenderer(duration: Double(fakeRenderMilliseconds) / 1000, markerDirectory: fakeMarkerDirectory)
        } else {
            var renderSettings = settings
            renderSettings.temporaryDirectory = temporary
            let pipeline = renderSettings.renderPipeline(extraTemplates: templateDirectories, logger: logger, longRunning: true)
            pipeline.warnWhenNoTemplates(logger)
            renderer = PipelineRenderer(pipeline: pipeline, logger: logger)
        }
        let worker = JobWorker(
            store: store, objectStore: objectStore, renderer: renderer,
            configuration: WorkerConfiguration(
                concurrency: slots, temporaryDirectory: temporary, identity: identity, pollInterval: pollSeconds,
                heartbeatInterval: heartbeatSeconds, reaperInterval: reaperSeconds, shutdownGracePeriod: graceSeconds,
                attemptTimeout: attemptTimeoutSeconds, finishedJobRetention: retentionDays > 0 ? retentionDays * 86_400 : nil),
            logger: logger,
            webhooks: try webhookDelivery(settings: settings, store: store, objectStore: objectStore, owner: identity, logger: logger))
        var services: [any Service] = [store, worker]
        // The store's temporaries that a killed process sharing it left while this one runs.
        if let sweep = TemporarySweeper.Sweep.localStore(objectStore) { services.append(TemporarySweeper(sweeps: [sweep], logger: logger)) }
        if let address = try settings.workerMetricsAddress(), let registry = bootstrapPrometheus(enabled: try settings.metricsEnabled()) {
            services.append(MetricsEndpoint(host: address.host, port: address.port, logger: logger) { registry.emitToString() })
            services.append(QueueDepthGauge(store: store))
            logger.info("metrics at http://\(address.host):\(address.port)/metrics")
        }
        let group = ServiceGroup(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// Job webhooks, each signed with its tenant's own secret derived from RENDC_WEBHOOK_SECRET (``WebhookSecrets``;
/// tenants read theirs from `GET /api/v1/webhook-secret`); without a secret no webhook is sent (a receiver could not
/// tell rendc's calls from anybody's) and queued events wait in the database for a worker that has one.
/// Bodies carry download URLs signed like the API's (RENDC_URL_SIGNING_SECRET, RENDC_PUBLIC_URL,
/// RENDC_SIGNED_URL_TTL) or presigned by S3.
func webhookDelivery(
    settings: Settings, store: JobStore, objectStore: any ObjectStore, owner: String, logger: Logger
) throws -> WebhookDeliveryService? {
    guard let secret = try settings.webhookSecret() else {
        logger.notice("webhooks off: set RENDC_WEBHOOK_SECRET (16+ bytes) to POST final job states to callback URLs")
        return nil
    }
    let signer = try settings.urlSigningSecret().map { URLSigner(secret: $0) }
    if signer == nil {
        logger.notice("RENDC_URL_SIGNING_SECRET unset: webhook bodies carry download URLs only when the store presigns (S3)")
    }
    return WebhookDeliveryService(
        store: store, sender: WebhookSender(policy: try settings.webhookTargets(), logger: logger),
        secrets: WebhookSecrets(master: secret),
        links: DownloadLinks(
            objectStore: objectStore, signer: signer, baseURL: try settings.downloadBaseURL(),
            lifetime: try settings.signedURLLifetime()),
        owner: owner, logger: logger)
}
