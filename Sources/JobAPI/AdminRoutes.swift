import Digests
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JobQueue

/// What the operators' dashboard reads and does, across all tenants. ``QueueAPIStore`` implements it over
/// JobQueue's admin queries; no SQL lives here.
package protocol AdminStore: Sendable {
    func adminStatusCounts() async throws -> [JobStatus: Int]
    func adminRunningJobs() async throws -> [Job]
    func adminTenantStats() async throws -> [TenantJobStats]
    func adminJobs(status: JobStatus?, limit: Int) async throws -> [Job]
    func adminJob(id: UUID) async throws -> Job?
    /// The plan the job was rendered with, when a worker recorded one.
    func adminJobPlan(id: UUID) async throws -> String?
    func adminRetry(id: UUID) async throws -> AdminRetryOutcome
    /// Cancels the job for its own tenant (as the tenant's cancel would); nil when there is no such job.
    func adminCancel(id: UUID) async throws -> CancelOutcome?
}

extension QueueAPIStore: AdminStore {
    package func adminStatusCounts() async throws -> [JobStatus: Int] { try await jobs.statusCounts() }
    package func adminJobPlan(id: UUID) async throws -> String? { try await jobs.adminJobPlan(id: id) }
    package func adminRunningJobs() async throws -> [Job] { try await jobs.adminRunningJobs() }
    package func adminTenantStats() async throws -> [TenantJobStats] { try await jobs.adminTenantStats() }
    package func adminJobs(status: JobStatus?, limit: Int) async throws -> [Job] { try await jobs.adminJobs(status: status, limit: limit) }
    package func adminJob(id: UUID) async throws -> Job? { try await jobs.job(id: id) }
    package func adminRetry(id: UUID) async throws -> AdminRetryOutcome { try await jobs.adminRetry(jobId: id) }
    package func adminCancel(id: UUID) async throws -> CancelOutcome? {
        guard let job = try await jobs.job(id: id) else { return nil }
        return try await jobs.requestCancel(jobId: id, tenantId: job.tenantId)
    }
}

extension JobAPIServer {
    /// The server with the operators' dashboard at `/admin`, guarded by `token` (`RENDC_ADMIN_TOKEN`, parsed by the
    /// CLI). Nil leaves the dashboard off: `/admin` is then an unknown route.
    public func enablingAdmin(token: String?) -> JobAPIServer {
        var copy = self
        copy.adminToken = token.flatMap { $0.isEmpty ? nil : $0 }
        return copy
    }

    func registerAdmin(on router: Router<APIRequestContext>, token: String) {
        guard let store = handlers.store as? any AdminStore else { return }
        let admin = AdminHandlers(api: handlers, store: store, credential: AdminCredential(token: token))
        router.get("/admin/login") { _, _ in AdminHandlers.page(AdminPage.login(error: nil), status: .ok) }
        router.post("/admin/login") { request, context in try await admin.login(request, context: context) }
        router.post("/admin/logout") { _, _ in admin.logout() }
        let group = router.group("/admin").add(middleware: AdminAuthMiddleware(credential: admin.credential))
        group.get("") { _, _ in AdminHandlers.page(AdminPage.dashboard, status: .ok) }
        group.get("/api/overview") { request, _ in try await admin.overview(request) }
        group.get("/api/jobs/{id}") { _, context in try await admin.detail(context) }
        group.post("/api/jobs/{id}/retry") { _, context in try await admin.retry(context) }
        group.post("/api/jobs/{id}/cancel") { _, context in try await admin.cancel(context) }
    }
}

/// The admin credential: the token itself (Bearer) or a session cookie derived from it with HMAC, so the cookie
/// never holds the token and stops working when the token changes. A session carries its own expiry
/// (`<unix seconds>.<HMAC of "v2|<expiry>">`), so a copied cookie stops working after ``sessionSeconds`` even though
/// logging out only clears the browser's copy (it was one constant value, valid until the token changed).
struct AdminCredential: Sendable {
    static let cookieName = "rendc_admin"
    /// How long a login lasts (the cookie's Max-Age too).
    static let sessionSeconds = 43_200
    private let token: [UInt8]

    init(token: String) {
        self.token = Array(token.utf8)
    }

    /// A session valid until `now` + ``sessionSeconds``.
    func session(now: Date = Date()) -> String {
        let expiry = Int(now.timeIntervalSince1970) + Self.sessionSeconds
        return "\(expiry).\(mac(expiry))"
    }

    private func mac(_ expiry: Int) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("rendc-admin-session-v2|\(expiry)".utf8), using: SymmetricKey(data: token)).hexString
    }

    /// Compares digests, so the time taken says nothing about the token.
    func matchesToken(_ given: String) -> Bool {
        Data(SHA256.hash(data: Array(given.utf8))) == Data(SHA256.hash(data: token))
    }

    /// A session this token made that has not expired (and does not claim an expiry beyond one login's length).
    func matchesSession(_ given: String, now: Date = Date()) -> Bool {
        let parts = given.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let expiry = Int(parts[0]) else { return false }
        let seconds = Int(now.timeIntervalSince1970)
        guard expiry > seconds, expiry <= seconds + Self.sessionSeconds else { return false }
        return Data(SHA256.hash(data: Array(parts[1].utf8))) == Data(SHA256.hash(data: Array(mac(expiry).utf8)))
    }

    func allows(_ request: Request) -> Bool {
        if let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") {
            return matchesToken(String(auth.dropFirst("Bearer ".count)))
        }
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix("\(Self.cookieName)="), matchesSession(String(pair.dropFirst(Self.cookieName.count + 1))) { return true }
            }
        }
        return false
    }
}

/// Without the admin credential: 401, with the login form for pages and a JSON error for the API.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let credential: AdminCredential

    /// Whether a browser's `Origin` names the host (and port) the request was sent to.
    static func sameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let components = URLComponents(string: origin), let originHost = components.host else { return false }
        let originAuthority = components.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // SameSite=Strict keeps the cookie from other sites, not from a same-site subdomain's page: a retry or
        // cancel sent by a browser from another origin is refused.
        // Behind a proxy that rewrites Host (nginx's default), the browser's host arrives as X-Forwarded-Host: a page
        // cannot set that header cross-origin, so either naming the Origin's host will do.
        let forwarded = request.headers[.init("X-Forwarded-Host")!]?.split(separator: ",").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if request.method == .post, let origin = request.headers[.origin],
            !Self.sameOrigin(origin, host: request.head.authority), !Self.sameOrigin(origin, host: forwarded)
        {
            throw APIError(.forbidden, .forbidden, "admin actions are accepted only from the dashboard's own origin")
        }
        guard credential.allows(request) else {
            if request.uri.path.hasPrefix("/admin/api/") {
                throw APIError(.unauthorized, .unauthorized, "the admin dashboard needs RENDC_ADMIN_TOKEN as a Bearer token or a login")
            }
            var response = AdminHandlers.page(AdminPage.login(error: nil), status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer realm=\"rendc admin\""
            return response
        }
        return try await next(request, context)
    }
}

/// The dashboard's JSON: ISO-8601 dates, camelCase keys.
struct AdminJobView: Encodable {
    /// Ids in lowercase, as the rest of the API writes them.
    var id: String
    var tenantId: String
    var tenantName: String?
    var status: String
    var progress: Int
    var priority: Int
    var overlayType: String
    var qualityMode: String
    var durationTarget: Double?
    var textOverlay: String?
    var imageIds: [String]
    var audioFile: String?
    var attempts: Int
    var maxAttempts: Int
    var lastError: String?
    var leaseOwner: String?
    var heartbeatAt: Date?
    var leaseExpiresAt: Date?
    var runAfter: Date
    var createdAt: Date
    var startedAt: Date?
    var completedAt: Date?
    var processingTimeMs: Int?
    var cancelRequested: Bool
    var callbackHost: String?
    var outputVideoUrl: String?
    var outputThumbnailUrl: String?
    var voiceFile: String? = nil
    /// Measured loudness of the output's audio: "-21.4 -> -14.0 LUFS, -1.6 dBTP".
    var loudness: String? = nil
    /// The plan a worker rendered the job with (detail view only).
    var plan: String? = nil
    /// What the render changed or could not do (a caption cut to fit, pictures repeated): the same notes the store
    /// gets on GET /jobs/{id} and in the completion webhook (detail view only; nil before completion).
    var notes: [String]? = nil
}

struct AdminTenantView: Encodable {
    var id: String
    var name: String
    var counts: [String: Int]
    var total: Int
    var failureRate: Double
}

struct AdminOverview: Encodable {
    var counts: [String: Int]
    var running: [AdminJobView]
    var tenants: [AdminTenantView]
    var recent: [AdminJobView]
}

struct AdminActionResult: Encodable {
    var ok: Bool
    var message: String
    var job: AdminJobView?
}

struct AdminHandlers: Sendable {
    let api: APIHandlers
    let store: any AdminStore
    let credential: AdminCredential

    static func page(_ html: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("Content-Security-Policy")!] =
            "default-src 'self'; img-src 'self' data: blob: *; media-src 'self' *; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func login(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        let form = String(buffer: body)
        var token = ""
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[0] == "token" {
                token = parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
        }
        guard credential.matchesToken(token) else {
            context.logger.warning("admin login refused")
            return Self.page(AdminPage.login(error: "That token is not right."), status: .unauthorized)
        }
        var headers = HTTPFields()
        headers[.location] = "/admin"
        headers[.setCookie] =
            "\(AdminCredential.cookieName)=\(credential.session()); Path=/admin; Max-Age=\(AdminCredential.sessionSeconds); HttpOnly; Secure; SameSite=Strict"
        return Response(status: .seeOther, headers: headers)
    }

    func logout() -> Response {
        var headers = HTTPFields()
        headers[.location] = "/admin/login"
        headers[.setCookie] = "\(AdminCredential.cookieName)=; Path=/admin; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
        return Response(status: .seeOther, headers: headers)
    }

    func overview(_ request: Request) async throws -> Response {
        let filter = try request.uri.queryParameters.get("status").flatMap { text -> JobStatus? in
            if text.isEmpty { return nil }
            guard let s = JobStatus(rawValue: text) else { throw APIError.validation("status", "unknown status") }
            return s
        }
        async let counts = store.adminStatusCounts()
        async let running = store.adminRunningJobs()
        async let tenants = store.adminTenantStats()
        async let recent = store.adminJobs(status: filter, limit: 50)
        let tenantList = try await tenants
        let names = Dictionary(tenantList.map { ($0.tenantId, $0.name) }, uniquingKeysWith: { a, _ in a })
        let countValues = try await counts
        var countMap: [String: Int] = [:]
        for status in JobStatus.allCases { countMap[status.rawValue] = countValues[status] ?? 0 }
        var runningViews: [AdminJobView] = []
        for job in try await running { runningViews.append(try await view(job, tenantName: names[job.tenantId], signed: false)) }
        var recentViews: [AdminJobView] = []
        for job in try await recent { recentViews.append(try await view(job, tenantName: names[job.tenantId], signed: false)) }
        let tenantViews = tenantList.map { t in
            AdminTenantView(
                id: t.tenantId.uuidString.lowercased(), name: t.name,
                counts: Dictionary(uniqueKeysWithValues: t.counts.map { ($0.key.rawValue, $0.value) }),
                total: t.total, failureRate: t.failureRate)
        }
        return try json(AdminOverview(counts: countMap, running: runningViews, tenants: tenantViews, recent: recentViews))
    }

    func jobId(_ context: APIRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else { throw APIError.notFound("job") }
        return id
    }

    func detail(_ context: APIRequestContext) async throws -> Response {
        guard let job = try await store.adminJob(id: try jobId(context)) else { throw APIError.notFound("job") }
        let name = try await store.adminTenantStats().first { $0.tenantId == job.tenantId }?.name
        var detail = try await view(job, tenantName: name, signed: true)
        detail.voiceFile = job.voiceAssetId
        detail.loudness = job.audioLoudness.map {
            String(format: "%.1f -> %.1f LUFS, true peak %.1f dBTP", $0.inputLufs, $0.outputLufs, $0.outputTruePeakDbtp)
        }
        detail.plan = try await store.adminJobPlan(id: job.id)
        detail.notes = job.renderNotes
        return try json(detail)
    }

    func retry(_ context: APIRequestContext) async throws -> Response {
        let id = try jobId(context)
        switch try await store.adminRetry(id: id) {
        case .notFound: throw APIError.notFound("job")
        case .notRetryable(let status):
            throw APIError(.conflict, .conflict, "only failed or cancelled jobs can be retried; this one is \(status.rawValue)")
        case .requeued:
            let job = try await store.adminJob(id: id)
            return try json(
                AdminActionResult(ok: true, message: "requeued", job: try await job.asyncMap { try await view($0, tenantName: nil, signed: false) }))
        }
    }

    func cancel(_ context: APIRequestContext) async throws -> Response {
        let id = try jobId(context)
        guard let outcome = try await store.adminCancel(id: id) else { throw APIError.notFound("job") }
        let message: String
        switch outcome {
        case .cancelled: message = "cancelled"
        case .requested: message = "cancel requested; the worker stops at its next heartbeat"
        case .alreadyFinished(let status): throw APIError(.conflict, .conflict, "the job is already \(status.rawValue)")
        }
        let job = try await store.adminJob(id: id)
        return try json(
            AdminActionResult(ok: true, message: message, job: try await job.asyncMap { try await view($0, tenantName: nil, signed: false) }))
    }

    func view(_ job: Job, tenantName: String?, signed: Bool) async throws -> AdminJobView {
        AdminJobView(
            id: job.id.uuidString.lowercased(), tenantId: job.tenantId.uuidString.lowercased(), tenantName: tenantName, status: job.status.rawValue,
            progress: job.progress,
            priority: job.priority, overlayType: job.template, qualityMode: job.qualityMode.rawValue,
            durationTarget: job.durationTarget, textOverlay: job.textOverlay, imageIds: job.imageIds.map { $0.uuidString.lowercased() },
            audioFile: job.audioAssetId,
            attempts: job.attempts, maxAttempts: job.maxAttempts, lastError: job.lastError, leaseOwner: job.leaseOwner,
            heartbeatAt: job.heartbeatAt, leaseExpiresAt: job.leaseExpiresAt, runAfter: job.runAfter, createdAt: job.createdAt,
            startedAt: job.startedAt, completedAt: job.completedAt, processingTimeMs: job.processingTimeMs,
            cancelRequested: job.cancelRequested,
            // The callback URL may carry a secret in its path or query: only its host is shown.
            callbackHost: job.callbackURL.flatMap { URL(string: $0)?.host },
            outputVideoUrl: signed ? try await pageURL(job.outputVideoKey) : nil,
            outputThumbnailUrl: signed ? try await pageURL(job.outputThumbnailKey) : nil)
    }

    /// A signed URL for an output; this server's own `/files/...` URLs are made relative so the page plays them
    /// from wherever it was opened.
    func pageURL(_ stored: String?) async throws -> String? {
        guard let url = try await api.downloadURL(for: stored) else { return nil }
        let base = api.configuration.baseURL
        return url.hasPrefix(base + "/files/") || url.hasPrefix(base + "/files?") ? String(url.dropFirst(base.count)) : url
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
