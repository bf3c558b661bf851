import Digests
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
        try await guarded("migrate", timeout: nil) { [self] in
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
        try await guarded("read schema_migrations") { [self] in
            let exists =
                try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
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
        let done = Set(
            try await connection.query("SELECT version FROM schema_migrations", logger: logger)
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
    ///
    /// The caller has its answer at the deadline even when the step cannot be stopped (a statement already sent to a
    /// server that went silent): the step is cancelled and left to end on its own (see ``withDeadline(seconds:_:)``).
    /// So a timeout says the outcome is unknown, not that nothing happened; writes are idempotent or fenced for that.
    func guarded<Result: Sendable>(
        _ what: String, timeout: Double? = -1, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let limit = timeout == -1 ? configuration.queryTimeout : timeout
        do {
            guard let limit else { return try await body() }
            guard let value = try await withDeadline(seconds: limit, body) else {
                throw JobQueueError(.unavailable, "\(what): the database did not answer within \(formatSeconds(limit)) s")
            }
            return value
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
        // The pool's own errors (its type is not importable: postgres-nio's `_ConnectionPoolModule`): the circuit
        // breaker, open after a minute without any connection, fails each request at once until a connection works
        // again; a request cancelled or a pool shut down is no answer from the database either.
        if String(describing: type(of: error)) == "ConnectionPoolError" { return true }
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
        \(p)fields::text AS fields_json, \(p)voice_file, \(p)audio_loudness::text AS audio_loudness_json, \
        \(p)render_notes::text AS render_notes_json
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
            fields: (try? JSONDecoder().decode([String: JobFieldValue].self, from: Data((try r["fields_json"].decode(String?.self) ?? "{}").utf8)))
                ?? [:],
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
        job.audioLoudness = (try r["audio_loudness_json"].decode(String?.self)).flatMap {
            try? JSONDecoder().decode(JobAudioLoudness.self, from: Data($0.utf8))
        }
        job.renderNotes = (try r["render_notes_json"].decode(String?.self)).flatMap {
            try? JSONDecoder().decode([String].self, from: Data($0.utf8))
        }
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
        return "rk_" + bytes.hexString
    }

    static func visiblePrefix(of key: String) -> String { String(key.prefix(11)) }

    static func hash(_ key: String) -> String {
        SHA256Hex.of(key)
    }

    static func isWellFormed(_ key: String) -> Bool {
        key.count == 51 && key.hasPrefix("rk_") && key.dropFirst(3).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
