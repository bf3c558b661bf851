import Digests
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Where the authenticator looks tenants up. Implemented over JobQueue by ``QueueAPIStore``.
package protocol TenantDirectory: Sendable {
    /// The tenant owning this API key, or nil for an unknown or revoked key.
    func tenant(forAPIKey key: String) async throws -> UUID?
    func tenantExists(_ id: UUID) async throws -> Bool
}

/// Maps request credentials to a tenant: `Authorization: Bearer <api key>`, or (only when the deployment trusts its
/// gateway) the seed's bare `x-tenant-id` header. Successful key lookups are cached briefly, keyed by the SHA-256 of
/// the key, so the raw key is never kept.
package actor TenantAuthenticator {
    private let directory: any TenantDirectory
    private let trustGatewayHeader: Bool
    private let cacheSeconds: Double
    private var cache: [String: (tenant: UUID, until: ContinuousClock.Instant)] = [:]
    private static let maxCacheEntries = 10_000
    static let gatewayHeader = HTTPField.Name("x-tenant-id")!

    package init(directory: any TenantDirectory, trustGatewayHeader: Bool, cacheSeconds: Double) {
        self.directory = directory
        self.trustGatewayHeader = trustGatewayHeader
        self.cacheSeconds = cacheSeconds
    }

    package func authenticate(_ headers: HTTPFields) async throws -> UUID {
        try await authenticateCredential(headers).tenant
    }

    /// The tenant and an id of the credential used (the key's SHA-256, or the gateway tenant), for rate limits.
    package func authenticateCredential(_ headers: HTTPFields) async throws -> (tenant: UUID, credential: String) {
        if let authorization = headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw APIError.unauthorized }
            let key = parts[1].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.utf8.count <= 512 else { throw APIError.unauthorized }
            return (try await tenant(forKey: key), "key:" + Self.digest(key))
        }
        if trustGatewayHeader, let header = headers[Self.gatewayHeader] {
            guard let id = UUID(uuidString: header.trimmingCharacters(in: .whitespaces)) else { throw APIError.unauthorized }
            let cacheKey = "gateway:" + id.uuidString
            if let hit = cached(cacheKey) { return (hit, "tenant:" + id.uuidString.lowercased()) }
            guard try await directory.tenantExists(id) else { throw APIError.unauthorized }
            remember(cacheKey, id)
            return (id, "tenant:" + id.uuidString.lowercased())
        }
        throw APIError.unauthorized
    }

    private func tenant(forKey key: String) async throws -> UUID {
        let digest = Self.digest(key)
        if let hit = cached(digest) { return hit }
        guard let tenant = try await directory.tenant(forAPIKey: key) else { throw APIError.unauthorized }
        remember(digest, tenant)
        return tenant
    }

    static func digest(_ key: String) -> String {
        SHA256Hex.of(key)
    }

    private func cached(_ key: String) -> UUID? {
        guard let entry = cache[key] else { return nil }
        if entry.until > .now { return entry.tenant }
        cache[key] = nil
        return nil
    }

    private func remember(_ key: String, _ tenant: UUID) {
        guard cacheSeconds > 0 else { return }
        if cache.count >= Self.maxCacheEntries { cache.removeAll(keepingCapacity: true) }
        cache[key] = (tenant, .now + .milliseconds(Int64(cacheSeconds * 1000)))
    }
}

struct TenantAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let authenticator: TenantAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let (tenant, credential) = try await authenticator.authenticateCredential(request.headers)
        context.tenantId = tenant
        context.credentialId = credential
        context.logger[metadataKey: "tenant"] = "\(tenant.uuidString.lowercased())"
        return try await next(request, context)
    }
}
