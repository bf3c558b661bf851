import Crypto
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SpecLang

/// The job database: tenants, API keys, jobs, assets and the queue operations on them.
///
/// Holds a pooled postgres-nio client that must be running while it is used: add the store to a `ServiceGroup`
/// (it is a `Service`), or wrap short uses in ``withRunningStore(configuration:policy:logger:_:)``.
/// Every query is parameterised through `PostgresQuery` interpolation.
public final class JobStore: Sendable, Service {
    /// The NOTIFY channel that announces new or retried jobs. Payloads are tiny (a job id), and only a hint.
    public static let notificationChannel = "rendc_jobs"

    public let configuration: DatabaseConfiguration
    public let policy: QueuePolicy
    let client: PostgresClient
    let logger: Logger

    public init(configuration: DatabaseConfiguration, policy: QueuePolicy = QueuePolicy(), logger: Logger) {
        self.configuration = configuration
        self.policy = policy
        self.logger = logger
        self.client = PostgresClient(configuration: configuration.clientConfiguration(), backgroundLogger: logger)
    }

    /// Runs the connection pool until cancelled or gracefully shut down (put the store before its users in a
    /// `ServiceGroup`, which shuts services down in reverse order).
    public func run() async throws {
        await client.run()
    }

    /// Runs `body` with a store whose pool runs for the duration.
    public static func withRunningStore<Result: Sendable>(
        configuration: DatabaseConfiguration, policy: QueuePolicy = QueuePolicy(), logger: Logger,
        _ body: @Sendable (JobStore) async throws -> Result
    ) async throws -> Result {
        let store = JobStore(configuration: configuration, policy: policy, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.client.run() }
            defer { group.cancelAll() }
            // Let the pool start before the first lease (postgres-nio warns about a lease before run()).
            try? await Task.sleep(for: .milliseconds(10))
            return try await body(store)
        }
    }

    // MARK: - Migrations

    /// Applies the migrations this database lacks, in order, each in its own transaction; returns the versions
    /// applied now (empty when the schema is current). Safe to run concurrently and repeatedly.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await guarded("migrate", timeout: nil) {
            try await client.withConnection { connection in
                // One migrator at a time across processes (session lock, released below).
                try await connection.query("SELECT pg_advisory_lock(\(Self.migrationLockKey))", logger: logger)
                do {
                    let applied = try await Self.runMigrations(connection: connection, logger: logger)
                    try await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
                    return applied
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Versions recorded in `schema_migrations` (empty before the first migration).
    public func appliedMigrations() async throws -> [Int] {
        try await guarded("read schema_migrations") {
            let exists = try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            guard exists else { return [] }
            return try await client.query("SELECT version FROM schema_migrations ORDER BY version", logger: logger)
                .collect().map { try $0.decode(Int.self) }
        }
    }

    static let migrationLockKey: Int64 = 0x7265_6E64_635F_6D67  // "rendc_mg"
    static let claimLockKey: Int64 = 0x7265_6E64_635F_636C  // "rendc_cl"

    private static func runMigrations(connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query(PostgresQuery(unsafeSQL: Migrations.bootstrap), logger: logger)
        let done = Set(try await connection.query("SELECT version FROM schema_migrations", logger: logger)
            .collect().map { try $0.decode(Int.self) })
        var applied: [Int] = []
        for migration in Migrations.all where !done.contains(migration.version) {
            do {
                try await connection.withTransaction(logger: logger) { transaction in
                    for statement in migration.statements {
                        try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await transaction.query(
                        "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                        logger: logger)
                }
            } catch {
                throw JobQueueError(.migration, "migration \(migration.version) (\(migration.name)) failed: \(Self.describe(error))")
            }
            logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }

    // MARK: - Tenants and API keys

    public func createTenant(name: String, maxRunningJobs: Int = 4) async throws -> Tenant {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw JobQueueError(.invalidInput, "tenant name must be 1 to 100 characters, got \(trimmed.count)")
        }
        guard maxRunningJobs >= 0 else {
            throw JobQueueError(.invalidInput, "max running jobs must be 0 or more, got \(maxRunningJobs)")
        }
        return try await guarded("create tenant") {
            let rows = try await client.query("""
                INSERT INTO tenants (name, max_running_jobs) VALUES (\(trimmed), \(maxRunningJobs))
                RETURNING id, name, max_running_jobs, created_at
                """, logger: logger).collect()
            guard let row = rows.first else { throw JobQueueError(.database, "tenant insert returned no row") }
            return try Self.decodeTenant(row)
        }
    }

    public func tenant(id: UUID) async throws -> Tenant? {
        try await guarded("read tenant") {
            try await client.query(
                "SELECT id, name, max_running_jobs, created_at FROM tenants WHERE id = \(id)", logger: logger
            ).collect().first.map(Self.decodeTenant)
        }
    }

    /// Changes how many of a tenant's jobs may run at once.
    public func setMaxRunningJobs(tenantId: UUID, _ value: Int) async throws {
        guard value >= 0 else { throw JobQueueError(.invalidInput, "max running jobs must be 0 or more, got \(value)") }
        try await guarded("update tenant") {
            try await client.query(
                "UPDATE tenants SET max_running_jobs = \(value), updated_at = now() WHERE id = \(tenantId)", logger: logger)
        }
    }

    /// Makes a new API key for the tenant. The plaintext is in the result only; the database keeps its SHA-256.
    public func createAPIKey(tenantId: UUID) async throws -> NewAPIKey {
        let plaintext = APIKeyFormat.generate()
        let prefix = APIKeyFormat.visiblePrefix(of: plaintext)
        let hash = APIKeyFormat.hash(plaintext)
        return try await guarded("create API key") {
            let rows = try await client.query("""
                INSERT INTO api_keys (tenant_id, prefix, key_hash) VALUES (\(tenantId), \(prefix), \(hash))
                RETURNING id
                """, logger: logger).collect()
            guard let row = rows.first else { throw JobQueueError(.database, "API key insert returned no row") }
            return NewAPIKey(id: try row.decode(UUID.self), tenantId: tenantId, prefix: prefix, plaintext: plaintext)
        }
    }

    /// A new tenant and its first API key.
    public func createTenantWithKey(name: String, maxRunningJobs: Int = 4) async throws -> (Tenant, NewAPIKey) {
        let tenant = try await createTenant(name: name, maxRunningJobs: maxRunningJobs)
        return (tenant, try await createAPIKey(tenantId: tenant.id))
    }

    /// The tenant a presented API key belongs to, or nil for an unknown or revoked key.
    public func tenant(forAPIKey key: String) async throws -> Tenant? {
        guard APIKeyFormat.isWellFormed(key) else { return nil }
        let hash = APIKeyFormat.hash(key)
        return try await guarded("resolve API key") {
            try await client.query("""
                WITH k AS (
                    SELECT id, tenant_id, last_used_at FROM api_keys WHERE key_hash = \(hash) AND revoked_at IS NULL
                ), touched AS (
                    UPDATE api_keys SET last_used_at = now() FROM k
                    WHERE api_keys.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds')
                )
                SELECT t.id, t.name, t.max_running_jobs, t.created_at FROM tenants t JOIN k ON k.tenant_id = t.id
                """, logger: logger).collect().first.map(Self.decodeTenant)
        }
    }

    /// Revokes a key of the tenant; false when the tenant has no such key.
    @discardableResult
    public func revokeAPIKey(id: UUID, tenantId: UUID) async throws -> Bool {
        try await guarded("revoke API key") {
            try await !client.query("""
                UPDATE api_keys SET revoked_at = now() WHERE id = \(id) AND tenant_id = \(tenantId) AND revoked_at IS NULL
                RETURNING id
                """, logger: logger).collect().isEmpty
        }
    }

    // MARK: - Jobs (the API's side)

    /// Inserts a pending job and, after it is committed, sends a NOTIFY so an idle worker wakes at once.
    public func enqueue(_ job: NewJob) async throws -> UUID {
        try Self.validate(job)
        let id = try await guarded("insert job") {
            let rows = try await client.query("""
                INSERT INTO video_processing_jobs (tenant_id, priority, image_ids, audio_file, text_overlay, overlay_type,
                    duration_target, quality_mode, max_attempts, callback_url, run_after, request_id, fields, voice_file)
                VALUES (\(job.tenantId), \(job.priority), \(job.imageIds), \(job.audioAssetId), \(job.textOverlay),
                    \(job.template), \(job.durationTarget), \(job.qualityMode.rawValue), \(job.maxAttempts),
                    \(job.callbackURL), COALESCE(\(job.runAfter), now()), \(job.requestId), \(JobFieldValue.json(job.fields))::jsonb,
                    \(job.voiceAssetId))
                RETURNING id
                """, logger: logger).collect()
            guard let row = rows.first else { throw JobQueueError(.database, "job insert returned no row") }
            return try row.decode(UUID.self)
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
        try await guarded("read job") {
            try await client.query(
                "SELECT \(unescaped: Self.jobColumns("")) FROM video_processing_jobs WHERE id = \(id) AND tenant_id = \(tenantId)",
                logger: logger
            ).collect().first.map(Self.decodeJob)
        }
    }

    /// Any tenant's job (operators, workers and tests; never for a request's tenant).
    public func job(id: UUID) async throws -> Job? {
        try await guarded("read job") {
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
        return try await guarded("list jobs") {
            let rows = try await client.query("""
                SELECT \(unescaped: Self.jobColumns("")), (extract(epoch FROM created_at) * 1000000)::int8 AS created_us
                FROM video_processing_jobs
                WHERE tenant_id = \(tenantId)
                  AND (\(statusText)::text IS NULL OR status = \(statusText))
                  AND (\(micros)::int8 IS NULL
                       OR (created_at, id) < (timestamptz 'epoch' + \(micros)::int8 * interval '1 microsecond', \(lastId)::uuid))
                ORDER BY created_at DESC, id DESC
                LIMIT \(limit + 1)
                """, logger: logger).collect()
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
        try await guarded("cancel job") {
            let rows = try await client.query("""
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
                """, logger: logger).collect()
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
        try await guarded("prune jobs") {
            try await client.query("""
                DELETE FROM video_processing_jobs
                WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < now() - \(seconds) * interval '1 second'
                RETURNING id
                """, logger: logger).collect().count
        }
    }

    // MARK: - Assets

    public func insertAsset(_ asset: NewAsset) async throws -> Asset {
        guard !asset.name.isEmpty, asset.name.count <= 100 else {
            throw JobQueueError(.invalidInput, "asset name must be 1 to 100 characters, got \(asset.name.count)")
        }
        guard !asset.filePath.isEmpty else { throw JobQueueError(.invalidInput, "asset file path is empty") }
        return try await guarded("insert asset") {
            let rows = try await client.query("""
                INSERT INTO video_processing_assets (id, tenant_id, asset_type, name, file_path, metadata)
                VALUES (COALESCE(\(asset.id), gen_random_uuid()), \(asset.tenantId), \(asset.type.rawValue), \(asset.name),
                        \(asset.filePath), \(asset.metadataJSON)::jsonb)
                RETURNING \(unescaped: Self.assetColumns)
                """, logger: logger).collect()
            guard let row = rows.first else { throw JobQueueError(.database, "asset insert returned no row") }
            return try Self.decodeAsset(row)
        }
    }

    /// The asset, when it belongs to `tenantId`; nil otherwise.
    public func asset(id: UUID, tenantId: UUID) async throws -> Asset? {
        try await guarded("read asset") {
            try await client.query(
                "SELECT \(unescaped: Self.assetColumns) FROM video_processing_assets WHERE id = \(id) AND tenant_id = \(tenantId)",
                logger: logger
            ).collect().first.map(Self.decodeAsset)
        }
    }

    /// Those of `ids` that belong to `tenantId`, in the order of `ids` (missing ones left out).
    public func assets(ids: [UUID], tenantId: UUID) async throws -> [Asset] {
        guard !ids.isEmpty else { return [] }
        return try await guarded("read assets") {
            let found = try await client.query("""
                SELECT \(unescaped: Self.assetColumns) FROM video_processing_assets
                WHERE tenant_id = \(tenantId) AND id = ANY(\(ids))
                """, logger: logger).collect().map(Self.decodeAsset)
            let byId = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            return ids.compactMap { byId[$0] }
        }
    }

    public func assets(tenantId: UUID, type: AssetType? = nil, limit: Int = 100) async throws -> [Asset] {
        let typeText = type?.rawValue
        return try await guarded("list assets") {
            try await client.query("""
                SELECT \(unescaped: Self.assetColumns) FROM video_processing_assets
                WHERE tenant_id = \(tenantId) AND (\(typeText)::text IS NULL OR asset_type = \(typeText))
                ORDER BY created_at DESC, id DESC LIMIT \(max(1, min(limit, 1000)))
                """, logger: logger).collect().map(Self.decodeAsset)
        }
    }

    // MARK: - Helpers

    static func validate(_ job: NewJob) throws {
        guard !job.imageIds.isEmpty else { throw JobQueueError(.invalidInput, "a job needs at least one image id") }
        guard job.maxAttempts >= 1 else {
            throw JobQueueError(.invalidInput, "max attempts must be at least 1, got \(job.maxAttempts)")
        }
        guard !job.template.isEmpty, job.template.count <= 50 else {
            throw JobQueueError(.invalidInput, "overlay type must be 1 to 50 characters, got \(job.template.count)")
        }
        if let duration = job.durationTarget, !(duration.isFinite && duration > 0 && duration < 100_000_000) {
            throw JobQueueError(.invalidInput, "duration target must be a positive number of seconds, got \(duration)")
        }
    }

    /// Runs a database step within the configured query timeout (waiting for a pooled connection included),
    /// turning postgres-nio errors into ``JobQueueError`` with the server's message; a timeout or a lost connection
    /// is ``JobQueueError/Code/unavailable``. `timeout: nil` for steps that run long on purpose (LISTEN, migrations).
    func guarded<Result: Sendable>(
        _ what: String, timeout: Double? = -1, _ body: @Sendable () async throws -> Result
    ) async throws -> Result {
        let limit = timeout == -1 ? configuration.queryTimeout : timeout
        do {
            guard let limit else { return try await body() }
            return try await withoutActuallyEscaping(body) { escapable in
                try await withThrowingTaskGroup(of: Result?.self) { group in
                    group.addTask { try await escapable() }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(Int64(limit * 1000)))
                        return nil
                    }
                    defer { group.cancelAll() }
                    // The first to finish wins; cancelling the other ends a wait for a connection at once.
                    guard let first = try await group.next(), let value = first else {
                        throw JobQueueError(.unavailable, "\(what): the database did not answer within \(formatSeconds(limit)) s")
                    }
                    return value
                }
            }
        } catch let error as JobQueueError {
            throw error
        } catch let error as DatabaseConfigurationError {
            throw error
        } catch {
            throw JobQueueError(Self.isConnectionFailure(error) ? .unavailable : .database, "\(what): \(Self.describe(error))")
        }
    }

    /// Whether the error means the database could not be reached (rather than a statement it refused).
    static func isConnectionFailure(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return error is CancellationError }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection:
            return true
        default:
            return false
        }
    }

    /// A round trip to the database within `timeout` seconds (readiness checks).
    public func ping(timeout: Double) async throws {
        try await guarded("ping", timeout: timeout) { [client, logger] in
            _ = try await client.query("SELECT 1", logger: logger).collect()
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            var parts = ["\(error.code)"]
            if let message = error.serverInfo?[.message] { parts.append(message) }
            if let state = error.serverInfo?[.sqlState] { parts.append("sqlstate \(state)") }
            return parts.joined(separator: ": ")
        }
        return "\(error)"
    }

    static func jobColumns(_ p: String) -> String {
        """
        \(p)id, \(p)tenant_id, \(p)status, \(p)priority, \(p)image_ids, \(p)audio_file, \(p)text_overlay, \(p)overlay_type, \
        \(p)duration_target::float8 AS duration_target, \(p)quality_mode, \(p)started_at, \(p)completed_at, \
        \(p)processing_time_ms, \(p)attempts, \(p)max_attempts, \(p)last_error, \(p)output_video_url, \
        \(p)output_thumbnail_url, \(p)created_at, \(p)updated_at, \(p)run_after, \(p)lease_owner, \(p)lease_expires_at, \
        \(p)lease_epoch, \(p)heartbeat_at, \(p)progress::int4 AS progress, \(p)cancel_requested, \(p)callback_url, \
        \(p)fields::text AS fields_json, \(p)voice_file, \(p)audio_loudness::text AS audio_loudness_json
        """
    }

    static let assetColumns = "id, tenant_id, asset_type, name, file_path, COALESCE(metadata, '{}'::jsonb)::text AS metadata, created_at"

    static func decodeJob(_ row: PostgresRow) throws -> Job {
        let r = row.makeRandomAccess()
        let statusText = try r["status"].decode(String.self)
        guard let status = JobStatus(rawValue: statusText) else {
            throw JobQueueError(.database, "job has unknown status '\(statusText)'")
        }
        let qualityText = try r["quality_mode"].decode(String?.self) ?? "normal"
        guard let quality = QualityMode(rawValue: qualityText) else {
            throw JobQueueError(.database, "job has unknown quality mode '\(qualityText)'")
        }
        var job = Job(
            id: try r["id"].decode(UUID.self),
            tenantId: try r["tenant_id"].decode(UUID.self),
            status: status,
            priority: try r["priority"].decode(Int.self),
            imageIds: try r["image_ids"].decode([UUID].self),
            audioAssetId: try r["audio_file"].decode(String?.self),
            textOverlay: try r["text_overlay"].decode(String?.self),
            template: try r["overlay_type"].decode(String?.self) ?? "golden-frame",
            durationTarget: try r["duration_target"].decode(Double?.self),
            qualityMode: quality,
            fields: (try? JSONDecoder().decode([String: JobFieldValue].self, from: Data((try r["fields_json"].decode(String?.self) ?? "{}").utf8))) ?? [:],
            startedAt: try r["started_at"].decode(Date?.self),
            completedAt: try r["completed_at"].decode(Date?.self),
            processingTimeMs: try r["processing_time_ms"].decode(Int?.self),
            attempts: try r["attempts"].decode(Int.self),
            maxAttempts: try r["max_attempts"].decode(Int.self),
            lastError: try r["last_error"].decode(String?.self),
            outputVideoKey: try r["output_video_url"].decode(String?.self),
            outputThumbnailKey: try r["output_thumbnail_url"].decode(String?.self),
            createdAt: try r["created_at"].decode(Date.self),
            updatedAt: try r["updated_at"].decode(Date.self),
            runAfter: try r["run_after"].decode(Date.self),
            leaseOwner: try r["lease_owner"].decode(String?.self),
            leaseExpiresAt: try r["lease_expires_at"].decode(Date?.self),
            leaseEpoch: try r["lease_epoch"].decode(Int64.self),
            heartbeatAt: try r["heartbeat_at"].decode(Date?.self),
            progress: try r["progress"].decode(Int.self),
            cancelRequested: try r["cancel_requested"].decode(Bool.self),
            callbackURL: try r["callback_url"].decode(String?.self)
        )
        job.voiceAssetId = try r["voice_file"].decode(String?.self)
        job.audioLoudness = (try r["audio_loudness_json"].decode(String?.self)).flatMap { try? JSONDecoder().decode(JobAudioLoudness.self, from: Data($0.utf8)) }
        return job
    }

    static func decodeTenant(_ row: PostgresRow) throws -> Tenant {
        let (id, name, cap, created) = try row.decode((UUID, String, Int, Date).self)
        return Tenant(id: id, name: name, maxRunningJobs: cap, createdAt: created)
    }

    static func decodeAsset(_ row: PostgresRow) throws -> Asset {
        let (id, tenant, typeText, name, path, metadata, created) = try row.decode((UUID, UUID, String, String, String, String, Date).self)
        guard let type = AssetType(rawValue: typeText) else {
            throw JobQueueError(.database, "asset \(id) has unknown type '\(typeText)'")
        }
        return Asset(id: id, tenantId: tenant, type: type, name: name, filePath: path, metadataJSON: metadata, createdAt: created)
    }
}

func formatSeconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
}

/// API keys: `rk_` and 48 hex digits (192 random bits). Stored as SHA-256; the first 11 characters are shown.
enum APIKeyFormat {
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "rk_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func visiblePrefix(of key: String) -> String { String(key.prefix(11)) }

    static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func isWellFormed(_ key: String) -> Bool {
        key.count == 51 && key.hasPrefix("rk_") && key.dropFirst(3).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
