import Foundation
import JobQueue
import Logging
import RendcTestSupport

/// Databases for the service tests: a fresh one per test on the shared test PostgreSQL.
public enum TestDatabase {
    /// A new empty database, configured for a test machine that runs every suite at once: the production query
    /// deadline (5 s) is for a down database, and a loaded machine can be slower than that while nothing is wrong
    /// (the outage tests set short deadlines on purpose, on a private server).
    public static func configuration(prefix: String, maximumConnections: Int = 16) throws -> DatabaseConfiguration {
        try create(prefix: prefix, maximumConnections: maximumConnections).configuration
    }

    /// Like ``configuration(prefix:maximumConnections:)``, with the database's URL (for `psql`).
    public static func create(prefix: String, maximumConnections: Int = 16) throws -> (url: URL, configuration: DatabaseConfiguration) {
        let url = try PostgresServer.shared().createDatabase(prefix: prefix)
        var configuration = try DatabaseConfiguration(url: url.absoluteString)
        configuration.tls = .disable
        configuration.maximumConnections = maximumConnections
        configuration.queryTimeout = 120
        return (url, configuration)
    }

    /// Runs SQL through `psql` on the database `configuration` names (a test's own checks, or a step it takes in
    /// the database that time or another process would take); returns the rows as ``PostgresServer/runPSQL(url:sql:)``.
    @discardableResult
    public static func psql(_ configuration: DatabaseConfiguration, _ sql: String) throws -> [String] {
        guard case .tcp(let host, let port) = configuration.endpoint,
            let url = URL(string: "postgres://\(configuration.username)@\(host):\(port)/\(configuration.database)")
        else { throw PostgresServerError("psql needs a TCP endpoint, not \(configuration.endpoint)") }
        return try PostgresServer.shared().runPSQL(url: url, sql: sql)
    }

    /// A logger that shows warnings and worse, so a passing run stays quiet.
    public static func logger(_ label: String, level: Logger.Level = .warning) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
