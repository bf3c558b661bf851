import Digests
import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One notification: a job reached a final state.
public struct WebhookEvent: Sendable, Equatable {
    /// `job.completed`, `job.failed` or `job.cancelled`.
    public var type: String
    public var url: String
    /// The JSON body, as sent (and signed).
    public var body: Data
    /// Unique per event and the same on every retry (`webhook-id` and `X-Rendc-Delivery` headers): receivers use
    /// it to drop duplicates, since a delivery is at least once.
    public var id: String
    /// The `X-Request-Id` of the API request that created the job, when known; sent as `X-Request-Id`.
    public var requestId: String?

    public init(type: String, url: String, body: Data, id: String = UUID().uuidString.lowercased(), requestId: String? = nil) {
        self.type = type
        self.url = url
        self.body = body
        self.id = id
        self.requestId = requestId
    }
}

/// Signs webhook bodies: `X-Rendc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, keyed with the
/// UTF-8 bytes of the secret string (a tenant's secret from ``WebhookSecrets``, used whole, prefix included).
/// The timestamp lets receivers refuse replays older than a few minutes.
public struct WebhookSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let secret: Data
    public init(secret: String) { self.secret = Data(secret.utf8) }

    /// Never the key.
    public var description: String { "WebhookSigner(redacted)" }
    public var debugDescription: String { description }

    /// The Standard Webhooks signature (standardwebhooks.com) of the same delivery, for receivers that verify with
    /// one of its libraries: `v1,<base64 HMAC-SHA256 of "id.t.body">`, keyed with the same bytes as
    /// ``signature(body:timestamp:)``; such a library takes the key as ``standardSecret(_:)``.
    public func standardSignature(id: String, body: Data, timestamp: Int) -> String {
        var message = Data("\(id).\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// A tenant's secret in the Standard Webhooks form: `whsec_` + base64 of the key bytes (the secret's UTF-8).
    public static func standardSecret(_ secret: String) -> String {
        "whsec_" + Data(secret.utf8).base64EncodedString()
    }

    public func signature(body: Data, timestamp: Int) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "t=\(timestamp),v1=" + mac.hexString
    }

    /// Checks a header against a body (constant-time compare of the MAC), as a receiver would.
    public func verify(header: String, body: Data, now: Int, tolerance: Int = 300) -> Bool {
        var t: Int?, v1: String?
        for part in header.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            if kv[0] == "t" { t = Int(kv[1]) } else if kv[0] == "v1" { v1 = kv[1] }
        }
        guard let t, let v1, abs(now - t) <= tolerance else { return false }
        let expected = Array(signature(body: body, timestamp: t).utf8), given = Array("t=\(t),v1=\(v1)".utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// One webhook signing secret per tenant, derived from the deployment's master secret (`RENDC_WEBHOOK_SECRET`):
/// `"rendc_whsec_" + hex(HMAC-SHA256(master, "rendc-webhook-v1" 0x00 tenantId 0x00 generation))`, the tenant id in
/// lowercase canonical form and the generation in decimal. Nothing is stored at rest: the API hands a tenant its
/// own secret and the worker signs each delivery with the secret of the job's tenant, so a tenant that can verify
/// its webhooks cannot sign one that another tenant's receiver accepts. Raising the tenant's generation (rotation)
/// gives it a new, unrelated secret. A pure value; it never prints the master or a derived secret.
public struct WebhookSecrets: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let master: Data
    public static let prefix = "rendc_whsec_"

    public init(master: String) { self.master = Data(master.utf8) }

    /// The tenant's secret at `generation` (1 for a new tenant).
    public func secret(tenantId: UUID, generation: Int) -> String {
        var message = Data("rendc-webhook-v1".utf8)
        message.append(0)
        message.append(contentsOf: Array(tenantId.uuidString.lowercased().utf8))
        message.append(0)
        message.append(contentsOf: Array(String(generation).utf8))
        return Self.prefix + HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: master)).hexString
    }

    /// The signer of the tenant's deliveries at `generation`.
    public func signer(tenantId: UUID, generation: Int) -> WebhookSigner {
        WebhookSigner(secret: secret(tenantId: tenantId, generation: generation))
    }

    public var description: String { "WebhookSecrets(redacted)" }
    public var debugDescription: String { description }
}

/// Delivery schedule: attempts and the wait before each retry (exponential with jitter). A pure value.
public struct WebhookRetryPolicy: Sendable, Equatable {
    public var attempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    public init(attempts: Int = 6, baseDelay: Double = 1, maxDelay: Double = 300) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }
    /// Seconds to wait after failed attempt `n` (1-based), with ±20% jitter from `unit` in 0..<1.
    public func delay(afterAttempt n: Int, unit: Double) -> Double {
        let base = min(maxDelay, baseDelay * pow(2, Double(n - 1)))
        return base * (0.8 + 0.4 * unit)
    }
    /// 2xx is delivered; 408, 429 and 5xx are worth retrying; other statuses are final.
    public static func isRetryable(status: Int) -> Bool { status == 408 || status == 429 || status >= 500 }
}

/// What one delivery attempt came to.
public enum WebhookAttemptResult: Sendable, Equatable {
    /// A 2xx answer.
    case delivered(status: Int)
    /// Worth another attempt later: no answer (connection refused, timeout), 408, 429 or 5xx.
    case retry(reason: String)
    /// Never worth retrying: the target is refused by the policy, or the receiver answered 3xx (redirects are not
    /// followed) or another 4xx.
    case refused(reason: String)
}

/// Timeouts of one delivery attempt. A receiver that accepts and never answers costs at most `total`.
public struct WebhookTimeouts: Sendable, Equatable {
    public var connect: Double
    /// Longest silence while waiting for the answer.
    public var read: Double
    /// Whole attempt, DNS to last byte of the answer.
    public var total: Double
    public init(connect: Double = 3, read: Double = 5, total: Double = 10) {
        self.connect = connect
        self.read = read
        self.total = total
    }
}

/// Makes single, signed delivery attempts. Each attempt checks the URL against the ``WebhookTargetPolicy`` again
/// (DNS answers change), then connects only to the address it checked (the name is pinned to it for the
/// connection, so TLS still verifies the real host name), follows no redirect, and gives up after the timeouts.
/// Retrying is the caller's business (the durable queue in JobWorker schedules retries without holding a slot).
/// The sender holds no key: each attempt is signed with the signer it is given (the job's tenant's, see
/// ``WebhookSecrets``).
public struct WebhookSender: Sendable {
    public let policy: WebhookTargetPolicy
    public let timeouts: WebhookTimeouts
    let resolver: @Sendable (String) async throws -> [IPAddress]
    let logger: Logger

    public init(
        policy: WebhookTargetPolicy = WebhookTargetPolicy(), timeouts: WebhookTimeouts = WebhookTimeouts(),
        resolver: @escaping @Sendable (String) async throws -> [IPAddress] = WebhookTargetPolicy.resolve, logger: Logger
    ) {
        self.policy = policy
        self.timeouts = timeouts
        self.resolver = resolver
        self.logger = logger
    }

    /// The headers of a delivery, signed now (without Content-Type and User-Agent).
    public func headers(for event: WebhookEvent, signer: WebhookSigner, now: Int = Int(Date().timeIntervalSince1970)) -> [(String, String)] {
        var headers = [
            ("X-Rendc-Event", event.type), ("X-Rendc-Delivery", event.id), ("webhook-id", event.id),
            ("X-Rendc-Signature", signer.signature(body: event.body, timestamp: now)),
            ("webhook-timestamp", String(now)),
            ("webhook-signature", signer.standardSignature(id: event.id, body: event.body, timestamp: now)),
        ]
        if let requestId = event.requestId, !requestId.isEmpty,
            requestId.utf8.count <= 200, requestId.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        {
            headers.append(("X-Request-Id", requestId))
        }
        return headers
    }

    /// One POST of the event, signed with `signer`.
    public func attempt(_ event: WebhookEvent, signer: WebhookSigner) async -> WebhookAttemptResult {
        let target: WebhookTarget
        do {
            target = try await policy.check(event.url, resolver: resolver)
        } catch let error as WebhookTargetError where error.code == .unresolvable || error.code == .lookupUnavailable {
            return .retry(reason: error.message)  // DNS may come back
        } catch {
            return .refused(reason: "\(error)")
        }
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(timeouts.connect * 1000)), read: .milliseconds(Int64(timeouts.read * 1000))))
        configuration.connectionPool = .init(idleTimeout: .seconds(1))
        var url = event.url
        if IPAddress(target.host) == nil {
            // Connect to the checked address, never to a fresh DNS answer (rebinding). The HTTP client looks the
            // override up by the URL's host exactly as written, so the request goes to the host spelled as the
            // policy checked it (lower case, no trailing dot): `Evil.com` or `evil.com.` would miss the override
            // and be looked up again.
            guard let pinned = Self.url(event.url, host: target.host) else {
                return .refused(reason: "callbackUrl host cannot be pinned to its checked address")
            }
            url = pinned
            configuration.dnsOverride = [target.host: target.address.description]
        }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration, backgroundActivityLogger: logger)
        let result = await post(event, to: url, signer: signer, client: client)
        try? await client.shutdown()
        return result
    }

    /// `text` with its host replaced by `host`, or nil unless Foundation then reads exactly `host` back (what the
    /// HTTP client keys its DNS override by).
    static func url(_ text: String, host: String) -> String? {
        guard var components = URLComponents(string: text) else { return nil }
        components.host = host
        guard let result = components.string, URL(string: result)?.host == host else { return nil }
        return result
    }

    private func post(_ event: WebhookEvent, to url: String, signer: WebhookSigner, client: HTTPClient) async -> WebhookAttemptResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "rendc-webhooks/1")
        for (name, value) in headers(for: event, signer: signer) { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: Array(event.body)))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeouts.total * 1000)))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            if (200..<300).contains(status) { return .delivered(status: status) }
            if WebhookRetryPolicy.isRetryable(status: status) { return .retry(reason: "HTTP \(status)") }
            if (300..<400).contains(status) { return .refused(reason: "HTTP \(status): redirects are not followed") }
            return .refused(reason: "HTTP \(status)")
        } catch {
            logger.debug("webhook attempt failed", metadata: ["id": "\(event.id)", "error": "\(error)"])
            return .retry(reason: Self.describe(error))
        }
    }

    /// A short reason without addresses of this machine.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded: return "no answer within the attempt timeout"
            case .readTimeout: return "the receiver stopped answering (read timeout)"
            case .connectTimeout: return "connect timeout"
            default: return "HTTP client error: \(error.shortDescription)"
            }
        }
        return "connection failed"
    }
}
