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
