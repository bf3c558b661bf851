import Foundation
import PostgresNIO

/// A webhook delivery claimed for one attempt: the event, the job as it is now, and the lease that fences the
/// attempt's outcome.
public struct ClaimedDelivery: Sendable, Equatable {
    /// The event id (`webhook-id`): the same on every attempt.
    public var id: UUID
    public var eventType: String
    public var url: String
    /// The `X-Request-Id` of the request that created the job, when the job records one.
    public var requestId: String?
    /// This attempt's number, 1-based.
    public var attempt: Int
    public var occurredAt: Date
    public var job: Job
    public var owner: String
    public var epoch: Int64
    /// The generation of the job's tenant's webhook signing secret when the attempt was claimed: the attempt is
    /// signed with that secret.
    public var secretGeneration: Int = 1
}

/// What a delivery came to, as recorded.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered(status: Int)
    /// Try again after `seconds`, unless `attempt` was the last allowed one (then the delivery fails).
    case retry(after: Double, reason: String)
    case failed(reason: String)
}

/// A delivery row, for operators and tests.
public struct WebhookDeliveryRecord: Sendable, Equatable {
    public var id: UUID
    public var jobId: UUID
    public var tenantId: UUID
    public var eventType: String
    public var url: String
    public var status: String
    public var attempts: Int
    public var lastError: String?
    public var lastStatus: Int?
    public var leaseOwner: String?
}

extension JobStore {
    /// Appended to a statement whose `done` CTE returns the changed jobs (`id, tenant_id, status, callback_url`):
    /// queues the webhook of each job that reached a final state and has a callback URL, in the same statement
    /// (one transaction), so a job never finishes without its event and a killed process loses none.
    static let webhookOutbox = """
        , hook AS (
            INSERT INTO webhook_deliveries (job_id, tenant_id, event_type, url)
            SELECT id, tenant_id,
                   CASE status WHEN 'completed' THEN 'job.completed' WHEN 'failed' THEN 'job.failed' ELSE 'job.cancelled' END,
                   callback_url
            FROM done
            WHERE status IN ('completed', 'failed', 'cancelled') AND COALESCE(callback_url, '') <> ''
            ON CONFLICT (job_id, event_type) DO NOTHING
            RETURNING id
        )
        """

    /// Claims up to `limit` due deliveries for one attempt each, leased to `owner` for `leaseSeconds`. Fair across
    /// tenants: a tenant has at most `perTenant` attempts in flight (across all processes), and the claim takes
    /// each tenant's oldest first, round-robin, so one tenant's slow or failing receiver cannot hold every slot.
    public func claimDeliveries(owner: String, limit: Int, perTenant: Int, leaseSeconds: Double) async throws -> [ClaimedDelivery] {
        guard limit > 0, perTenant > 0 else { return [] }
        let logger = self.logger
        return try await guarded("claim webhook deliveries") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.deliveryClaimLockKey))", logger: logger)
                let rows = try await connection.query(
                    """
                    WITH inflight AS (
                        SELECT tenant_id, count(*) AS n FROM webhook_deliveries
                        WHERE status = 'pending' AND lease_expires_at > now() GROUP BY tenant_id
                    ), ranked AS (
                        SELECT d.id, d.tenant_id, d.next_attempt_at,
                               row_number() OVER (PARTITION BY d.tenant_id ORDER BY d.next_attempt_at, d.id) AS rn
                        FROM webhook_deliveries d
                        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                          AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= now())
                    ), chosen AS (
                        SELECT r.id FROM ranked r LEFT JOIN inflight i ON i.tenant_id = r.tenant_id
                        WHERE r.rn + COALESCE(i.n, 0) <= \(perTenant)
                        ORDER BY r.rn, r.next_attempt_at, r.id
                        LIMIT \(limit)
                    ), locked AS (
                        SELECT d.id FROM webhook_deliveries d JOIN chosen c ON c.id = d.id FOR UPDATE OF d SKIP LOCKED
                    )
                    UPDATE webhook_deliveries d SET
                        attempts = d.attempts + 1, lease_owner = \(owner), lease_epoch = d.lease_epoch + 1,
                        lease_expires_at = now() + \(leaseSeconds) * interval '1 second', updated_at = now()
                    FROM locked, video_processing_jobs j
                    WHERE d.id = locked.id AND j.id = d.job_id
                    RETURNING d.id AS delivery_id, d.event_type, d.url,
                        COALESCE(d.request_id, to_jsonb(j) ->> 'request_id') AS delivery_request_id,
                        d.attempts AS delivery_attempts, d.occurred_at, d.lease_epoch AS delivery_epoch,
                        (SELECT t.webhook_secret_generation FROM tenants t WHERE t.id = d.tenant_id) AS delivery_secret_generation,
                        \(unescaped: Self.jobColumns("j."))
                    """, logger: logger
                ).collect()
                return try rows.map { row in
                    let r = row.makeRandomAccess()
                    return ClaimedDelivery(
                        id: try r["delivery_id"].decode(UUID.self), eventType: try r["event_type"].decode(String.self),
                        url: try r["url"].decode(String.self), requestId: try r["delivery_request_id"].decode(String?.self),
                        attempt: try r["delivery_attempts"].decode(Int.self), occurredAt: try r["occurred_at"].decode(Date.self),
                        job: try Self.decodeJob(row), owner: owner, epoch: try r["delivery_epoch"].decode(Int64.self),
                        secretGeneration: try r["delivery_secret_generation"].decode(Int?.self) ?? 1)
                }
            }
        }
    }

    /// Records an attempt's outcome, fenced by the claim (a delivery whose lease expired and was claimed again
    /// writes nothing: false). A retry after the last allowed attempt fails the delivery.
    @discardableResult
    public func recordDelivery(_ claim: ClaimedDelivery, outcome: DeliveryOutcome, maxAttempts: Int) async throws -> Bool {
        let status: String, error: String?, httpStatus: Int?, delay: Double
        switch outcome {
        case .delivered(let code):
            (status, error, httpStatus, delay) = ("delivered", nil, code, 0)
        case .retry(let seconds, let reason):
            let last = claim.attempt >= maxAttempts
            (status, error, httpStatus, delay) = (last ? "failed" : "pending", String(reason.prefix(500)), nil, last ? 0 : seconds)
        case .failed(let reason):
            (status, error, httpStatus, delay) = ("failed", String(reason.prefix(500)), nil, 0)
        }
        return try await guarded("record webhook delivery") { [self] in
            try await !client.query(
                """
                UPDATE webhook_deliveries SET
                    status = \(status), last_error = \(error), last_status = \(httpStatus),
                    delivered_at = CASE WHEN \(status) = 'delivered' THEN now() ELSE NULL END,
                    next_attempt_at = now() + \(delay) * interval '1 second',
                    lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
                WHERE id = \(claim.id) AND lease_owner = \(claim.owner) AND lease_epoch = \(claim.epoch) AND status = 'pending'
                RETURNING id
                """, logger: logger
            ).collect().isEmpty
        }
    }

    /// The deliveries queued for a job (operators and tests).
    public func webhookDeliveries(jobId: UUID) async throws -> [WebhookDeliveryRecord] {
        try await guarded("read webhook deliveries") { [self] in
            try await client.query(
                """
                SELECT id, job_id, tenant_id, event_type, url, status, attempts, last_error, last_status, lease_owner
                FROM webhook_deliveries WHERE job_id = \(jobId) ORDER BY occurred_at, id
                """, logger: logger
            ).collect().map { row in
                let (id, job, tenant, type, url, status, attempts, error, httpStatus, owner) =
                    try row.decode((UUID, UUID, UUID, String, String, String, Int, String?, Int?, String?).self)
                return WebhookDeliveryRecord(
                    id: id, jobId: job, tenantId: tenant, eventType: type, url: url, status: status, attempts: attempts,
                    lastError: error, lastStatus: httpStatus, leaseOwner: owner)
            }
        }
    }

    static let deliveryClaimLockKey: Int64 = 0x7265_6E64_635F_7768  // "rendc_wh"
}
