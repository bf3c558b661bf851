import Foundation
import HTTPTypes
import Hummingbird

/// An error the API returns to the client as `{"success": false, "error": {"code", "message", "field"}}`.
/// `message` is written for the client and never holds SQL, keys or paths on this machine.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable, machine-readable error codes (documented in docs/api.md and docs/openapi.yaml).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The request is not valid HTTP/1.1 (the parser refused its request line, a header, its framing): 400, and
        /// the connection closes.
        public static let malformedRequest = Code("malformed_request")
        /// The body is not JSON, or not a JSON object.
        public static let invalidJSON = Code("invalid_json")
        /// A field is missing, has the wrong type, or a value out of range.
        public static let validationFailed = Code("validation_failed")
        /// No or wrong credentials.
        public static let unauthorized = Code("unauthorized")
        /// No such resource for this tenant (also: another tenant's resource).
        public static let notFound = Code("not_found")
        /// An id in the request does not name an asset of this tenant of the required type.
        public static let unknownAsset = Code("unknown_asset")
        /// The upload is larger than the limit.
        public static let fileTooLarge = Code("file_too_large")
        /// The upload's bytes are not a format accepted for its type.
        public static let unsupportedMediaType = Code("unsupported_media_type")
        /// The upload is well-formed but cannot be used (e.g. image larger than the dimension limit).
        public static let unprocessable = Code("unprocessable_content")
        /// A signed URL whose signature does not match, or that has expired.
        public static let invalidSignature = Code("invalid_signature")
        public static let urlExpired = Code("url_expired")
        /// The job is finished and can no longer be cancelled.
        public static let conflict = Code("conflict")
        public static let methodNotAllowed = Code("method_not_allowed")
        /// A JSON endpoint was sent a body that is not `application/json`.
        public static let unsupportedContentType = Code("unsupported_content_type")
        /// An `Idempotency-Key` reused with a different request (422), or still in progress (409).
        public static let idempotencyKeyReused = Code("idempotency_key_reused")
        public static let idempotencyKeyInProgress = Code("idempotency_key_in_progress")
        /// The request body did not arrive within the body timeout (408).
        public static let requestTimeout = Code("request_timeout")
        /// Over the API key's request rate (429, with `Retry-After`).
        public static let rateLimited = Code("rate_limited")
        public static let unavailable = Code("unavailable")
        /// The deployment sends no webhooks (no webhook secret configured): 503 on the webhook-secret endpoints.
        public static let webhooksDisabled = Code("webhooks_disabled")
        /// The database did not answer in time or cannot be reached; retry after `Retry-After` seconds.
        public static let databaseUnavailable = Code("database_unavailable")
        /// The `callbackUrl`'s host could not be looked up in time (or this tenant's earlier lookups are still
        /// running): nothing is wrong with the request yet; retry after `Retry-After` seconds (503).
        public static let callbackLookupUnavailable = Code("callback_lookup_unavailable")
        /// An admin action sent from another origin than the dashboard's (403).
        public static let forbidden = Code("forbidden")
        public static let internalError = Code("internal_error")
    }

    public var status: HTTPResponse.Status
    public var code: Code
    public var message: String
    /// The request field the error is about (`imageIds[2]`, `textOverlay`), or nil.
    public var field: String?
    /// Extra response headers (`Allow` on 405, `Retry-After` on 429 and 503).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: Code, _ message: String, field: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    public var description: String {
        "\(status.code) \(code): \(message)" + (field.map { " (field \($0))" } ?? "")
    }

    /// A well-formed value that breaks a rule (out of range, too long, a control character): 422.
    /// 409 for a request whose `Idempotency-Key` another request holds (still running, or it took the key over).
    static func idempotencyKeyInProgress() -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return APIError(
            .conflict, .idempotencyKeyInProgress, "a request with this Idempotency-Key is still being handled; retry shortly",
            field: "Idempotency-Key", headers: headers)
    }
    static func validation(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, .validationFailed, message, field: field)
    }
    /// A field that is missing or of the wrong JSON type, or a malformed query parameter: 400.
    static func malformed(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, .validationFailed, message, field: field)
    }
    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, .notFound, "\(what) not found")
    }
    static let databaseUnavailable = APIError(
        .serviceUnavailable, .databaseUnavailable, "the database is not reachable right now; retry in a few seconds")
    static let unauthorized = APIError(
        .unauthorized, .unauthorized, "missing or invalid credentials: send Authorization: Bearer <api key>")
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if code == .databaseUnavailable { headers[.retryAfter] = "5" }
        let body = ErrorEnvelope(error: .init(code: code.rawValue, message: message, field: field))
        let data = try JSONEncoder.api.encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

struct ErrorEnvelope: Codable, Sendable {
    struct Detail: Codable, Sendable {
        var code: String
        var message: String
        var field: String?
    }
    var success = false
    var error: Detail

    enum CodingKeys: String, CodingKey { case success, error }
}

extension JSONEncoder {
    /// ISO-8601 dates (with fractional seconds), stable key order, nil fields written as `null` where the
    /// response type says so.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        return encoder
    }
}

enum ISO8601 {
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
