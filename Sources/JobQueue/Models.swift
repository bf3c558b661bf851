import Foundation
import SpecLang

public enum JobStatus: String, Sendable, Equatable, CaseIterable, Codable {
    case pending, processing, completed, failed, cancelled

    /// Completed, failed and cancelled jobs never change again.
    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
}

public enum AssetType: String, Sendable, Equatable, CaseIterable, Codable {
    case overlay, frame, audio, image
    /// A product clip (MP4, MOV, WebM) shown among the pictures.
    case video
}

public struct Tenant: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var maxRunningJobs: Int
    public var createdAt: Date
}

/// A freshly made API key. `plaintext` exists only in this value: the database keeps its SHA-256.
public struct NewAPIKey: Sendable, Equatable {
    public var id: UUID
    public var tenantId: UUID
    /// The visible start of the key (`rk_live_ab12cd34`), safe to show in lists and logs.
    public var prefix: String
    /// The whole key, shown to the user once.
    public var plaintext: String
}

/// What a client asks for; the database fills in the rest.
public struct NewJob: Sendable, Equatable {
    public var tenantId: UUID
    public var imageIds: [UUID]
    /// The music's asset id (column `audio_file`, wire `audioAssetId`).
    public var audioAssetId: String?
    public var textOverlay: String?
    /// The template's name (column `overlay_type`, wire `template`).
    public var template: String
    public var durationTarget: Double?
    public var qualityMode: QualityMode
    public var priority: Int
    public var maxAttempts: Int
    /// Stored for a later webhook sender; not called by the queue.
    public var callbackURL: String?
    /// Not before this moment (nil: now).
    public var runAfter: Date?
    /// The `X-Request-Id` of the API request that created the job (column `request_id`), for tracing.
    public var requestId: String?
    /// Merge field values for the template (column `fields`).
    public var fields: [String: JobFieldValue] = [:]
    /// The voice-over: an audio asset id (column `voice_file`).
    public var voiceAssetId: String?

    public init(
        tenantId: UUID, imageIds: [UUID], audioAssetId: String? = nil, textOverlay: String? = nil,
        template: String = "golden-frame", durationTarget: Double? = nil, qualityMode: QualityMode = .normal,
        priority: Int = 0, maxAttempts: Int = 3, callbackURL: String? = nil, runAfter: Date? = nil,
        requestId: String? = nil, fields: [String: JobFieldValue] = [:], voiceAssetId: String? = nil
    ) {
        self.voiceAssetId = voiceAssetId
        self.requestId = requestId
        self.fields = fields
        self.tenantId = tenantId
        self.imageIds = imageIds
        self.audioAssetId = audioAssetId
        self.textOverlay = textOverlay
        self.template = template
        self.durationTarget = durationTarget
        self.qualityMode = qualityMode
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.callbackURL = callbackURL
        self.runAfter = runAfter
    }
}

/// One row of `video_processing_jobs`.
public struct Job: Sendable, Equatable {
    public var id: UUID
    public var tenantId: UUID
    public var status: JobStatus
    public var priority: Int
    public var imageIds: [UUID]
    /// The music's asset id (column `audio_file`, wire `audioAssetId`).
    public var audioAssetId: String?
    public var textOverlay: String?
    /// The template's name (column `overlay_type`, wire `template`).
    public var template: String
    public var durationTarget: Double?
    public var qualityMode: QualityMode
    /// Merge field values for the template.
    public var fields: [String: JobFieldValue] = [:]
    public var startedAt: Date?
    public var completedAt: Date?
    public var processingTimeMs: Int?
    public var attempts: Int
    public var maxAttempts: Int
    public var lastError: String?
    /// Storage keys of the outputs (columns `output_video_url`, `output_thumbnail_url`; the API signs URLs from them).
    public var outputVideoKey: String?
    public var outputThumbnailKey: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var runAfter: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var leaseEpoch: Int64
    public var heartbeatAt: Date?
    /// 0–100.
    public var progress: Int
    public var cancelRequested: Bool
    public var callbackURL: String?
    /// The voice-over asset id (column `voice_file`).
    public var voiceAssetId: String? = nil
    /// Loudness measured while rendering (column `audio_loudness`), once completed with audio.
    public var audioLoudness: JobAudioLoudness? = nil
    /// What the plan noted for the tenant (column `render_notes`), once completed: a merge field cut to fit, ...
    public var renderNotes: [String]? = nil
}

/// The loudness of a finished video's audio: the mix before normalisation and the file written (EBU R128).
public struct JobAudioLoudness: Sendable, Equatable, Codable {
    public var inputLufs: Double
    public var outputLufs: Double
    public var outputTruePeakDbtp: Double
    public init(inputLufs: Double, outputLufs: Double, outputTruePeakDbtp: Double) {
        self.inputLufs = inputLufs
        self.outputLufs = outputLufs
        self.outputTruePeakDbtp = outputTruePeakDbtp
    }
}

/// One page of a tenant's jobs, newest first.
public struct JobPage: Sendable, Equatable {
    public var jobs: [Job]
    /// Pass back as `after` for the next page; nil on the last page.
    public var nextCursor: String?
}

public struct NewAsset: Sendable, Equatable {
    public var id: UUID?
    public var tenantId: UUID
    public var type: AssetType
    public var name: String
    /// The object-store key of the file.
    public var filePath: String
    /// A JSON object, stored as jsonb.
    public var metadataJSON: String

    public init(id: UUID? = nil, tenantId: UUID, type: AssetType, name: String, filePath: String, metadataJSON: String = "{}") {
        self.id = id
        self.tenantId = tenantId
        self.type = type
        self.name = name
        self.filePath = filePath
        self.metadataJSON = metadataJSON
    }
}

public struct Asset: Sendable, Equatable {
    public var id: UUID
    public var tenantId: UUID
    public var type: AssetType
    public var name: String
    public var filePath: String
    public var metadataJSON: String
    public var createdAt: Date
}

/// What a claim hands a worker: the job and the lease its writes must quote.
public struct ClaimedJob: Sendable, Equatable {
    public var job: Job
    public var lease: Lease
}

/// Proof of ownership of one attempt at a job. Every write a worker makes is fenced by `owner` and `epoch`:
/// once the job is reclaimed (the epoch moved on) or reaped, the old lease's writes change nothing.
public struct Lease: Sendable, Hashable {
    public var jobId: UUID
    public var tenantId: UUID
    public var owner: String
    public var epoch: Int64
    /// The attempt number this claim started (1-based).
    public var attempt: Int
    public var maxAttempts: Int
    public var expiresAt: Date
}

public struct HeartbeatResult: Sendable, Equatable {
    /// False when the lease was lost (reaped, reclaimed or finished elsewhere): stop and write nothing.
    public var stillOwner: Bool
    public var cancelRequested: Bool
    public var expiresAt: Date?
}

/// What `fail` did with the job.
public enum FailOutcome: Sendable, Equatable {
    /// Back to pending, not before `at`.
    case retrying(at: Date)
    case failed
    /// Its cancel was requested while the attempt ran: cancelled instead of retried.
    case cancelled
    /// The lease was lost: nothing was written.
    case notOwner
}

/// What the reaper did to one job whose lease had expired.
public struct ReapedJob: Sendable, Equatable {
    public var jobId: UUID
    public var tenantId: UUID
    public var newStatus: JobStatus
    public var attempts: Int

    public init(jobId: UUID, tenantId: UUID, newStatus: JobStatus, attempts: Int) {
        self.jobId = jobId
        self.tenantId = tenantId
        self.newStatus = newStatus
        self.attempts = attempts
    }
}

/// What `requestCancel` did.
public enum CancelOutcome: Sendable, Equatable {
    /// It was pending: now cancelled.
    case cancelled
    /// It is running: the worker stops it at its next heartbeat.
    case requested
    /// Already completed, failed or cancelled: unchanged.
    case alreadyFinished(JobStatus)
}

/// The deterministic storage keys of a job's outputs: a re-run overwrites the same objects.
public enum OutputKeys {
    public static func video(tenantId: UUID, jobId: UUID) -> String {
        "videos/\(tenantId.uuidString.lowercased())/\(jobId.uuidString.lowercased()).mp4"
    }

    public static func thumbnail(tenantId: UUID, jobId: UUID) -> String {
        "thumbnails/\(tenantId.uuidString.lowercased())/\(jobId.uuidString.lowercased()).jpg"
    }
}

/// A merge field's value as stored with a job: text (also colours), or a picture asset of the job's tenant.
public enum JobFieldValue: Sendable, Equatable, Hashable, Codable {
    case text(String)
    case asset(UUID)

    private struct AssetRef: Codable { var assetId: UUID }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .text(s); return }
        self = .asset(try c.decode(AssetRef.self).assetId)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .text(let s): try c.encode(s)
        case .asset(let id): try c.encode(AssetRef(assetId: id))
        }
    }

    /// The column's JSON text for a set of values.
    public static func json(_ fields: [String: JobFieldValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(fields), as: UTF8.self)) ?? "{}"
    }
}
