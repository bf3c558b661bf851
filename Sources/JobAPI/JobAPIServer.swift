import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ObjectStorage
import Planner
import SpecLang

/// The HTTP API of the job service (`rendc serve`). Build it with the deployment's configuration and dependencies,
/// then run ``makeApplication()`` as a `Service` in the process's `ServiceGroup`.
public struct JobAPIServer: Sendable {
    var handlers: APIHandlers
    let logger: Logger
    /// The operators' dashboard credential (`/admin`, see AdminRoutes.swift); nil: no dashboard.
    var adminToken: String? = nil

    package init(
        configuration: APIConfiguration,
        store: any APIStore,
        objectStore: any ObjectStore,
        templates: @escaping @Sendable () throws -> [TemplateSummary],
        metrics: (@Sendable () -> String)?,
        logger: Logger
    ) {
        self.handlers = APIHandlers(
            configuration: configuration,
            store: store,
            objectStore: objectStore,
            templates: TemplateCache(load: templates, lifetime: .seconds(5)),
            metrics: metrics,
            signer: URLSigner(secret: configuration.urlSigningSecret),
            authenticator: TenantAuthenticator(
                directory: store, trustGatewayHeader: configuration.trustGatewayTenantHeader,
                cacheSeconds: configuration.apiKeyCacheSeconds)
        )
        self.logger = logger
    }

    /// Submit answers with a warning for each text the render will cut to fit its box, measured by `fit` (the text
    /// renderer, as the worker sets it): the store learns it before the render, not after.
    public func warningOfCutTexts(_ fit: @escaping @Sendable (RenderPlan, Template) -> [FieldCut]) -> JobAPIServer {
        var copy = self
        copy.handlers.textFit = fit
        return copy
    }

    /// The router with every endpoint and middleware (also what the tests drive).
    public func makeRouter() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self, options: [.autoGenerateHeadEndpoints])
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: ErrorEnvelopeMiddleware())
        router.add(middleware: MetricsMiddleware())
        let h = handlers

        router.get("/healthz") { _, _ in try json(StatusResponse(status: "ok")) }
        router.get("/readyz") { _, context in try await h.ready(context: context) }
        router.get("/metrics") { _, _ in h.metricsText() }
        // `/files?key=...` is the form a spec can describe (keys hold slashes); `/files/{key...}` still works.
        router.get("/files") { request, context in try await h.serveFile(request, context: context) }
        router.get("/files/**") { request, context in try await h.serveFile(request, context: context) }

        // Other methods on these paths: 405 with Allow (registered outside the authenticated group; methods the
        // router has no table for end in its 404, which ErrorEnvelopeMiddleware turns into the same 405).
        for route in MethodNotAllowed.routes {
            MethodNotAllowed.register(on: router, RouterPath(route.path), allow: route.allow)
        }

        let api = router.group("/api/v1")
            .add(middleware: TenantAuthMiddleware(authenticator: h.authenticator))
            .add(middleware: RateLimitMiddleware(store: h.store, perMinute: h.configuration.rateLimitPerMinute))
        api.post("/video/process") { request, context in try await h.submit(request, context: context) }
        api.get("/video/jobs") { request, context in try await h.listJobs(request, context: context) }
        api.get("/video/jobs/{id}") { request, context in try await h.getJob(request, context: context) }
        api.post("/video/jobs/{id}/cancel") { request, context in try await h.cancelJob(request, context: context) }
        api.post("/assets") { request, context in try await h.upload(request, context: context) }
        api.get("/assets/{id}") { request, context in try await h.getAsset(request, context: context) }
        api.get("/templates") { _, context in try await h.listTemplates(context: context) }
        api.get("/webhook-secret") { _, context in try await h.webhookSecret(context: context) }
        api.post("/webhook-secret/rotate") { request, context in try await h.rotateWebhookSecret(request, context: context) }
        if let adminToken { registerAdmin(on: router, token: adminToken) }
        return router
    }

    /// The application: an HTTP server that is a `Service` with graceful shutdown.
    public func makeApplication() -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [ParseErrorEnvelopeHandler()],
                    idleTimeout: handlers.configuration.idleTimeoutSeconds.map { .nanoseconds(Int64($0 * 1e9)) })),
            configuration: .init(
                address: .hostname(handlers.configuration.host, port: handlers.configuration.port),
                serverName: "rendc"
            ),
            logger: logger
        )
    }
}

/// The handlers and what they share.
struct APIHandlers: Sendable {
    let configuration: APIConfiguration
    let store: any APIStore
    let objectStore: any ObjectStore
    let templates: TemplateCache
    let metrics: (@Sendable () -> String)?
    let signer: URLSigner
    let authenticator: TenantAuthenticator
    /// Measures which of a planned job's texts the render will cut to fit (the text renderer's measure, given by
    /// `serve`); nil: submit does not warn.
    var textFit: (@Sendable (RenderPlan, Template) -> [FieldCut])? = nil

    func ready(context: APIRequestContext) async throws -> Response {
        do {
            try await store.ping()
            return try json(StatusResponse(status: "ready"))
        } catch {
            context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            throw APIError.databaseUnavailable
        }
    }

    func metricsText() -> Response {
        let text = metrics?() ?? ""
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func listTemplates(context: APIRequestContext) async throws -> Response {
        _ = try context.requireTenant()
        let list = try await loadTemplates(context: context)
        return try json(
            TemplateListResponse(
                templates: list.map {
                    .init(name: $0.name, description: $0.description, defaultDuration: $0.defaultDuration, fields: $0.fields)
                }))
    }

    func loadTemplates(context: APIRequestContext) async throws -> [TemplateSummary] {
        do {
            return try await templates.current().sorted { $0.name < $1.name }
        } catch {
            context.logger.error("cannot list templates", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, .internalError, "templates are not available")
        }
    }

    /// The job as the client sees it, with fresh signed URLs for its outputs.
    func view(_ job: JobRecord) async throws -> JobView {
        JobView(
            id: job.id, status: job.status.rawValue, progress: job.progress,
            outputVideoUrl: try await downloadURL(for: job.outputVideoKey),
            outputThumbnailUrl: try await downloadURL(for: job.outputThumbnailKey),
            createdAt: job.createdAt, startedAt: job.startedAt, completedAt: job.completedAt,
            processingTimeMs: job.processingTimeMs, lastError: job.lastError,
            overlayType: job.template, qualityMode: job.qualityMode.rawValue, priority: job.priority,
            imageIds: job.imageIds, audioFile: job.audioAssetId, textOverlay: job.textOverlay,
            durationTarget: job.durationTarget, attempts: job.attempts, cancelRequested: job.cancelRequested,
            voiceFile: job.voiceAssetId,
            audioLoudness: job.audioLoudness.map { AudioLoudnessView(inputLufs: $0.input, outputLufs: $0.output, outputTruePeakDbtp: $0.truePeak) },
            notes: job.notes
        )
    }

    /// A signed, expiring URL for a stored output: the store's own presigned URL when it makes one (S3), else
    /// this server's `/files/...` URL signed with the deployment secret.
    func downloadURL(for stored: String?) async throws -> String? {
        guard let stored, !stored.isEmpty else { return nil }
        if stored.contains("://") { return stored }  // already a URL (a store that records URLs)
        let lifetime = configuration.signedURLLifetime
        if let presigned = try await objectStore.presignedGetURL(key: stored, expiresIn: lifetime) {
            return presigned.absoluteString
        }
        let expires = Int(Date().timeIntervalSince1970) + lifetime
        return configuration.baseURL + signer.signedQueryPath(key: stored, expires: expires)
    }
}

/// A JSON response.
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) throws -> Response {
    let data = try JSONEncoder.api.encode(value)
    var headers = extra
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// The template list, re-read from disk at most every `lifetime` (submissions check `overlayType` against it, and
/// reading and parsing the YAML files on every request would cost more than the rest of the request).
actor TemplateCache {
    private let load: @Sendable () throws -> [TemplateSummary]
    private let lifetime: Duration
    private var cached: (list: [TemplateSummary], until: ContinuousClock.Instant)?

    init(load: @escaping @Sendable () throws -> [TemplateSummary], lifetime: Duration) {
        self.load = load
        self.lifetime = lifetime
    }

    func current() throws -> [TemplateSummary] {
        if let cached, cached.until > .now { return cached.list }
        let list = try load()
        cached = (list, .now + lifetime)
        return list
    }
}
