import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RendcTestSupport
import Testing
import Webhooks

/// What a local receiver got, by path.
actor Receiver {
    struct Call: Sendable {
        var path: String
        var headers: [String: String]
        var body: Data
    }
    var calls: [Call] = []
    func record(_ call: Call) { calls.append(call) }
    func calls(to path: String) -> [Call] { calls.filter { $0.path == path } }
}

/// Runs a receiver on 127.0.0.1: `/hook` answers 204, `/fail` 503, `/gone` 410, `/redirect` 307 to `/internal`.
func withReceiver(_ body: @Sendable (Receiver, Int) async throws -> Void) async throws {
    let receiver = Receiver()
    let router = Router()
    for (path, status) in [("/hook", HTTPResponse.Status.noContent), ("/fail", .serviceUnavailable), ("/gone", .gone), ("/internal", .ok)] {
        router.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            headers["host"] = request.head.authority  // HTTP/1 Host arrives as the :authority pseudo-field
            await receiver.record(.init(path: path, headers: headers, body: Data(buffer: bytes)))
            return Response(status: status)
        }
    }
    router.post("/redirect") { _, _ -> Response in
        Response(status: .temporaryRedirect, headers: [.location: "/internal"])
    }
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await app.test(.live) { client in
        try await body(receiver, try #require(client.port))
    }
}

@Suite struct WebhookSenderTests {
    static let secret = "webhook-test-secret-123"
    static let signer = WebhookSigner(secret: secret)
    static let local = try! WebhookTargetPolicy(allowList: "127.0.0.1/32")
    /// These tests are about classification, not timeouts: a loaded CI machine must not turn a slow 410 into a
    /// timeout (`retry`). The timeout test below sets its own short timeouts against a listener that never answers.
    static let patient = WebhookTimeouts(connect: 60, read: 60, total: 120)
    static var logger: Logger {
        var logger = Logger(label: "rendc.test.webhooks")
        logger.logLevel = .warning
        return logger
    }

    @Test func deliversSignedWithTheEventIdAndRequestId() async throws {
        try await withReceiver { receiver, port in
            let sender = WebhookSender(policy: Self.local, timeouts: Self.patient, logger: Self.logger)
            let body = Data(#"{"event":"job.completed","id":"e-1","job":{"text":"✨ 50% off"}}"#.utf8)
            let event = WebhookEvent(type: "job.completed", url: "http://127.0.0.1:\(port)/hook", body: body, id: "e-1", requestId: "req-42")
            #expect(await sender.attempt(event, signer: Self.signer) == .delivered(status: 204))
            let call = try #require(await receiver.calls(to: "/hook").first)
            #expect(call.body == body)
            #expect(call.headers["webhook-id"] == "e-1" && call.headers["x-rendc-delivery"] == "e-1")
            #expect(call.headers["x-rendc-event"] == "job.completed")
            #expect(call.headers["x-request-id"] == "req-42")
            let signature = try #require(call.headers["x-rendc-signature"])
            #expect(WebhookSigner(secret: Self.secret).verify(header: signature, body: call.body, now: Int(Date().timeIntervalSince1970)))
            // The Standard Webhooks headers sign "id.t.body" with the same key; the t is the X-Rendc-Signature's.
            let timestamp = try #require(call.headers["webhook-timestamp"])
            #expect(signature.hasPrefix("t=\(timestamp),"))
            #expect(
                call.headers["webhook-signature"]
                    == WebhookSigner(secret: Self.secret).standardSignature(id: "e-1", body: body, timestamp: Int(timestamp) ?? 0))
            // A request id that could break the header is left out, not sent.
            let odd = WebhookEvent(type: "job.failed", url: event.url, body: body, id: "e-2", requestId: "a\r\nX-Evil: 1")
            #expect(sender.headers(for: odd, signer: Self.signer).contains { $0.0 == "X-Request-Id" } == false)
        }
    }

    @Test func loopbackIsRefusedWithoutTheAllowListAndNothingIsSent() async throws {
        try await withReceiver { receiver, port in
            let strict = WebhookSender(timeouts: Self.patient, logger: Self.logger)
            for url in [
                "http://127.0.0.1:\(port)/hook", "http://[::ffff:127.0.0.1]:\(port)/hook", "http://2130706433:\(port)/hook",
                "http://0x7f.1:\(port)/hook",
            ] {
                let result = await strict.attempt(WebhookEvent(type: "job.completed", url: url, body: Data("{}".utf8)), signer: Self.signer)
                guard case .refused = result else {
                    Issue.record("\(url) was not refused: \(result)")
                    continue
                }
            }
            #expect(await receiver.calls.isEmpty, "no POST reached the local receiver")
        }
    }

    @Test func redirectsAreNotFollowedAndStatusesAreClassified() async throws {
        try await withReceiver { receiver, port in
            let sender = WebhookSender(policy: Self.local, timeouts: Self.patient, logger: Self.logger)
            let base = "http://127.0.0.1:\(port)"
            func send(_ path: String) async -> WebhookAttemptResult {
                await sender.attempt(WebhookEvent(type: "job.completed", url: base + path, body: Data("{}".utf8)), signer: Self.signer)
            }
            let redirect = await send("/redirect")
            guard case .refused(let reason) = redirect else { Issue.record("a 307 must be final, got \(redirect)"); return }
            #expect(reason.contains("307"))
            #expect(await receiver.calls(to: "/internal").isEmpty, "the redirect target got nothing")
            let fail = await send("/fail")
            guard case .retry(let why) = fail, why == "HTTP 503" else { Issue.record("503 is retried, got \(fail)"); return }
            let gone = await send("/gone")
            guard case .refused(let final) = gone, final == "HTTP 410" else { Issue.record("410 is final, got \(gone)"); return }
        }
    }

    @Test func theConnectionGoesToTheCheckedAddressNotAFreshLookup() async throws {
        try await withReceiver { receiver, port in
            // `hooks.rendc.test` exists only in this resolver: the POST can only arrive if the connection used the
            // address the policy checked (pinned), not a second DNS lookup.
            let policy = try WebhookTargetPolicy(allowList: "127.0.0.1/32")
            let sender = WebhookSender(
                policy: policy, timeouts: Self.patient,
                resolver: { host in
                    host == "hooks.rendc.test" ? [IPAddress("127.0.0.1")!] : []
                }, logger: Self.logger)
            let result = await sender.attempt(
                WebhookEvent(type: "job.completed", url: "http://hooks.rendc.test:\(port)/hook", body: Data("{}".utf8), id: "pinned"),
                signer: Self.signer)
            #expect(result == .delivered(status: 204))
            #expect(await receiver.calls(to: "/hook").first?.headers["host"]?.hasPrefix("hooks.rendc.test") == true)
            // Spelled with capitals or a trailing dot, the host is still the checked one: the override must hold
            // (it missed before, and the HTTP client's own lookup of a name only this resolver knows failed).
            for spelling in ["Hooks.Rendc.TEST", "hooks.rendc.test."] {
                let other = await sender.attempt(
                    WebhookEvent(type: "job.completed", url: "http://\(spelling):\(port)/hook", body: Data("{}".utf8), id: spelling),
                    signer: Self.signer)
                #expect(other == .delivered(status: 204), "\(spelling): \(other)")
            }
            #expect(await receiver.calls(to: "/hook").count == 3)
            // A name that resolves to loopback without being allowed is refused before any connection.
            let rebinding = WebhookSender(
                timeouts: Self.patient, resolver: { _ in [IPAddress("127.0.0.1")!] }, logger: Self.logger)
            guard
                case .refused = await rebinding.attempt(
                    WebhookEvent(type: "job.completed", url: "http://evil.rendc.test:\(port)/hook", body: Data("{}".utf8)), signer: Self.signer)
            else {
                Issue.record("a name resolving to loopback must be refused"); return
            }
            #expect(await receiver.calls.count == 3)
        }
    }

    @Test func aReceiverThatNeverAnswersCostsOneTimeoutAndIsRetriedLater() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let sender = WebhookSender(
            policy: Self.local, timeouts: WebhookTimeouts(connect: 1, read: 1, total: 2), logger: Self.logger)
        // Without timeouts this attempt would never return (the listener never answers).
        let result = await sender.attempt(
            WebhookEvent(type: "job.completed", url: "http://127.0.0.1:\(silent.port)/hook", body: Data("{}".utf8)), signer: Self.signer)
        guard case .retry(let reason) = result else { Issue.record("expected a retry, got \(result)"); return }
        #expect(!reason.contains("127.0.0.1"), "reasons name no address: \(reason)")
        #expect(silent.connections == 1)
        let closed = await sender.attempt(
            WebhookEvent(type: "job.completed", url: "http://127.0.0.1:9/closed", body: Data("{}".utf8)), signer: Self.signer)
        guard case .retry = closed else { Issue.record("connection refused is retried later"); return }
    }
}
