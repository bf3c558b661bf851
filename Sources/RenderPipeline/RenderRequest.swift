import Planner
import SpecLang

/// One video to make: the same value whether it comes from `rendc render` or from a queued job.
public struct RenderRequest: Sendable, Equatable {
    /// Template name (`golden-frame`) or a path to a template YAML file.
    public var template: String
    /// Local image files, shown in order (cycled when there are more shots than images).
    public var images: [String]
    /// Local audio file, or nil for a silent video.
    public var audio: String?
    /// Local voice-over file mixed over the music (ducking it), or nil.
    public var voice: String?
    /// Caption text (UTF-8, at most 500 characters), or nil for none: fills the template's `caption` field.
    public var text: String?
    /// Merge field values by name (`--field NAME=VALUE`, the API's `fields`).
    public var fields: [String: String]
    /// Target length in seconds; nil uses the template's default (or the track, if shorter).
    public var duration: Double?
    public var quality: QualityMode
    /// Where the MP4 goes (written to a temporary file beside it and renamed on success).
    public var output: String
    /// Where the JPEG thumbnail goes, or nil for none.
    public var thumbnail: String?
    /// The folder the template's relative file paths (pictures, videos, fonts) resolve against, when the template is
    /// read from a copy kept elsewhere (the studio renders drafts from its scratch folder); nil: the template file's
    /// own folder.
    public var templateDirectory: String?

    public init(
        template: String, images: [String], audio: String? = nil, text: String? = nil, fields: [String: String] = [:], duration: Double? = nil,
        quality: QualityMode = .normal, output: String, thumbnail: String? = nil, voice: String? = nil
    ) {
        self.voice = voice
        self.template = template
        self.images = images
        self.audio = audio
        self.text = text
        self.fields = fields
        self.duration = duration
        self.quality = quality
        self.output = output
        self.thumbnail = thumbnail
    }
}

/// Progress of a running render, reported at most a few times a second.
public struct RenderProgress: Sendable, Equatable {
    public var frame: Int
    public var frameCount: Int
    /// Seconds since the render started.
    public var elapsed: Double
    public var fraction: Double { frameCount == 0 ? 1 : Double(frame) / Double(frameCount) }
    public init(frame: Int, frameCount: Int, elapsed: Double) {
        self.frame = frame
        self.frameCount = frameCount
        self.elapsed = elapsed
    }
}

public struct RenderResult: Sendable, Equatable {
    public var output: String
    public var thumbnail: String?
    public var duration: Double
    public var frameCount: Int
    /// Wall-clock seconds spent, from template load to renamed output.
    public var elapsed: Double
    /// The plan rendered, as `rendc plan` prints it (without the filter graph).
    public var plan: String = ""
    /// Loudness of the mix before normalisation (the first pass) and of the audio written, when normalised.
    public var loudnessIn: LoudnessMeasurement?
    public var loudnessOut: LoudnessMeasurement?
    /// Wall-clock seconds from template load until frame 0 was handed to the encoder (the fixed cost).
    public var firstFrameSeconds: Double = 0
    /// The plan's notes (pictures repeated, a field's text cut to fit, ...), as `rendc plan` prints them.
    public var notes: [String] = []
}
