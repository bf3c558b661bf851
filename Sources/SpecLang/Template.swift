/// A parsed, validated render template: an ordered list of layers drawn bottom to top, the merge fields a job may
/// fill, timing rules and per-quality overrides. Nothing in here knows about FFmpeg, a database or HTTP.
public struct Template: Sendable, Equatable {
    /// Caps on the lists a template repeats (each layer is prepared as a picture of its own; YAML aliases can
    /// multiply lists): more is a lint error at the list.
    public static let maximumLayers = 64
    public static let maximumAnimations = 16
    public static let maximumKeyframes = 120
    public static let maximumStops = 32
    /// Template name, as used by `overlayType` in the API (`golden-frame`).
    public var name: String
    /// One line for `rendc templates`.
    public var description: String
    /// Where the template was read from (for error messages and relative asset paths); nil when built in code.
    public var sourcePath: String?
    public var canvas: Canvas
    public var timing: Timing
    /// Merge fields a job fills (`--field NAME=VALUE`, the API's `fields`); text layers use them as `{{name}}`.
    public var fields: [FieldSpec]
    /// Bottom to top, in YAML order.
    public var layers: [Layer]
    /// Per quality mode adjustments on top of the built-in profile for that mode.
    public var quality: [QualityMode: QualityOverride]
    /// Problems that do not stop the template from rendering (unused fields, v1 syntax), for `rendc lint`.
    public var warnings: [SpecError]

    public init(
        name: String, description: String, sourcePath: String? = nil, canvas: Canvas = Canvas(),
        timing: Timing = Timing(), fields: [FieldSpec] = [], layers: [Layer],
        quality: [QualityMode: QualityOverride] = [:], warnings: [SpecError] = []
    ) {
        self.name = name
        self.description = description
        self.sourcePath = sourcePath
        self.canvas = canvas
        self.timing = timing
        self.fields = fields
        self.layers = layers
        self.quality = quality
        self.warnings = warnings
    }

    /// The first text layer, if the template has one.
    public var textLayer: TextLayer? {
        for layer in layers { if case .text(let t) = layer.content { return t } }
        return nil
    }

    public func field(named name: String) -> FieldSpec? { fields.first { $0.name == name } }

    /// The field `textOverlay` / `--text` fills.
    public static let captionField = "caption"
}

public struct Canvas: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var fps: Int
    /// The largest canvas a template may ask for: either side up to 3840, 3840x2160's pixels in all, 60 fps.
    public static let maximumSide = 3840
    public static let maximumPixels = 3840 * 2160
    public static let maximumFPS = 60
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
    /// Whether video layers are drawn.
    public var overlay: Bool?
    /// Whether Ken Burns motion, animations and video playback run.
    public var motion: Bool?
    public init(scale: Double? = nil, preset: String? = nil, crf: Int? = nil, overlay: Bool? = nil, motion: Bool? = nil) {
        self.scale = scale
        self.preset = preset
        self.crf = crf
        self.overlay = overlay
        self.motion = motion
    }
}

// MARK: Fields

/// A merge field: data a job supplies, never part of a filter graph.
public struct FieldSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// UTF-8 text for `{{name}}` in text layers.
        case text
        /// A colour (`#RRGGBB[AA]`) for `color`/`fill` values written `"{{name}}"`.
        case color
        /// A picture: a file path on the command line, an asset id in the API; for image layers' `source: "{{name}}"`.
        case image
    }
    public var name: String
    public var kind: Kind
    /// The value when the job gives none (nil: empty text, or no picture).
    public var defaultValue: String?
    /// Longest accepted value, in characters (grapheme clusters).
    public var maxLength: Int
    public var required: Bool
    public var description: String
    public init(name: String, kind: Kind = .text, defaultValue: String? = nil, maxLength: Int = 500, required: Bool = false, description: String = "")
    {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.maxLength = maxLength
        self.required = required
        self.description = description
    }
}

/// A value a job may supply through a field: the literal, or `{{field}}`.
public enum Bindable<Value: Sendable & Equatable>: Sendable, Equatable {
    case value(Value)
    case field(String)
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
    /// Where the music starts in the track (`timing.audio.start`).
    public enum Start: Sendable, Equatable {
        /// The bar-aligned window with the strongest, steadiest beat and energy (when the track is longer than the video).
        case auto
        /// This many seconds into the track.
        case seconds(Double)
    }
    /// Seconds; nil when the template does not say (0 from the track's start; 0.25 s from a start inside it, so the
    /// music does not burst in mid-phrase). A value the template gives is used as it is (0: the 15 ms declick only),
    /// so a start on a drop keeps its hit.
    public var fadeIn: Double?
    public var fadeOut: Double
    /// Linear gain, 0...2.
    public var volume: Double
    public var start: Start
    /// The template's line of `start` (0: not given), for the planner's error when a set start is past the track.
    public var startLine = 0
    /// Loop the track on a bar line when the video is longer than it.
    public var loop: Bool
    /// Integrated loudness target of the mix (LUFS), or nil to leave the loudness as it is.
    public var loudness: Double?
    /// How a voice-over is mixed, when the job brings one.
    public var voice: VoiceRule
    public init(
        fadeIn: Double? = nil, fadeOut: Double = 1.5, volume: Double = 1, start: Start = .auto, loop: Bool = true,
        loudness: Double? = -14, voice: VoiceRule = VoiceRule()
    ) {
        self.fadeIn = fadeIn
        self.fadeOut = fadeOut
        self.volume = volume
        self.start = start
        self.loop = loop
        self.loudness = loudness
        self.voice = voice
    }
}

/// `timing.audio.voice`: a voice-over mixed over the music, which ducks under it.
public struct VoiceRule: Sendable, Equatable {
    /// Seconds into the video where the voice starts.
    public var start: Double
    /// Linear gain of the voice, 0...4.
    public var volume: Double
    /// How far the music goes down under speech (dB, positive).
    public var duckDB: Double
    public init(start: Double = 0, volume: Double = 1, duckDB: Double = 10) {
        self.start = start
        self.volume = volume
        self.duckDB = duckDB
    }
}

// MARK: Values

/// An sRGB colour with alpha, written `#RRGGBB` or `#RRGGBBAA` in a template.
public struct Color: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8, a: UInt8
    public init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) {
        self.r = r; self.g = g; self.b = b; self.a = a
    }
    /// Parses `#RGB`, `#RRGGBB` or `#RRGGBBAA` (the `#` is optional) with ASCII hex digits only; nil otherwise.
    public init?(hex: String) {
        var s = Substring(hex)
        if s.hasPrefix("#") { s = s.dropFirst() }
        var nibbles: [UInt8] = []
        for u in s.unicodeScalars {
            switch u.value {
            case 0x30...0x39: nibbles.append(UInt8(u.value - 0x30))
            case 0x41...0x46: nibbles.append(UInt8(u.value - 0x41 + 10))
            case 0x61...0x66: nibbles.append(UInt8(u.value - 0x61 + 10))
            default: return nil
            }
        }
        func byte(_ i: Int) -> UInt8 { nibbles[i] << 4 | nibbles[i + 1] }
        switch nibbles.count {
        case 3: self.init(r: nibbles[0] * 17, g: nibbles[1] * 17, b: nibbles[2] * 17)
        case 6: self.init(r: byte(0), g: byte(2), b: byte(4))
        case 8: self.init(r: byte(0), g: byte(2), b: byte(4), a: byte(6))
        default: return nil
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
public struct Rect: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

/// A length on the canvas: pixels, or a percentage of the canvas's width (x, width) or height (y, height).
public enum Length: Sendable, Equatable, CustomStringConvertible {
    case pixels(Double)
    case percent(Double)
    public func resolve(_ extent: Int) -> Double {
        switch self {
        case .pixels(let p): p
        case .percent(let p): p / 100 * Double(extent)
        }
    }
    public var description: String {
        switch self {
        case .pixels(let p): "\(p)"
        case .percent(let p): "\(p)%"
        }
    }
}

/// Which point of a layer's box its `x`/`y` place.
public enum Anchor: String, Sendable, Equatable, CaseIterable {
    case topLeft = "top_left", top, topRight = "top_right", left, center, right, bottomLeft = "bottom_left", bottom
    case bottomRight = "bottom_right"
    /// The anchor as fractions of the box (0, 0 top-left; 1, 1 bottom-right).
    public var unit: (x: Double, y: Double) {
        switch self {
        case .topLeft: (0, 0)
        case .top: (0.5, 0)
        case .topRight: (1, 0)
        case .left: (0, 0.5)
        case .center: (0.5, 0.5)
        case .right: (1, 0.5)
        case .bottomLeft: (0, 1)
        case .bottom: (0.5, 1)
        case .bottomRight: (1, 1)
        }
    }
}

/// Where a layer sits: `x`/`y` place its `anchor`; `center` centres the box on that axis. Sizes default to the canvas.
public struct Placement: Sendable, Equatable {
    public enum Coordinate: Sendable, Equatable {
        case length(Length)
        /// Centred on the canvas along this axis.
        case center
    }
    public var x: Coordinate
    public var y: Coordinate
    public var width: Length?
    public var height: Length?
    public var anchor: Anchor
    public init(
        x: Coordinate = .length(.pixels(0)), y: Coordinate = .length(.pixels(0)), width: Length? = nil, height: Length? = nil,
        anchor: Anchor = .topLeft
    ) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.anchor = anchor
    }
    public static let fullCanvas = Placement()
    public init(_ r: Rect) {
        self.init(
            x: .length(.pixels(Double(r.x))), y: .length(.pixels(Double(r.y))), width: .pixels(Double(r.width)), height: .pixels(Double(r.height)))
    }

    /// The box in canvas pixels (rounded to whole pixels).
    public func resolve(in canvas: Canvas) -> Rect {
        let w = width.map { $0.resolve(canvas.width) } ?? Double(canvas.width)
        let h = height.map { $0.resolve(canvas.height) } ?? Double(canvas.height)
        func coord(_ c: Coordinate, _ size: Double, _ extent: Int, _ anchor: Double) -> Double {
            switch c {
            case .center: (Double(extent) - size) / 2
            case .length(let l): l.resolve(extent) - anchor * size
            }
        }
        let a = anchor.unit
        let x = coord(self.x, w, canvas.width, a.x), y = coord(self.y, h, canvas.height, a.y)
        return Rect(x: Int(x.rounded()), y: Int(y.rounded()), width: max(1, Int(w.rounded())), height: max(1, Int(h.rounded())))
    }
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

/// A moment in the video: seconds (negative counts back from the end), or the Nth beat of the music.
public enum TimePoint: Sendable, Equatable, CustomStringConvertible {
    case seconds(Double)
    case beats(Double)
    public var description: String {
        switch self {
        case .seconds(let s): "\(s)s"
        case .beats(let b): "\(b) beats"
        }
    }
}

/// When a layer is shown. `perShot` repeats the window in every shot of the media layer, relative to the shot.
public struct LayerTiming: Sendable, Equatable {
    public var start: TimePoint?
    public var end: TimePoint?
    public var duration: TimePoint?
    public var perShot: Bool
    public init(start: TimePoint? = nil, end: TimePoint? = nil, duration: TimePoint? = nil, perShot: Bool = false) {
        self.start = start
        self.end = end
        self.duration = duration
        self.perShot = perShot
    }
    public static let always = LayerTiming()
    public var isAlways: Bool { self == .always }
}

/// A timing curve from 0 to 1.
public enum Easing: Sendable, Equatable, CustomStringConvertible {
    case linear
    case easeIn
    case easeOut
    /// Smoothstep: the v1 Ken Burns curve.
    case easeInOut
    /// CSS `cubic-bezier(x1, y1, x2, y2)`; y may leave 0...1 for overshoot.
    case cubicBezier(Double, Double, Double, Double)

    public static let names = ["linear", "ease_in", "ease_out", "ease_in_out", "cubic_bezier"]

    public var description: String {
        switch self {
        case .linear: "linear"
        case .easeIn: "ease_in"
        case .easeOut: "ease_out"
        case .easeInOut: "ease_in_out"
        case .cubicBezier(let a, let b, let c, let d): "cubic_bezier(\(a), \(b), \(c), \(d))"
        }
    }

    /// The eased progress for `t` in 0...1 (clamped).
    public func apply(_ t: Double) -> Double {
        let u = min(1, max(0, t))
        switch self {
        case .linear: return u
        case .easeIn: return u * u * u
        case .easeOut: let v = 1 - u; return 1 - v * v * v
        case .easeInOut: return u * u * (3 - 2 * u)
        case .cubicBezier(let x1, let y1, let x2, let y2):
            // Solve x(s) = u for s by bisection (x is monotonic for x1, x2 in 0...1), then return y(s).
            func bez(_ s: Double, _ p1: Double, _ p2: Double) -> Double {
                let v = 1 - s
                return 3 * v * v * s * p1 + 3 * v * s * s * p2 + s * s * s
            }
            var lo = 0.0, hi = 1.0
            for _ in 0..<40 {
                let mid = (lo + hi) / 2
                if bez(mid, x1, x2) < u { lo = mid } else { hi = mid }
            }
            return bez((lo + hi) / 2, y1, y2)
        }
    }
}

public enum Side: String, Sendable, Equatable, CaseIterable {
    case left, right, top, bottom
}

/// A named animation, expanded by the planner into keyframes.
public enum AnimationPreset: Sendable, Equatable {
    case fadeIn
    case fadeOut
    /// Slide in from a side to the layer's place: from just off the canvas, or from `distance` away (pixels, or a
    /// percentage of the box's size along the slide).
    case slideIn(from: Side, distance: Length? = nil)
    /// Slide out to a side at the layer's end: until just off the canvas, or `distance` away.
    case slideOut(to: Side, distance: Length? = nil)
    /// Scale up from nothing with an overshoot.
    case pop
    /// Scale up by `amount` and back on every beat.
    case pulse(amount: Double)
}

/// One keyframe: a time (seconds from the layer's start) and the properties set there.
public struct Keyframe: Sendable, Equatable {
    public var time: Double
    /// Offsets from the layer's place, in canvas pixels or %.
    public var x: Length?
    public var y: Length?
    public var scale: Double?
    /// Multiply the width alone and the height alone (the layer's own, before rotation), about the pivot.
    public var scaleX: Double? = nil
    public var scaleY: Double? = nil
    /// Degrees, clockwise, added to the layer's rotation.
    public var rotation: Double?
    /// Multiplies the layer's opacity.
    public var opacity: Double?
    /// Curve from the previous keyframe to this one.
    public var easing: Easing
    public init(
        time: Double, x: Length? = nil, y: Length? = nil, scale: Double? = nil, rotation: Double? = nil, opacity: Double? = nil,
        easing: Easing = .linear
    ) {
        self.time = time
        self.x = x
        self.y = y
        self.scale = scale
        self.rotation = rotation
        self.opacity = opacity
        self.easing = easing
    }
}

public enum Animation: Sendable, Equatable {
    /// A preset; `again` plays it again (`repeat:`, `yoyo:`: `fade_in`, `slide_in` and `pop` take them).
    case preset(AnimationPreset, duration: Double, delay: Double, easing: Easing?, again: KeyframeRepeat? = nil)
    case keyframes([Keyframe])
    /// Keyframes that play again (`repeat:`, `yoyo:`).
    case repeatingKeyframes([Keyframe], KeyframeRepeat)
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

// MARK: Layers

/// One layer: what it draws, where, when, and how it moves.
public struct Layer: Sendable, Equatable {
    public var content: LayerContent
    public var placement: Placement
    /// Degrees clockwise about the pivot.
    public var rotation: Double
    /// The point rotation and scaling turn about, on the canvas; nil is the box's centre.
    public var pivot: (x: Length, y: Length)?
    public var opacity: Double
    /// Corner radius in pixels (media, image, shape, color layers).
    public var radius: Int
    public var shadow: Shadow?
    public var timing: LayerTiming
    public var animations: [Animation]
    /// Line of the layer in its file (0 when built in code), for plan notes.
    public var line: Int
    /// The card this layer goes with (`cell: N`): its box is measured in that cell of an earlier media layer, and it
    /// shows from that cell's delay; nil: placed on the canvas.
    public var cell: CellReference? = nil
    /// Colours of this layer that colour fields set (`color: "{{accent}}"` on a text, its stroke, background or shadow,
    /// a shape's stroke, a layer's shadow, a gradient's stop). The layer holds the field's default in each until
    /// `settingColorFields` puts the job's values in.
    public var colorFields: [ColorSlot: String] = [:]

    public init(
        _ content: LayerContent, placement: Placement = .fullCanvas, rotation: Double = 0, pivot: (x: Length, y: Length)? = nil,
        opacity: Double = 1, radius: Int = 0, shadow: Shadow? = nil, timing: LayerTiming = .always, animations: [Animation] = [], line: Int = 0
    ) {
        self.content = content
        self.placement = placement
        self.rotation = rotation
        self.pivot = pivot
        self.opacity = opacity
        self.radius = radius
        self.shadow = shadow
        self.timing = timing
        self.animations = animations
        self.line = line
    }

    public static func == (a: Layer, b: Layer) -> Bool {
        a.content == b.content && a.placement == b.placement && a.rotation == b.rotation
            && a.pivot?.x == b.pivot?.x && a.pivot?.y == b.pivot?.y && a.opacity == b.opacity && a.radius == b.radius
            && a.shadow == b.shadow && a.timing == b.timing && a.animations == b.animations && a.colorFields == b.colorFields
            && a.cell == b.cell
    }

    /// The layer with each colour a field sets replaced by that field's value (`color(name)`; nil keeps the default).
    public func settingColorFields(_ color: (String) -> Color?) -> Layer {
        var l = self
        for (slot, name) in colorFields {
            guard let c = color(name) else { continue }
            switch (slot, l.content) {
            case (.text, .text(var t)):
                t.style.color = c
                l.content = .text(t)
            case (.stroke, .text(var t)):
                t.style.stroke?.color = c
                l.content = .text(t)
            case (.stroke, .shape(var s)):
                s.stroke?.color = c
                l.content = .shape(s)
            case (.background, .text(var t)):
                t.style.background?.color = c
                l.content = .text(t)
            case (.shadow, .text(var t)):
                t.style.shadow?.color = c
                l.content = .text(t)
            case (.shadow, _):
                l.shadow?.color = c
            case (.stop(let i), .color(let f)):
                l.content = .color(f.settingStop(i, c))
            case (.stop(let i), .shape(var s)):
                s.fill = s.fill?.settingStop(i, c)
                l.content = .shape(s)
            default:
                break
            }
        }
        return l
    }

    public var kind: String { content.kind }
}

public enum LayerContent: Sendable, Equatable {
    case color(Fill)
    case video(VideoLayer)
    case media(MediaLayer)
    case image(ImageLayer)
    case text(TextLayer)
    case shape(ShapeLayer)
    case border(BorderLayer)

    public static let kinds = ["color", "video", "media", "image", "text", "shape", "border"]

    public var kind: String {
        switch self {
        case .color: "color"
        case .video: "video"
        case .media: "media"
        case .image: "image"
        case .text: "text"
        case .shape: "shape"
        case .border: "border"
        }
    }
}

/// Where in a layer a colour field's value goes (see `Layer.colorFields`).
public enum ColorSlot: Sendable, Hashable {
    /// A text's colour.
    case text
    /// A text's or a shape's outline.
    case stroke
    /// A text's background.
    case background
    /// A text's shadow, or another layer's.
    case shadow
    /// Stop i of the layer's gradient (a colour layer's or a shape's fill).
    case stop(Int)
}

/// A solid colour or a gradient.
public enum Fill: Sendable, Equatable {
    case solid(Bindable<Color>)
    /// Colours from `stops` along `angle` degrees (0 points up, 90 right, 180 down).
    case linear(angle: Double, stops: [GradientStop])
    /// Colours from the box's centre outwards.
    case radial(stops: [GradientStop])

    func settingStop(_ i: Int, _ c: Color) -> Fill {
        switch self {
        case .solid: return self
        case .linear(let angle, var stops):
            if stops.indices.contains(i) { stops[i].color = c }
            return .linear(angle: angle, stops: stops)
        case .radial(var stops):
            if stops.indices.contains(i) { stops[i].color = c }
            return .radial(stops: stops)
        }
    }
}

public struct GradientStop: Sendable, Equatable {
    public var color: Color
    /// 0...1 along the gradient.
    public var position: Double
    public init(color: Color, position: Double) {
        self.color = color
        self.position = position
    }
}

public enum BlendMode: String, Sendable, Equatable, CaseIterable {
    case normal, screen, add
}

public enum Fit: String, Sendable, Equatable, CaseIterable {
    /// Scale to fill the box and crop what overflows (no distortion, nothing letterboxed).
    case cover
    /// Scale to fit inside the box and show what is behind around it (no distortion, nothing cropped).
    case contain
}

/// A clip drawn in the layer's box: a looping overlay, or a clip played once.
public struct VideoLayer: Sendable, Equatable {
    public var source: AssetRef
    /// Start again at the end (true), or hold the last frame (false).
    public var loop: Bool
    public var fit: Fit
    public var blend: BlendMode
    public init(source: AssetRef, loop: Bool = true, fit: Fit = .cover, blend: BlendMode = .normal) {
        self.source = source
        self.loop = loop
        self.fit = fit
        self.blend = blend
    }
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

/// What shows around a `contain`-fitted picture.
public enum ContainFill: Sendable, Equatable {
    /// The layers below.
    case none
    /// The picture's own blurred, cover-scaled copy.
    case blur
    case color(Color)
}

/// Brightness (-1...1, added), contrast and saturation (0...3, multiplied) of product pictures.
public struct Adjustments: Sendable, Equatable {
    public var brightness: Double
    public var contrast: Double
    public var saturation: Double
    public init(brightness: Double = 0, contrast: Double = 1, saturation: Double = 1) {
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
    }
    public var isIdentity: Bool { brightness == 0 && contrast == 1 && saturation == 1 }
}

public enum MediaLayout: String, Sendable, Equatable, CaseIterable {
    /// One picture a shot.
    case single
    /// Two pictures side by side.
    case sideBySide = "side_by_side"
    /// Two pictures, one above the other.
    case stacked
    /// Pictures in a grid: 2x2, or `columns` by `rows` (`MediaLayer.grid`, up to 4x4).
    case grid
    public var cellCount: Int {
        switch self {
        case .single: 1
        case .sideBySide, .stacked: 2
        case .grid: 4
        }
    }
}

/// One cell of a media layer, for a layer that goes with that card (a price under each product): `layer` is the
/// media layer's index in the template, `cell` the cell's, from 0 in reading order.
public struct CellReference: Sendable, Equatable {
    public var layer: Int
    public var cell: Int
    /// `follow: card`: the card's own animation (its presets and keyframes, slides, pops and scales about the card's
    /// pivot, opacity) moves the layer too, as if it were drawn on the card; false: the layer keeps to the card's
    /// place and entrance only.
    public var follow: Bool
    public init(layer: Int, cell: Int, follow: Bool = false) {
        self.layer = layer
        self.cell = cell
        self.follow = follow
    }
}

/// How one cell of a layout shows its picture.
public struct CellStyle: Sendable, Equatable {
    public var fit: Fit
    public var fill: ContainFill
    public var kenBurns: KenBurns?
    /// Seconds after the layer's start (and after each cut) before this cell shows its picture; nil: the layer's
    /// `stagger` times the cell's position.
    public var delay: Double?
    public init(fit: Fit = .cover, fill: ContainFill = .none, kenBurns: KenBurns? = KenBurns(), delay: Double? = nil) {
        self.fit = fit
        self.fill = fill
        self.kenBurns = kenBurns
        self.delay = delay
    }
}

public enum TransitionKind: String, Sendable, Equatable, CaseIterable {
    case cut, crossfade
    case slideLeft = "slide_left", slideRight = "slide_right", slideUp = "slide_up", slideDown = "slide_down"
    case wipeLeft = "wipe_left", wipeRight = "wipe_right", wipeUp = "wipe_up", wipeDown = "wipe_down"
    case zoom
}

public struct Transition: Sendable, Equatable {
    public var kind: TransitionKind
    /// Seconds, centred on the cut (so the cut still lands on the beat).
    public var duration: Double
    public init(kind: TransitionKind = .cut, duration: Double = 0) {
        self.kind = kind
        self.duration = duration
    }
}

/// The job's product pictures and clips, in shots cut on the beat.
public struct MediaLayer: Sendable, Equatable {
    public var layout: MediaLayout
    /// Pixels between cells.
    public var gap: Int
    /// Every cell's style, unless `cells` overrides it.
    public var style: CellStyle
    /// Per-cell overrides, in cell order.
    public var cells: [CellStyle]
    public var adjust: Adjustments
    public var transition: Transition
    /// Corner radius of every cell on its own (cards in a grid); the layer's `radius` rounds the whole box.
    public var cellRadius: Int = 0
    /// Seconds between one cell and the next entering, and changing picture at each cut (a carousel advancing one
    /// card at a time); 0: all cells together.
    public var stagger: Double = 0
    /// Columns and rows of the `grid` layout (`grid: {columns, rows}`), each 1 to `maximumGridSide`.
    public var grid: (columns: Int, rows: Int) = (2, 2)
    public static let maximumGridSide = 4
    public init(
        layout: MediaLayout = .single, gap: Int = 0, style: CellStyle = CellStyle(), cells: [CellStyle] = [], adjust: Adjustments = Adjustments(),
        transition: Transition = Transition()
    ) {
        self.layout = layout
        self.gap = gap
        self.style = style
        self.cells = cells
        self.adjust = adjust
        self.transition = transition
    }
    public static func == (a: MediaLayer, b: MediaLayer) -> Bool {
        a.layout == b.layout && a.gap == b.gap && a.style == b.style && a.cells == b.cells && a.adjust == b.adjust
            && a.transition == b.transition && a.cellRadius == b.cellRadius && a.stagger == b.stagger && a.grid == b.grid
    }
    /// Cells the layout has: 1, 2, or the grid's columns times rows, in reading order (left to right, then down).
    public var cellCount: Int { layout == .grid ? grid.columns * grid.rows : layout.cellCount }
    /// The style of cell `i`.
    public func cellStyle(_ i: Int) -> CellStyle { i < cells.count ? cells[i] : style }
    /// Seconds cell `i` waits after the layer's start and after each cut.
    public func cellDelay(_ i: Int) -> Double { cellStyle(i).delay ?? stagger * Double(i) }
    /// True when some cell waits (the cells are then planned one by one).
    public var isStaggered: Bool { (0..<cellCount).contains { cellDelay($0) > 0 } }
}

/// A static picture: a logo, a sticker, a PNG frame. `fit: contain` keeps its aspect ratio inside the box.
public struct ImageLayer: Sendable, Equatable {
    public var source: Bindable<AssetRef>
    public var fit: Fit
    public init(source: Bindable<AssetRef>, fit: Fit = .contain) {
        self.source = source
        self.fit = fit
    }
}

public struct TextLayer: Sendable, Equatable {
    /// The text with `{{field}}` placeholders.
    public var text: String
    public var style: TextStyle
    /// Text that changes over time (`steps:` or `counter:`); `text` is then unused.
    public var changes: TextChanges?
    public init(text: String = "{{caption}}", style: TextStyle, changes: TextChanges? = nil) {
        self.text = text
        self.style = style
        self.changes = changes
    }
}

public enum ShapeKind: String, Sendable, Equatable, CaseIterable {
    case rectangle
    case roundedRectangle = "rounded_rectangle"
    case ellipse
    /// A rounded rectangle whose radius is half its shorter side.
    case pill
}

public struct ShapeLayer: Sendable, Equatable {
    public var shape: ShapeKind
    public var fill: Fill?
    public var stroke: Stroke?
    public init(shape: ShapeKind, fill: Fill? = .solid(.value(.white)), stroke: Stroke? = nil) {
        self.shape = shape
        self.fill = fill
        self.stroke = stroke
    }
}

/// A solid border drawn inside the layer's box (the canvas edge by default).
public struct BorderLayer: Sendable, Equatable {
    public var color: Bindable<Color>
    public var width: Int
    public init(color: Bindable<Color>, width: Int) {
        self.color = color
        self.width = width
    }
}

// MARK: Text style (the seam with CaptionText)

public enum TextAlign: String, Sendable, Equatable, CaseIterable {
    case left, center, right
    /// The side each paragraph's direction starts from (left for Latin, right for Arabic or Hebrew), as CSS's `start`.
    case start
    /// The side each paragraph's direction ends on (right for Latin, left for Arabic or Hebrew).
    case end
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

/// A line drawn with the text, in its colour (and stroke), under or through every line of it.
public enum TextDecoration: String, Sendable, Equatable, CaseIterable {
    case none
    /// Through the middle of the lowercase letters: an old price.
    case strikethrough
    case underline
}

public struct FontSpec: Sendable, Equatable {
    /// A family name resolved against the system's Noto fonts (`sans`, `serif`, or a family such as `Noto Sans`).
    public var family: String
    public var weight: FontWeight
    /// An explicit font file (absolute, or relative to the template file); tried before the family.
    public var file: String?
    /// The family's italic file (`NotoSerif-Italic.ttf`, `-BoldItalic`), when it has one; upright otherwise.
    public var italic: Bool
    public init(family: String = "sans", weight: FontWeight = .bold, file: String? = nil, italic: Bool = false) {
        self.family = family
        self.weight = weight
        self.file = file
        self.italic = italic
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

public struct TextStyle: Sendable, Equatable {
    /// The height one line takes, as a multiple of the size: Noto Sans's and Noto Serif's ascender + descender
    /// (1.069 + 0.293 em). Other fonts differ a little; lint uses it to warn of a box too short for `size`.
    public static let approximateLineHeight = 1.36

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
    public var decoration: TextDecoration = .none
    /// Extra space after every character, in em (a fraction of the size, so it shrinks with the text).
    public var letterSpacing: Double = 0

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
