import Foundation
import JobQueue
import Testing

@Suite struct QueuePolicyTests {
    @Test func backoffDoublesFromBaseAndCaps() {
        let backoff = BackoffPolicy(base: 5, factor: 2, maximum: 60, jitter: 0.2)
        #expect(backoff.delay(afterAttempt: 1, unit: 0.5) == 5)
        #expect(backoff.delay(afterAttempt: 2, unit: 0.5) == 10)
        #expect(backoff.delay(afterAttempt: 3, unit: 0.5) == 20)
        #expect(backoff.delay(afterAttempt: 5, unit: 0.5) == 60)
        #expect(backoff.delay(afterAttempt: 500, unit: 0.5) == 60)
    }

    @Test func jitterSpreadsWithinBounds() {
        let backoff = BackoffPolicy(base: 10, factor: 2, maximum: 600, jitter: 0.2)
        #expect(backoff.delay(afterAttempt: 1, unit: 0) == 8)
        #expect(abs(backoff.delay(afterAttempt: 1, unit: 0.999_999) - 12) < 0.001)
        let samples = (0..<200).map { _ in backoff.delay(afterAttempt: 2, unit: Double.random(in: 0..<1)) }
        #expect(samples.allSatisfy { $0 >= 16 && $0 < 24 })
        #expect(Set(samples).count > 100, "jitter should spread retries")
    }

    @Test func retriesUntilAttemptsAreUsed() {
        let policy = QueuePolicy(backoff: BackoffPolicy(base: 1, factor: 3, maximum: 100, jitter: 0))
        #expect(policy.afterFailure(attempt: 1, maxAttempts: 3, retryable: true, unit: 0.5) == .retry(afterSeconds: 1))
        #expect(policy.afterFailure(attempt: 2, maxAttempts: 3, retryable: true, unit: 0.5) == .retry(afterSeconds: 3))
        #expect(policy.afterFailure(attempt: 3, maxAttempts: 3, retryable: true, unit: 0.5) == .fail)
        #expect(policy.afterFailure(attempt: 1, maxAttempts: 3, retryable: false, unit: 0.5) == .fail)
        #expect(policy.afterFailure(attempt: 1, maxAttempts: 1, retryable: true, unit: 0.5) == .fail)
    }

    @Test func expiredLeaseDecision() {
        let policy = QueuePolicy()
        #expect(policy.afterLeaseExpired(attempts: 1, maxAttempts: 3, cancelRequested: false) == .pending)
        #expect(policy.afterLeaseExpired(attempts: 3, maxAttempts: 3, cancelRequested: false) == .failed)
        #expect(policy.afterLeaseExpired(attempts: 1, maxAttempts: 3, cancelRequested: true) == .cancelled)
    }

    @Test func progressThrottleLimitsRateButKeepsFirstAndLast() {
        var throttle = ProgressThrottle(minimumInterval: 0.5)
        let decisions = [
            throttle.shouldSend(0, now: 0),
            throttle.shouldSend(0, now: 1),  // unchanged value
            throttle.shouldSend(10, now: 0.2),  // too soon
            throttle.shouldSend(10, now: 0.6),
            throttle.shouldSend(50, now: 0.7),
            throttle.shouldSend(100, now: 0.8),  // the end always goes out
        ]
        #expect(decisions == [true, false, false, true, false, true])
        // 100 updates a second for 10 seconds: about 2 a second get through.
        var busy = ProgressThrottle(minimumInterval: 0.5)
        let sent = (0..<1000).filter { busy.shouldSend($0 / 10, now: Double($0) / 100) }.count
        #expect(sent >= 19 && sent <= 21)
    }
}

@Suite struct DatabaseConfigurationTests {
    @Test func parsesDatabaseURL() throws {
        let config = try DatabaseConfiguration(url: "postgres://app:s%40cret@db.example:6432/rendc?sslmode=disable")
        #expect(config.endpoint == .tcp(host: "db.example", port: 6432))
        #expect(config.username == "app")
        #expect(config.password == "s@cret")
        #expect(config.database == "rendc")
        #expect(config.tls == .disable)
        #expect(config.description == "postgres://app:***@db.example:6432/rendc")
    }

    @Test func parsesSocketURLAndDefaults() throws {
        let config = try DatabaseConfiguration(url: "postgresql:///jobs?host=/var/run/postgresql")
        #expect(config.endpoint == .unixSocket(path: "/var/run/postgresql/.s.PGSQL.5432"))
        #expect(config.username == "postgres")
        #expect(config.password == nil)
        #expect(config.tls == .prefer)
    }

    @Test func badSettingsNameTheProblem() {
        #expect(throws: DatabaseConfigurationError.self) { try DatabaseConfiguration(url: "mysql://x@h/d") }
        #expect(throws: DatabaseConfigurationError.self) { try DatabaseConfiguration(url: "postgres://x@h/") }
        #expect(throws: DatabaseConfigurationError("DATABASE_URL sslmode 'bogus' is not one of disable, prefer, require")) {
            try DatabaseConfiguration(url: "postgres://x@h/d?sslmode=bogus")
        }
    }
}
