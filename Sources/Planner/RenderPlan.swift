import Foundation
import SpecLang

/// What a render will do, fully resolved: sizes in output pixels, times in seconds and frames, every input path.
/// A plan is a value: it is built and tested without FFmpeg, printed by `rendc plan`, and run by the backend.
public struct RenderPlan: Sendable, Equatable {
    public var template: String
    public var quality: QualityMode
    /// Output size and rate (after the quality mode's scale).
    public var width: Int
    public var height: Int
    public var fps: Int
    public var duration: Double
    public var frameCount: Int
    public var encoder: EncoderSettings
    public var background: Color
    public var overlay: OverlayPlan?
    public var images: ImagesPlan?
    public var frame: FramePlan?
    public var caption: CaptionPlan?
    public var audio: AudioPlan?
    /// Time of the thumbnail frame (1 s, or the middle of a shorter video).
    public var thumbnailTime: Double
    /// Why the cuts fall where they do.
    public var cutSource: CutSource
    /// Things a designer should know (fallbacks taken, inputs cycled, audio padded).
    public var notes: [String]

    public init(
        template: String, quality: QualityMode, width: Int, height: Int, fps: Int, duration: Double, frameCount: Int,
        encoder: EncoderSettings, background: Color, overlay: OverlayPlan?, images: ImagesPlan?, frame: FramePlan?,
        caption: CaptionPlan?, audio: AudioPlan?, thumbnailTime: Double, cutSource: CutSource, notes: [String]
    ) {
        self.template = template
        self.quality = quality
        self.width = width
        self.height = height
        self.fps = fps
        self.duration = duration
        self.frameCount = frameCount
        self.encoder = encoder
        self.background = background
        self.overlay = overlay
        self.images = images
        self.frame = frame
        self.caption = caption
        self.audio = audio
        self.thumbnailTime = thumbnailTime
        self.cutSource = cutSource
        self.notes = notes
    }

    /// Index of the thumbnail frame.
    public var thumbnailFrame: Int { min(frameCount - 1, max(0, Int((thumbnailTime * Double(fps)).rounded(.down)))) }
}

public struct EncoderSettings: Sendable, Equatable {
    public var videoCodec: String = "libx264"
    public var preset: String
    public var crf: Int
    public var pixelFormat: String = "yuv420p"
    /// Keyframe interval in frames.
    public var gop: Int
    public var tune: String?
    /// Extra libx264 options (`key=value:key=value`).
    public var x264Params: String?
    public var audioCodec: String = "aac"
    public var audioBitrate: Int = 160_000
    public var audioSampleRate: Int = 48_000
    public var audioChannels: Int = 2
    public var faststart: Bool = true
    public init(preset: String, crf: Int, gop: Int, tune: String? = nil, x264Params: String? = nil) {
        self.preset = preset
        self.crf = crf
        self.gop = gop
        self.tune = tune
        self.x264Params = x264Params
    }
}

/// An input file the backend reads.
public struct MediaInput: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public init(path: String) { self.path = path }
    public var description: String { path }
}

public struct OverlayPlan: Sendable, Equatable {
    public var source: MediaInput
    public var opacity: Double
    public var blend: BlendMode
    /// False in freeze mode: the overlay's first frame is used as a still.
    public var animated: Bool
}

public struct ImagesPlan: Sendable, Equatable {
    /// The window on the output canvas (already scaled for the quality mode).
    public var window: Rect
    public var fit: Fit
    public var inputs: [MediaInput]
    /// Each shot shows one input over a run of frames; shots are contiguous and cover every frame.
    public var shots: [Shot]
}

public struct Shot: Sendable, Equatable {
    public var index: Int
    /// Index into `ImagesPlan.inputs`.
    public var image: Int
    public var start: Double
    public var end: Double
    /// First frame of the shot, inclusive.
    public var startFrame: Int
    /// Last frame of the shot, exclusive.
    public var endFrame: Int
    /// The beat time the shot starts on, when it was cut on a beat.
    public var beat: Double?
    public var motion: Motion
    public var duration: Double { end - start }
    public var frameCount: Int { endFrame - startFrame }
}

/// Ken Burns motion within one shot: the zoom and view centre at its first and last frame.
public struct Motion: Sendable, Equatable {
    public var zoomFrom: Double
    public var zoomTo: Double
    public var panFrom: UnitPoint
    public var panTo: UnitPoint
    public var easing: Easing
    public static let still = Motion(zoomFrom: 1, zoomTo: 1, panFrom: .center, panTo: .center, easing: .linear)
    public init(zoomFrom: Double, zoomTo: Double, panFrom: UnitPoint, panTo: UnitPoint, easing: Easing) {
        self.zoomFrom = zoomFrom
        self.zoomTo = zoomTo
        self.panFrom = panFrom
        self.panTo = panTo
        self.easing = easing
    }
    public var isStill: Bool { zoomFrom == zoomTo && panFrom == panTo }

    /// Progress 0...1 through the shot mapped through the easing curve.
    public func eased(_ t: Double) -> Double {
        let u = min(1, max(0, t))
        switch easing {
        case .linear: return u
        case .easeInOut: return u * u * (3 - 2 * u)
        }
    }
    public func zoom(at t: Double) -> Double { zoomFrom + (zoomTo - zoomFrom) * eased(t) }
    public func center(at t: Double) -> UnitPoint {
        let e = eased(t)
        return UnitPoint(x: panFrom.x + (panTo.x - panFrom.x) * e, y: panFrom.y + (panTo.y - panFrom.y) * e)
    }
    /// The largest zoom reached in the shot.
    public var maxZoom: Double { max(zoomFrom, zoomTo) }
}

public enum FramePlan: Sendable, Equatable {
    case border(color: Color, width: Int)
    case image(MediaInput)
}

/// The caption is drawn once, by the text renderer, into an RGBA image the size of `box`; the graph overlays it.
/// User text never becomes part of a filter graph string.
public struct CaptionPlan: Sendable, Equatable {
    public var text: String
    /// Output-pixel box (scaled for the quality mode).
    public var box: Rect
    /// Style scaled for the quality mode.
    public var style: TextStyle
    /// Directory that relative font paths resolve against (the template's folder).
    public var baseDirectory: String?
}

public struct AudioPlan: Sendable, Equatable {
    public var source: MediaInput
    /// Seconds of the track used (from its start).
    public var duration: Double
    public var fadeIn: Double
    public var fadeOut: Double
    public var volume: Double
    /// Length of the track, when known; shorter tracks are padded with silence.
    public var trackDuration: Double?
}

public enum CutSource: Sendable, Equatable, CustomStringConvertible {
    /// Cuts on detected beats.
    case beats(tempo: Double, beatCount: Int)
    /// Cuts every `interval` seconds, and why.
    case fallback(interval: Double, reason: String)
    public var description: String {
        switch self {
        case .beats(let tempo, let n): "beats (\(n) beats, \(String(format: "%.1f", tempo)) BPM)"
        case .fallback(let i, let why): "every \(i) s (\(why))"
        }
    }
}
