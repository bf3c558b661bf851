import Foundation
import Logging
import PostgresNIO
import SpecLang

// Tenants and their API keys (stored as SHA-256 hashes; the plaintext is shown once).
extension JobStore {

    public func createTenant(name: String, maxRunningJobs: Int = 4) async throws -> Tenant {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw JobQueueError(.invalidInput, "tenant name must be 1 to 100 characters, got \(trimmed.count)")
        }
        guard maxRunningJobs >= 0 else {
            throw JobQueueError(.invalidInput, "max running jobs must be 0 or more, got \(maxRunningJobs)")
        }
        return try await guarded("create tenant") { [self] in
            let rows = try await client.query(
                """
                INSERT INTO tenants (name, max_running_jobs) VALUES (\(trimmed), \(maxRunningJobs))
                RETURNING id, name, max_running_jobs, created_at
                """, logger: logger
            ).collect()
            guard let row = rows.first else { throw JobQueueError(.database, "tenant insert returned no row") }
            return try Self.decodeTenant(row)
        }
    }

    public func tenant(id: UUID) async throws -> Tenant? {
        try await guarded("read tenant") { [self] in
            try await client.query(
                "SELECT id, name, max_running_jobs, created_at FROM tenants WHERE id = \(id)", logger: logger
            ).collect().first.map(Self.decodeTenant)
        }
    }

    /// The generation of the tenant's webhook signing secret (1 until the first rotation), or nil for an unknown
    /// tenant. The secret itself is derived from it by the caller (Webhooks' `WebhookSecrets`); it is never stored.
    public func webhookSecretGeneration(tenantId: UUID) async throws -> Int? {
        try await guarded("read webhook secret generation") { [self] in
            try await client.query(
                "SELECT webhook_secret_generation FROM tenants WHERE id = \(tenantId)", logger: logger
            ).collect().first.map { try $0.decode(Int.self) }
        }
    }

    /// Rotates the tenant's webhook signing secret: raises its generation by one and returns the new generation
    /// (nil for an unknown tenant). Deliveries are signed when they are sent, so every attempt from now on, queued
    /// retries included, carries the new secret's signature.
    public func rotateWebhookSecret(tenantId: UUID) async throws -> Int? {
        try await guarded("rotate webhook secret") { [self] in
            try await client.query(
                """
                UPDATE tenants SET webhook_secret_generation = webhook_secret_generation + 1, updated_at = now()
                WHERE id = \(tenantId) RETURNING webhook_secret_generation
                """, logger: logger
            ).collect().first.map { try $0.decode(Int.self) }
        }
    }

    /// Changes how many of a tenant's jobs may run at once.
    public func setMaxRunningJobs(tenantId: UUID, _ value: Int) async throws {
        guard value >= 0 else { throw JobQueueError(.invalidInput, "max running jobs must be 0 or more, got \(value)") }
        try await guarded("update tenant") { [self] in
            _ = try await client.query(
                "UPDATE tenants SET max_running_jobs = \(value), updated_at = now() WHERE id = \(tenantId)", logger: logger)
        }
    }

    /// Makes a new API key for the tenant. The plaintext is in the result only; the database keeps its SHA-256.
    public func createAPIKey(tenantId: UUID) async throws -> NewAPIKey {
        let plaintext = APIKeyFormat.generate()
        let prefix = APIKeyFormat.visiblePrefix(of: plaintext)
        let hash = APIKeyFormat.hash(plaintext)
        return try await guarded("create API key") { [self] in
            let rows = try await client.query(
                """
                INSERT INTO api_keys (tenant_id, prefix, key_hash) VALUES (\(tenantId), \(prefix), \(hash))
                RETURNING id
                """, logger: logger
            ).collect()
            guard let row = rows.first else { throw JobQueueError(.database, "API key insert returned no row") }
            return NewAPIKey(id: try row.decode(UUID.self), tenantId: tenantId, prefix: prefix, plaintext: plaintext)
        }
    }

    /// A new tenant and its first API key.
    public func createTenantWithKey(name: String, maxRunningJobs: Int = 4) async throws -> (Tenant, NewAPIKey) {
        let tenant = try await createTenant(name: name, maxRunningJobs: maxRunningJobs)
        return (tenant, try await createAPIKey(tenantId: tenant.id))
    }

    /// The tenant a presented API key belongs to, or nil for an unknown or revoked key.
    public func tenant(forAPIKey key: String) async throws -> Tenant? {
        guard APIKeyFormat.isWellFormed(key) else { return nil }
        let hash = APIKeyFormat.hash(key)
        return try await guarded("resolve API key") { [self] in
            try await client.query(
                """
                WITH k AS (
                    SELECT id, tenant_id, last_used_at FROM api_keys WHERE key_hash = \(hash) AND revoked_at IS NULL
                ), touched AS (
                    UPDATE api_keys SET last_used_at = now() FROM k
                    WHERE api_keys.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds')
                )
                SELECT t.id, t.name, t.max_running_jobs, t.created_at FROM tenants t JOIN k ON k.tenant_id = t.id
                """, logger: logger
            ).collect().first.map(Self.decodeTenant)
        }
    }

    /// Revokes a key of the tenant; false when the tenant has no such key.
    @discardableResult
    public func revokeAPIKey(id: UUID, tenantId: UUID) async throws -> Bool {
        try await guarded("revoke API key") { [self] in
            try await !client.query(
                """
                UPDATE api_keys SET revoked_at = now() WHERE id = \(id) AND tenant_id = \(tenantId) AND revoked_at IS NULL
                RETURNING id
                """, logger: logger
            ).collect().isEmpty
        }
    }
}
