import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobAPI
import JobQueue
import Logging
import ObjectStorage
import RendcTestSupport
import Testing
import Webhooks

@Suite struct CallbackURLTests {
    /// SSRF (issue 10, finding 2): internal targets are refused when the job is submitted, naming `callbackUrl`.
    @Test func internalCallbackTargetsAreRefusedAtSubmit() async throws {
        try await withAPI { api in
            let image = UUID().uuidString
            for url in [
                "http://127.0.0.1:5432/", "http://169.254.169.254/latest/meta-data/", "http://2130706433/", "http://0x7f.1/",
                "http://[::ffff:127.0.0.1]/", "http://10.0.0.8/hook", "http://100.64.1.1/", "http://[fd00::1]/",
                "http://user:secret@93.184.216.34/", "http://93.184.216.34/a b",
            ] {
                let body = #"{"imageIds":["\#(image)"],"callbackUrl":\#(String(data: try JSONEncoder().encode(url), encoding: .utf8)!)}"#
                let response = try await api.postJSON("/api/v1/video/process", key: api.keyA, body)
                #expect(response.status.code == 422 || response.status.code == 400, "\(url): \(response.status)")
                #expect(try errorOf(response).field == "callbackUrl", "\(url)")
            }
            // A CR/LF in the URL never reaches the database.
            let crlf = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA, #"{"imageIds":["\#(image)"],"callbackUrl":"http://93.184.216.34/a\r\nX-Evil: 1"}"#)
            #expect(crlf.status.code == 422 || crlf.status.code == 400)
            #expect(try errorOf(crlf).field == "callbackUrl")
            // A public address passes the URL check (the request then fails on the unknown image, a later check).
            let ok = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA, #"{"imageIds":["\#(image)"],"callbackUrl":"https://93.184.216.34/hook"}"#)
            #expect(try errorOf(ok).field == "imageIds[0]")
        }
    }

    @Test func theAllowListAdmitsAnOperatorsPrivateReceiver() async throws {
        try await withAPI(configure: { $0.webhookTargets = try! WebhookTargetPolicy(allowList: "127.0.0.1/32") }) { api in
            let image = UUID().uuidString
            let allowed = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA, #"{"imageIds":["\#(image)"],"callbackUrl":"http://127.0.0.1:9999/hook"}"#)
            #expect(try errorOf(allowed).field == "imageIds[0]", "the callback URL passed")
            let other = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA, #"{"imageIds":["\#(image)"],"callbackUrl":"http://127.0.0.2:9999/hook"}"#)
            #expect(other.status.code == 422)
            #expect(try errorOf(other).field == "callbackUrl")
        }
    }

    /// A name server that does not answer is the resolver's state, not the request's fault: 503 with
    /// `Retry-After` (it was a 422, which tells a client to change its request); a name that does not exist
    /// stays 422.
    @Test func aLookupThatTimesOutIs503AndANameThatDoesNotExistIs422() async throws {
        let resolver = HostResolver(timeout: 0.3) { host in
            if host == "silent.example.com" { Thread.sleep(forTimeInterval: 2) }
            throw HostLookupError(.notFound, host: host, "cannot resolve '\(host)'")
        }
        try await withAPI(configure: { $0.webhookTargets = WebhookTargetPolicy(hostResolver: resolver) }) { api in
            let image = UUID().uuidString
            let silent = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA, #"{"imageIds":["\#(image)"],"callbackUrl":"https://silent.example.com/hook"}"#)
            #expect(silent.status.code == 503)
            #expect(try errorOf(silent).code == "callback_lookup_unavailable")
            #expect(try errorOf(silent).field == "callbackUrl")
            #expect(silent.headers[.retryAfter] == "5")
            let missing = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA, #"{"imageIds":["\#(image)"],"callbackUrl":"https://missing.example.com/hook"}"#)
            #expect(missing.status.code == 422)
            #expect(try errorOf(missing).code == "validation_failed")
        }
    }
}

/// A name server that never answers for `*.blackhole.example` (until released); `internal.*` resolves to 10.0.0.8,
/// any other name to a public address. Counts the lookups stuck in it.
final class BlackHoleLookup: @unchecked Sendable {
    private let lock = NSLock()
    private let gate = DispatchSemaphore(value: 0)
    private var stuck = 0
    private var released = false

    var lookup: HostResolver.Lookup {
        { [self] host in
            if host.hasSuffix(".blackhole.example") {
                let wait = lock.withLock {
                    stuck += 1
                    return !released
                }
                if wait { gate.wait() }
                lock.withLock { stuck -= 1 }
            }
            return host.hasPrefix("internal.") ? [IPAddress("10.0.0.8")!] : [IPAddress("93.184.216.34")!]
        }
    }

    var inside: Int { lock.withLock { stuck } }

    func release() {
        let waiting = lock.withLock {
            released = true
            return stuck
        }
        for _ in 0..<max(waiting, 16) { gate.signal() }
    }
}

@Suite struct CallbackLookupShareTests {
    /// svc12 (left by review9): each tenant may hold two callback lookups and the resolver had four threads, so
    /// two tenants submitting black-holed callback names made every other tenant's submit with a callback answer
    /// 503 `callback_lookup_unavailable` until their lookups gave up. Now a lookup whose caller has left is written
    /// off and its thread replaced. Contrast: with the four stuck lookups still stuck, a third tenant's submits get
    /// the answers only a real lookup gives (202 for a public host, 422 for one resolving to 10.0.0.8); before,
    /// both were 503.
    @Test func twoTenantsBlackHoledCallbacksLeaveAThirdTenantsSubmitsAlone() async throws {
        let names = BlackHoleLookup()
        defer { names.release() }
        // 2 s: the third tenant's lookup must reach a thread before its deadline on a loaded machine.
        let resolver = HostResolver(timeout: 2, maximumConcurrentLookups: 4, maximumPerOwner: 2, lookup: names.lookup)
        try await withAPI(configure: { $0.webhookTargets = WebhookTargetPolicy(hostResolver: resolver) }) { api in
            let image = UUID().uuidString
            try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for (key, tenant) in [(api.keyA, "a"), (api.keyB, "b")] {
                    for n in 0..<2 {
                        group.addTask {
                            try await api.postJSON(
                                "/api/v1/video/process", key: key,
                                #"{"imageIds":["\#(image)"],"callbackUrl":"https://\#(tenant)\#(n).blackhole.example/hook"}"#)
                        }
                    }
                }
                for try await response in group {
                    #expect(response.status.code == 503, "\(String(buffer: response.body))")
                    #expect(try errorOf(response).code == "callback_lookup_unavailable")
                }
            }
            #expect(names.inside == 4, "the two tenants' four lookups are all still stuck")

            let (_, keyC) = try await api.store.createTenantWithKey(name: "tenant C")
            let photo = try await api.uploadImage(key: keyC.plaintext)
            let accepted = try await api.submit(key: keyC.plaintext, imageIds: [photo], extra: #","callbackUrl":"https://hooks.example.com/done""#)
            #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")
            let refused = try await api.submit(key: keyC.plaintext, imageIds: [photo], extra: #","callbackUrl":"https://internal.example.com/done""#)
            #expect(refused.status.code == 422, "\(String(buffer: refused.body))")
            #expect(try errorOf(refused) == ("validation_failed", "callbackUrl"))
            #expect(String(buffer: refused.body).contains("resolves to"), "\(String(buffer: refused.body))")
            #expect(names.inside == 4, "answered while the four lookups were still stuck")
        }
    }
}

/// A down database (issue 10, finding 6): answers come in seconds as 503 `database_unavailable` with
/// `Retry-After`, and the API recovers when Postgres is back. Uses a private Postgres it stops and restarts.
/// Its own threads: starting, stopping and freezing that server block a thread for seconds.
@Suite(.ownThreads) struct DatabaseOutageTests {
    static func api(_ store: JobStore) -> JobAPIServer {
        var logger = Logger(label: "rendc.test.outage")
        logger.logLevel = .critical
        var configuration = APIConfiguration(urlSigningSecret: Array("outage-test-secret-0123".utf8))
        configuration.apiKeyCacheSeconds = 0
        return JobAPIServer(
            configuration: configuration, jobStore: store,
            objectStore: LocalDirectoryStore(root: Fixtures.scratchRoot.appendingPathComponent("rendc-outage-\(UUID())").path),
            templates: { [] }, metrics: nil, logger: logger)
    }

    static func expectUnavailable(_ response: TestResponse, _ what: String) throws {
        #expect(response.status == .serviceUnavailable, "\(what): \(response.status)")
        #expect(try errorOf(response).code == "database_unavailable", "\(what)")
        #expect(response.headers[.retryAfter] == "5", "\(what)")
    }

    /// Runs `body` with `get(uri)`, an authenticated GET to the API on a store in a new database of `server` (1 s
    /// to connect, 2 s a query), once the API has answered a health check and a job list (pooled connections open).
    static func withAPI(
        on server: PostgresServer, prefix: String, _ body: @escaping @Sendable (_ get: (String) async throws -> TestResponse) async throws -> Void
    ) async throws {
        var database = try DatabaseConfiguration(url: try server.createDatabase(prefix: prefix).absoluteString)
        database.tls = .disable
        database.connectTimeout = 1
        database.queryTimeout = 2
        var logger = Logger(label: "rendc.test.\(prefix)")
        logger.logLevel = .critical
        try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
            try await store.migrate()
            let (_, key) = try await store.createTenantWithKey(name: prefix)
            try await Self.api(store).makeApplication().test(.router) { client in
                func get(_ uri: String) async throws -> TestResponse {
                    try await client.executeRequest(uri: uri, method: .get, headers: [.authorization: "Bearer \(key.plaintext)"], body: nil)
                }
                #expect(try await get("/readyz").status == .ok)
                #expect(try await get("/api/v1/video/jobs").status == .ok)
                try await body(get)
            }
        }
    }

    @Test func aStoppedDatabaseGives503AndTheAPIRecovers() async throws {
        let server = try PostgresServer.startPrivate()
        defer { server.stop() }
        try await Self.withAPI(on: server, prefix: "outage") { get in
            try server.pause()
            let clock = ContinuousClock()
            var readyTook = Duration.zero, listTook = Duration.zero
            readyTook = try await clock.measure { try Self.expectUnavailable(try await get("/readyz"), "readyz") }
            listTook = try await clock.measure { try Self.expectUnavailable(try await get("/api/v1/video/jobs"), "list jobs") }
            print("database stopped: /readyz answered 503 after \(readyTook), GET /api/v1/video/jobs after \(listTook) (a figure, not a bound)")
            try Self.expectUnavailable(try await get("/api/v1/video/jobs/\(UUID())"), "get job")

            try server.resume()
            // Pooled connections that died with the server fail once (503 again, never a hang), then are replaced.
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<120 {
                let ready = try await get("/readyz").status, list = try await get("/api/v1/video/jobs").status
                statuses.append(list)
                if ready == .ok && list == .ok { break }
                #expect(Set([ready, list]).isSubset(of: [.ok, .serviceUnavailable]), "\(ready) \(list)")
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(statuses.last == .ok, "requests work again once Postgres is back: \(statuses.map(\.code))")
        }
    }

    /// A server that stops answering on connections already open (a hung host: SIGSTOP, nothing is closed). The
    /// statement sent on a pooled connection cannot be cancelled, and the request used to wait for it (the timeout's
    /// task group waited for its child) until the server went on. A watchdog thaws the server after 60 s, so a
    /// regression fails instead of hanging; the answers must come while it is still frozen, i.e. from the timeout.
    @Test func aFrozenDatabaseGives503WhileStillFrozen() async throws {
        let server = try PostgresServer.startPrivate()
        defer {
            try? server.thaw()
            server.stop()
        }
        try await Self.withAPI(on: server, prefix: "frozen") { get in
            // Pooled connections are open and idle when the server freezes.
            try server.freeze()
            let thawedByWatchdog = LockedBox(false)
            let watchdog = Task {
                try await Task.sleep(for: .seconds(60))
                thawedByWatchdog.withLock { $0 = true }
                try server.thaw()
            }
            let ready = try await get("/readyz"), list = try await get("/api/v1/video/jobs")
            let stillFrozen = !thawedByWatchdog.withLock { $0 }
            watchdog.cancel()
            try server.thaw()
            #expect(stillFrozen, "the answers waited for the server to be thawed")
            try Self.expectUnavailable(ready, "readyz")
            try Self.expectUnavailable(list, "list jobs")

            // Thawed, the server answers the statements it was sent and the API works again.
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<60 {
                statuses.append(try await get("/api/v1/video/jobs").status)
                if statuses.last == .ok { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(statuses.last == .ok, "requests work again once Postgres is thawed: \(statuses.map(\.code))")
        }
    }

    @Test func aDatabaseThatAcceptsAndNeverAnswersGives503() async throws {
        // Without connect and query timeouts these requests would wait forever.
        let silent = try SilentListener()
        defer { silent.close() }
        var database = try DatabaseConfiguration(url: "postgres://postgres@127.0.0.1:\(silent.port)/nowhere?sslmode=disable")
        database.connectTimeout = 1
        database.queryTimeout = 2
        var logger = Logger(label: "rendc.test.outage")
        logger.logLevel = .critical
        try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
            try await Self.api(store).makeApplication().test(.router) { client in
                let clock = ContinuousClock(), start = clock.now
                let ready = try await client.executeRequest(uri: "/readyz", method: .get, headers: [:], body: nil)
                print("database hung: /readyz answered \(ready.status.code) after \(clock.now - start) (a figure, not a bound)")
                try Self.expectUnavailable(ready, "readyz")
                let list = try await client.executeRequest(
                    uri: "/api/v1/video/jobs", method: .get, headers: [.authorization: "Bearer rk_\(String(repeating: "a", count: 48))"], body: nil)
                try Self.expectUnavailable(list, "list jobs")
            }
        }
        #expect(silent.connections >= 1, "the store did try to connect")
    }
}
