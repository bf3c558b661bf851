import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import Logging
import Testing
import Webhooks

@testable import JobAPI

/// Issue: every tenant verified webhooks with the deployment's one secret, so any tenant could sign a webhook that
/// another tenant's receiver accepted. Each tenant now reads its own secret (derived, never stored) and rotates it.
@Suite(.serialized) struct WebhookSecretTests {
    static let master = "api-webhook-master-secret-0123"

    @Test func eachTenantReadsOnlyItsOwnSecretAndRotationReplacesIt() async throws {
        try await withAPI(configure: { $0.webhookSecrets = WebhookSecrets(master: Self.master) }) { api in
            let secrets = WebhookSecrets(master: Self.master)
            let readA = try await api.send(.get, "/api/v1/webhook-secret", key: api.keyA)
            #expect(readA.status == .ok)
            #expect(readA.headers[.cacheControl] == "no-store")
            let a = try jsonObject(readA)
            let secretA = try #require(a["secret"] as? String)
            #expect(secretA == secrets.secret(tenantId: api.tenantA, generation: 1) && a["generation"] as? Int == 1)
            #expect(secretA.hasPrefix(WebhookSecrets.prefix) && !secretA.contains(Self.master))

            // B gets B's secret: there is no way to name another tenant, and B's secret does not verify A's events.
            let secretB = try #require(try jsonObject(try await api.send(.get, "/api/v1/webhook-secret", key: api.keyB))["secret"] as? String)
            #expect(secretB == secrets.secret(tenantId: api.tenantB, generation: 1) && secretB != secretA)
            let body = Data(#"{"event":"job.completed"}"#.utf8)
            let signedForA = WebhookSigner(secret: secretA).signature(body: body, timestamp: 1_700_000_000)
            #expect(!WebhookSigner(secret: secretB).verify(header: signedForA, body: body, now: 1_700_000_000))

            // Without credentials: 401, no secret.
            let anonymous = try await api.send(.get, "/api/v1/webhook-secret", key: nil)
            #expect(anonymous.status == .unauthorized && !String(buffer: anonymous.body).contains(WebhookSecrets.prefix))

            // A rotates: a new secret at generation 2, the old one gone for good; B's is unchanged.
            let rotated = try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyA)
            #expect(rotated.status == .ok)
            let newA = try #require(try jsonObject(rotated)["secret"] as? String)
            #expect(newA == secrets.secret(tenantId: api.tenantA, generation: 2) && newA != secretA)
            #expect(try jsonObject(try await api.send(.get, "/api/v1/webhook-secret", key: api.keyA))["secret"] as? String == newA)
            #expect(try jsonObject(try await api.send(.get, "/api/v1/webhook-secret", key: api.keyB))["secret"] as? String == secretB)
            #expect(try await api.store.webhookSecretGeneration(tenantId: api.tenantA) == 2)
            // Wrong methods: 405.
            #expect(try await api.send(.post, "/api/v1/webhook-secret", key: api.keyA).status == .methodNotAllowed)
            #expect(try await api.send(.get, "/api/v1/webhook-secret/rotate", key: api.keyA).status == .methodNotAllowed)
        }
    }

    /// Issue: a retried rotation (a timeout, a proxy retry) rotated twice, so the secret the client got first was
    /// already dead. With an `Idempotency-Key` the retry gets the first answer and rotates nothing; the key with another
    /// body or endpoint is 422; and what the key keeps at rest is the generation, not the secret.
    @Test func aRotationWithAnIdempotencyKeyHappensOnce() async throws {
        try await withAPI(configure: { $0.webhookSecrets = WebhookSecrets(master: Self.master) }) { api in
            let secrets = WebhookSecrets(master: Self.master)
            let key: HTTPFields = [.idempotencyKey: "rotate-\(UUID().uuidString)"]
            let first = try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyA, headers: key)
            #expect(first.status == .ok && first.headers[.idempotentReplayed] == nil)
            let secret = try #require(try jsonObject(first)["secret"] as? String)
            #expect(secret == secrets.secret(tenantId: api.tenantA, generation: 2))

            // The retry: the same answer, marked as a replay, still not cacheable; no second rotation.
            let retry = try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyA, headers: key)
            #expect(retry.status == .ok && retry.headers[.idempotentReplayed] == "true" && retry.headers[.cacheControl] == "no-store")
            #expect(String(buffer: retry.body) == String(buffer: first.body))
            #expect(try await api.store.webhookSecretGeneration(tenantId: api.tenantA) == 2)

            // The key with a body, or on another endpoint: 422, nothing rotated, no secret in the answer.
            let withBody = try await api.send(
                .post, "/api/v1/webhook-secret/rotate", key: api.keyA, body: Array(#"{"again":true}"#.utf8), contentType: "application/json",
                headers: key)
            #expect(try withBody.status == .unprocessableContent && errorOf(withBody).code == "idempotency_key_reused")
            let image = try await api.uploadImage(key: api.keyA)
            let submit = try await api.send(
                .post, "/api/v1/video/process", key: api.keyA, body: Array("{\"imageIds\":[\"\(image)\"]}".utf8),
                contentType: "application/json", headers: key)
            #expect(try submit.status == .unprocessableContent && errorOf(submit).code == "idempotency_key_reused")
            for response in [withBody, submit] { #expect(!String(buffer: response.body).contains(WebhookSecrets.prefix)) }
            #expect(try await api.store.webhookSecretGeneration(tenantId: api.tenantA) == 2)

            // Keys are per tenant: B's rotation with the same key is B's own first rotation.
            let rotatedB = try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyB, headers: key)
            #expect(rotatedB.headers[.idempotentReplayed] == nil)
            #expect(try jsonObject(rotatedB)["secret"] as? String == secrets.secret(tenantId: api.tenantB, generation: 2))
            // A new key rotates again; no key at all, every time.
            let next = try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyA, headers: [.idempotencyKey: "rotate-next"])
            #expect(try jsonObject(next)["generation"] as? Int == 3)
            _ = try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyA)
            _ = try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyA)
            #expect(try await api.store.webhookSecretGeneration(tenantId: api.tenantA) == 5)

            // What the store keeps for the first key: the generation, no secret.
            let print = fingerprint([Array("POST /api/v1/webhook-secret/rotate".utf8), []])
            let kept = try await api.store.beginIdempotentRequest(
                tenantId: api.tenantA, key: key[.idempotencyKey]!, fingerprint: print, owner: UUID())
            guard case .replay(200, let body, _) = kept else {
                Issue.record("expected the stored answer, got \(kept)")
                return
            }
            #expect(body.contains("\"generation\":2") && !body.contains(WebhookSecrets.prefix) && !body.contains(secret))
        }
    }

    @Test func withoutAWebhookSecretTheEndpointsAnswer503() async throws {
        try await withAPI { api in
            for (method, path) in [(HTTPRequest.Method.get, "/api/v1/webhook-secret"), (.post, "/api/v1/webhook-secret/rotate")] {
                let response = try await api.send(method, path, key: api.keyA)
                #expect(response.status == .serviceUnavailable)
                #expect(try errorOf(response).code == "webhooks_disabled")
            }
            #expect(try await api.store.webhookSecretGeneration(tenantId: api.tenantA) == 1, "nothing rotated")
        }
    }

    @Test func theSecretsNeverAppearInLogs() async throws {
        try await withAPI(configure: { $0.webhookSecrets = WebhookSecrets(master: Self.master) }) { api in
            let recorder = RequestIdLogTests.Recorder()
            let logged = JobAPIServer(
                configuration: api.configuration, jobStore: api.store, objectStore: api.objectStore, templates: stubTemplates,
                logger: Logger(label: "rendc.test.logs") { _ in RequestIdLogTests.Handler(recorder: recorder, logLevel: .trace) })
            let served: [String] = try await logged.makeApplication().test(.router) { client in
                var headers = HTTPFields()
                headers[.authorization] = "Bearer \(api.keyA)"
                var served: [String] = []
                for (method, path) in [(HTTPRequest.Method.get, "/api/v1/webhook-secret"), (.post, "/api/v1/webhook-secret/rotate")] {
                    let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: nil)
                    served.append(try #require(try jsonObject(response)["secret"] as? String))
                }
                return served
            }
            #expect(served.count == 2 && recorder.all.contains { $0.message == "webhook secret rotated" })
            for line in recorder.all {
                let text = line.message + " " + line.metadata.values.map { "\($0)" }.joined(separator: " ")
                for secret in served + [Self.master] { #expect(!text.contains(secret), "a log line holds a secret: \(line.message)") }
                #expect(!text.contains(WebhookSecrets.prefix))
            }
        }
    }
}
