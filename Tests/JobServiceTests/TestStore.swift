import Foundation
import JobQueue
import Logging
import RendcTestSupport

/// A fresh database on the shared test Postgres, migrated, with a running store.
func withTestStore<Result: Sendable>(
    _ name: String = #function, policy: QueuePolicy = QueuePolicy(), migrate: Bool = true,
    _ body: @Sendable (JobStore, DatabaseConfiguration) async throws -> Result
) async throws -> Result {
    let server = try PostgresServer.shared()
    let url = try server.createDatabase(prefix: "jobs_" + name.prefix(20))
    var configuration = try DatabaseConfiguration(url: url.absoluteString)
    configuration.tls = .disable
    configuration.maximumConnections = 24
    // The production deadline (5 s) is for a down database; a test machine running every suite at once can be
    // slower than that while nothing is wrong (DatabaseOutageTests set short deadlines on purpose).
    configuration.queryTimeout = 120
    var logger = Logger(label: "rendc.test.jobs")
    logger.logLevel = .warning
    let settings = configuration
    return try await JobStore.withRunningStore(configuration: settings, policy: policy, logger: logger) { store in
        if migrate { try await store.migrate() }
        return try await body(store, settings)
    }
}

/// A job for `tenant` with one random image id.
func sampleJob(_ tenant: UUID, priority: Int = 0, maxAttempts: Int = 3) -> NewJob {
    NewJob(tenantId: tenant, imageIds: [UUID()], textOverlay: "hello", priority: priority, maxAttempts: maxAttempts)
}
