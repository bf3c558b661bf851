import Foundation
import Logging
import PostgresNIO

/// What a request with an `Idempotency-Key` should do, decided in one statement so that two concurrent requests
/// with the same key cannot both proceed.
public enum IdempotencyDecision: Sendable, Equatable {
    /// This request owns the key: handle it while renewing the key (``JobStore/renewIdempotencyKey(tenantId:key:owner:)``),
    /// then ``JobStore/finishIdempotentRequest(tenantId:key:owner:status:body:location:)`` (or
    /// ``JobStore/releaseIdempotencyKey(tenantId:key:owner:)`` when it failed).
    case proceed
    /// The key was used before for the same request: answer with the stored response.
    case replay(status: Int, body: String, location: String?)
    /// The key was used before for a different request.
    case mismatch
    /// The first request with the key is still being handled.
    case inProgress
}

/// The outcome of taking one token from a rate-limit bucket.
public struct RateLimitDecision: Sendable, Equatable {
    public var allowed: Bool
    /// Whole tokens left after this request.
    public var remaining: Int
    /// Seconds until one token is available again (0 when one is).
    public var secondsUntilToken: Int
    /// Seconds until the bucket is full again.
    public var secondsUntilFull: Int
}

/// The answer of an idempotent request, written in the same transaction as the request's own write (a job, an
/// asset), so that both happen or neither does. A retry after an unknown outcome (a timeout after the commit, a
/// dropped connection) then finds the answer and replays it, instead of finding the key free and writing again.
public struct IdempotentResponse: Sendable, Equatable {
    public var tenantId: UUID
    public var key: String
    /// The token of the request that holds the key: the answer is written only while the key is still its own.
    public var owner: UUID
    public var status: Int
    public var body: String
    public var location: String?

    public init(tenantId: UUID, key: String, owner: UUID, status: Int, body: String, location: String?) {
        self.tenantId = tenantId
        self.key = key
        self.owner = owner
        self.status = status
        self.body = body
        self.location = location
    }
}

extension JobStore {
    /// How long an idempotency key is remembered. Keys are kept at least this long, then purged.
    public static let idempotencyKeyLifetimeHours = 24
    /// How often the request that owns a key renews it (the HTTP API does, while it handles the request). A key
    /// not renewed for `policy.idempotencyAbandonedAfter` (60 s) is abandoned: its process died. A live request,
    /// however long it takes (an upload to slow storage can take many minutes), never loses its key.
    public static let idempotencyRenewalSeconds = 10.0

    /// Claims `key` for this tenant's request with `fingerprint` (SHA-256 hex of the operation and body) on behalf
    /// of `owner` (a token the request makes up; only it may renew, finish or release the key), or says how an
    /// earlier request with the key ended.
    public func beginIdempotentRequest(tenantId: UUID, key: String, fingerprint: String, owner: UUID) async throws -> IdempotencyDecision {
        try await guarded("claim idempotency key") { [self] in
            // Expired keys, and keys whose first request was abandoned, are forgotten first (a few rows at most).
            try await client.query(
                """
                DELETE FROM api_idempotency_keys
                WHERE tenant_id = \(tenantId) AND idempotency_key = \(key)
                  AND (created_at < now() - make_interval(hours => \(Self.idempotencyKeyLifetimeHours)::int)
                       OR (response_status IS NULL AND renewed_at < now() - make_interval(secs => \(policy.idempotencyAbandonedAfter)::float8)))
                """, logger: logger)
            let inserted = try await client.query(
                """
                INSERT INTO api_idempotency_keys (tenant_id, idempotency_key, fingerprint, owner)
                VALUES (\(tenantId), \(key), \(fingerprint), \(owner))
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
                RETURNING 1
                """, logger: logger
            ).collect()
            if !inserted.isEmpty { return .proceed }
            let rows = try await client.query(
                """
                SELECT fingerprint, response_status, response_body, response_location FROM api_idempotency_keys
                WHERE tenant_id = \(tenantId) AND idempotency_key = \(key)
                """, logger: logger
            ).collect()
            // Deleted between the two statements (expired just now): treat as in progress; the client retries.
            guard let row = rows.first else { return .inProgress }
            let (stored, status, body, location) = try row.decode((String, Int?, String?, String?).self)
            guard stored == fingerprint else { return .mismatch }
            guard let status, let body else { return .inProgress }
            return .replay(status: status, body: body, location: location)
        }
    }

    /// Keeps `owner`'s in-progress key from being taken as abandoned. False when the key is no longer
    /// `owner`'s (it was taken over after `owner` stopped renewing, or finished).
    @discardableResult
    public func renewIdempotencyKey(tenantId: UUID, key: String, owner: UUID) async throws -> Bool {
        try await guarded("renew idempotency key") { [self] in
            try await !client.query(
                """
                UPDATE api_idempotency_keys SET renewed_at = now()
                WHERE tenant_id = \(tenantId) AND idempotency_key = \(key) AND owner = \(owner) AND response_status IS NULL
                RETURNING 1
                """, logger: logger
            ).collect().isEmpty
        }
    }

    /// Records the response of the request that owns `key`, for replays. False (nothing written) when `owner`
    /// no longer owns it.
    @discardableResult
    public func finishIdempotentRequest(
        tenantId: UUID, key: String, owner: UUID, status: Int, body: String, location: String?
    ) async throws -> Bool {
        try await guarded("store idempotent response") { [self] in
            try await !client.query(
                """
                UPDATE api_idempotency_keys SET response_status = \(status), response_body = \(body),
                    response_location = \(location)
                WHERE tenant_id = \(tenantId) AND idempotency_key = \(key) AND owner = \(owner) AND response_status IS NULL
                RETURNING 1
                """, logger: logger
            ).collect().isEmpty
        }
    }

    /// Writes `response` under its key inside the caller's transaction; throws ``JobQueueError/Code/conflict``
    /// (rolling the transaction back) when the key is no longer its owner's.
    static func record(_ response: IdempotentResponse, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            UPDATE api_idempotency_keys SET response_status = \(response.status), response_body = \(response.body),
                response_location = \(response.location)
            WHERE tenant_id = \(response.tenantId) AND idempotency_key = \(response.key) AND owner = \(response.owner)
              AND response_status IS NULL
            RETURNING 1
            """, logger: logger
        ).collect()
        guard !rows.isEmpty else {
            throw JobQueueError(.conflict, "the Idempotency-Key was taken over by another request while this one ran")
        }
    }

    /// Forgets `owner`'s key after its request failed, so the client can retry with it.
    public func releaseIdempotencyKey(tenantId: UUID, key: String, owner: UUID) async throws {
        try await guarded("release idempotency key") { [self] in
            _ = try await client.query(
                """
                DELETE FROM api_idempotency_keys
                WHERE tenant_id = \(tenantId) AND idempotency_key = \(key) AND owner = \(owner) AND response_status IS NULL
                """, logger: logger)
        }
    }

    /// Deletes idempotency keys older than their lifetime; returns how many.
    @discardableResult
    public func purgeExpiredIdempotencyKeys() async throws -> Int {
        try await guarded("purge idempotency keys") { [self] in
            let rows = try await client.query(
                """
                WITH gone AS (
                    DELETE FROM api_idempotency_keys
                    WHERE created_at < now() - make_interval(hours => \(Self.idempotencyKeyLifetimeHours)::int) RETURNING 1
                ) SELECT count(*)::int8 FROM gone
                """, logger: logger
            ).collect()
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        }
    }

    /// Takes one token from the bucket `bucket` (capacity `perMinute`, refilled continuously at `perMinute` a
    /// minute). One statement, so the limit holds across every process sharing the database.
    public func takeRateLimitToken(bucket: String, perMinute: Int) async throws -> RateLimitDecision {
        let capacity = Double(max(1, perMinute))
        let perSecond = capacity / 60
        return try await guarded("rate limit") { [self] in
            let rows = try await client.query(
                """
                WITH clock AS (SELECT clock_timestamp() AS t)
                INSERT INTO api_rate_limits AS b (bucket, tokens, allowed, updated_at)
                SELECT \(bucket), \(capacity) - 1, true, clock.t FROM clock
                ON CONFLICT (bucket) DO UPDATE SET
                    allowed = LEAST(\(capacity), b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (EXCLUDED.updated_at - b.updated_at))::float8 * \(perSecond))) >= 1,
                    tokens = LEAST(\(capacity), b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (EXCLUDED.updated_at - b.updated_at))::float8 * \(perSecond)))
                        - CASE WHEN LEAST(\(capacity), b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (EXCLUDED.updated_at - b.updated_at))::float8 * \(perSecond))) >= 1
                               THEN 1 ELSE 0 END,
                    updated_at = GREATEST(b.updated_at, EXCLUDED.updated_at)
                RETURNING allowed, tokens
                """, logger: logger
            ).collect()
            guard let row = rows.first else { throw JobQueueError(.database, "rate limit update returned no row") }
            let (allowed, tokens) = try row.decode((Bool, Double).self)
            let untilToken = tokens >= 1 ? 0 : Int(((1 - tokens) / perSecond).rounded(.up))
            let untilFull = Int(((capacity - tokens) / perSecond).rounded(.up))
            return RateLimitDecision(
                allowed: allowed, remaining: max(0, Int(tokens.rounded(.down))),
                secondsUntilToken: max(allowed ? 0 : 1, untilToken), secondsUntilFull: max(0, untilFull))
        }
    }

    /// The `X-Request-Id` recorded on a job (any tenant's; for operators and tests).
    public func requestId(ofJob id: UUID) async throws -> String? {
        try await guarded("read job request id") { [self] in
            try await client.query("SELECT request_id FROM video_processing_jobs WHERE id = \(id)", logger: logger)
                .collect().first?.decode(String?.self) ?? nil
        }
    }

    /// How many jobs the tenant has (tests of idempotent submits).
    public func jobCount(tenantId: UUID) async throws -> Int {
        try await guarded("count jobs") { [self] in
            let rows = try await client.query("SELECT count(*)::int8 FROM video_processing_jobs WHERE tenant_id = \(tenantId)", logger: logger)
                .collect()
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        }
    }
}
