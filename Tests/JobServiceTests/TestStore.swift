import Foundation
import JobQueue
import Logging
import QueueTestSupport
import RendcTestSupport

/// A fresh database on the shared test Postgres, migrated, with a running store.
func withTestStore<Result: Sendable>(
    _ name: String = #function, policy: QueuePolicy = QueuePolicy(), migrate: Bool = true,
    _ body: @Sendable (JobStore, DatabaseConfiguration) async throws -> Result
) async throws -> Result {
    let settings = try TestDatabase.configuration(prefix: "jobs_" + name.prefix(20), maximumConnections: 24)
    let logger = TestDatabase.logger("rendc.test.jobs")
    return try await JobStore.withRunningStore(configuration: settings, policy: policy, logger: logger) { store in
        if migrate { try await store.migrate() }
        return try await body(store, settings)
    }
}

/// A job for `tenant` with one random image id.
func sampleJob(_ tenant: UUID, priority: Int = 0, maxAttempts: Int = 3) -> NewJob {
    NewJob(tenantId: tenant, imageIds: [UUID()], textOverlay: "hello", priority: priority, maxAttempts: maxAttempts)
}
