import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server for tests.
///
/// By default the first call to ``shared()`` runs `initdb` into a fresh temporary folder and starts a private
/// PostgreSQL 15 on a free loopback port (trust auth, fsync off), owned by the `postgres` OS user when the tests run
/// as root (Postgres refuses to run as root). The server is stopped when the test process exits; a server left
/// behind by a test process that was killed is stopped by the next run.
///
/// When `RENDC_TEST_DATABASE_URL` is set (`postgres://user:pass@host:port/db`), that server is used instead and
/// nothing is started. Either way ``createDatabase(prefix:)`` makes a fresh database per suite or test, so tests
/// are isolated.
public final class PostgresServer: Sendable {
    /// Connection URL of the server's maintenance database (`postgres`), without a trailing path for user DBs.
    public let maintenanceURL: URL
    /// The data folder when this process started the server, nil for an external server.
    let dataDirectory: String?
    let binDirectory: String?

    init(maintenanceURL: URL, dataDirectory: String?, binDirectory: String?) {
        self.maintenanceURL = maintenanceURL
        self.dataDirectory = dataDirectory
        self.binDirectory = binDirectory
    }

    /// The process-wide server, started on first use.
    public static func shared() throws -> PostgresServer {
        try sharedState.withLock { state in
            if let server = state.server { return server }
            if let failure = state.failure { throw failure }
            do {
                let server = try start()
                state.server = server
                if server.dataDirectory != nil {
                    atexit { PostgresServer.stopShared() }
                }
                return server
            } catch {
                state.failure = error
                throw error
            }
        }
    }

    /// Makes a new, empty database and returns its connection URL (`postgres://...:port/NAME`).
    public func createDatabase(prefix: String = "rendc_test") throws -> URL {
        let safePrefix = prefix.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = String(safePrefix.prefix(40)) + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try runPSQL(url: maintenanceURL, sql: "CREATE DATABASE \"\(name)\"")
        guard var components = URLComponents(url: maintenanceURL, resolvingAgainstBaseURL: false) else {
            throw PostgresServerError("cannot parse \(maintenanceURL)")
        }
        components.path = "/" + name
        guard let url = components.url else { throw PostgresServerError("cannot build a URL for database \(name)") }
        return url
    }

    /// Runs SQL through `psql` against `url` (test setup and checks only); returns the rows, one a line,
    /// columns separated by `|`.
    @discardableResult
    public func runPSQL(url: URL, sql: String) throws -> [String] {
        let psql =
            (binDirectory.map { $0 + "/psql" }).flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }
            ?? Self.findBinDirectory().map { $0 + "/psql" } ?? "/usr/bin/psql"
        let result = try Self.run(psql, [url.absoluteString, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else {
            throw PostgresServerError("psql failed (\(result.status)) running \(sql): \(result.output)")
        }
        return result.output.split(separator: "\n").map(String.init)
    }

    // MARK: - Starting and stopping

    private struct State: @unchecked Sendable {
        var server: PostgresServer?
        var failure: (any Error)?
    }
    private static let sharedState = LockedBox(State())

    static func stopShared() {
        guard let server = sharedState.withLock({ $0.server }) else { return }
        server.stop()
    }

    /// Stops a server this process started and removes its folder.
    public func stop() {
        guard let dataDirectory, let binDirectory else { return }
        _ = try? Self.runAsPostgresUser(binDirectory + "/pg_ctl", ["-D", dataDirectory + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// A server of the caller's own, never the shared one (for tests that stop and restart it). Stop it with
    /// ``stop()`` when done.
    public static func startPrivate() throws -> PostgresServer {
        try start(allowExternal: false)
    }

    /// Stops this process's server (fast mode: connections are cut, committed data kept, since the test server runs
    /// with `synchronous_commit=off`), keeping its data for ``resume()``.
    public func pause() throws {
        guard let dataDirectory, let binDirectory else { throw PostgresServerError("only a server this process started can be paused") }
        let result = try Self.runAsPostgresUser(binDirectory + "/pg_ctl", ["-D", dataDirectory + "/data", "-m", "fast", "-w", "stop"])
        guard result.status == 0 else { throw PostgresServerError("pg_ctl stop failed: \(result.output)") }
    }

    /// Starts a paused server again on the same port.
    public func resume() throws {
        guard let dataDirectory, let binDirectory, let port = maintenanceURL.port else {
            throw PostgresServerError("only a server this process started can be resumed")
        }
        let started = try Self.runAsPostgresUser(
            binDirectory + "/pg_ctl",
            [
                "-D", dataDirectory + "/data", "-l", dataDirectory + "/server.log", "-w", "-t", "30", "-o",
                Self.options(port: port, root: dataDirectory), "start",
            ])
        guard started.status == 0 else { throw PostgresServerError("pg_ctl start failed: \(started.output)") }
    }

    /// Freezes this process's server (SIGSTOP to the postmaster and every process it started): connections stay open
    /// and new ones are accepted by the kernel, but nothing answers, as with a hung host. ``thaw()`` undoes it.
    public func freeze() throws { try signalServerProcesses(SIGSTOP) }

    /// Lets a frozen server run again (SIGCONT).
    public func thaw() throws { try signalServerProcesses(SIGCONT) }

    func signalServerProcesses(_ signal: Int32) throws {
        guard let dataDirectory else { throw PostgresServerError("only a server this process started can be frozen") }
        guard let pidText = try? String(contentsOfFile: dataDirectory + "/data/postmaster.pid", encoding: .utf8),
            let postmaster = pidText.split(separator: "\n").first.flatMap({ pid_t($0.trimmingCharacters(in: .whitespaces)) })
        else { throw PostgresServerError("no postmaster.pid in \(dataDirectory)/data") }
        // The postmaster's children (backends, checkpointer, ...) from /proc/PID/stat's fourth field, the parent.
        var pids = [postmaster]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == postmaster { pids.append(pid) }
        }
        for pid in pids where kill(pid, signal) != 0 && errno != ESRCH {
            throw PostgresServerError("kill(\(pid), \(signal)) failed: errno \(errno)")
        }
    }

    static func options(port: Int, root: String) -> String {
        "-p \(port) -k \(root) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            + "-c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB"
    }

    static func start(allowExternal: Bool = true) throws -> PostgresServer {
        if allowExternal, let external = ProcessInfo.processInfo.environment["RENDC_TEST_DATABASE_URL"], !external.isEmpty {
            guard let url = URL(string: external), url.scheme?.hasPrefix("postgres") == true else {
                throw PostgresServerError("RENDC_TEST_DATABASE_URL is not a postgres:// URL: \(external)")
            }
            return PostgresServer(maintenanceURL: url, dataDirectory: nil, binDirectory: findBinDirectory())
        }
        guard let bin = findBinDirectory() else {
            throw PostgresServerError(
                "PostgreSQL 15 server binaries not found in /usr/lib/postgresql/15/bin (apt-get install postgresql-15), "
                    + "or set RENDC_TEST_DATABASE_URL to an existing server")
        }
        reapStaleServers(bin: bin)

        let root = "/tmp/rendc-pg-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "\(getpid())".write(toFile: root + "/owner.pid", atomically: true, encoding: .utf8)
        let data = root + "/data"
        let asRoot = geteuid() == 0
        if asRoot {
            let chown = try run("/bin/chown", ["-R", "postgres:postgres", root])
            guard chown.status == 0 else {
                throw PostgresServerError("chown of \(root) to postgres failed: \(chown.output) (is postgresql-15 installed?)")
            }
        }
        let initdb = try runAsPostgresUser(bin + "/initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"])
        guard initdb.status == 0 else { throw PostgresServerError("initdb failed: \(initdb.output)") }

        var lastError = ""
        for _ in 0..<5 {
            let port = try freePort()
            let options = Self.options(port: port, root: root)
            let started = try runAsPostgresUser(bin + "/pg_ctl", ["-D", data, "-l", root + "/server.log", "-w", "-t", "30", "-o", options, "start"])
            if started.status == 0 {
                guard let url = URL(string: "postgres://postgres@127.0.0.1:\(port)/postgres") else {
                    throw PostgresServerError("bad URL for port \(port)")
                }
                return PostgresServer(maintenanceURL: url, dataDirectory: root, binDirectory: bin)
            }
            let log = (try? String(contentsOfFile: root + "/server.log", encoding: .utf8)) ?? ""
            lastError = started.output + "\n" + String(log.suffix(2000))
        }
        throw PostgresServerError("pg_ctl start failed: \(lastError)")
    }

    /// Stops servers left by test processes that were killed before their exit handler ran.
    static func reapStaleServers(bin: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/tmp") else { return }
        for entry in entries where entry.hasPrefix("rendc-pg-") {
            let root = "/tmp/" + entry
            guard let text = try? String(contentsOfFile: root + "/owner.pid", encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // owner still alive
            _ = try? runAsPostgresUser(bin + "/pg_ctl", ["-D", root + "/data", "-m", "immediate", "-w", "stop"])
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static func findBinDirectory() -> String? {
        let candidates = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") }
    }

    static func runAsPostgresUser(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        if geteuid() == 0 {
            return try run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        }
        return try run(executable, arguments)
    }

    /// Runs a program to completion with posix_spawn and waitpid, its output captured in a temporary file.
    /// (Foundation's `Process` is not used here: on Linux it learns of the child's exit through a descriptor the
    /// child inherits, and `pg_ctl start` hands that descriptor on to the daemonised server, so
    /// `waitUntilExit` would wait for the server to stop.) Descriptors above 2 are closed in the child.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("rendc-pgout-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // glibc ignores close actions on descriptors that are not open.
        let highest = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }.max() ?? 255
        for fd in Int32(3)...max(3, highest) { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw PostgresServerError("cannot run \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw PostgresServerError("waitpid for \(executable) failed: errno \(errno)") }
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // Exit status when it exited normally, else 128 + the signal.
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, output)
    }

    static func freePort() throws -> Int { try freeLocalPort() }
}

public struct PostgresServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = "test postgres: " + description }
}

/// A value behind a lock (Foundation's NSLock), for test state shared between threads and tasks.
public final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    public init(_ value: Value) { self.value = value }
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
