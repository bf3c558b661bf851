import Foundation
import HTTPTypes
import Hummingbird
import Webhooks

/// `GET /api/v1/webhook-secret` and `POST /api/v1/webhook-secret/rotate`: the caller's own webhook signing secret.
/// Each tenant's secret is derived from the deployment's master secret and the tenant's generation
/// (``WebhookSecrets``); a tenant only ever gets its own, so it can verify its webhooks but cannot sign one for
/// another tenant. The secret is in the response body only: never in a log line or an error message.
extension APIHandlers {
    func webhookSecret(context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let secrets = try requireWebhookSecrets()
        guard let generation = try await store.webhookSecretGeneration(tenant: tenant) else { throw APIError.unauthorized }
        return try secretResponse(secrets, tenant: tenant, generation: generation, status: .ok)
    }

    /// Honours `Idempotency-Key` like the other POST endpoints: a retry gets the first answer (the secret of the
    /// generation that request made) and rotates nothing; the key with another endpoint or body is 422. The stored
    /// answer is the generation only (``RotationRecord``): the secret is derived again for a replay, never stored.
    func rotateWebhookSecret(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let secrets = try requireWebhookSecrets()
        let idempotencyKey = try request.idempotencyKey()
        // No body is needed; whatever is sent is part of the request a key stands for.
        let bytes = try await collectJSONBody(request)
        let requestPrint = fingerprint([Array("POST /api/v1/webhook-secret/rotate".utf8), Array(bytes)])
        return try await idempotent(
            key: idempotencyKey, tenant: tenant, fingerprint: requestPrint, context: context,
            present: { stored, replayed in
                guard let record = try? JSONDecoder().decode(RotationRecord.self, from: Data(stored.body.utf8)) else {
                    throw APIError(.internalServerError, .internalError, "the stored answer of this Idempotency-Key cannot be read")
                }
                return try secretResponse(secrets, tenant: tenant, generation: record.generation, status: .ok, replayed: replayed)
            }
        ) { _ in
            guard let generation = try await store.rotateWebhookSecret(tenant: tenant) else { throw APIError.unauthorized }
            context.logger.notice(
                "webhook secret rotated", metadata: ["tenantId": "\(tenant.uuidString.lowercased())", "generation": "\(generation)"])
            return try StoredResponse(status: .ok, value: RotationRecord(generation: generation), location: nil)
        }
    }

    private func requireWebhookSecrets() throws -> WebhookSecrets {
        guard let secrets = configuration.webhookSecrets else {
            throw APIError(
                .serviceUnavailable, .webhooksDisabled,
                "webhooks are not configured on this deployment (the operator has not set a webhook secret)")
        }
        return secrets
    }

    private func secretResponse(
        _ secrets: WebhookSecrets, tenant: UUID, generation: Int, status: HTTPResponse.Status, replayed: Bool = false
    ) throws -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        if replayed { headers[.idempotentReplayed] = "true" }
        let secret = secrets.secret(tenantId: tenant, generation: generation)
        return try json(
            WebhookSecretResponse(
                secret: secret, generation: generation, standardWebhooksSecret: WebhookSigner.standardSecret(secret)),
            status: status, headers: headers)
    }
}

/// `{"success": true, "secret": "rendc_whsec_...", "generation": 1, "signatureHeader": "X-Rendc-Signature",
/// "standardWebhooksSecret": "whsec_..."}`.
struct WebhookSecretResponse: Encodable {
    var success = true
    var secret: String
    var generation: Int
    var signatureHeader = "X-Rendc-Signature"
    /// The same key as a Standard Webhooks library takes it (`webhook-signature`, `webhook-timestamp`, `webhook-id`).
    var standardWebhooksSecret: String
}

/// What a rotation's `Idempotency-Key` keeps (in `api_idempotency_keys`): the generation it made, not the secret.
struct RotationRecord: Codable {
    var generation: Int
}
