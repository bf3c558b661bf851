import ArgumentParser
import Foundation
import JobQueue
import Logging
import RendcSettings

/// `rendc migrate`: brings the job database schema up to date (safe to run again, and concurrently).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or update the job database schema (idempotent).",
        discussion: "Connects with DATABASE_URL, or DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD."
    )

    func run() async throws {
        let settings = try loadSettings()
        let database = try settings.database()
        let logger = settings.logger("rendc.migrate")
        let applied = try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
            try await store.migrate()
        }
        let current = Migrations.all.map(\.version).max() ?? 0
        if applied.isEmpty {
            print("schema is current (version \(current))")
        } else {
            print("applied migrations \(applied.map(String.init).joined(separator: ", ")); schema is at version \(current)")
        }
    }
}
