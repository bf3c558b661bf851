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

    func rotateWebhookSecret(context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let secrets = try requireWebhookSecrets()
        guard let generation = try await store.rotateWebhookSecret(tenant: tenant) else { throw APIError.unauthorized }
        context.logger.notice("webhook secret rotated", metadata: ["tenantId": "\(tenant.uuidString.lowercased())", "generation": "\(generation)"])
        return try secretResponse(secrets, tenant: tenant, generation: generation, status: .ok)
    }

    private func requireWebhookSecrets() throws -> WebhookSecrets {
        guard let secrets = configuration.webhookSecrets else {
            throw APIError(
                .serviceUnavailable, .webhooksDisabled,
                "webhooks are not configured on this deployment (the operator has not set a webhook secret)")
        }
        return secrets
    }

    private func secretResponse(_ secrets: WebhookSecrets, tenant: UUID, generation: Int, status: HTTPResponse.Status) throws -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        return try json(
            WebhookSecretResponse(secret: secrets.secret(tenantId: tenant, generation: generation), generation: generation),
            status: status, headers: headers)
    }
}

/// `{"success": true, "secret": "rendc_whsec_...", "generation": 1, "signatureHeader": "X-Rendc-Signature"}`.
struct WebhookSecretResponse: Encodable {
    var success = true
    var secret: String
    var generation: Int
    var signatureHeader = "X-Rendc-Signature"
}
