import ArgumentParser
import Foundation
import JobAPI
import JobQueue
import Logging
import ObjectStorage
import RendcSettings
import RenderPipeline
import ServiceLifecycle

/// `rendc serve`: the HTTP API. Reads the environment once, here, and passes configuration down.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the job HTTP API (submit jobs, upload assets, download outputs).",
        discussion: """
            Environment: DATABASE_URL (or DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD), RENDC_URL_SIGNING_SECRET \
            (required unless --dev), RENDC_HOST, RENDC_PORT, RENDC_PUBLIC_URL, VIDEO_MAX_DURATION, VIDEO_MAX_FILE_SIZE, \
            RENDC_MAX_IMAGE_DIMENSION, RENDC_MAX_VIDEO_DIMENSION, RENDC_SIGNED_URL_TTL, RENDC_TRUST_GATEWAY_TENANT_HEADER, VIDEO_TEMP_DIR, \
            RENDC_STORAGE_DIR or S3_*, RENDC_TEMPLATES, RENDC_SPECS_DIR, RENDC_WEBHOOK_SECRET (the same as the workers'; \
            tenants read their own signing secret from GET /api/v1/webhook-secret), RENDC_WEBHOOK_ALLOWED_HOSTS, RENDC_RATE_LIMIT_PER_MINUTE (1200; 0 = off), \
            RENDC_HTTP_IDLE_TIMEOUT (30 s; 0 = off), RENDC_HTTP_BODY_TIMEOUT (600 s), RENDC_ADMIN_TOKEN (turns on the /admin dashboard). \
            See docs/api.md and docs/studio.md.
            """
    )

    @Option(help: "Interface to bind (overrides RENDC_HOST).")
    var host: String?

    @Option(help: "Port to listen on (overrides RENDC_PORT).")
    var port: Int?

    @Option(help: "Use this local storage folder (default: RENDC_STORAGE_DIR or the S3_* settings, as for the worker).")
    var storageDir: String?

    @Option(
        name: .customLong("templates"),
        help: "Template folders searched before RENDC_TEMPLATES and the built-in specs/ (repeatable), as for the worker.")
    var templatesDir: [String] = []

    @Flag(help: "Development mode: a random URL-signing secret when RENDC_URL_SIGNING_SECRET is unset.")
    var dev = false

    @Flag(help: "Apply pending database migrations before serving.")
    var migrate = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: RENDC_LOG_LEVEL, else info).")
    var logLevel: String?

    func run() async throws {
        let settings = try loadSettings()
        var level: Logger.Level?
        if let logLevel {
            guard let parsed = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            level = parsed
        }
        let logger = settings.logger("rendc.serve", override: level)

        var api = try settings.api(development: dev)
        let database = try settings.database()
        if let host { api.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
            api.port = port
        }
        if dev, try settings.urlSigningSecret() == nil {
            logger.warning("--dev: using a random URL-signing secret; download URLs stop working when the server restarts")
        }
        if api.webhookSecrets == nil {
            logger.notice(
                "RENDC_WEBHOOK_SECRET unset: GET /api/v1/webhook-secret answers 503 (set the workers' value to serve tenants their secrets)")
        }
        if api.trustGatewayTenantHeader {
            logger.warning("trusting the x-tenant-id header: only safe behind a gateway that authenticates callers and strips it")
        }

        // The same store the workers use: --storage-dir, else RENDC_STORAGE_DIR or the S3_* settings.
        let storage = try settings.storage(directory: storageDir)
        if case .local(let directory) = storage.backend {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let objectStore = try makeStore(configuration: storage, logger: logger)
        try FileManager.default.createDirectory(atPath: api.temporaryDirectory, withIntermediateDirectories: true)
        // Upload spools and downloads left by a serve that was killed mid-request.
        let swept = APITemporaryFiles.sweep(
            api.temporaryDirectory, minimumAge: APITemporaryFiles.staleAge(bodyTimeoutSeconds: api.bodyTimeoutSeconds))
        if swept > 0 { logger.notice("removed stale upload and download temporary files", metadata: ["count": "\(swept)"]) }
        // The same template folders and default assets the worker renders with.
        let pipeline = settings.renderPipeline(extraTemplates: templatesDir, logger: logger)
        pipeline.warnWhenNoTemplates(logger)
        // Parsed as the worker loads them, so submit plans each job against the template the worker will render.
        let templates: @Sendable () throws -> [TemplateSummary] = {
            try pipeline.templates().map {
                TemplateSummary(name: $0.name, description: $0.description, template: try? pipeline.loadTemplate($0.path))
            }
        }
        // swift-metrics -> Prometheus for this process (HTTP metrics by route and status, queue metrics) at /metrics.
        var metricsText: (@Sendable () -> String)?
        if let registry = bootstrapPrometheus(enabled: try settings.metricsEnabled()) {
            metricsText = { registry.emitToString() }
        }

        if migrate {
            let applied = try await JobStore.withRunningStore(configuration: database, logger: logger) { try await $0.migrate() }
            logger.info("migrations applied", metadata: ["versions": "\(applied)"])
        }
        let jobStore = JobStore(configuration: database, logger: logger)
        // The operators' dashboard at /admin: on only when RENDC_ADMIN_TOKEN is set.
        let adminToken = try settings.adminToken()
        let server = JobAPIServer(
            configuration: api, jobStore: jobStore, objectStore: objectStore, templates: templates, metrics: metricsText,
            logger: logger
        ).enablingAdmin(token: adminToken)
            .warningOfCutTexts { plan, template in pipeline.fieldCuts(plan, template: template) }
        logger.info(
            "serving",
            metadata: [
                "address": "\(api.host):\(api.port)", "database": "\(database)", "storage": "\(storage)",
                "admin": "\(adminToken == nil ? "off" : "/admin")",
            ])
        // Temporaries left while it runs (a killed worker's half-written object, a spool whose request never ended).
        let sweeper = TemporarySweeper(
            sweeps: [
                TemporarySweeper.Sweep.localStore(objectStore),
                APITemporaryFiles.periodicSweep(api.temporaryDirectory, bodyTimeoutSeconds: api.bodyTimeoutSeconds),
            ].compactMap { $0 }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: jobStore), .init(service: server.makeApplication()), .init(service: sweeper)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
