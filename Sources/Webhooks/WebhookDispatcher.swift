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
    /// Unique per event; receivers use it to drop duplicates (a delivery may be retried after a timeout).
    public var id: String

    public init(type: String, url: String, body: Data, id: String = UUID().uuidString.lowercased()) {
        self.type = type
        self.url = url
        self.body = body
        self.id = id
    }
}

/// Signs webhook bodies: `X-Rendc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
/// The timestamp lets receivers refuse replays older than a few minutes.
public struct WebhookSigner: Sendable {
    let secret: Data
    public init(secret: String) { self.secret = Data(secret.utf8) }

    public func signature(body: Data, timestamp: Int) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
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

/// Sends webhook events in the background: `send` only queues (it never blocks the worker); a bounded number of
/// deliveries run at once, each retried on failure per the policy. Events still queued when the process stops
/// are lost (the job row keeps the final state; receivers can poll).
public final class WebhookDispatcher: Sendable {
    let signer: WebhookSigner
    let policy: WebhookRetryPolicy
    let client: HTTPClient
    let logger: Logger
    let timeout: TimeAmount
    private let stream: AsyncStream<WebhookEvent>
    private let continuation: AsyncStream<WebhookEvent>.Continuation
    /// Delivery outcomes, for tests and metrics: (event id, attempts, delivered).
    public let outcomes: AsyncStream<(String, Int, Bool)>
    private let outcomeContinuation: AsyncStream<(String, Int, Bool)>.Continuation

    public init(secret: String, policy: WebhookRetryPolicy = WebhookRetryPolicy(), client: HTTPClient = .shared,
                timeout: TimeAmount = .seconds(10), queueLimit: Int = 10_000, logger: Logger) {
        signer = WebhookSigner(secret: secret)
        self.policy = policy
        self.client = client
        self.timeout = timeout
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: WebhookEvent.self, bufferingPolicy: .bufferingOldest(queueLimit))
        (outcomes, outcomeContinuation) = AsyncStream.makeStream(of: (String, Int, Bool).self, bufferingPolicy: .bufferingNewest(1000))
    }

    /// Queues an event; returns at once.
    public func send(_ event: WebhookEvent) {
        if case .dropped = continuation.yield(event) {
            logger.error("webhook queue full: event dropped", metadata: ["event": "\(event.type)", "id": "\(event.id)"])
        }
    }

    /// Stops accepting events; `run` returns once the queued ones are delivered or given up.
    public func finish() { continuation.finish() }

    /// Delivers queued events, `concurrency` at a time, until `finish()` (or cancellation).
    public func run(concurrency: Int = 4) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await event in stream {
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await self.deliver(event) }
                running += 1
            }
        }
        outcomeContinuation.finish()
    }

    func deliver(_ event: WebhookEvent) async {
        var attempt = 0
        while attempt < policy.attempts, !Task.isCancelled {
            attempt += 1
            let status = await post(event)
            if let status, (200..<300).contains(status) {
                logger.info("webhook delivered", metadata: ["event": "\(event.type)", "id": "\(event.id)", "attempt": "\(attempt)"])
                outcomeContinuation.yield((event.id, attempt, true))
                return
            }
            if let status, !WebhookRetryPolicy.isRetryable(status: status) {
                logger.warning("webhook refused", metadata: ["event": "\(event.type)", "id": "\(event.id)", "status": "\(status)"])
                break
            }
            guard attempt < policy.attempts else { break }
            let wait = policy.delay(afterAttempt: attempt, unit: Double.random(in: 0..<1))
            try? await Task.sleep(for: .seconds(wait))
        }
        logger.error("webhook not delivered", metadata: ["event": "\(event.type)", "id": "\(event.id)", "attempts": "\(attempt)"])
        outcomeContinuation.yield((event.id, attempt, false))
    }

    /// One POST; the HTTP status, or nil when no response came (connection error, timeout).
    func post(_ event: WebhookEvent) async -> Int? {
        var request = HTTPClientRequest(url: event.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "rendc-webhooks/1")
        request.headers.add(name: "X-Rendc-Event", value: event.type)
        request.headers.add(name: "X-Rendc-Delivery", value: event.id)
        request.headers.add(name: "X-Rendc-Signature", value: signer.signature(body: event.body, timestamp: Int(Date().timeIntervalSince1970)))
        request.body = .bytes(ByteBuffer(bytes: Array(event.body)))
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return Int(response.status.code)
        } catch {
            logger.debug("webhook attempt failed", metadata: ["id": "\(event.id)", "error": "\(error)"])
            return nil
        }
    }
}
