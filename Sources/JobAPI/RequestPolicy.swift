import Digests
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JobQueue
import Logging

extension HTTPField.Name {
    static let requestId = HTTPField.Name("X-Request-Id")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let rateLimit = HTTPField.Name("RateLimit")!
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
}

/// Every response carries `X-Request-Id`: the client's own when it sent a valid one (1-128 characters of
/// `A-Z a-z 0-9 . _ : ~ + / = -`), else a new UUID. The id is in every log line of the request (`request_id`)
/// and on the jobs the request creates.
struct RequestIdMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = Self.accepted(request.headers[.requestId]) ?? UUID().uuidString.lowercased()
        context.requestId = id
        context.logger[metadataKey: "request_id"] = "\(id)"
        var response = try await next(request, context)
        response.headers[.requestId] = id
        return response
    }

    /// The client's id when it is safe to echo and log, else nil.
    static func accepted(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let allowed = value.utf8.allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "~"), UInt8(ascii: "+"),
                UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
        return allowed ? value : nil
    }
}

/// Per-API-key request rate: a token bucket in Postgres (so the limit holds across every `serve` process),
/// `RENDC_RATE_LIMIT_PER_MINUTE` tokens, refilled continuously. Every authenticated response carries the IETF
/// `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers); over the limit the answer is
/// 429 `rate_limited` with `Retry-After`.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let store: any APIStore
    let perMinute: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard perMinute > 0, let bucket = context.credentialId else { return try await next(request, context) }
        let decision = try await store.takeRateLimitToken(bucket: bucket, perMinute: perMinute)
        var headers = HTTPFields()
        headers[.rateLimitPolicy] = "\"per-key\";q=\(perMinute);w=60"
        headers[.rateLimit] = "\"per-key\";r=\(decision.remaining);t=\(decision.allowed ? decision.secondsUntilFull : decision.secondsUntilToken)"
        guard decision.allowed else {
            headers[.retryAfter] = String(decision.secondsUntilToken)
            context.logger.notice("rate limited", metadata: ["retry_after": "\(decision.secondsUntilToken)"])
            throw APIError(
                .tooManyRequests, .rateLimited,
                "more than \(perMinute) requests a minute with this API key; retry after \(decision.secondsUntilToken) s",
                headers: headers)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch var error as APIError {
            for field in headers { error.headers.append(field) }
            throw error
        }
        for field in headers { response.headers[fields: field.name] = [field] }
        return response
    }
}

/// `PUT`, `DELETE` and other methods on an existing path answer 405 with `Allow`, not 404.
struct MethodNotAllowed {
    static let all: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .trace]

    static func error(allow: [HTTPRequest.Method]) -> APIError {
        let list = allow.map(\.rawValue).joined(separator: ", ")
        var headers = HTTPFields()
        headers[.allow] = list
        return APIError(.methodNotAllowed, .methodNotAllowed, "method not allowed here; allowed: \(list)", headers: headers)
    }

    /// The API's paths and the methods each serves (`GET` implies `HEAD`); a `{name}` segment matches any one
    /// segment, a final `**` any rest.
    static let routes: [(path: String, allow: [HTTPRequest.Method])] = [
        ("/healthz", [.get]), ("/readyz", [.get]), ("/metrics", [.get]), ("/files", [.get]), ("/files/**", [.get]),
        ("/api/v1/video/jobs", [.get]), ("/api/v1/video/jobs/{id}", [.get]), ("/api/v1/assets/{id}", [.get]),
        ("/api/v1/templates", [.get]), ("/api/v1/webhook-secret", [.get]), ("/api/v1/video/process", [.post]),
        ("/api/v1/video/jobs/{id}/cancel", [.post]), ("/api/v1/assets", [.post]), ("/api/v1/webhook-secret/rotate", [.post]),
    ]

    /// The methods `path` serves when it is one of ``routes`` (with `HEAD` for `GET`), else nil. For the methods
    /// the router has no route for at all (`QUERY`, `CONNECT`, any other token), which end in its 404.
    static func allowed(path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for route in routes {
            let pattern = route.path.split(separator: "/")
            let matches: Bool
            if pattern.last == "**" {
                matches = segments.count >= pattern.count && zip(pattern.dropLast(), segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            } else {
                matches = segments.count == pattern.count && zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            }
            if matches { return withHead(route.allow) }
        }
        return nil
    }

    static func withHead(_ allow: [HTTPRequest.Method]) -> [HTTPRequest.Method] {
        allow.contains(.get) && !allow.contains(.head) ? allow + [.head] : allow
    }

    /// Registers a 405 responder for every method of ``all`` that `path` does not serve.
    static func register(on router: Router<APIRequestContext>, _ path: RouterPath, allow: [HTTPRequest.Method]) {
        let allowed = withHead(allow)
        for method in all where !allowed.contains(method) {
            router.on(path, method: method) { _, _ -> Response in throw MethodNotAllowed.error(allow: allowed) }
        }
    }
}

extension Request {
    /// Throws 415 unless the body is declared as JSON (`application/json` or `application/*+json`, UTF-8).
    func requireJSONContentType() throws {
        guard let value = headers[.contentType] else {
            throw APIError(.unsupportedMediaType, .unsupportedContentType, "send the body as Content-Type: application/json")
        }
        let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let type = parts.first ?? ""
        let isJSON = type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
        let charsetOK = parts.dropFirst().allSatisfy { parameter in
            guard parameter.hasPrefix("charset=") else { return true }
            let charset = parameter.dropFirst(8).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return charset == "utf-8" || charset == "utf8"
        }
        guard isJSON, charsetOK else {
            throw APIError(
                .unsupportedMediaType, .unsupportedContentType, "send the body as Content-Type: application/json (UTF-8), not \(type.prefix(60))")
        }
    }

    /// The `Idempotency-Key` header: 1-255 visible ASCII characters, or nil when absent.
    func idempotencyKey() throws -> String? {
        guard let value = headers[.idempotencyKey] else { return nil }
        guard (1...255).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError.malformed("Idempotency-Key", "Idempotency-Key must be 1 to 255 visible ASCII characters (e.g. a UUID)")
        }
        return value
    }
}

extension APIHandlers {
    /// Runs `produce` at most once per (tenant, `Idempotency-Key`): a repeat of the same request (same
    /// `fingerprint`) within 24 h gets the first response again (with `Idempotent-Replayed: true`), a different
    /// request with the key gets 422, and a repeat that arrives while the first is still running waits for it
    /// (up to 10 s, then 409). Without a key, `produce` just runs.
    ///
    /// While `produce` runs, this request renews its key every `idempotencyRenewalSeconds`, so however long it
    /// takes (an upload to slow storage), a retry never takes the key as abandoned and runs the work twice. A key
    /// is abandoned only when its request stops renewing it (the process died); only the request that holds the
    /// key (its `owner` token) can store the response or release it.
    ///
    /// `present` makes the HTTP response from the stored one, first time and replay alike; by default the stored
    /// status, body and `Location`. An endpoint whose answer holds a secret stores what the secret is derived from
    /// instead and derives it again here, so no secret is kept at rest.
    ///
    /// `produce` gets the key's ``IdempotencyClaim`` (nil without a key). An endpoint that writes one row (a job, an
    /// asset) records its answer with it in the same transaction (`recordsWithItsWrite`): if the outcome of that
    /// write is unknown to this request (a timeout after the commit: 503), the retry the docs advise finds the answer
    /// and replays it, where releasing the key would have let it write a second row.
    func idempotent(
        key: String?, tenant: UUID, fingerprint: String, context: APIRequestContext, recordsWithItsWrite: Bool = false,
        present: (StoredResponse, _ replayed: Bool) throws -> Response = { $0.response(replayed: $1) },
        _ produce: (IdempotencyClaim?) async throws -> StoredResponse
    ) async throws -> Response {
        guard let key else { return try present(try await produce(nil), false) }
        let deadline = ContinuousClock.now + .seconds(10)
        let owner = UUID()
        // A request waiting on an in-progress key asks again after 50 ms, doubling to 1 s: about 15 claims over
        // its 10 s wait (three statements each), where a fixed 50 ms made it 200.
        var pause = Duration.milliseconds(50)
        while true {
            switch try await store.beginIdempotentRequest(tenant: tenant, key: key, fingerprint: fingerprint, owner: owner) {
            case .proceed:
                let stored: StoredResponse
                do {
                    let logger = context.logger
                    stored = try await withThrowingTaskGroup(of: Void.self) { renewal in
                        renewal.addTask { await self.keepIdempotencyKey(key, tenant: tenant, owner: owner, logger: logger) }
                        defer { renewal.cancelAll() }
                        return try await produce(IdempotencyClaim(tenant: tenant, key: key, owner: owner))
                    }
                } catch {
                    // Frees the key only while no answer is recorded under it: a write that committed with its
                    // answer keeps it, so the retry replays.
                    try? await store.releaseIdempotencyKey(tenant: tenant, key: key, owner: owner)
                    throw error
                }
                if recordsWithItsWrite { return try present(stored, false) }
                do {
                    if try await !store.finishIdempotentRequest(tenant: tenant, key: key, owner: owner, response: stored) {
                        context.logger.error("the idempotency key was taken over while this request ran; its response is not stored")
                    }
                } catch {
                    // The work is done; only replays are affected. Say so in the log and answer normally.
                    context.logger.error("cannot store the idempotent response", metadata: ["error": "\(error)"])
                }
                return try present(stored, false)
            case .replay(let status, let body, let location):
                context.logger.info("idempotent replay")
                return try present(StoredResponse(status: status, body: body, location: location), true)
            case .mismatch:
                throw APIError(
                    .unprocessableContent, .idempotencyKeyReused,
                    "this Idempotency-Key was already used for a different request; use a new key", field: "Idempotency-Key")
            case .inProgress:
                guard ContinuousClock.now < deadline else { throw APIError.idempotencyKeyInProgress() }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
            }
        }
    }

    /// Renews the key every `idempotencyRenewalSeconds` until cancelled. A failed renewal is tried again at the
    /// next turn (the key is abandoned only after several missed renewals).
    func keepIdempotencyKey(_ key: String, tenant: UUID, owner: UUID, logger: Logger) async {
        let interval = Duration.milliseconds(Int(configuration.idempotencyRenewalSeconds * 1000))
        while true {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do {
                if try await !store.renewIdempotencyKey(tenant: tenant, key: key, owner: owner) {
                    logger.warning("the idempotency key is no longer this request's")
                    return
                }
            } catch {
                logger.warning("cannot renew the idempotency key", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// The `Idempotency-Key` a request holds, for an endpoint that records its answer with its own write.
struct IdempotencyClaim: Sendable {
    let tenant: UUID
    let key: String
    let owner: UUID

    func recording(_ response: StoredResponse) -> IdempotentResponse {
        IdempotentResponse(
            tenantId: tenant, key: key, owner: owner, status: response.status, body: response.body, location: response.location)
    }
}

/// A JSON response kept for idempotent replays.
package struct StoredResponse: Sendable {
    package var status: Int
    package var body: String
    package var location: String?

    package init(status: Int, body: String, location: String?) {
        self.status = status
        self.body = body
        self.location = location
    }

    init(status: HTTPResponse.Status, value: some Encodable, location: String?) throws {
        self.status = status.code
        self.body = String(decoding: try JSONEncoder.api.encode(value), as: UTF8.self)
        self.location = location
    }

    func response(replayed: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let location { headers[.location] = location }
        if replayed { headers[.idempotentReplayed] = "true" }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Hex SHA-256 of the parts, each length-prefixed so that no two different lists collide.
func fingerprint(_ parts: [[UInt8]]) -> String {
    var hasher = SHA256()
    for part in parts {
        hasher.update(data: Array("\(part.count):".utf8))
        hasher.update(data: part)
    }
    return hasher.finalize().hexString
}
