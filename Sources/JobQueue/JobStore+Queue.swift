import Foundation
import Logging
import PostgresNIO

// The worker's side of the queue: claim, heartbeat, progress, finish, release, reap, listen.
// Every write after the claim is fenced by (lease_owner, lease_epoch) and status = 'processing'.
extension JobStore {
    /// Claims up to `limit` ready jobs for `owner`: pending, due (`run_after`), within each tenant's running cap.
    /// Priority orders jobs within their tenant only (highest first, then oldest); across tenants the claim is fair:
    /// the tenant with the fewest running jobs first (counting the ones this claim hands out), then the tenant
    /// served least recently (`tenants.last_claimed_at`, round-robin), then the older job. So a tenant cannot
    /// jump ahead of others with `priority`, and a worker taking one job at a time alternates between tenants.
    /// Each claimed job is `processing`, its attempt counted and leased to `owner` for `policy.leaseDuration`
    /// seconds, all in one statement.
    ///
    /// Claimers are serialised by a transaction-scoped advisory lock taken before that statement, so the
    /// statement's snapshot sees every earlier claim and the per-tenant count is exact (a job that stops running
    /// meanwhile only makes the count conservative). `SKIP LOCKED` keeps the claim from waiting on rows that
    /// another writer (a cancel, the reaper) holds.
    public func claim(owner: String, limit: Int) async throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        let leaseSeconds = policy.leaseDuration
        let logger = self.logger
        return try await guarded("claim jobs") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.claimLockKey))", logger: logger)
                let rows = try await connection.query(
                    """
                    WITH running AS (
                        SELECT tenant_id, count(*) AS n FROM video_processing_jobs
                        WHERE status = 'processing' GROUP BY tenant_id
                    ), room AS (
                        SELECT t.id AS tenant_id, t.max_running_jobs - COALESCE(r.n, 0) AS free, COALESCE(r.n, 0) AS running,
                               t.last_claimed_at
                        FROM tenants t LEFT JOIN running r ON r.tenant_id = t.id
                        WHERE t.max_running_jobs > COALESCE(r.n, 0)
                    ), candidates AS (
                        -- Each tenant's next jobs in its own order (priority, then age); turn = how many of its
                        -- jobs would run once this one starts.
                        SELECT c.id, c.created_at, room.tenant_id, room.last_claimed_at,
                               room.running + row_number() OVER (
                                   PARTITION BY room.tenant_id ORDER BY c.priority DESC, c.created_at, c.id) AS turn
                        FROM room CROSS JOIN LATERAL (
                            SELECT j.id, j.priority, j.created_at FROM video_processing_jobs j
                            WHERE j.tenant_id = room.tenant_id AND j.status = 'pending' AND j.run_after <= now()
                            ORDER BY j.priority DESC, j.created_at, j.id
                            LIMIT LEAST(room.free, \(limit))
                            FOR UPDATE SKIP LOCKED
                        ) c
                    ), chosen AS (
                        -- Across tenants: fewest running first, then least recently served, then the older job.
                        SELECT id, tenant_id, row_number() OVER (
                                   ORDER BY turn, last_claimed_at NULLS FIRST, created_at, id) AS claim_order
                        FROM candidates ORDER BY claim_order LIMIT \(limit)
                    ), served AS (
                        UPDATE tenants t SET last_claimed_at = clock_timestamp()
                        WHERE t.id IN (SELECT tenant_id FROM chosen)
                    )
                    UPDATE video_processing_jobs j SET
                        status = 'processing',
                        attempts = j.attempts + 1,
                        lease_owner = \(owner),
                        lease_epoch = j.lease_epoch + 1,
                        lease_expires_at = now() + \(leaseSeconds) * interval '1 second',
                        heartbeat_at = now(),
                        started_at = now(),
                        progress = 0,
                        updated_at = now()
                    FROM chosen WHERE j.id = chosen.id
                    RETURNING \(unescaped: Self.jobColumns("j.")), chosen.claim_order
                    """, logger: logger
                ).collect()
                let claimed = try rows.map { row in
                    let job = try Self.decodeJob(row)
                    let lease = Lease(
                        jobId: job.id, tenantId: job.tenantId, owner: owner, epoch: job.leaseEpoch,
                        attempt: job.attempts, maxAttempts: job.maxAttempts,
                        expiresAt: job.leaseExpiresAt ?? Date())
                    return (order: try row.makeRandomAccess()["claim_order"].decode(Int64.self), job: ClaimedJob(job: job, lease: lease))
                }
                // RETURNING does not keep the chosen order: hand the jobs out in it.
                return claimed.sorted { $0.order < $1.order }.map(\.job)
            }
        }
    }

    /// Extends the lease. `stillOwner == false` means the job was reaped, reclaimed or finished elsewhere: stop.
    public func heartbeat(_ lease: Lease) async throws -> HeartbeatResult {
        try await guarded("heartbeat") { [self] in
            let rows = try await client.query(
                """
                UPDATE video_processing_jobs SET
                    lease_expires_at = now() + \(policy.leaseDuration) * interval '1 second', heartbeat_at = now()
                WHERE id = \(lease.jobId) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                  AND status = 'processing'
                RETURNING cancel_requested, lease_expires_at
                """, logger: logger
            ).collect()
            guard let row = rows.first else { return HeartbeatResult(stillOwner: false, cancelRequested: false, expiresAt: nil) }
            let (cancel, expires) = try row.decode((Bool, Date).self)
            return HeartbeatResult(stillOwner: true, cancelRequested: cancel, expiresAt: expires)
        }
    }

    /// Records progress (0–100; the caller throttles, see ``ProgressThrottle``). Fenced like a heartbeat.
    public func updateProgress(_ lease: Lease, percent: Int) async throws -> HeartbeatResult {
        let value = min(max(percent, 0), 100)
        return try await guarded("progress") { [self] in
            let rows = try await client.query(
                """
                UPDATE video_processing_jobs SET progress = \(value), updated_at = now()
                WHERE id = \(lease.jobId) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                  AND status = 'processing'
                RETURNING cancel_requested, lease_expires_at
                """, logger: logger
            ).collect()
            guard let row = rows.first else { return HeartbeatResult(stillOwner: false, cancelRequested: false, expiresAt: nil) }
            let (cancel, expires) = try row.decode((Bool, Date?).self)
            return HeartbeatResult(stillOwner: true, cancelRequested: cancel, expiresAt: expires)
        }
    }

    /// Marks the job completed with its outputs, only while `lease` still owns it. Returns false (and writes
    /// nothing) when the lease was lost: another attempt owns the job or already finished it.
    public func complete(
        _ lease: Lease, videoURL: String, thumbnailURL: String?, processingTimeMs: Int, audioLoudness: JobAudioLoudness? = nil,
        notes: [String] = []
    ) async throws -> Bool {
        let loudness = try audioLoudness.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let notesJSON = String(decoding: try JSONEncoder().encode(notes), as: UTF8.self)
        return try await guarded("complete job") { [self] in
            try await !client.query(
                """
                WITH done AS (
                    UPDATE video_processing_jobs SET
                        status = 'completed', progress = 100, completed_at = now(), processing_time_ms = \(processingTimeMs),
                        output_video_url = \(videoURL), output_thumbnail_url = \(thumbnailURL), last_error = NULL,
                        audio_loudness = \(loudness)::jsonb, render_notes = \(notesJSON)::jsonb,
                        lease_expires_at = NULL, updated_at = now()
                    WHERE id = \(lease.jobId) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                      AND status = 'processing'
                    RETURNING id, tenant_id, status, callback_url
                )\(unescaped: Self.webhookOutbox)
                SELECT id FROM done
                """, logger: logger
            ).collect().isEmpty
        }
    }

    /// Records a failed attempt: back to pending after a backoff while attempts remain and the error is
    /// retryable, else failed. Fenced: a lost lease writes nothing (`.notOwner`).
    public func fail(_ lease: Lease, error message: String, retryable: Bool = true) async throws -> FailOutcome {
        let decision = policy.afterFailure(
            attempt: lease.attempt, maxAttempts: lease.maxAttempts, retryable: retryable, unit: Double.random(in: 0..<1))
        let text = String(message.prefix(4000))
        return try await guarded("fail job") { [self] in
            switch decision {
            case .retry(let seconds):
                // A cancel asked for while the attempt ran is honoured here too: cancelled, not pending again
                // (a worker would otherwise claim it after the backoff and render until its first heartbeat).
                let rows = try await client.query(
                    """
                    WITH done AS (
                        UPDATE video_processing_jobs SET
                            status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
                            completed_at = CASE WHEN cancel_requested THEN now() ELSE NULL END,
                            run_after = now() + \(seconds) * interval '1 second', last_error = \(text),
                            lease_owner = NULL, lease_expires_at = NULL, progress = 0, updated_at = now()
                        WHERE id = \(lease.jobId) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                          AND status = 'processing'
                        RETURNING id, tenant_id, status, callback_url, run_after
                    )\(unescaped: Self.webhookOutbox)
                    SELECT status, run_after FROM done
                    """, logger: logger
                ).collect()
                guard let row = rows.first else { return .notOwner }
                let (status, runAfter) = try row.decode((String, Date).self)
                return status == "cancelled" ? .cancelled : .retrying(at: runAfter)
            case .fail:
                let rows = try await client.query(
                    """
                    WITH done AS (
                        UPDATE video_processing_jobs SET
                            status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END,
                            completed_at = now(), last_error = \(text), lease_expires_at = NULL,
                            processing_time_ms = (extract(epoch FROM now() - started_at) * 1000)::int4, updated_at = now()
                        WHERE id = \(lease.jobId) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                          AND status = 'processing'
                        RETURNING id, tenant_id, status, callback_url
                    )\(unescaped: Self.webhookOutbox)
                    SELECT status FROM done
                    """, logger: logger
                ).collect()
                guard let row = rows.first else { return .notOwner }
                return try row.decode(String.self) == "cancelled" ? .cancelled : .failed
            }
        }
    }

    /// Marks the job cancelled after its worker stopped the render on request. Fenced.
    public func markCancelled(_ lease: Lease) async throws -> Bool {
        try await guarded("cancel job") { [self] in
            try await !client.query(
                """
                WITH done AS (
                    UPDATE video_processing_jobs SET
                        status = 'cancelled', completed_at = now(), last_error = 'cancelled by request',
                        lease_expires_at = NULL, updated_at = now()
                    WHERE id = \(lease.jobId) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                      AND status = 'processing'
                    RETURNING id, tenant_id, status, callback_url
                )\(unescaped: Self.webhookOutbox)
                SELECT id FROM done
                """, logger: logger
            ).collect().isEmpty
        }
    }

    /// Gives the job back on graceful shutdown: pending again at once, the attempt not counted (a job whose
    /// cancel was requested becomes cancelled). Fenced.
    public func release(_ lease: Lease, reason: String = "released by a worker shutting down") async throws -> Bool {
        let released = try await guarded("release job") { [self] in
            try await !client.query(
                """
                WITH done AS (
                    UPDATE video_processing_jobs SET
                        status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
                        completed_at = CASE WHEN cancel_requested THEN now() ELSE NULL END,
                        attempts = GREATEST(attempts - 1, 0), run_after = now(), last_error = \(reason),
                        lease_owner = NULL, lease_expires_at = NULL, progress = 0, updated_at = now()
                    WHERE id = \(lease.jobId) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                      AND status = 'processing'
                    RETURNING id, tenant_id, status, callback_url
                )\(unescaped: Self.webhookOutbox)
                SELECT id FROM done
                """, logger: logger
            ).collect().isEmpty
        }
        if released { await notifyNewJob(lease.jobId) }
        return released
    }

    /// Returns jobs whose lease expired (their worker died or hung) to pending after a backoff, or fails them once
    /// their attempts are used up (cancelled, when a cancel was requested); `last_error` says why. Takes at most
    /// `limit` jobs a call, skipping rows another transaction holds.
    public func reapExpiredLeases(limit: Int = 100) async throws -> [ReapedJob] {
        let policy = self.policy
        let logger = self.logger
        let reaped: [ReapedJob] = try await guarded("reap expired leases") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    SELECT id, tenant_id, attempts, max_attempts, cancel_requested, COALESCE(lease_owner, ''), lease_epoch
                    FROM video_processing_jobs
                    WHERE status = 'processing' AND lease_expires_at < now()
                    ORDER BY lease_expires_at LIMIT \(max(1, limit))
                    FOR UPDATE SKIP LOCKED
                    """, logger: logger
                ).collect()
                var result: [ReapedJob] = []
                for row in rows {
                    let (id, tenant, attempts, maxAttempts, cancel, owner, epoch) =
                        try row.decode((UUID, UUID, Int, Int, Bool, String, Int64).self)
                    let next = policy.afterLeaseExpired(attempts: attempts, maxAttempts: maxAttempts, cancelRequested: cancel)
                    // The worker's identity (host, pid) goes to the log only, never to the client-visible last_error.
                    let reason = "lease expired: the worker stopped heartbeating during attempt \(attempts) of \(maxAttempts)"
                    if !owner.isEmpty { logger.warning("reaping an expired lease", metadata: ["jobId": "\(id)", "worker": "\(owner)"]) }
                    let delay = next == .pending ? policy.backoff.delay(afterAttempt: attempts, unit: Double.random(in: 0..<1)) : 0
                    try await connection.query(
                        """
                        WITH done AS (
                            UPDATE video_processing_jobs SET
                                status = \(next.rawValue), last_error = \(reason),
                                completed_at = CASE WHEN \(next.rawValue) = 'pending' THEN NULL ELSE now() END,
                                run_after = now() + \(delay) * interval '1 second',
                                lease_owner = NULL, lease_expires_at = NULL, progress = 0, updated_at = now()
                            WHERE id = \(id) AND lease_epoch = \(epoch) AND status = 'processing'
                            RETURNING id, tenant_id, status, callback_url
                        )\(unescaped: Self.webhookOutbox)
                        SELECT id FROM done
                        """, logger: logger)
                    result.append(ReapedJob(jobId: id, tenantId: tenant, newStatus: next, attempts: attempts))
                }
                return result
            }
        }
        for job in reaped where job.newStatus == .pending { await notifyNewJob(job.jobId) }
        return reaped
    }

    /// Holds one pooled connection listening on ``notificationChannel`` and calls `onNotification` for each
    /// notification, until the calling task is cancelled. NOTIFY is a hint: keep polling as well.
    public func listenForNewJobs(_ onNotification: @escaping @Sendable () -> Void) async throws {
        try await guarded("listen", timeout: nil) { [self] in
            try await client.withConnection { connection in
                try await connection.listen(on: Self.notificationChannel) { notifications in
                    for try await _ in notifications {
                        onNotification()
                    }
                }
            }
        }
    }

    /// Counts of jobs by status (all tenants, or one).
    public func statusCounts(tenantId: UUID? = nil) async throws -> [JobStatus: Int] {
        try await guarded("count jobs") { [self] in
            let rows = try await client.query(
                """
                SELECT status, count(*)::int8 FROM video_processing_jobs
                WHERE \(tenantId)::uuid IS NULL OR tenant_id = \(tenantId)
                GROUP BY status
                """, logger: logger
            ).collect()
            var counts: [JobStatus: Int] = [:]
            for row in rows {
                let (text, count) = try row.decode((String, Int64).self)
                if let status = JobStatus(rawValue: text) { counts[status] = Int(count) }
            }
            return counts
        }
    }
}
