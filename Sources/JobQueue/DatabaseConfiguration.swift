import Foundation
import NIOSSL
import PostgresNIO

/// Where the job database is and how to reach it. The CLI's `Settings` builds it (from `DATABASE_URL` or the
/// seed's `DB_HOST`/`DB_PORT`/`DB_NAME`/`DB_USER`/`DB_PASSWORD`) and passes it down; nothing here reads the
/// environment.
public struct DatabaseConfiguration: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    /// libpq's `sslmode`, reduced to what postgres-nio offers.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable, prefer, require
    }

    public var endpoint: Endpoint
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// Upper bound of pooled connections per process (a worker holds one for LISTEN).
    public var maximumConnections: Int
    /// Seconds to open a connection (TCP, TLS and authentication) before giving up on that attempt.
    public var connectTimeout: Double = 3
    /// Seconds a store call (waiting for a pooled connection included) may take before it fails as
    /// ``JobQueueError/Code/unavailable``: a down or hung database answers callers in seconds, not minutes.
    public var queryTimeout: Double = 5

    public init(
        endpoint: Endpoint, username: String, password: String? = nil, database: String, tls: TLSMode = .prefer,
        maximumConnections: Int = 16
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.maximumConnections = maximumConnections
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=disable`. A unix socket folder goes in the
    /// `host` query item (`postgres:///db?host=/var/run/postgresql`), as libpq accepts it.
    public init(url text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw DatabaseConfigurationError("DATABASE_URL must look like postgres://user:password@host:port/database")
        }
        let items = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw DatabaseConfigurationError("DATABASE_URL names no database (expected postgres://.../DATABASE)")
        }
        let port: Int
        if let p = components.port {
            guard (1...65535).contains(p) else { throw DatabaseConfigurationError("DATABASE_URL port \(p) is out of range") }
            port = p
        } else if let p = items["port"] {
            guard let value = Int(p), (1...65535).contains(value) else {
                throw DatabaseConfigurationError("DATABASE_URL port '\(p)' is not a port number")
            }
            port = value
        } else {
            port = 5432
        }
        let endpoint: Endpoint
        if let socketFolder = items["host"], socketFolder.hasPrefix("/") {
            endpoint = .unixSocket(path: socketFolder + "/.s.PGSQL.\(port)")
        } else if let host = components.host, !host.isEmpty {
            endpoint = .tcp(host: host, port: port)
        } else {
            endpoint = .tcp(host: "localhost", port: port)
        }
        let tls: TLSMode
        switch items["sslmode"] {
        case nil, "prefer", "allow": tls = .prefer
        case "disable": tls = .disable
        case "require", "verify-ca", "verify-full": tls = .require
        case let other?:
            throw DatabaseConfigurationError("DATABASE_URL sslmode '\(other)' is not one of disable, prefer, require")
        }
        self.init(
            endpoint: endpoint,
            username: components.user.flatMap { $0.removingPercentEncoding } ?? "postgres",
            password: components.password.flatMap { $0.removingPercentEncoding },
            database: database,
            tls: tls
        )
    }

    /// Never shows the password.
    public var description: String {
        let place: String
        switch endpoint {
        case .tcp(let host, let port): place = "\(host):\(port)"
        case .unixSocket(let path): place = path
        }
        return "postgres://\(username)\(password == nil ? "" : ":***")@\(place)/\(database)"
    }

    func clientConfiguration() -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let tlsSetting: PostgresClient.Configuration.TLS
            switch tls {
            case .disable: tlsSetting = .disable
            case .prefer: tlsSetting = .prefer(.makeClientConfiguration())
            case .require: tlsSetting = .require(.makeClientConfiguration())
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tlsSetting)
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: username, password: password, database: database)
        }
        configuration.options.maximumConnections = max(2, maximumConnections)
        configuration.options.connectTimeout = .milliseconds(Int64(max(0.1, connectTimeout) * 1000))
        return configuration
    }
}

public struct DatabaseConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "database configuration: \(message)" }
}
