import Foundation
import SpecLang

/// What a render will do, fully resolved: sizes in output pixels, times in seconds and frames, every input path,
/// every layer bottom to top with when it shows and how it moves. A plan is a value: it is built and tested
/// without FFmpeg, printed by `rendc plan`, and run by the backend.
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
    /// Bottom to top.
    public var layers: [LayerPlan]
    public var audio: AudioPlan?
    /// Time of the thumbnail frame (1 s, or the middle of a shorter video).
    public var thumbnailTime: Double
    /// Why the cuts fall where they do.
    public var cutSource: CutSource
    /// The merge fields' values as used (text fields and colours; pictures as their paths).
    public var fields: [String: String]
    /// Things a designer should know (fallbacks taken, inputs cycled, audio padded).
    public var notes: [String]

    public init(
        template: String, quality: QualityMode, width: Int, height: Int, fps: Int, duration: Double, frameCount: Int,
        encoder: EncoderSettings, layers: [LayerPlan], audio: AudioPlan?, thumbnailTime: Double, cutSource: CutSource,
        fields: [String: String] = [:], notes: [String] = []
    ) {
        self.template = template
        self.quality = quality
        self.width = width
        self.height = height
        self.fps = fps
        self.duration = duration
        self.frameCount = frameCount
        self.encoder = encoder
        self.layers = layers
        self.audio = audio
        self.thumbnailTime = thumbnailTime
        self.cutSource = cutSource
        self.fields = fields
        self.notes = notes
    }

    /// Index of the thumbnail frame.
    public var thumbnailFrame: Int { min(frameCount - 1, max(0, Int((thumbnailTime * Double(fps)).rounded(.down)))) }

    /// The first media layer's pictures and shots.
    public var images: MediaPlan? {
        for l in layers { if case .media(let m) = l.content { return m } }
        return nil
    }
    /// The first video layer.
    public var overlay: VideoPlan? {
        for l in layers { if case .video(let v) = l.content { return v } }
        return nil
    }
    /// The first text layer.
    public var caption: TextPlan? {
        for l in layers { if case .text(let t) = l.content { return t } }
        return nil
    }
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
public struct MediaInput: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, Hashable { case picture, clip }
    public var path: String
    public var kind: Kind
    public init(path: String, kind: Kind = .picture) {
        self.path = path
        self.kind = kind
    }
    public var description: String { path }
}

/// A run of frames: `start` inclusive, `end` exclusive.
public struct FrameSpan: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var start: Int
    public var end: Int
    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = end
    }
    public func contains(_ frame: Int) -> Bool { frame >= start && frame < end }
    public var count: Int { max(0, end - start) }
    public var description: String { "\(start)..<\(end)" }
}

/// A point in output pixels.
public struct Point: Sendable, Equatable, Hashable {
    public var x: Double, y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

// MARK: Layers

/// One layer of the plan: what it draws, its box in output pixels, when it shows and how it moves.
public struct LayerPlan: Sendable, Equatable {
    /// Identifies the layer in the plan (its art, its caption picture): the template's index of the layer, or, for
    /// the extra parts one template layer becomes (each text of changing text, each cell of a staggered layout), a
    /// number after the template's last layer.
    public var index: Int
    /// Index of the layer in the template (for messages: `layers[3]`).
    public var templateIndex: Int
    /// Which part of its template layer this is (`step 2`, `cell 3`), when the layer became several.
    public var part: String?
    public var content: LayerPlanContent
    /// The layer's box before rotation and animation, in output pixels.
    public var box: Rect
    /// Degrees clockwise about `pivot`.
    public var rotation: Double
    public var pivot: Point
    public var opacity: Double
    public var radius: Int
    public var shadow: Shadow?
    /// The frames the layer shows in (several for per-shot layers), in order, not overlapping.
    public var visible: [FrameSpan]
    /// Animated properties; each track applies only inside its span.
    public var animation: [AnimationTrack]
    /// Where the tracks of the card the layer follows (`follow: card`, tracks marked `onCard`) scale and turn it
    /// about: the card's pivot. Nil when no track is the card's.
    public var cardPivot: Point? = nil

    public init(
        index: Int, content: LayerPlanContent, box: Rect, rotation: Double = 0, pivot: Point? = nil, opacity: Double = 1,
        radius: Int = 0, shadow: Shadow? = nil, visible: [FrameSpan], animation: [AnimationTrack] = []
    ) {
        self.index = index
        self.templateIndex = index
        self.content = content
        self.box = box
        self.rotation = rotation
        self.pivot = pivot ?? Point(x: Double(box.x) + Double(box.width) / 2, y: Double(box.y) + Double(box.height) / 2)
        self.opacity = opacity
        self.radius = radius
        self.shadow = shadow
        self.visible = visible
        self.animation = animation
    }

    public func isVisible(at frame: Int) -> Bool { visible.contains { $0.contains(frame) } }

    /// The transform at frame `frame` (time `t` seconds), combining every track that covers it.
    /// A layer that follows its card takes its own transform first, then the card's (the tracks marked `onCard`, about
    /// `cardPivot`), as if it were drawn on the card: offsets add through the card's scale and turn, scales and turns
    /// combine, opacities multiply.
    public func transform(frame: Int, time t: Double) -> LayerTransform {
        var x = LayerTransform(dx: 0, dy: 0, scale: 1, rotation: rotation, opacity: opacity)
        var card = LayerTransform(dx: 0, dy: 0, scale: 1, rotation: 0, opacity: 1)
        var carried = false
        for track in animation where track.span.contains(frame) {
            let v = track.value(at: t)
            if track.onCard {
                carried = true
                card.apply(track.property, v)
            } else {
                x.apply(track.property, v)
            }
        }
        x.clamp()
        if carried, let c = cardPivot {
            card.clamp()
            x = x.carried(by: card, about: c, pivot: pivot)
        }
        return x
    }

    /// True when the layer looks the same on every frame it shows in.
    public var isStatic: Bool { animation.isEmpty }

    /// Where the layer draws before animation, on the canvas: its box and its drop shadow's reach, turned by its
    /// static rotation about the pivot.
    public var drawnBounds: Bounds {
        var x0 = Double(box.x), y0 = Double(box.y), x1 = Double(box.x + box.width), y1 = Double(box.y + box.height)
        if let s = shadow {
            let r = Double(s.reach)
            x0 = min(x0, x0 + Double(s.offsetX) - r); x1 = max(x1, x1 + Double(s.offsetX) + r)
            y0 = min(y0, y0 + Double(s.offsetY) - r); y1 = max(y1, y1 + Double(s.offsetY) + r)
        }
        var b = Bounds(minX: x0, minY: y0, maxX: x1, maxY: y1)
        if rotation.truncatingRemainder(dividingBy: 360) != 0 {
            let a = rotation * .pi / 180, c = cos(a), s = sin(a)
            let corners = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map { x, y in
                (pivot.x + (x - pivot.x) * c - (y - pivot.y) * s, pivot.y + (x - pivot.x) * s + (y - pivot.y) * c)
            }
            b = Bounds(
                minX: corners.map(\.0).min()!, minY: corners.map(\.1).min()!, maxX: corners.map(\.0).max()!, maxY: corners.map(\.1).max()!)
        }
        return b
    }
}

/// A rectangle on the canvas in fractional pixels.
public struct Bounds: Sendable, Equatable {
    public var minX: Double, minY: Double, maxX: Double, maxY: Double
    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }
}

extension Shadow {
    /// How far the shadow reaches past its shape (moved by its offset): both engines draw it with three box-blur
    /// passes of radius `blur / 2` (at least 1), and each pass spreads it that far (`Raster.shadow`).
    public var reach: Int { blur > 0 ? 3 * max(1, blur / 2) : 0 }
}

/// Where a layer is drawn on one frame: an offset, a scale and rotation about the pivot, and an opacity.
public struct LayerTransform: Sendable, Equatable {
    public var dx: Double, dy: Double, scale: Double, rotation: Double, opacity: Double
    /// Extra scale along the layer's own width and height (before its rotation), times `scale`.
    public var scaleX: Double, scaleY: Double
    public init(dx: Double, dy: Double, scale: Double, rotation: Double, opacity: Double, scaleX: Double = 1, scaleY: Double = 1) {
        self.dx = dx
        self.dy = dy
        self.scale = scale
        self.rotation = rotation
        self.opacity = opacity
        self.scaleX = scaleX
        self.scaleY = scaleY
    }
    public var isIdentityGeometry: Bool {
        dx == 0 && dy == 0 && scale == 1 && scaleX == 1 && scaleY == 1 && rotation.truncatingRemainder(dividingBy: 360) == 0
    }
    /// The whole scale along the layer's width and along its height.
    public var widthScale: Double { scale * scaleX }
    public var heightScale: Double { scale * scaleY }

    /// Whether this draws the same picture as `other` (within a millionth of a pixel, of a degree, of the scale and of
    /// the opacity: rounding left by composing transforms).
    func isClose(to other: LayerTransform) -> Bool {
        let e = 1e-6
        return abs(dx - other.dx) < e && abs(dy - other.dy) < e && abs(scale - other.scale) < e && abs(scaleX - other.scaleX) < e
            && abs(scaleY - other.scaleY) < e && abs(rotation - other.rotation) < e && abs(opacity - other.opacity) < e
    }

    mutating func apply(_ property: AnimatedProperty, _ v: Double) {
        switch property {
        case .x: dx += v
        case .y: dy += v
        case .scale: scale *= v
        case .scaleX: scaleX *= v
        case .scaleY: scaleY *= v
        case .rotation: rotation += v
        case .opacity: opacity *= v
        }
    }

    mutating func clamp() {
        opacity = min(1, max(0, opacity))
        scale = max(0, scale)
        scaleX = max(0, scaleX)
        scaleY = max(0, scaleY)
    }

    /// This transform (of a layer turning and scaling about `pivot`) followed by `card`'s about `cardPivot`, as one
    /// transform about `pivot`: where the pivot lands is moved by the card, sizes and turns combine. Exact unless the
    /// card scales its sides unevenly while the layer is turned (that would shear it; the layer is scaled along its
    /// own sides instead).
    func carried(by card: LayerTransform, about cardPivot: Point, pivot: Point) -> LayerTransform {
        let vx = (pivot.x + dx - cardPivot.x) * card.widthScale, vy = (pivot.y + dy - cardPivot.y) * card.heightScale
        let a = card.rotation * .pi / 180, c = cos(a), s = sin(a)
        let rx = card.rotation.truncatingRemainder(dividingBy: 360) == 0 ? vx : vx * c - vy * s
        let ry = card.rotation.truncatingRemainder(dividingBy: 360) == 0 ? vy : vx * s + vy * c
        return LayerTransform(
            dx: cardPivot.x + card.dx + rx - pivot.x, dy: cardPivot.y + card.dy + ry - pivot.y, scale: scale * card.scale,
            rotation: rotation + card.rotation, opacity: opacity * card.opacity, scaleX: scaleX * card.scaleX, scaleY: scaleY * card.scaleY)
    }
}

public enum AnimatedProperty: String, Sendable, Equatable, CaseIterable {
    /// A scale, of both sides or one: neutral at 1, and combined by multiplying.
    public var isScale: Bool { self == .scale || self == .scaleX || self == .scaleY }

    /// Pixels added to the layer's position.
    case x, y
    /// Multiplies the size, about the pivot.
    case scale
    /// Multiplies the width alone, or the height alone (the layer's own, before rotation), about the pivot.
    case scaleX = "scale_x", scaleY = "scale_y"
    /// Degrees added to the rotation.
    case rotation
    /// Multiplies the opacity.
    case opacity
}

/// Keyframes of one property within one span of frames; before the first key the first value holds, after the
/// last the last.
public struct AnimationTrack: Sendable, Equatable {
    public struct Key: Sendable, Equatable {
        /// Seconds from the start of the video.
        public var time: Double
        public var value: Double
        /// Curve from the previous key to this one.
        public var easing: Easing
        public init(time: Double, value: Double, easing: Easing = .linear) {
            self.time = time
            self.value = value
            self.easing = easing
        }
    }
    public var property: AnimatedProperty
    public var span: FrameSpan
    public var keys: [Key]
    /// What made it (`fade_in`, `keyframes`, ...), for the printed plan.
    public var source: String
    /// Keys that play again (`repeat:`); nil: they play once.
    public var cycle: Cycle? = nil
    /// The track is the card's that the layer follows (`follow: card`): it moves the layer about
    /// `LayerPlan.cardPivot`, after the layer's own tracks.
    public var onCard: Bool = false

    public init(property: AnimatedProperty, span: FrameSpan, keys: [Key], source: String) {
        self.property = property
        self.span = span
        self.keys = keys
        self.source = source
    }

    public func value(at time: Double) -> Double {
        guard let first = keys.first else { return property.isScale || property == .opacity ? 1 : 0 }
        let t = cycle?.localTime(time) ?? time
        if t <= first.time { return first.value }
        for (a, b) in zip(keys, keys.dropFirst()) where t < b.time {
            let u = b.time > a.time ? (t - a.time) / (b.time - a.time) : 1
            return a.value + (b.value - a.value) * b.easing.apply(u)
        }
        return keys[keys.count - 1].value
    }
}

public enum LayerPlanContent: Sendable, Equatable {
    case color(FillPlan)
    case video(VideoPlan)
    case media(MediaPlan)
    case image(PicturePlan)
    case text(TextPlan)
    case shape(ShapePlan)
    case border(color: Color, width: Int)

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

public enum FillPlan: Sendable, Equatable {
    case solid(Color)
    case linear(angle: Double, stops: [GradientStop])
    case radial(stops: [GradientStop])
}

public struct VideoPlan: Sendable, Equatable {
    public var source: MediaInput
    public var loop: Bool
    public var fit: Fit
    public var blend: BlendMode
    /// False in freeze mode: the clip's first frame is used as a still.
    public var animated: Bool
    public init(source: MediaInput, loop: Bool, fit: Fit, blend: BlendMode, animated: Bool) {
        self.source = source
        self.loop = loop
        self.fit = fit
        self.blend = blend
        self.animated = animated
    }
}

public struct PicturePlan: Sendable, Equatable {
    public var source: MediaInput
    public var fit: Fit
    public init(source: MediaInput, fit: Fit) {
        self.source = source
        self.fit = fit
    }
}

public struct ShapePlan: Sendable, Equatable {
    public var shape: ShapeKind
    public var fill: FillPlan?
    public var stroke: Stroke?
    public init(shape: ShapeKind, fill: FillPlan?, stroke: Stroke?) {
        self.shape = shape
        self.fill = fill
        self.stroke = stroke
    }
}

/// Text is drawn once, by the text renderer, into an RGBA image the size of `box`; the graph overlays it.
/// User text never becomes part of a filter graph string.
public struct TextPlan: Sendable, Equatable {
    /// The text with every field filled in.
    public var text: String
    /// Output-pixel box (scaled for the quality mode).
    public var box: Rect
    /// Style scaled for the quality mode.
    public var style: TextStyle
    /// Directory that relative font paths resolve against (the template's folder).
    public var baseDirectory: String?
    /// Draw `text` at the size this text fits the box at (a typed prefix at the size of the whole text and its
    /// cursor, so it does not grow and shrink as it types and the cursor blinks); nil: at the size `text` fits at.
    public var fitAs: String? = nil
    public init(text: String, box: Rect, style: TextStyle, baseDirectory: String?) {
        self.text = text
        self.box = box
        self.style = style
        self.baseDirectory = baseDirectory
    }
}

// MARK: Media

/// The job's pictures and clips in a layout of cells, in shots, with transitions between shots.
public struct MediaPlan: Sendable, Equatable {
    /// The layer's box on the output canvas.
    public var window: Rect
    /// The first cell's fit.
    public var fit: Fit { cells.first?.fit ?? .cover }
    public var inputs: [MediaInput]
    public var cells: [CellPlan]
    /// Each shot shows one input per cell over a run of frames; shots are contiguous and cover every frame.
    public var shots: [Shot]
    public var transitions: [TransitionPlan]
    public var adjust: Adjustments
    /// Corner radius of each cell on its own, in output pixels (0: square cells).
    public var cellRadius: Int
    public init(
        window: Rect, inputs: [MediaInput], cells: [CellPlan], shots: [Shot], transitions: [TransitionPlan], adjust: Adjustments,
        cellRadius: Int = 0
    ) {
        self.window = window
        self.inputs = inputs
        self.cells = cells
        self.shots = shots
        self.transitions = transitions
        self.adjust = adjust
        self.cellRadius = cellRadius
    }

    /// The shot showing at `frame`.
    public func shot(at frame: Int) -> Shot? {
        var lo = 0, hi = shots.count - 1
        guard hi >= 0 else { return nil }
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if shots[mid].startFrame <= frame { lo = mid } else { hi = mid - 1 }
        }
        return shots[lo]
    }

    /// The transition running at `frame`, with its progress 0...1.
    public func transition(at frame: Int) -> (TransitionPlan, Double)? {
        for t in transitions where t.frames.contains(frame) {
            return (t, (Double(frame - t.frames.start) + 0.5) / Double(t.frames.count))
        }
        return nil
    }
}

/// One cell of a layout: a rectangle relative to the layer's box.
public struct CellPlan: Sendable, Equatable {
    public var rect: Rect
    public var fit: Fit
    public var fill: ContainFill
    public init(rect: Rect, fit: Fit, fill: ContainFill) {
        self.rect = rect
        self.fit = fit
        self.fill = fill
    }
}

public struct Shot: Sendable, Equatable {
    public var index: Int
    /// Index into `MediaPlan.inputs` of the first cell's picture.
    public var image: Int { images[0] }
    /// One input per cell.
    public var images: [Int]
    public var start: Double
    public var end: Double
    /// First frame of the shot, inclusive.
    public var startFrame: Int
    /// Last frame of the shot, exclusive.
    public var endFrame: Int
    /// The beat time the shot starts on, when it was cut on a beat.
    public var beat: Double?
    /// Ken Burns motion of each cell.
    public var motions: [Motion]
    public var motion: Motion { motions[0] }
    public var duration: Double { end - start }
    public var frameCount: Int { endFrame - startFrame }
    public init(index: Int, images: [Int], start: Double, end: Double, startFrame: Int, endFrame: Int, beat: Double?, motions: [Motion]) {
        self.index = index
        self.images = images
        self.start = start
        self.end = end
        self.startFrame = startFrame
        self.endFrame = endFrame
        self.beat = beat
        self.motions = motions
    }

    /// Progress through the shot at `frame` (0 at its first frame, 1 at its last; outside during transitions).
    public func progress(at frame: Int) -> Double {
        frameCount > 1 ? Double(frame - startFrame) / Double(frameCount - 1) : 0
    }
}

/// A transition between shot `from` and the next, over `frames`, centred on the cut.
public struct TransitionPlan: Sendable, Equatable {
    public var kind: TransitionKind
    public var from: Int
    public var frames: FrameSpan
    public init(kind: TransitionKind, from: Int, frames: FrameSpan) {
        self.kind = kind
        self.from = from
        self.frames = frames
    }
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
    public func eased(_ t: Double) -> Double { easing.apply(t) }
    public func zoom(at t: Double) -> Double { zoomFrom + (zoomTo - zoomFrom) * eased(t) }
    public func center(at t: Double) -> UnitPoint {
        let e = eased(t)
        return UnitPoint(x: panFrom.x + (panTo.x - panFrom.x) * e, y: panFrom.y + (panTo.y - panFrom.y) * e)
    }
    /// The largest zoom reached in the shot.
    public var maxZoom: Double { max(zoomFrom, zoomTo) }
}

// MARK: Audio and cuts

public struct AudioPlan: Sendable, Equatable {
    /// The music, or nil when only a voice-over plays.
    public var source: MediaInput?
    /// Seconds of audio in the video.
    public var duration: Double
    public var fadeIn: Double
    public var fadeOut: Double
    public var volume: Double
    /// Length of the track, when known; shorter tracks loop on the bar or are padded with silence.
    public var trackDuration: Double?
    /// The pieces of the track that play (one, or a loop); empty: the track from 0 s.
    public var segments: [AudioSegment] = []
    /// Where the music starts in the track (seconds), and why.
    public var start: Double = 0
    public var startReason: String = ""
    public var voice: VoicePlan?
    public var loudness: LoudnessPlan?
    /// DC removal (a 20 Hz high-pass) and fades of at least `Planner.declickFade` wherever the music or the voice
    /// starts or stops (audio13 L2); false only to hear or measure what they prevent.
    public var declick = true
    public init(source: MediaInput?, duration: Double, fadeIn: Double, fadeOut: Double, volume: Double, trackDuration: Double?) {
        self.source = source
        self.duration = duration
        self.fadeIn = fadeIn
        self.fadeOut = fadeOut
        self.volume = volume
        self.trackDuration = trackDuration
    }
}

public enum CutSource: Sendable, Equatable, CustomStringConvertible {
    /// Cuts on detected beats.
    case beats(tempo: Double, beatCount: Int)
    /// Cuts every `interval` seconds, and why.
    case fallback(interval: Double, reason: String)
    /// Cuts on beats inside the sections where they are reliable, on the fallback interval elsewhere.
    case partial(tempo: Double, beatCount: Int, spans: [ClosedRange<Double>])
    public var description: String {
        switch self {
        case .beats(let tempo, let n): "beats (\(n) beats, \(String(format: "%.1f", tempo)) BPM)"
        case .partial(let tempo, let n, let spans):
            "beats where they are reliable (\(n) beats, \(String(format: "%.1f", tempo)) BPM, in "
                + spans.map { String(format: "%.1f–%.1f s", $0.lowerBound, $0.upperBound) }.joined(separator: ", ")
                + "), the fallback interval elsewhere"
        case .fallback(let i, let why): "every \(i) s (\(why))"
        }
    }
}

extension VideoPlan {
    /// Whether `screen`/`add` is applied: to a clip that does not move, scale or turn (its only animation, if any, is
    /// its opacity). Both engines draw any other clip `normal`, and the plan says so in a note.
    public func blends(in layer: LayerPlan) -> Bool {
        blend != .normal && !layer.animation.contains { $0.property != .opacity } && layer.rotation.truncatingRemainder(dividingBy: 360) == 0
    }
}
