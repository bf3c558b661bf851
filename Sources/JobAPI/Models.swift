import Foundation
import JobQueue
import SpecLang

/// A template the API offers as `overlayType`.
public struct TemplateSummary: Sendable, Equatable, Codable {
    public var name: String
    public var description: String
    /// Video length when the job gives no `durationTarget`, if the template says.
    public var defaultDuration: Double?
    /// The merge fields a job may fill (`fields` on submit).
    public var fields: [TemplateField]
    /// The parsed template, which submit plans each job against as the worker will (not sent to clients).
    public var template: Template? = nil

    enum CodingKeys: String, CodingKey { case name, description, defaultDuration, fields }

    public init(name: String, description: String, defaultDuration: Double? = nil, fields: [TemplateField] = []) {
        self.name = name
        self.description = description
        self.defaultDuration = defaultDuration
        self.fields = fields
    }

    /// What clients see of a parsed template (nil when it failed to parse: name and description only).
    public init(name: String, description: String, template: Template?) {
        self.init(
            name: name, description: description, defaultDuration: template?.timing.defaultDuration,
            fields: (template?.fields ?? []).map {
                TemplateField(
                    name: $0.name, type: $0.kind.rawValue, required: $0.required, maxLength: Self.maxLength($0), description: $0.description)
            })
        self.template = template
    }

    /// The longest value a field takes: a text field's own limit, `#RRGGBBAA` for a colour, an asset id for a picture
    /// (trial15b: colour and image fields showed the text default of 500).
    static func maxLength(_ field: FieldSpec) -> Int {
        switch field.kind {
        case .text: field.maxLength
        case .color: 9
        case .image: 36
        }
    }
}

/// A template's merge field as clients see it.
public struct TemplateField: Sendable, Equatable, Codable {
    public var name: String
    /// `text`, `color` or `image` (an image asset id).
    public var type: String
    public var required: Bool
    /// Longest text, in characters (grapheme clusters).
    public var maxLength: Int
    public var description: String

    public init(name: String, type: String, required: Bool, maxLength: Int, description: String) {
        self.name = name
        self.type = type
        self.required = required
        self.maxLength = maxLength
        self.description = description
    }
}

/// The body of `POST /api/v1/video/process`, checked field by field so every error names its field.
/// Unknown fields are ignored (as the seed's zod schema strips them).
struct ProcessRequest: Decodable {
    var imageIds: [String]
    var audioFile: String?
    var voiceFile: String?
    var textOverlay: String?
    var overlayType: String?
    var qualityMode: String?
    var durationTarget: Double?
    var priority: Int?
    var callbackUrl: String?
    var fields: [String: String]?

    enum CodingKeys: String, CodingKey {
        case imageIds, audioFile, voiceFile, textOverlay, overlayType, qualityMode, durationTarget, priority, callbackUrl, fields
    }

    init(from decoder: any Decoder) throws {
        let c: KeyedDecodingContainer<CodingKeys>
        do {
            c = try decoder.container(keyedBy: CodingKeys.self)
        } catch {
            throw APIError(.badRequest, .invalidJSON, "the request body must be a JSON object")
        }
        func field<T: Decodable>(_ key: CodingKeys, _ type: T.Type, _ expected: String) throws -> T? {
            do {
                return try c.decodeIfPresent(T.self, forKey: key)
            } catch {
                // Wrong type, a number that does not fit, a non-string in an array...: name the innermost field.
                var path = [any CodingKey]()
                switch error {
                case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
                    DecodingError.dataCorrupted(let context):
                    path = context.codingPath
                default:
                    break
                }
                let name = path.isEmpty ? key.stringValue : fieldPath(path)
                throw APIError.malformed(name, "\(name) must be \(expected)")
            }
        }
        guard let imageIds = try field(.imageIds, [String].self, "an array of asset ids (UUID strings)") else {
            throw APIError.malformed("imageIds", "imageIds is required: 1 to 10 image asset ids")
        }
        self.imageIds = imageIds
        audioFile = try field(.audioFile, String.self, "an audio asset id (UUID string)")
        voiceFile = try field(.voiceFile, String.self, "an audio asset id (UUID string)")
        textOverlay = try field(.textOverlay, String.self, "a string")
        overlayType = try field(.overlayType, String.self, "a template name")
        qualityMode = try field(.qualityMode, String.self, "one of normal, eco, freeze")
        durationTarget = try field(.durationTarget, Double.self, "a number of seconds")
        priority = try field(.priority, Int.self, "an integer")
        callbackUrl = try field(.callbackUrl, String.self, "an http(s) URL")
        fields = try field(.fields, [String: String].self, "an object of strings (the template's merge fields)")
    }
}

/// `imageIds[2]` from a coding path.
func fieldPath(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text.isEmpty ? "body" : text
}

struct SubmitResponse: Encodable {
    var success = true
    var jobId: String
    var status: String
    var estimatedDuration: Double
    /// What the render will change in the request's values (a text cut to fit its box); absent when nothing.
    var warnings: [SubmitWarning]? = nil
}

/// Something the job will render differently from what was asked, known at submit.
struct SubmitWarning: Encodable, Equatable {
    /// `text_cut`: the text does not fit the template's box at its smallest size and is cut.
    var code: String
    /// The request field: `textOverlay` or `fields.<name>`.
    var field: String
    var message: String
    /// How many of the text's characters show, and how many it has.
    var shownCharacters: Int
    var totalCharacters: Int
}

/// A job as the API shows it. Every documented field is always present (null when unknown), as in the seed.
struct JobView: Encodable {
    var id: UUID
    var status: String
    var progress: Int
    var outputVideoUrl: String?
    var outputThumbnailUrl: String?
    var createdAt: Date
    var startedAt: Date?
    var completedAt: Date?
    var processingTimeMs: Int?
    var lastError: String?
    var overlayType: String
    var qualityMode: String
    var priority: Int
    var imageIds: [UUID]
    var audioFile: String?
    var textOverlay: String?
    var durationTarget: Double?
    var attempts: Int
    var cancelRequested: Bool
    var voiceFile: String? = nil
    var audioLoudness: AudioLoudnessView? = nil
    /// What the render noted (a merge field cut to fit its box, pictures repeated), once completed; null before.
    var notes: [String]? = nil

    enum CodingKeys: String, CodingKey {
        case id, status, progress, outputVideoUrl, outputThumbnailUrl, createdAt, startedAt, completedAt
        case processingTimeMs, lastError, overlayType, qualityMode, priority, imageIds, audioFile, textOverlay
        case durationTarget, attempts, cancelRequested, voiceFile, audioLoudness, notes
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(progress, forKey: .progress)
        try c.encode(outputVideoUrl, forKey: .outputVideoUrl)
        try c.encode(outputThumbnailUrl, forKey: .outputThumbnailUrl)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(completedAt, forKey: .completedAt)
        try c.encode(processingTimeMs, forKey: .processingTimeMs)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(overlayType, forKey: .overlayType)
        try c.encode(qualityMode, forKey: .qualityMode)
        try c.encode(priority, forKey: .priority)
        try c.encode(imageIds.map { $0.uuidString.lowercased() }, forKey: .imageIds)
        try c.encode(audioFile, forKey: .audioFile)
        try c.encode(textOverlay, forKey: .textOverlay)
        try c.encode(durationTarget, forKey: .durationTarget)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(cancelRequested, forKey: .cancelRequested)
        try c.encode(voiceFile, forKey: .voiceFile)
        try c.encode(audioLoudness, forKey: .audioLoudness)
        try c.encode(notes, forKey: .notes)
    }
}

/// Loudness of a finished video's audio (EBU R128, measured while rendering).
struct AudioLoudnessView: Encodable, Equatable {
    /// The mix before normalisation, LUFS.
    var inputLufs: Double
    /// The audio written, LUFS, and its true peak, dBTP.
    var outputLufs: Double
    var outputTruePeakDbtp: Double
}

struct JobEnvelope: Encodable {
    var success = true
    var job: JobView
}

struct JobListResponse: Encodable {
    var success = true
    var jobs: [JobView]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey { case success, jobs, nextCursor }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(success, forKey: .success)
        try c.encode(jobs, forKey: .jobs)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}

struct AssetView: Encodable {
    var id: UUID
    var type: AssetType
    var name: String
    var contentType: String
    var sizeBytes: Int
    var width: Int?
    var height: Int?
    var createdAt: Date

    init(_ record: AssetRecord) {
        id = record.id
        type = record.type
        name = record.name
        contentType = record.contentType
        sizeBytes = record.sizeBytes
        width = record.width
        height = record.height
        createdAt = record.createdAt
    }

    enum CodingKeys: String, CodingKey { case id, type, name, contentType, sizeBytes, width, height, createdAt }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(type, forKey: .type)
        try c.encode(name, forKey: .name)
        try c.encode(contentType, forKey: .contentType)
        try c.encode(sizeBytes, forKey: .sizeBytes)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// `POST /api/v1/assets` -> 201: the seed-style flat `assetId` plus the whole asset.
struct AssetCreatedResponse: Encodable {
    var success = true
    var assetId: String
    var type: AssetType
    var asset: AssetView
}

struct AssetEnvelope: Encodable {
    var success = true
    var asset: AssetView
}

struct TemplateListResponse: Encodable {
    struct Item: Encodable {
        var name: String
        var description: String
        var defaultDuration: Double?
        /// The merge fields a job may fill with `fields` on submit (openapi.yaml's `Template.fields`).
        var fields: [TemplateField]
        enum CodingKeys: String, CodingKey { case name, description, defaultDuration, fields }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(description, forKey: .description)
            try c.encode(defaultDuration, forKey: .defaultDuration)
            try c.encode(fields, forKey: .fields)
        }
    }
    var success = true
    var templates: [Item]
}

struct StatusResponse: Encodable {
    var status: String
}
