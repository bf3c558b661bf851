import ArgumentParser
import Foundation
import JobAPI
import JobQueue
import Logging
import Metrics
import ObjectStorage
import Prometheus
import RenderPipeline
import ServiceLifecycle
import SpecLang
import Webhooks

/// `rendc serve`: the HTTP API. Reads the environment once, here, and passes configuration down.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the job HTTP API (submit jobs, upload assets, download outputs).",
        discussion: """
            Environment: DATABASE_URL (or DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD), RENDC_URL_SIGNING_SECRET \
            (required unless --dev), RENDC_HOST, RENDC_PORT, RENDC_PUBLIC_URL, VIDEO_MAX_DURATION, VIDEO_MAX_FILE_SIZE, \
            RENDC_MAX_IMAGE_DIMENSION, RENDC_SIGNED_URL_TTL, RENDC_TRUST_GATEWAY_TENANT_HEADER, VIDEO_TEMP_DIR, \
            RENDC_STORAGE_DIR or S3_*, RENDC_TEMPLATES, RENDC_SPECS_DIR, RENDC_WEBHOOK_ALLOWED_HOSTS, RENDC_RATE_LIMIT_PER_MINUTE (1200; 0 = off), \
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

    @Option(name: .customLong("templates"), help: "Template folders searched before RENDC_TEMPLATES and the built-in specs/ (repeatable), as for the worker.")
    var templatesDir: [String] = []

    @Flag(help: "Development mode: a random URL-signing secret when RENDC_URL_SIGNING_SECRET is unset.")
    var dev = false

    @Flag(help: "Apply pending database migrations before serving.")
    var migrate = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: RENDC_LOG_LEVEL, else info).")
    var logLevel: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var logger = makeLogger("rendc.serve")
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            logger.logLevel = level
        }

        var api: APIConfiguration
        let database: DatabaseConfiguration
        do {
            api = try APIConfiguration.fromEnvironment(environment, development: dev)
            database = try DatabaseConfiguration.fromEnvironment(environment)
        } catch {
            throw ValidationError("\(error)")
        }
        api.webhookTargets = try webhookTargetPolicy(environment: environment)
        try Self.applyHTTPLimits(environment, to: &api)
        if let host { api.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
            api.port = port
        }
        if dev && environment["RENDC_URL_SIGNING_SECRET"]?.isEmpty != false {
            logger.warning("--dev: using a random URL-signing secret; download URLs stop working when the server restarts")
        }
        if api.trustGatewayTenantHeader {
            logger.warning("trusting the x-tenant-id header: only safe behind a gateway that authenticates callers and strips it")
        }

        // The same store the workers use: --storage-dir, else RENDC_STORAGE_DIR or the S3_* settings.
        let storage: StorageConfiguration
        do {
            storage = try storageDir.map { StorageConfiguration(backend: .local(directory: $0)) }
                ?? StorageConfiguration(environment: environment)
        } catch {
            throw ValidationError("\(error)")
        }
        if case .local(let directory) = storage.backend {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let objectStore = try makeStore(configuration: storage, logger: logger)
        let storageDescription = "\(storage)"
        try FileManager.default.createDirectory(atPath: api.temporaryDirectory, withIntermediateDirectories: true)
        // The same template folders and default assets the worker renders with.
        var settings = environment
        settings["VIDEO_TEMP_DIR"] = api.temporaryDirectory
        let pipeline = RendcEnvironment(settings).pipeline(extraTemplates: templatesDir, logger: logger)
        let templates: @Sendable () throws -> [TemplateSummary] = {
            try pipeline.templates().map { info in
                let template = try? TemplateParser.parse(file: info.path)
                return TemplateSummary(
                    name: info.name, description: info.description, defaultDuration: template?.timing.defaultDuration,
                    fields: (template?.fields ?? []).map {
                        TemplateField(name: $0.name, type: $0.kind.rawValue, required: $0.required, maxLength: $0.maxLength, description: $0.description)
                    })
            }
        }
        // swift-metrics -> Prometheus for this process (HTTP metrics by route and status, queue metrics), exposed at
        // /metrics. (Bootstrapped here because each rendc subcommand is its own process; move it to the CLI's top
        // if another command bootstraps too: bootstrapping twice traps.)
        // RENDC_METRICS=false turns it off.
        var metricsText: (@Sendable () -> String)?
        if let registry = bootstrapPrometheus(environment: environment) {
            metricsText = { registry.emitToString() }
        }

        if migrate {
            let applied = try await JobStore.withRunningStore(configuration: database, logger: logger) { try await $0.migrate() }
            logger.info("migrations applied", metadata: ["versions": "\(applied)"])
        }
        let jobStore = JobStore(configuration: database, logger: logger)
        // The operators' dashboard at /admin: on only when RENDC_ADMIN_TOKEN is set.
        let adminToken = environment["RENDC_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let adminToken, adminToken.count < 16 {
            throw ValidationError("RENDC_ADMIN_TOKEN must be at least 16 characters (e.g. openssl rand -hex 24)")
        }
        let server = JobAPIServer(
            configuration: api, jobStore: jobStore, objectStore: objectStore, templates: templates, metrics: metricsText,
            logger: logger).enablingAdmin(token: adminToken)
        logger.info("serving", metadata: [
            "address": "\(api.host):\(api.port)", "database": "\(database)", "storage": "\(storageDescription)",
            "admin": "\(adminToken == nil ? "off" : "/admin")",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: jobStore), .init(service: server.makeApplication())],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

extension ServeCommand {
    /// `RENDC_RATE_LIMIT_PER_MINUTE` (requests a minute per API key, 0 = no limit), `RENDC_HTTP_IDLE_TIMEOUT`
    /// (seconds a connection may send nothing, 0 = never closed) and `RENDC_HTTP_BODY_TIMEOUT` (seconds a request
    /// body may take).
    static func applyHTTPLimits(_ environment: [String: String], to api: inout APIConfiguration) throws {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        if let text = value("RENDC_RATE_LIMIT_PER_MINUTE") {
            guard let n = Int(text), (0...1_000_000).contains(n) else {
                throw ValidationError("RENDC_RATE_LIMIT_PER_MINUTE=\(text.debugDescription): expected a whole number from 0 (no limit) to 1000000")
            }
            api.rateLimitPerMinute = n
        }
        if let text = value("RENDC_HTTP_IDLE_TIMEOUT") {
            guard let seconds = Double(text), seconds.isFinite, (0...3600).contains(seconds) else {
                throw ValidationError("RENDC_HTTP_IDLE_TIMEOUT=\(text.debugDescription): expected seconds from 0 (never) to 3600")
            }
            api.idleTimeoutSeconds = seconds == 0 ? nil : seconds
        }
        if let text = value("RENDC_HTTP_BODY_TIMEOUT") {
            guard let seconds = Double(text), seconds.isFinite, (1...86400).contains(seconds) else {
                throw ValidationError("RENDC_HTTP_BODY_TIMEOUT=\(text.debugDescription): expected seconds from 1 to 86400")
            }
            api.bodyTimeoutSeconds = seconds
        }
    }
}
