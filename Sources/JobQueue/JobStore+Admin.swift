import Foundation
import PostgresNIO

/// One tenant's jobs by status, for the operators' dashboard.
public struct TenantJobStats: Sendable, Equatable {
    public var tenantId: UUID
    public var name: String
    public var counts: [JobStatus: Int]
    public var total: Int { counts.values.reduce(0, +) }
    /// Failed jobs among finished ones (completed + failed), 0 when none finished.
    public var failureRate: Double {
        let failed = counts[.failed] ?? 0
        let finished = failed + (counts[.completed] ?? 0)
        return finished == 0 ? 0 : Double(failed) / Double(finished)
    }
}

/// What the admin's retry did.
public enum AdminRetryOutcome: Sendable, Equatable {
    /// Back to pending with one more attempt allowed.
    case requeued
    /// Only failed or cancelled jobs can be retried.
    case notRetryable(JobStatus)
    case notFound
}

/// Reads and actions for operators across all tenants (`/admin` in `rendc serve`). Never reachable with a
/// tenant's API key: the HTTP layer guards them with the admin credential.
extension JobStore {
    /// Jobs across all tenants, newest first (optionally one status or one tenant), at most `limit` (1–200).
    /// Records the plan an attempt renders with. Fenced like a heartbeat: a lost lease records nothing.
    @discardableResult
    public func recordPlan(_ lease: Lease, plan: String) async throws -> Bool {
        let text = String(plan.prefix(64 * 1024))
        return try await guarded("record plan") { [self] in
            let rows = try await client.query(
                """
                UPDATE video_processing_jobs SET plan = \(text)
                WHERE id = \(lease.jobId) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                  AND status = 'processing'
                RETURNING id
                """, logger: logger
            ).collect()
            return !rows.isEmpty
        }
    }

    /// The plan the job's last rendered attempt used, for the operators' dashboard.
    public func adminJobPlan(id: UUID) async throws -> String? {
        try await guarded("job plan (admin)") { [self] in
            let rows = try await client.query("SELECT plan FROM video_processing_jobs WHERE id = \(id)", logger: logger).collect()
            return try rows.first?.decode(String?.self)
        }
    }

    public func adminJobs(status: JobStatus? = nil, tenantId: UUID? = nil, limit: Int = 50) async throws -> [Job] {
        guard (1...200).contains(limit) else { throw JobQueueError(.invalidInput, "limit must be 1 to 200, got \(limit)") }
        let statusText = status?.rawValue
        return try await guarded("list jobs (admin)") { [self] in
            try await client.query(
                """
                SELECT \(unescaped: Self.jobColumns("")) FROM video_processing_jobs
                WHERE (\(statusText)::text IS NULL OR status = \(statusText))
                  AND (\(tenantId)::uuid IS NULL OR tenant_id = \(tenantId))
                ORDER BY created_at DESC, id DESC
                LIMIT \(limit)
                """, logger: logger
            ).collect().map(Self.decodeJob)
        }
    }

    /// Running jobs with their progress and the worker holding the lease, oldest start first.
    public func adminRunningJobs(limit: Int = 100) async throws -> [Job] {
        try await guarded("list running jobs (admin)") { [self] in
            try await client.query(
                """
                SELECT \(unescaped: Self.jobColumns("")) FROM video_processing_jobs
                WHERE status = 'processing'
                ORDER BY started_at, id
                LIMIT \(max(1, min(limit, 500)))
                """, logger: logger
            ).collect().map(Self.decodeJob)
        }
    }

    /// Per-tenant job counts by status (tenants without jobs included), by tenant name.
    public func adminTenantStats() async throws -> [TenantJobStats] {
        try await guarded("tenant stats (admin)") { [self] in
            let rows = try await client.query(
                """
                SELECT t.id, t.name, j.status, count(j.id)::int8
                FROM tenants t LEFT JOIN video_processing_jobs j ON j.tenant_id = t.id
                GROUP BY t.id, t.name, j.status
                ORDER BY t.name, t.id
                """, logger: logger
            ).collect()
            var stats: [TenantJobStats] = []
            for row in rows {
                let (id, name, statusText, count) = try row.decode((UUID, String, String?, Int64).self)
                if stats.last?.tenantId != id { stats.append(TenantJobStats(tenantId: id, name: name, counts: [:])) }
                if let statusText, let status = JobStatus(rawValue: statusText) { stats[stats.count - 1].counts[status] = Int(count) }
            }
            return stats
        }
    }

    /// Puts a failed or cancelled job back in the queue now, with one more attempt than it has used.
    public func adminRetry(jobId: UUID) async throws -> AdminRetryOutcome {
        let outcome: AdminRetryOutcome = try await guarded("retry job (admin)") { [self] in
            let rows = try await client.query(
                """
                WITH old AS (
                    SELECT id, status FROM video_processing_jobs WHERE id = \(jobId) FOR UPDATE
                ), changed AS (
                    UPDATE video_processing_jobs j SET
                        status = 'pending', run_after = now(), max_attempts = GREATEST(j.max_attempts, j.attempts + 1),
                        cancel_requested = false, completed_at = NULL, progress = 0,
                        lease_owner = NULL, lease_expires_at = NULL, heartbeat_at = NULL, updated_at = now()
                    FROM old WHERE j.id = old.id AND old.status IN ('failed', 'cancelled')
                    RETURNING j.id
                )
                SELECT old.status FROM old
                """, logger: logger
            ).collect()
            guard let row = rows.first else { return .notFound }
            let text = try row.decode(String.self)
            guard let old = JobStatus(rawValue: text) else { throw JobQueueError(.database, "job \(jobId) has unknown status '\(text)'") }
            return old == .failed || old == .cancelled ? .requeued : .notRetryable(old)
        }
        if outcome == .requeued { await notifyNewJob(jobId) }
        return outcome
    }
}
