import Foundation
import JobQueue
import SpecLang

/// What the API reads and writes in the database. ``QueueAPIStore`` implements it over JobQueue; the handlers
/// only see this seam, and every call is scoped by tenant so one tenant can never see another's rows.
package protocol APIStore: TenantDirectory {
    /// The generation of the tenant's webhook signing secret (nil: no such tenant).
    func webhookSecretGeneration(tenant: UUID) async throws -> Int?
    /// Raises the generation of the tenant's webhook signing secret; returns the new one (nil: no such tenant).
    func rotateWebhookSecret(tenant: UUID) async throws -> Int?
    /// Inserts the asset; with `recording`, the idempotent request's answer is written in the same transaction.
    func insertAsset(_ asset: AssetRecord, recording: IdempotentResponse?) async throws
    /// The assets among `ids` that belong to `tenant` (others, and unknown ids, are simply absent).
    func assets(ids: [UUID], tenant: UUID) async throws -> [AssetRecord]
    /// Enqueues the job under `id`; with `recording`, the idempotent request's answer is written in the same
    /// transaction, so a retry after an unknown outcome replays it instead of enqueueing a second job.
    func submit(_ job: JobSubmission, id: UUID, recording: IdempotentResponse?) async throws
    func job(id: UUID, tenant: UUID) async throws -> JobRecord?
    /// Newest first, `limit` (1-100) a page; `after` is a previous page's `nextCursor`. Throws
    /// ``InvalidCursor`` for a cursor the store did not make.
    func jobs(tenant: UUID, status: String?, limit: Int, after: String?) async throws -> (jobs: [JobRecord], nextCursor: String?)
    func cancel(id: UUID, tenant: UUID) async throws -> CancelResult
    /// Throws when the database cannot be reached.
    func ping() async throws
    /// Claims an `Idempotency-Key` for a request with this fingerprint on behalf of `owner` (a token of the
    /// request: only it may renew, finish or release the key), or says how the key's first use ended.
    func beginIdempotentRequest(tenant: UUID, key: String, fingerprint: String, owner: UUID) async throws -> IdempotencyOutcome
    /// Keeps the owner's key from being taken as abandoned while its request runs; false when it is not the owner's.
    func renewIdempotencyKey(tenant: UUID, key: String, owner: UUID) async throws -> Bool
    /// Stores the response for replays; false (nothing stored) when the key is not the owner's any more.
    func finishIdempotentRequest(tenant: UUID, key: String, owner: UUID, response: StoredResponse) async throws -> Bool
    func releaseIdempotencyKey(tenant: UUID, key: String, owner: UUID) async throws
    /// Takes one request from the API key's bucket.
    func takeRateLimitToken(bucket: String, perMinute: Int) async throws -> RateLimitOutcome
}

package enum IdempotencyOutcome: Sendable, Equatable {
    case proceed
    case replay(status: Int, body: String, location: String?)
    case mismatch
    case inProgress
}

package struct RateLimitOutcome: Sendable, Equatable {
    package var allowed: Bool
    package var remaining: Int
    package var secondsUntilToken: Int
    package var secondsUntilFull: Int
}

package struct AssetRecord: Sendable, Equatable {
    package var id: UUID
    package var tenantId: UUID
    package var type: AssetType
    package var name: String
    /// Storage key (`assets/{tenantId}/{assetId}`).
    package var storageKey: String
    package var contentType: String
    package var sizeBytes: Int
    package var width: Int?
    package var height: Int?
    package var createdAt: Date

    package init(
        id: UUID, tenantId: UUID, type: AssetType, name: String, storageKey: String, contentType: String,
        sizeBytes: Int, width: Int?, height: Int?, createdAt: Date = Date()
    ) {
        self.id = id
        self.tenantId = tenantId
        self.type = type
        self.name = name
        self.storageKey = storageKey
        self.contentType = contentType
        self.sizeBytes = sizeBytes
        self.width = width
        self.height = height
        self.createdAt = createdAt
    }
}

package struct JobSubmission: Sendable, Equatable {
    package var tenantId: UUID
    package var imageIds: [UUID]
    package var audioAssetId: UUID?
    /// The voice-over: an audio asset of the tenant.
    package var voiceAssetId: UUID? = nil
    package var textOverlay: String?
    /// The template's name (the wire's `overlayType`).
    package var template: String
    package var qualityMode: QualityMode
    package var durationTarget: Double?
    package var priority: Int
    package var callbackURL: String?
    /// The `X-Request-Id` of the submitting request.
    package var requestId: String? = nil
    /// Text and colour merge fields.
    package var fieldTexts: [String: String] = [:]
    /// Picture merge fields: image asset ids of the tenant.
    package var fieldAssets: [String: UUID] = [:]
}

package struct JobRecord: Sendable, Equatable {
    package var id: UUID
    package var tenantId: UUID
    package var status: JobStatus
    package var progress: Int
    package var priority: Int
    package var imageIds: [UUID]
    /// The music's asset id (the wire's `audioFile`).
    package var audioAssetId: String?
    package var textOverlay: String?
    /// The template's name (the wire's `overlayType`).
    package var template: String
    package var qualityMode: QualityMode
    package var durationTarget: Double?
    package var attempts: Int
    package var cancelRequested: Bool
    package var createdAt: Date
    package var startedAt: Date?
    package var completedAt: Date?
    package var processingTimeMs: Int?
    package var lastError: String?
    /// Storage keys (or, for stores that made them, absolute URLs) of the outputs.
    package var outputVideoKey: String?
    package var outputThumbnailKey: String?
    /// The voice-over's asset id (the wire's `voiceFile`).
    package var voiceAssetId: String? = nil
    /// Measured loudness (LUFS in, LUFS out, true peak dBTP out), once completed with audio.
    package var audioLoudness: (input: Double, output: Double, truePeak: Double)? = nil
    /// What the plan noted for the tenant, once completed (a merge field cut to fit its box, ...).
    package var notes: [String]? = nil

    package static func == (a: JobRecord, b: JobRecord) -> Bool {
        a.id == b.id && a.tenantId == b.tenantId && a.status == b.status && a.progress == b.progress && a.priority == b.priority
            && a.imageIds == b.imageIds && a.audioAssetId == b.audioAssetId && a.textOverlay == b.textOverlay && a.template == b.template
            && a.qualityMode == b.qualityMode && a.durationTarget == b.durationTarget && a.attempts == b.attempts
            && a.cancelRequested == b.cancelRequested && a.createdAt == b.createdAt && a.startedAt == b.startedAt
            && a.completedAt == b.completedAt && a.processingTimeMs == b.processingTimeMs && a.lastError == b.lastError
            && a.outputVideoKey == b.outputVideoKey && a.outputThumbnailKey == b.outputThumbnailKey && a.voiceAssetId == b.voiceAssetId
            && a.audioLoudness?.input == b.audioLoudness?.input && a.audioLoudness?.output == b.audioLoudness?.output
            && a.audioLoudness?.truePeak == b.audioLoudness?.truePeak && a.notes == b.notes
    }
}

package enum CancelResult: Sendable, Equatable {
    /// Cancelled now (pending) or asked to stop (running); the record after the change.
    case cancelled(JobRecord)
    /// Already finished: completed, failed or cancelled.
    case alreadyFinished(JobRecord)
    case notFound
}

package struct InvalidCursor: Error {
    package init() {}
}
