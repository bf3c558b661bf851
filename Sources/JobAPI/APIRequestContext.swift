import Foundation
import Hummingbird
import NIOHTTP1
import JobQueue
import Logging

/// Per-request state: the authenticated tenant, set by ``TenantAuthMiddleware``.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller's tenant, once authenticated.
    public var tenantId: UUID?
    /// Names the credential for rate limiting (the SHA-256 of the API key), once authenticated.
    public var credentialId: String?
    /// This request's `X-Request-Id`, set by ``RequestIdMiddleware``.
    public var requestId: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.tenantId = nil
    }

    /// JSON bodies are collected by the handlers with their own limit; this guards `request.decode`.
    public var maxUploadSize: Int { 1024 * 1024 }

    func requireTenant() throws -> UUID {
        guard let tenantId else { throw APIError.unauthorized }
        return tenantId
    }
}

/// Maps every error to the API's JSON error body: our ``APIError``s as they are, Hummingbird's own errors by
/// status (unknown route -> 404 `not_found`), anything else to 500 with the details only in the log.
struct ErrorEnvelopeMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as JobQueueError where error.code == .unavailable {
            context.logger.warning("database unavailable", metadata: ["error": "\(error)"])
            return try APIError.databaseUnavailable.response(from: request, context: context)
        } catch let error as HTTPParserError {
            // The body broke off mid-request (chunked framing): the connection cannot continue, but the client
            // still gets the envelope (ParseErrorEnvelopeHandler answers errors between requests).
            return try APIError(.badRequest, .malformedRequest, ParseErrorEnvelopeHandler.message(for: error))
                .response(from: request, context: context)
        } catch let error as HTTPResponseError {
            let apiError: APIError
            switch error.status {
            case .notFound:
                if let allow = MethodNotAllowed.allowed(path: request.uri.path), !allow.contains(request.method) {
                    apiError = MethodNotAllowed.error(allow: allow)
                } else {
                    apiError = APIError(.notFound, .notFound, "no such endpoint: \(request.method) \(request.uri.path)")
                }
            case .methodNotAllowed: apiError = APIError(.methodNotAllowed, .methodNotAllowed, "method not allowed")
            case .contentTooLarge: apiError = APIError(.contentTooLarge, .fileTooLarge, "request body too large")
            case .badRequest: apiError = APIError(.badRequest, .validationFailed, "bad request")
            default: apiError = APIError(error.status, .internalError, error.status.reasonPhrase)
            }
            return try apiError.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return try APIError(
                .internalServerError, .internalError, "internal error; see the server log for request \(context.requestId ?? context.id)"
            )
            .response(from: request, context: context)
        }
    }
}

/// One structured log line per request: method, path (never the query, which may hold a URL signature),
/// status, duration and tenant. Never headers, so API keys stay out of the log.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let ms = elapsed / .milliseconds(1)
        var metadata: Logger.Metadata = [
            "http.method": "\(request.method)",
            "http.path": "\(request.uri.path)",
            "http.status": "\(response.status.code)",
            "duration_ms": "\(String(format: "%.1f", ms))",
        ]
        if let endpoint = context.endpointPath { metadata["http.route"] = "\(endpoint)" }
        context.logger.info("request", metadata: metadata)
        return response
    }
}
