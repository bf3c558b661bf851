import Foundation
import Logging
import PostgresNIO
import SpecLang

// A tenant's uploaded assets.
extension JobStore {

    public func insertAsset(_ asset: NewAsset) async throws -> Asset {
        try await insertAsset(asset, recording: nil)
    }

    /// Inserts the asset and, when `response` is given, records the idempotent request's answer in the same
    /// transaction (see ``IdempotentResponse``). The name is 1 to 100 code points (the column's unit).
    public func insertAsset(_ asset: NewAsset, recording response: IdempotentResponse?) async throws -> Asset {
        let length = asset.name.unicodeScalars.count
        guard length > 0, length <= 100 else {
            throw JobQueueError(.invalidInput, "asset name must be 1 to 100 code points, got \(length)")
        }
        guard !asset.filePath.isEmpty else { throw JobQueueError(.invalidInput, "asset file path is empty") }
        let logger = self.logger
        return try await guarded("insert asset") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO video_processing_assets (id, tenant_id, asset_type, name, file_path, metadata)
                    VALUES (COALESCE(\(asset.id), gen_random_uuid()), \(asset.tenantId), \(asset.type.rawValue), \(asset.name),
                            \(asset.filePath), \(asset.metadataJSON)::jsonb)
                    RETURNING \(unescaped: Self.assetColumns)
                    """, logger: logger
                ).collect()
                guard let row = rows.first else { throw JobQueueError(.database, "asset insert returned no row") }
                if let response { try await Self.record(response, on: connection, logger: logger) }
                return try Self.decodeAsset(row)
            }
        }
    }

    /// The asset, when it belongs to `tenantId`; nil otherwise.
    public func asset(id: UUID, tenantId: UUID) async throws -> Asset? {
        try await guarded("read asset") { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.assetColumns) FROM video_processing_assets WHERE id = \(id) AND tenant_id = \(tenantId)",
                logger: logger
            ).collect().first.map(Self.decodeAsset)
        }
    }

    /// Those of `ids` that belong to `tenantId`, in the order of `ids` (missing ones left out).
    public func assets(ids: [UUID], tenantId: UUID) async throws -> [Asset] {
        guard !ids.isEmpty else { return [] }
        return try await guarded("read assets") { [self] in
            let found = try await client.query(
                """
                SELECT \(unescaped: Self.assetColumns) FROM video_processing_assets
                WHERE tenant_id = \(tenantId) AND id = ANY(\(ids))
                """, logger: logger
            ).collect().map(Self.decodeAsset)
            let byId = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            return ids.compactMap { byId[$0] }
        }
    }

    public func assets(tenantId: UUID, type: AssetType? = nil, limit: Int = 100) async throws -> [Asset] {
        let typeText = type?.rawValue
        return try await guarded("list assets") { [self] in
            try await client.query(
                """
                SELECT \(unescaped: Self.assetColumns) FROM video_processing_assets
                WHERE tenant_id = \(tenantId) AND (\(typeText)::text IS NULL OR asset_type = \(typeText))
                ORDER BY created_at DESC, id DESC LIMIT \(max(1, min(limit, 1000)))
                """, logger: logger
            ).collect().map(Self.decodeAsset)
        }
    }
}
