import Foundation

/// Retry delays: `base * factor^(attempt-1)`, capped at `maximum`, then spread by ±`jitter` (a fraction) so that
/// jobs failing together do not retry together.
public struct BackoffPolicy: Sendable, Equatable {
    public var base: Double
    public var factor: Double
    public var maximum: Double
    public var jitter: Double

    public init(base: Double = 5, factor: Double = 2, maximum: Double = 600, jitter: Double = 0.2) {
        self.base = base
        self.factor = factor
        self.maximum = maximum
        self.jitter = min(max(jitter, 0), 1)
    }

    /// Seconds before the retry that follows failed attempt `attempt` (1-based). `unit` is a random number in
    /// [0, 1): 0.5 gives the un-jittered delay.
    public func delay(afterAttempt attempt: Int, unit: Double) -> Double {
        let exponent = Double(max(attempt, 1) - 1)
        let raw = min(base * pow(factor, min(exponent, 60)), maximum)
        let spread = 1 + jitter * (2 * min(max(unit, 0), 1) - 1)
        return max(0, raw * spread)
    }
}

/// The decision after an attempt failed.
public enum RetryDecision: Sendable, Equatable {
    case retry(afterSeconds: Double)
    case fail
}

/// Queue settings and the decisions made from them: pure functions on values, no database.
public struct QueuePolicy: Sendable, Equatable {
    /// How long a claim or heartbeat holds a job. Longer than a few heartbeats; unrelated to how long a render runs.
    public var leaseDuration: Double
    public var backoff: BackoffPolicy
    /// An `Idempotency-Key` whose request has not renewed it for this many seconds is abandoned (its process
    /// died) and may be taken by a retry. Several renewal periods (``JobStore/idempotencyRenewalSeconds``).
    public var idempotencyAbandonedAfter: Double

    public init(leaseDuration: Double = 30, backoff: BackoffPolicy = BackoffPolicy(), idempotencyAbandonedAfter: Double = 60) {
        self.leaseDuration = leaseDuration
        self.backoff = backoff
        self.idempotencyAbandonedAfter = idempotencyAbandonedAfter
    }

    /// After attempt `attempt` of `maxAttempts` failed: retry later, or fail for good. Errors that can never
    /// succeed (bad input) are not retried.
    public func afterFailure(attempt: Int, maxAttempts: Int, retryable: Bool, unit: Double) -> RetryDecision {
        guard retryable, attempt < maxAttempts else { return .fail }
        return .retry(afterSeconds: backoff.delay(afterAttempt: attempt, unit: unit))
    }

    /// Whether a job whose lease expired goes back to pending or fails: the crashed attempt counts.
    public func afterLeaseExpired(attempts: Int, maxAttempts: Int, cancelRequested: Bool) -> JobStatus {
        if cancelRequested { return .cancelled }
        return attempts >= maxAttempts ? .failed : .pending
    }
}

/// Limits progress writes: at most one per `minimumInterval` seconds, only when the value moved, and always the
/// first and the final (100) value.
public struct ProgressThrottle: Sendable, Equatable {
    public var minimumInterval: Double
    public private(set) var lastSentAt: Double?
    public private(set) var lastValue: Int?

    public init(minimumInterval: Double = 0.5) {
        self.minimumInterval = minimumInterval
    }

    /// Whether to write `value` at time `now` (seconds, any monotonic origin); records it when so.
    public mutating func shouldSend(_ value: Int, now: Double) -> Bool {
        let value = min(max(value, 0), 100)
        if value == lastValue { return false }
        if let last = lastSentAt, now - last < minimumInterval, value < 100 { return false }
        lastSentAt = now
        lastValue = value
        return true
    }
}

/// The opaque page cursor of `JobStore.jobs(...)`: the last row's creation time (microseconds) and id.
struct JobCursor: Equatable {
    var createdAtMicroseconds: Int64
    var id: UUID

    var encoded: String {
        Data("\(createdAtMicroseconds):\(id.uuidString)".utf8).base64EncodedString()
    }

    init(createdAtMicroseconds: Int64, id: UUID) {
        self.createdAtMicroseconds = createdAtMicroseconds
        self.id = id
    }

    init(encoded: String) throws {
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else {
            throw JobQueueError(.invalidInput, "page cursor '\(encoded.prefix(40))' is not a cursor this server made")
        }
        let parts = text.split(separator: ":", maxSplits: 1)
        // Microseconds since 1970 up to the year 9999: larger values overflow Postgres' interval arithmetic.
        guard parts.count == 2, let micros = Int64(parts[0]), (0...253_402_300_799_999_999).contains(micros),
            let id = UUID(uuidString: String(parts[1]))
        else {
            throw JobQueueError(.invalidInput, "page cursor '\(encoded.prefix(40))' is not a cursor this server made")
        }
        self.createdAtMicroseconds = micros
        self.id = id
    }
}

/// Identifies one worker process in `lease_owner` (host, pid and a random part, so a restarted process with a
/// reused pid is a different owner).
public func makeWorkerIdentity(host: String, pid: Int32) -> String {
    "\(host.prefix(40)):\(pid):\(UUID().uuidString.prefix(8).lowercased())"
}
