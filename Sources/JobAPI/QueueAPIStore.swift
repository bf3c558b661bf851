import Foundation
import JobQueue
import Logging
import ObjectStorage

/// ``APIStore`` over JobQueue's ``JobStore``: every read is scoped by tenant in SQL.
package struct QueueAPIStore: APIStore {
    let jobs: JobStore

    package init(_ jobs: JobStore) { self.jobs = jobs }

    package func tenant(forAPIKey key: String) async throws -> UUID? {
        try await jobs.tenant(forAPIKey: key)?.id
    }

    package func tenantExists(_ id: UUID) async throws -> Bool {
        try await jobs.tenant(id: id) != nil
    }

    package func webhookSecretGeneration(tenant: UUID) async throws -> Int? {
        try await jobs.webhookSecretGeneration(tenantId: tenant)
    }

    package func rotateWebhookSecret(tenant: UUID) async throws -> Int? {
        try await jobs.rotateWebhookSecret(tenantId: tenant)
    }

    package func insertAsset(_ asset: AssetRecord, recording: IdempotentResponse?) async throws {
        var metadata: [String: AssetMetadataValue] = [
            "contentType": .string(asset.contentType), "sizeBytes": .int(asset.sizeBytes),
        ]
        if let width = asset.width { metadata["width"] = .int(width) }
        if let height = asset.height { metadata["height"] = .int(height) }
        let data = try JSONEncoder().encode(metadata)
        _ = try await Self.keyLost {
            try await jobs.insertAsset(
                NewAsset(
                    id: asset.id, tenantId: asset.tenantId, type: asset.type, name: asset.name,
                    filePath: asset.storageKey, metadataJSON: String(decoding: data, as: UTF8.self)),
                recording: recording)
        }
    }

    package func assets(ids: [UUID], tenant: UUID) async throws -> [AssetRecord] {
        try await jobs.assets(ids: ids, tenantId: tenant).compactMap(Self.record)
    }

    package func submit(_ job: JobSubmission, id: UUID, recording: IdempotentResponse?) async throws {
        let new = NewJob(
            tenantId: job.tenantId, imageIds: job.imageIds, audioAssetId: job.audioAssetId?.uuidString.lowercased(),
            textOverlay: job.textOverlay, template: job.template, durationTarget: job.durationTarget,
            qualityMode: job.qualityMode, priority: job.priority, callbackURL: job.callbackURL, requestId: job.requestId,
            fields: job.fieldTexts.mapValues { JobFieldValue.text($0) }.merging(job.fieldAssets.mapValues { JobFieldValue.asset($0) }) { a, _ in a
            },
            voiceAssetId: job.voiceAssetId?.uuidString.lowercased())
        _ = try await Self.keyLost { try await jobs.enqueue(new, id: id, recording: recording) }
    }

    /// A write whose idempotency key was taken over meanwhile was rolled back: the request answers as one whose
    /// key is in use (409, retry), since the request that took it over is doing the work now.
    static func keyLost<T>(_ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let error as JobQueueError where error.code == .conflict {
            throw APIError.idempotencyKeyInProgress()
        }
    }

    package func job(id: UUID, tenant: UUID) async throws -> JobRecord? {
        try await jobs.job(id: id, tenantId: tenant).map(Self.record)
    }

    package func jobs(tenant: UUID, status: String?, limit: Int, after: String?) async throws -> (jobs: [JobRecord], nextCursor: String?) {
        let filter = try status.map { text -> JobStatus in
            guard let value = JobStatus(rawValue: text) else { throw APIError.validation("status", "unknown status") }
            return value
        }
        // JobStore's cursor is base64; clients get the URL-safe alphabet so it survives a query string unescaped.
        let cursor = after.map(Self.fromURLSafe)
        let page: JobPage
        do {
            page = try await jobs.jobs(tenantId: tenant, status: filter, limit: limit, after: cursor)
        } catch let error as JobQueueError where error.code == .invalidInput && after != nil {
            throw InvalidCursor()
        }
        return (page.jobs.map(Self.record), page.nextCursor.map(Self.toURLSafe))
    }

    package func cancel(id: UUID, tenant: UUID) async throws -> CancelResult {
        guard let outcome = try await jobs.requestCancel(jobId: id, tenantId: tenant) else { return .notFound }
        guard let job = try await jobs.job(id: id, tenantId: tenant) else { return .notFound }
        switch outcome {
        case .cancelled, .requested: return .cancelled(Self.record(job))
        case .alreadyFinished: return .alreadyFinished(Self.record(job))
        }
    }

    package func ping() async throws {
        try await jobs.ping(timeout: 1.5)  // /readyz answers within 2 s even when the database hangs
    }

    package func beginIdempotentRequest(tenant: UUID, key: String, fingerprint: String, owner: UUID) async throws -> IdempotencyOutcome {
        // Now and then, forget every tenant's keys older than their 24 hours (one indexed DELETE).
        if UInt8.random(in: 0...255) == 0 { _ = try? await jobs.purgeExpiredIdempotencyKeys() }
        return switch try await jobs.beginIdempotentRequest(tenantId: tenant, key: key, fingerprint: fingerprint, owner: owner) {
        case .proceed: .proceed
        case .replay(let status, let body, let location): .replay(status: status, body: body, location: location)
        case .mismatch: .mismatch
        case .inProgress: .inProgress
        }
    }

    package func renewIdempotencyKey(tenant: UUID, key: String, owner: UUID) async throws -> Bool {
        try await jobs.renewIdempotencyKey(tenantId: tenant, key: key, owner: owner)
    }

    package func finishIdempotentRequest(tenant: UUID, key: String, owner: UUID, response: StoredResponse) async throws -> Bool {
        try await jobs.finishIdempotentRequest(
            tenantId: tenant, key: key, owner: owner, status: response.status, body: response.body, location: response.location)
    }

    package func releaseIdempotencyKey(tenant: UUID, key: String, owner: UUID) async throws {
        try await jobs.releaseIdempotencyKey(tenantId: tenant, key: key, owner: owner)
    }

    package func takeRateLimitToken(bucket: String, perMinute: Int) async throws -> RateLimitOutcome {
        let d = try await jobs.takeRateLimitToken(bucket: bucket, perMinute: perMinute)
        return RateLimitOutcome(
            allowed: d.allowed, remaining: d.remaining, secondsUntilToken: d.secondsUntilToken, secondsUntilFull: d.secondsUntilFull)
    }

    static func record(_ job: Job) -> JobRecord {
        var record = JobRecord(
            id: job.id, tenantId: job.tenantId, status: job.status, progress: job.progress,
            priority: job.priority, imageIds: job.imageIds, audioAssetId: job.audioAssetId, textOverlay: job.textOverlay,
            template: job.template, qualityMode: job.qualityMode, durationTarget: job.durationTarget,
            attempts: job.attempts, cancelRequested: job.cancelRequested, createdAt: job.createdAt,
            startedAt: job.startedAt, completedAt: job.completedAt, processingTimeMs: job.processingTimeMs,
            lastError: job.lastError, outputVideoKey: job.outputVideoKey, outputThumbnailKey: job.outputThumbnailKey)
        record.voiceAssetId = job.voiceAssetId
        record.audioLoudness = job.audioLoudness.map { ($0.inputLufs, $0.outputLufs, $0.outputTruePeakDbtp) }
        record.notes = job.renderNotes
        return record
    }

    static func record(_ asset: Asset) -> AssetRecord? {
        let kind = asset.type
        let metadata = (try? JSONDecoder().decode([String: AssetMetadataValue].self, from: Data(asset.metadataJSON.utf8))) ?? [:]
        return AssetRecord(
            id: asset.id, tenantId: asset.tenantId, type: kind, name: asset.name, storageKey: asset.filePath,
            contentType: metadata["contentType"]?.stringValue ?? "application/octet-stream",
            sizeBytes: metadata["sizeBytes"]?.intValue ?? 0, width: metadata["width"]?.intValue,
            height: metadata["height"]?.intValue, createdAt: asset.createdAt)
    }

    static func toURLSafe(_ base64: String) -> String {
        base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func fromURLSafe(_ token: String) -> String {
        var text = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text.append("=") }
        return text
    }
}

enum AssetMetadataValue: Codable, Equatable {
    case string(String)
    case int(Int)
    case other

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .int(i) } else if let s = try? c.decode(String.self) { self = .string(s) } else { self = .other }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .other: try c.encodeNil()
        }
    }

    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var intValue: Int? { if case .int(let i) = self { i } else { nil } }
}

extension JobAPIServer {
    /// The API over the job database, storing uploads and serving outputs through `objectStore`.
    /// - Parameters:
    ///   - templates: the installed templates (the CLI maps `RenderPipeline.templates()`).
    ///   - metrics: renders the Prometheus exposition text for `GET /metrics`.
    public init(
        configuration: APIConfiguration,
        jobStore: JobStore,
        objectStore: any ObjectStore,
        templates: @escaping @Sendable () throws -> [TemplateSummary],
        metrics: (@Sendable () -> String)? = nil,
        logger: Logger
    ) {
        self.init(
            configuration: configuration, store: QueueAPIStore(jobStore), objectStore: objectStore,
            templates: templates, metrics: metrics, logger: logger)
    }
}
