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

    @Test func eachTenantHasItsOwnSecretAndOneTenantsSignatureDoesNotVerifyForAnother() throws {
        let master = "master-secret-0123456789"
        let secrets = WebhookSecrets(master: master)
        let a = try #require(UUID(uuidString: "0000000A-0000-4000-8000-000000000001"))
        let b = try #require(UUID(uuidString: "0000000B-0000-4000-8000-000000000002"))
        // Known answers, computed independently (Python: hmac.new(master, b"rendc-webhook-v1\0" + tenant + b"\0" + gen, sha256)).
        #expect(secrets.secret(tenantId: a, generation: 1) == "rendc_whsec_d3eab87093de480667c64ebb2b1923a0311bfe9339d267ca02b473fa80e9520d")
        #expect(secrets.secret(tenantId: a, generation: 2) == "rendc_whsec_bc1972467d860211831bf94748a31b55aad28e482be5c05a41c3162be59b69a3")
        #expect(secrets.secret(tenantId: a, generation: 1) != secrets.secret(tenantId: b, generation: 1))
        #expect(WebhookSecrets(master: master + "x").secret(tenantId: a, generation: 1) != secrets.secret(tenantId: a, generation: 1))

        // What tenant A can do with its own secret: sign a body. Tenant B's receiver (B's secret) refuses it, and
        // so does a receiver that still holds the deployment's master secret.
        let body = Data(#"{"event":"job.completed","job":{"outputVideoUrl":"https://evil.example/x.mp4"}}"#.utf8)
        let forged = WebhookSigner(secret: secrets.secret(tenantId: a, generation: 1)).signature(body: body, timestamp: 1_700_000_000)
        #expect(secrets.signer(tenantId: a, generation: 1).verify(header: forged, body: body, now: 1_700_000_000))
        #expect(!secrets.signer(tenantId: b, generation: 1).verify(header: forged, body: body, now: 1_700_000_000))
        #expect(!WebhookSigner(secret: master).verify(header: forged, body: body, now: 1_700_000_000))
        // After rotation the old secret's signatures no longer verify.
        #expect(!secrets.signer(tenantId: a, generation: 2).verify(header: forged, body: body, now: 1_700_000_000))

        // Printing the values shows neither the master nor a derived secret.
        for text in ["\(secrets)", String(reflecting: secrets), "\(secrets.signer(tenantId: a, generation: 1))"] {
            #expect(!text.contains(master) && !text.contains("d3eab870"), "\(text)")
        }
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
