/// A parsed, validated render template: everything that differs between `golden-frame`, `silver-frame` and
/// `no-frame` is in here, and nothing in here knows about FFmpeg, a database or HTTP.
public struct Template: Sendable, Equatable {
    /// Template name, as used by `overlayType` in the API (`golden-frame`).
    public var name: String
    /// One line for `rendc templates`.
    public var description: String
    /// Where the template was read from (for error messages and relative asset paths); nil when built in code.
    public var sourcePath: String?
    public var canvas: Canvas
    public var timing: Timing
    /// Bottom to top.
    public var layers: [Layer]
    /// Per quality mode adjustments on top of the built-in profile for that mode.
    public var quality: [QualityMode: QualityOverride]

    public init(
        name: String, description: String, sourcePath: String? = nil, canvas: Canvas = Canvas(),
        timing: Timing = Timing(), layers: [Layer], quality: [QualityMode: QualityOverride] = [:]
    ) {
        self.name = name
        self.description = description
        self.sourcePath = sourcePath
        self.canvas = canvas
        self.timing = timing
        self.layers = layers
        self.quality = quality
    }

    /// The text layer, if the template has one.
    public var textLayer: TextLayer? {
        for case .text(let t) in layers { return t }
        return nil
    }
}

public struct Canvas: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var fps: Int
    public init(width: Int = 1080, height: Int = 1920, fps: Int = 30) {
        self.width = width
        self.height = height
        self.fps = fps
    }
}

public enum QualityMode: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    /// Full effects at the template's canvas size.
    case normal
    /// Cheaper and faster: smaller canvas, lighter encoder preset.
    case eco
    /// Still images: no Ken Burns motion, no overlay animation.
    case freeze
}

public struct QualityOverride: Sendable, Equatable {
    /// Canvas scale factor (eco defaults to 2/3: 720x1280).
    public var scale: Double?
    /// libx264 preset name.
    public var preset: String?
    /// libx264 constant rate factor, 0...51.
    public var crf: Int?
    /// Whether the overlay video layer is drawn.
    public var overlay: Bool?
    /// Whether Ken Burns motion runs.
    public var motion: Bool?
    public init(scale: Double? = nil, preset: String? = nil, crf: Int? = nil, overlay: Bool? = nil, motion: Bool? = nil) {
        self.scale = scale
        self.preset = preset
        self.crf = crf
        self.overlay = overlay
        self.motion = motion
    }
}

// MARK: Timing

public struct Timing: Sendable, Equatable {
    /// Length of a video when the job gives no duration target and the audio is at least this long.
    public var defaultDuration: Double
    /// Length of a video with no audio and no duration target.
    public var noAudioDuration: Double
    public var cut: CutRule
    public var audio: AudioRule
    public init(defaultDuration: Double = 30, noAudioDuration: Double = 30, cut: CutRule = CutRule(), audio: AudioRule = AudioRule()) {
        self.defaultDuration = defaultDuration
        self.noAudioDuration = noAudioDuration
        self.cut = cut
        self.audio = audio
    }
}

public struct CutRule: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Cut on music beats when beats were found, else every `fallbackInterval` seconds.
        case beats
        /// Always cut every `fallbackInterval` seconds.
        case interval
    }
    public var mode: Mode
    /// Cut on every Nth beat (at fast tempos the planner skips more beats to honour `minShot`).
    public var everyBeats: Int
    /// No shot is shorter than this (seconds), except where the video ends.
    public var minShot: Double
    /// No shot is longer than this (seconds); a long gap between beats gets an extra cut.
    public var maxShot: Double
    /// Cut interval with no beats (no audio, silence, speech).
    public var fallbackInterval: Double
    public init(mode: Mode = .beats, everyBeats: Int = 1, minShot: Double = 1.5, maxShot: Double = 4, fallbackInterval: Double = 2) {
        self.mode = mode
        self.everyBeats = everyBeats
        self.minShot = minShot
        self.maxShot = maxShot
        self.fallbackInterval = fallbackInterval
    }
}

public struct AudioRule: Sendable, Equatable {
    public var fadeIn: Double
    public var fadeOut: Double
    /// Linear gain, 0...2.
    public var volume: Double
    public init(fadeIn: Double = 0, fadeOut: Double = 1.5, volume: Double = 1) {
        self.fadeIn = fadeIn
        self.fadeOut = fadeOut
        self.volume = volume
    }
}

// MARK: Layers

public enum Layer: Sendable, Equatable {
    case background(BackgroundLayer)
    case overlayVideo(OverlayVideoLayer)
    case images(ImageLayer)
    case frame(FrameLayer)
    case text(TextLayer)

    public var kind: String {
        switch self {
        case .background: "background"
        case .overlayVideo: "overlay_video"
        case .images: "images"
        case .frame: "frame"
        case .text: "text"
        }
    }
}

/// An sRGB colour with alpha, written `#RRGGBB` or `#RRGGBBAA` in a template.
public struct Color: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8, a: UInt8
    public init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) {
        self.r = r; self.g = g; self.b = b; self.a = a
    }
    /// Parses `#RGB`, `#RRGGBB` or `#RRGGBBAA` (the `#` is optional); nil for anything else.
    public init?(hex: String) {
        var s = Substring(hex)
        if s.hasPrefix("#") { s = s.dropFirst() }
        guard s.allSatisfy(\.isHexDigit) else { return nil }
        let digits = Array(s)
        func byte(_ i: Int, _ n: Int) -> UInt8 { UInt8(String(digits[i..<(i + n)]), radix: 16)! }
        switch digits.count {
        case 3:
            self.init(r: byte(0, 1) * 17, g: byte(1, 1) * 17, b: byte(2, 1) * 17)
        case 6:
            self.init(r: byte(0, 2), g: byte(2, 2), b: byte(4, 2))
        case 8:
            self.init(r: byte(0, 2), g: byte(2, 2), b: byte(4, 2), a: byte(6, 2))
        default:
            return nil
        }
    }
    public var hex: String {
        func h(_ v: UInt8) -> String { let s = String(v, radix: 16, uppercase: true); return s.count == 1 ? "0" + s : s }
        return "#" + h(r) + h(g) + h(b) + (a == 255 ? "" : h(a))
    }
    public var description: String { hex }

    public static let black = Color(r: 0, g: 0, b: 0)
    public static let white = Color(r: 255, g: 255, b: 255)
    public static let clear = Color(r: 0, g: 0, b: 0, a: 0)
}

/// A rectangle on the canvas, in canvas pixels (before any quality-mode scaling).
public struct Rect: Sendable, Equatable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

/// A reference to a media file: one of rendc's built-in assets, or a file path (relative to the template file).
public enum AssetRef: Sendable, Equatable, CustomStringConvertible {
    case builtin(String)
    case file(String)
    public var description: String {
        switch self {
        case .builtin(let n): "builtin:\(n)"
        case .file(let p): p
        }
    }
}

public struct BackgroundLayer: Sendable, Equatable {
    public var color: Color
    public init(color: Color) { self.color = color }
}

public enum BlendMode: String, Sendable, Equatable, CaseIterable {
    case normal, screen, add
}

public struct OverlayVideoLayer: Sendable, Equatable {
    public var source: AssetRef
    public var opacity: Double
    public var blend: BlendMode
    public init(source: AssetRef, opacity: Double = 0.7, blend: BlendMode = .normal) {
        self.source = source
        self.opacity = opacity
        self.blend = blend
    }
}

public enum Fit: String, Sendable, Equatable, CaseIterable {
    /// Scale to fill the window and crop what overflows (no distortion, nothing letterboxed).
    case cover
    /// Scale to fit inside the window and show the layers below around it (no distortion, nothing cropped).
    case contain
}

public enum Easing: String, Sendable, Equatable, CaseIterable {
    case linear
    case easeInOut = "ease_in_out"
}

/// A point in a source image, as fractions of its width and height (0.5, 0.5 is the centre).
public struct UnitPoint: Sendable, Equatable, CustomStringConvertible {
    public var x: Double, y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
    public static let center = UnitPoint(x: 0.5, y: 0.5)
    public var description: String { "(\(x), \(y))" }
}

public struct KenBurns: Sendable, Equatable {
    public var startZoom: Double
    public var endZoom: Double
    public var panFrom: UnitPoint
    public var panTo: UnitPoint
    public var easing: Easing
    /// Swap start and end on every other shot (zoom in, zoom out, ...).
    public var alternate: Bool
    public init(
        startZoom: Double = 1.0, endZoom: Double = 1.05, panFrom: UnitPoint = .center, panTo: UnitPoint = .center,
        easing: Easing = .linear, alternate: Bool = false
    ) {
        self.startZoom = startZoom
        self.endZoom = endZoom
        self.panFrom = panFrom
        self.panTo = panTo
        self.easing = easing
        self.alternate = alternate
    }
}

public struct ImageLayer: Sendable, Equatable {
    public var window: Rect
    public var fit: Fit
    public var kenBurns: KenBurns?
    public init(window: Rect, fit: Fit = .cover, kenBurns: KenBurns? = KenBurns()) {
        self.window = window
        self.fit = fit
        self.kenBurns = kenBurns
    }
}

public enum FrameLayer: Sendable, Equatable {
    /// A solid border drawn inside the canvas edge.
    case border(color: Color, width: Int)
    /// A PNG with alpha scaled to the canvas.
    case image(AssetRef)
}

public struct TextLayer: Sendable, Equatable {
    /// The caption box on the canvas; text is laid out inside it.
    public var box: Rect
    public var style: TextStyle
    public init(box: Rect, style: TextStyle) {
        self.box = box
        self.style = style
    }
}

// MARK: Text style (the seam with CaptionText)

public enum TextAlign: String, Sendable, Equatable, CaseIterable {
    case left, center, right
}

public enum VerticalAlign: String, Sendable, Equatable, CaseIterable {
    case top, middle, bottom
}

public enum WrapMode: String, Sendable, Equatable, CaseIterable {
    /// Break between words (and between CJK characters).
    case word
    /// Break anywhere.
    case anywhere
    /// Never break; shrink or ellipsize instead.
    case none
}

public enum FontWeight: String, Sendable, Equatable, CaseIterable {
    case regular, bold
}

public struct FontSpec: Sendable, Equatable {
    /// A family name resolved against the system's Noto fonts (`sans`, `serif`, or a family such as `Noto Sans`).
    public var family: String
    public var weight: FontWeight
    /// An explicit font file (absolute, or relative to the template file); tried before the family.
    public var file: String?
    public init(family: String = "sans", weight: FontWeight = .bold, file: String? = nil) {
        self.family = family
        self.weight = weight
        self.file = file
    }
}

public struct Stroke: Sendable, Equatable {
    public var color: Color
    /// Outline width in pixels (at the nominal text size).
    public var width: Double
    public init(color: Color, width: Double) {
        self.color = color
        self.width = width
    }
}

public struct CaptionBackground: Sendable, Equatable {
    public var color: Color
    /// Space between the text and the edge of the background, in pixels.
    public var padding: Int
    /// Corner radius in pixels.
    public var radius: Int
    public init(color: Color, padding: Int = 16, radius: Int = 0) {
        self.color = color
        self.padding = padding
        self.radius = radius
    }
}

public struct Shadow: Sendable, Equatable {
    public var color: Color
    public var offsetX: Int
    public var offsetY: Int
    public var blur: Int
    public init(color: Color, offsetX: Int = 0, offsetY: Int = 4, blur: Int = 8) {
        self.color = color
        self.offsetX = offsetX
        self.offsetY = offsetY
        self.blur = blur
    }
}

public struct TextStyle: Sendable, Equatable {
    public var font: FontSpec
    /// Nominal size in pixels (em size).
    public var size: Double
    /// Smallest size that shrink-to-fit may use.
    public var minSize: Double
    public var color: Color
    public var stroke: Stroke?
    public var background: CaptionBackground?
    public var shadow: Shadow?
    public var align: TextAlign
    public var verticalAlign: VerticalAlign
    public var maxLines: Int
    public var wrap: WrapMode
    /// Line height as a multiple of the size.
    public var lineSpacing: Double
    public var shrinkToFit: Bool
    /// As a last resort, cut the text with "…" when it does not fit at `minSize`.
    public var ellipsis: Bool

    public init(
        font: FontSpec = FontSpec(), size: Double = 60, minSize: Double = 32, color: Color = .white,
        stroke: Stroke? = Stroke(color: .black, width: 2), background: CaptionBackground? = nil, shadow: Shadow? = nil,
        align: TextAlign = .center, verticalAlign: VerticalAlign = .middle, maxLines: Int = 3, wrap: WrapMode = .word,
        lineSpacing: Double = 1.15, shrinkToFit: Bool = true, ellipsis: Bool = true
    ) {
        self.font = font
        self.size = size
        self.minSize = minSize
        self.color = color
        self.stroke = stroke
        self.background = background
        self.shadow = shadow
        self.align = align
        self.verticalAlign = verticalAlign
        self.maxLines = maxLines
        self.wrap = wrap
        self.lineSpacing = lineSpacing
        self.shrinkToFit = shrinkToFit
        self.ellipsis = ellipsis
    }
}
