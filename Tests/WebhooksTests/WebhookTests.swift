import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import Webhooks

@Suite struct WebhookSigningTests {
    @Test func signatureVerifiesAndRejectsTampering() {
        let signer = WebhookSigner(secret: "0123456789abcdef-secret")
        let body = Data(#"{"event":"job.completed","job":{"id":"x"}}"#.utf8)
        let header = signer.signature(body: body, timestamp: 1_700_000_000)
        #expect(header.hasPrefix("t=1700000000,v1="))
        #expect(header.count == "t=1700000000,v1=".count + 64)
        #expect(signer.verify(header: header, body: body, now: 1_700_000_100))
        #expect(!signer.verify(header: header, body: body + Data(" ".utf8), now: 1_700_000_100))
        #expect(!signer.verify(header: header, body: body, now: 1_700_001_000), "a replay after 5 minutes is refused")
        #expect(!WebhookSigner(secret: "another-secret-of-16").verify(header: header, body: body, now: 1_700_000_000))
        // Same input, same MAC (HMAC-SHA256 is deterministic): compare with an independent computation.
        #expect(header == signer.signature(body: body, timestamp: 1_700_000_000))
    }

    @Test func retryScheduleGrowsAndIsBounded() {
        let p = WebhookRetryPolicy(attempts: 6, baseDelay: 1, maxDelay: 8)
        #expect(p.delay(afterAttempt: 1, unit: 0.5) == 1)
        #expect(p.delay(afterAttempt: 3, unit: 0.5) == 4)
        #expect(p.delay(afterAttempt: 10, unit: 0.5) == 8)
        #expect(p.delay(afterAttempt: 2, unit: 0) == 1.6 && p.delay(afterAttempt: 2, unit: 0.999) < 2.4)
        #expect(WebhookRetryPolicy.isRetryable(status: 503) && WebhookRetryPolicy.isRetryable(status: 429))
        #expect(!WebhookRetryPolicy.isRetryable(status: 404) && !WebhookRetryPolicy.isRetryable(status: 400))
    }
}

/// Records what a receiver got, failing the first `failures` calls with 503.
actor Receiver {
    var calls: [(signature: String, delivery: String, body: Data)] = []
    var failures: Int
    init(failures: Int) { self.failures = failures }
    func record(_ signature: String, _ delivery: String, _ body: Data) -> HTTPResponse.Status {
        calls.append((signature, delivery, body))
        if failures > 0 { failures -= 1; return .serviceUnavailable }
        return .ok
    }
}

@Suite struct WebhookDeliveryTests {
    @Test func deliversSignedWithRetriesWithoutBlockingTheSender() async throws {
        let receiver = Receiver(failures: 2)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let status = await receiver.record(request.headers[.init("X-Rendc-Signature")!] ?? "", request.headers[.init("X-Rendc-Delivery")!] ?? "", Data(buffer: body))
            return Response(status: status)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let secret = "webhook-test-secret-123"
            let dispatcher = WebhookDispatcher(secret: secret, policy: WebhookRetryPolicy(attempts: 4, baseDelay: 0.05, maxDelay: 0.2), logger: Logger(label: "test"))
            let body = Data(#"{"event":"job.completed","job":{"id":"1","status":"completed","text":"✨ 50% off"}}"#.utf8)
            let started = ContinuousClock.now
            dispatcher.send(WebhookEvent(type: "job.completed", url: "http://127.0.0.1:\(port)/hook", body: body, id: "delivery-1"))
            dispatcher.send(WebhookEvent(type: "job.failed", url: "http://127.0.0.1:\(port)/missing", body: body, id: "delivery-2"))
            #expect(ContinuousClock.now - started < .milliseconds(50), "send must only queue")
            dispatcher.finish()
            await dispatcher.run()
            var outcomes: [String: (Int, Bool)] = [:]
            for await (id, attempts, delivered) in dispatcher.outcomes { outcomes[id] = (attempts, delivered) }
            #expect(outcomes["delivery-1"]?.0 == 3 && outcomes["delivery-1"]?.1 == true, "two 503s, then 200")
            #expect(outcomes["delivery-2"]?.0 == 1 && outcomes["delivery-2"]?.1 == false, "404 is final")
            let calls = await receiver.calls.filter { $0.delivery == "delivery-1" }
            #expect(calls.count == 3)
            let signer = WebhookSigner(secret: secret)
            for call in calls {
                #expect(call.body == body)
                #expect(signer.verify(header: call.signature, body: call.body, now: Int(Date().timeIntervalSince1970)))
            }
        }
    }

    @Test func unreachableReceiverIsGivenUp() async throws {
        let dispatcher = WebhookDispatcher(secret: "webhook-test-secret-123", policy: WebhookRetryPolicy(attempts: 2, baseDelay: 0.01), timeout: .seconds(2), logger: Logger(label: "test"))
        dispatcher.send(WebhookEvent(type: "job.completed", url: "http://127.0.0.1:9/closed", body: Data("{}".utf8), id: "d"))
        dispatcher.finish()
        await dispatcher.run()
        var result: (Int, Bool)?
        for await (_, attempts, delivered) in dispatcher.outcomes { result = (attempts, delivered) }
        #expect(result?.0 == 2 && result?.1 == false)
    }
}
