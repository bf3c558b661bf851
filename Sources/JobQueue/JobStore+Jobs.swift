import Foundation
import Logging
import PostgresNIO
import SpecLang

// Jobs as the API sees them: submit, read one tenant's jobs, cancel.
extension JobStore {

    /// Inserts a pending job and, after it is committed, sends a NOTIFY so an idle worker wakes at once.
    public func enqueue(_ job: NewJob) async throws -> UUID {
        try await enqueue(job, id: nil, recording: nil)
    }

    /// Inserts the job (with `id`, or a new one) and, when `response` is given, records the idempotent request's
    /// answer in the same transaction (see ``IdempotentResponse``).
    public func enqueue(_ job: NewJob, id: UUID?, recording response: IdempotentResponse?) async throws -> UUID {
        try Self.validate(job)
        let logger = self.logger
        let id = try await guarded("insert job") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO video_processing_jobs (id, tenant_id, priority, image_ids, audio_file, text_overlay, overlay_type,
                        duration_target, quality_mode, max_attempts, callback_url, run_after, request_id, fields, voice_file)
                    VALUES (COALESCE(\(id), gen_random_uuid()), \(job.tenantId), \(job.priority), \(job.imageIds), \(job.audioAssetId),
                        \(job.textOverlay), \(job.template), \(job.durationTarget), \(job.qualityMode.rawValue), \(job.maxAttempts),
                        \(job.callbackURL), COALESCE(\(job.runAfter), now()), \(job.requestId), \(JobFieldValue.json(job.fields))::jsonb,
                        \(job.voiceAssetId))
                    RETURNING id
                    """, logger: logger
                ).collect()
                guard let row = rows.first else { throw JobQueueError(.database, "job insert returned no row") }
                if let response { try await Self.record(response, on: connection, logger: logger) }
                return try row.decode(UUID.self)
            }
        }
        await notifyNewJob(id)
        return id
    }

    /// Wakes listening workers. A lost notification only delays pickup until the next poll.
    public func notifyNewJob(_ id: UUID) async {
        do {
            try await client.query("SELECT pg_notify(\(Self.notificationChannel), \(id.uuidString))", logger: logger)
        } catch {
            logger.warning("NOTIFY failed; workers will find the job by polling", metadata: ["jobId": "\(id)", "error": "\(Self.describe(error))"])
        }
    }

    /// The job, when it belongs to `tenantId`; nil for an unknown id or another tenant's job.
    public func job(id: UUID, tenantId: UUID) async throws -> Job? {
        try await guarded("read job") { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.jobColumns("")) FROM video_processing_jobs WHERE id = \(id) AND tenant_id = \(tenantId)",
                logger: logger
            ).collect().first.map(Self.decodeJob)
        }
    }

    /// Any tenant's job (operators, workers and tests; never for a request's tenant).
    public func job(id: UUID) async throws -> Job? {
        try await guarded("read job") { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.jobColumns("")) FROM video_processing_jobs WHERE id = \(id)", logger: logger
            ).collect().first.map(Self.decodeJob)
        }
    }

    /// The tenant's jobs, newest first, `limit` (1–100) a page; pass the previous page's `nextCursor` as `after`.
    public func jobs(tenantId: UUID, status: JobStatus? = nil, limit: Int = 20, after cursor: String? = nil) async throws -> JobPage {
        guard (1...100).contains(limit) else {
            throw JobQueueError(.invalidInput, "page size must be 1 to 100, got \(limit)")
        }
        let position = try cursor.map(JobCursor.init(encoded:))
        let statusText = status?.rawValue
        let micros = position?.createdAtMicroseconds
        let lastId = position?.id
        return try await guarded("list jobs") { [self] in
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.jobColumns("")), (extract(epoch FROM created_at) * 1000000)::int8 AS created_us
                FROM video_processing_jobs
                WHERE tenant_id = \(tenantId)
                  AND (\(statusText)::text IS NULL OR status = \(statusText))
                  AND (\(micros)::int8 IS NULL
                       OR (created_at, id) < (timestamptz 'epoch' + \(micros)::int8 * interval '1 microsecond', \(lastId)::uuid))
                ORDER BY created_at DESC, id DESC
                LIMIT \(limit + 1)
                """, logger: logger
            ).collect()
            var jobs: [Job] = []
            var next: String?
            for (index, row) in rows.enumerated() {
                if index == limit { break }
                jobs.append(try Self.decodeJob(row))
                if index == limit - 1, rows.count > limit {
                    let created = try row.makeRandomAccess()["created_us"].decode(Int64.self)
                    next = JobCursor(createdAtMicroseconds: created, id: jobs[index].id).encoded
                }
            }
            return JobPage(jobs: jobs, nextCursor: next)
        }
    }

    /// Cancels the tenant's job: a pending job is cancelled now; a running one is flagged, and its worker stops
    /// it at the next heartbeat. nil when the tenant has no such job.
    public func requestCancel(jobId: UUID, tenantId: UUID) async throws -> CancelOutcome? {
        try await guarded("cancel job") { [self] in
            let rows = try await client.query(
                """
                WITH old AS (
                    SELECT id, status FROM video_processing_jobs WHERE id = \(jobId) AND tenant_id = \(tenantId) FOR UPDATE
                ), changed AS (
                    UPDATE video_processing_jobs j SET
                        status = CASE WHEN old.status = 'pending' THEN 'cancelled' ELSE j.status END,
                        cancel_requested = (old.status IN ('pending', 'processing')) OR j.cancel_requested,
                        completed_at = CASE WHEN old.status = 'pending' THEN now() ELSE j.completed_at END,
                        last_error = CASE WHEN old.status = 'pending' THEN 'cancelled by request' ELSE j.last_error END,
                        updated_at = now()
                    FROM old WHERE j.id = old.id AND old.status IN ('pending', 'processing')
                    RETURNING j.id, j.tenant_id, j.status, j.callback_url
                ), done AS (
                    SELECT * FROM changed WHERE status = 'cancelled'
                )\(unescaped: Self.webhookOutbox)
                SELECT old.status FROM old
                """, logger: logger
            ).collect()
            guard let row = rows.first else { return nil }
            let text = try row.decode(String.self)
            guard let old = JobStatus(rawValue: text) else {
                throw JobQueueError(.database, "job \(jobId) has unknown status '\(text)'")
            }
            switch old {
            case .pending: return .cancelled
            case .processing: return .requested
            default: return .alreadyFinished(old)
            }
        }
    }

    /// Deletes completed, failed and cancelled jobs finished more than `seconds` ago; returns how many.
    public func pruneFinishedJobs(olderThan seconds: Double) async throws -> Int {
        try await guarded("prune jobs") { [self] in
            try await client.query(
                """
                DELETE FROM video_processing_jobs
                WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < now() - \(seconds) * interval '1 second'
                RETURNING id
                """, logger: logger
            ).collect().count
        }
    }
}
