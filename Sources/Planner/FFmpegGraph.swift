import Foundation
import SpecLang

/// The plan as a complete filtergraph of stock FFmpeg 5.1 filters: every input has its own source (`movie`,
/// `amovie`, `color`), so the text runs unchanged with `ffmpeg -filter_complex_script` or in-process through
/// `avfilter_graph_parse_ptr`. It ends in two open outputs, `[vout]` and `[aout]`.
///
/// What stock filters cannot draw at the fast engine's fidelity is drawn by rendc's own rasterisers into PNG
/// files that the graph reads (`art`): text (never in the graph), shapes, borders, gradients, shadows, static
/// pictures after their fit, the pictures of each shot as the fast engine prepares them for their cell (the graph
/// zooms and pans them with `perspective`, sub-pixel), and the frames of art layers whose scale or rotation is
/// animated (a PNG sequence).
public struct FFmpegGraph: Sendable, Equatable {
    /// The filtergraph text.
    public var script: String
    /// Files the graph reads, to be drawn before it runs (names relative to the art directory).
    public var art: [FFmpegArt]
}

/// One generated picture the graph reads.
public struct FFmpegArt: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The layer drawn at its box with its shadow, static rotation and opacity (its animation of position and
        /// opacity is applied by the graph): the canvas, or the part of it given by the graph's `artBounds`.
        case layer(Int)
        /// Canvas-sized frames `frames` of a layer with animated scale or rotation, fully transformed; `name`
        /// holds a `%05d` counted from 0.
        case sequence(layer: Int, frames: FrameSpan)
        /// Media layer `layer`'s input `input` prepared for cell `cell` as the fast engine prepares it (adjusted,
        /// cut to what its pans show, sampled for zooms up to `zoom`; its geometry is an `FFmpegPicture`). The
        /// graph zooms and pans it.
        case picture(layer: Int, input: Int, cell: Int, zoom: Double)
        /// The blurred cover copy behind a contained picture (cell-sized).
        case blurFill(layer: Int, input: Int, cell: Int)
        /// Canvas-sized: the media window's drop shadow, with the layer's static rotation.
        case mediaShadow(layer: Int)
        /// Window-sized grey: the media window's coverage (rounded corners, cell gaps).
        case mediaMask(layer: Int)
    }
    public var name: String
    public var kind: Kind
}

/// Which media cell picture: layer `layer`'s input `input` in cell `cell`.
public struct FFmpegPictureKey: Sendable, Hashable {
    public var layer: Int, input: Int, cell: Int
    public init(layer: Int, input: Int, cell: Int) {
        self.layer = layer
        self.input = input
        self.cell = cell
    }
}

/// Where the PNG of a media cell's picture sits in the decoded picture, as the fast engine prepares it (the part
/// its shots ever show, pre-scaled so that the largest zoom samples it 1:1). With it the graph resamples the same
/// pixels at the same sub-pixel positions as the fast engine's warp.
public struct FFmpegPicture: Sendable, Equatable {
    /// The decoded picture's size.
    public var imageWidth: Double, imageHeight: Double
    /// The part of it the PNG holds, in decoded pixels.
    public var cropX: Double, cropY: Double, cropWidth: Double, cropHeight: Double
    /// Cell pixels per decoded pixel at zoom 1.
    public var baseScale: Double
    /// The PNG's size.
    public var width: Int, height: Int
    public init(
        imageWidth: Double, imageHeight: Double, cropX: Double, cropY: Double, cropWidth: Double, cropHeight: Double, baseScale: Double,
        width: Int, height: Int
    ) {
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
        self.cropX = cropX
        self.cropY = cropY
        self.cropWidth = cropWidth
        self.cropHeight = cropHeight
        self.baseScale = baseScale
        self.width = width
        self.height = height
    }

    /// Without the picture at hand (a plan printed before its pictures are read): a picture of the cell's own
    /// shape, sampled for `zoom`.
    public static func assumed(cell: Rect, zoom: Double) -> FFmpegPicture {
        let w = max(2, Int((Double(cell.width) * zoom).rounded())), h = max(2, Int((Double(cell.height) * zoom).rounded()))
        return FFmpegPicture(
            imageWidth: Double(w), imageHeight: Double(h), cropX: 0, cropY: 0, cropWidth: Double(w), cropHeight: Double(h),
            baseScale: Double(cell.width) / Double(w), width: w, height: h)
    }
}

extension RenderPlan {
    /// The stock-FFmpeg graph of this plan. `artDirectory` prefixes every generated file's name in the graph
    /// ("" for names relative to the working directory, as `run.sh` uses them). `pictures`: where each media
    /// cell's PNG sits in its picture (the backend measures them; missing ones are assumed of the cell's shape).
    /// `artBounds`: the part of the canvas each art layer's PNG covers (the rest is transparent), by layer index;
    /// a layer without one is a canvas-sized PNG. Smaller PNGs make the overlays and opacity animations cheaper.
    public func ffmpegGraph(
        artDirectory: String = "", pictures: [FFmpegPictureKey: FFmpegPicture] = [:], artBounds: [Int: Rect] = [:]
    ) -> FFmpegGraph {
        var b = StockGraphBuilder(plan: self, directory: artDirectory)
        b.pictures = pictures
        b.artBounds = artBounds
        b.build()
        return FFmpegGraph(script: b.lines.joined(separator: ";\n") + "\n", art: b.art)
    }
}

/// Writes the stock graph one chain at a time.
struct StockGraphBuilder {
    let plan: RenderPlan
    let directory: String
    var pictures: [FFmpegPictureKey: FFmpegPicture] = [:]
    var artBounds: [Int: Rect] = [:]
    var lines: [String] = []
    var art: [FFmpegArt] = []
    private var counter = 0
    private var fps: Int { plan.fps }
    private var n: Int { plan.frameCount }

    init(plan: RenderPlan, directory: String) {
        self.plan = plan
        self.directory = directory
    }

    mutating func label(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    static func num(_ d: Double) -> String {
        if d == d.rounded() && abs(d) < 1e9 { return String(Int(d)) }
        var s = String(format: "%.6f", d)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
    func num(_ d: Double) -> String { Self.num(d) }

    /// `name=k=v:k=v` with each value escaped for the option parser and then for the graph parser.
    static func filter(_ name: String, _ args: [(String, String)]) -> String {
        args.isEmpty ? name : name + "=" + args.map { "\($0.0)=\(escape($0.1))" }.joined(separator: ":")
    }

    /// Escapes an option value twice: for the option parser (`\\ ' :`), then for the graph parser
    /// (`\\ ' [ ] , ;`); whitespace is escaped at both levels so that none is trimmed. Any file name survives.
    static func escape(_ value: String) -> String {
        func esc(_ s: String, _ special: Set<Character>) -> String {
            var out = ""
            for c in s {
                if special.contains(c) || c.isWhitespace { out.append("\\") }
                out.append(c)
            }
            return out
        }
        return esc(esc(value, ["\\", "'", ":"]), ["\\", "'", "[", "]", ",", ";"])
    }

    mutating func add(_ inputs: [String], _ chain: [String], _ output: String) {
        lines.append(inputs.map { "[\($0)]" }.joined() + chain.joined(separator: ",") + "[\(output)]")
    }

    /// A still PNG as a stream of `count` frames starting at output frame `start`, converted to YUV (with
    /// alpha unless `opaque`) with the encoder's BT.709 matrix.
    func still(_ name: String, start: Int, count: Int, opaque: Bool = false) -> [String] {
        [
            Self.filter("movie", [("filename", directory + name), ("f", "png_pipe")]),
            Self.filter("scale", [("out_color_matrix", "bt709"), ("out_range", "tv")]),
            Self.filter("format", [("pix_fmts", opaque ? "yuv420p" : "yuva420p")]),
            // One frame more than shown: an overlay input that ends on the main input's last frame may drop it.
            Self.filter("loop", [("loop", "\(max(0, count))"), ("size", "1"), ("start", "0")]),
            // The PNG demuxer's time base is 1/25 s: frame times of 1/fps s need a finer one.
            Self.filter("settb", [("expr", "1/\(fps)")]),
            Self.filter("setpts", [("expr", "(N+\(start))/(\(fps)*TB)")]),
        ]
    }

    /// `between(t, ...)` over the layer's visible spans (frame f shows at f/fps).
    func enable(_ spans: [FrameSpan], variable: String = "t") -> String? {
        if spans == [FrameSpan(0, n)] { return nil }
        if spans.isEmpty { return "0" }
        return spans.map { "between(\(variable),\(num((Double($0.start) - 0.5) / Double(fps))),\(num((Double($0.end) - 0.5) / Double(fps))))" }
            .joined(separator: "+")
    }

    // MARK: Expressions

    /// `easing` applied to the expression `u` (0...1), which is evaluated once (stored in register `reg`).
    func eased(_ easing: Easing, _ u: String, reg: Int) -> String {
        let r = "ld(\(reg))"
        let body: String
        switch easing {
        case .linear: body = r
        case .easeIn: body = "\(r)*\(r)*\(r)"
        case .easeOut: body = "1-(1-\(r))*(1-\(r))*(1-\(r))"
        case .easeInOut: body = "\(r)*\(r)*(3-2*\(r))"
        case .cubicBezier:
            // No closed form: a table of the curve at 1/256 steps, piecewise linear between entries.
            var e = "1"
            let steps = 32
            for k in stride(from: steps - 1, through: 0, by: -1) {
                let u0 = Double(k) / Double(steps), u1 = Double(k + 1) / Double(steps)
                let y0 = easing.apply(u0), y1 = easing.apply(u1)
                e = "if(lt(\(r),\(num(u1))),\(num(y0))+(\(r)-\(num(u0)))*\(num((y1 - y0) * Double(steps))),\(e))"
            }
            body = e
        }
        return "st(\(reg),clip(\(u),0,1));\(body)"
    }

    /// The value of `track` at time `time` (an expression in seconds), the fast engine's `AnimationTrack.value`.
    func value(_ track: AnimationTrack, time: String, reg: Int) -> String {
        guard let first = track.keys.first else { return track.property.isScale || track.property == .opacity ? "1" : "0" }
        // Repeating keys: the time within their first play (Planner+Repeat.swift).
        let t = track.cycle.map { "(\($0.expression(time, num: num)))" } ?? time
        var e = num(track.keys[track.keys.count - 1].value)
        for (a, b) in zip(track.keys, track.keys.dropFirst()).reversed() {
            let seg: String
            if b.time > a.time {
                let u = "(\(t)-\(num(a.time)))/\(num(b.time - a.time))"
                seg = "\(num(a.value))+\(num(b.value - a.value))*(\(eased(b.easing, u, reg: reg)))"
            } else {
                seg = num(b.value)
            }
            e = "if(lt(\(t),\(num(b.time))),\(seg),\(e))"
        }
        return "if(lte(\(t),\(num(first.time))),\(num(first.value)),\(e))"
    }

    /// Sum (x, y) or product (opacity) of a layer's tracks of `property` at time `t`, each only inside its span.
    func animated(_ layer: LayerPlan, _ property: AnimatedProperty, time t: String) -> String? {
        let tracks = layer.animation.filter { $0.property == property }
        guard !tracks.isEmpty else { return nil }
        let neutral = property == .opacity || property.isScale ? "1" : "0"
        let terms = tracks.enumerated().map { i, track in
            "if(between(\(t),\(num((Double(track.span.start) - 0.5) / Double(fps))),\(num((Double(track.span.end) - 0.5) / Double(fps)))),\(value(track, time: t, reg: i % 8)),\(neutral))"
        }
        return terms.joined(separator: property == .opacity || property.isScale ? "*" : "+")
    }

    // MARK: The graph

    mutating func build() {
        let full = FrameSpan(0, n)
        var layers = plan.layers[...]
        var base = "black"
        if let l = layers.first, case .color(.solid(let c)) = l.content, c.a == 255,
            l.box == Rect(x: 0, y: 0, width: plan.width, height: plan.height),
            l.isStatic, l.visible == [full], l.opacity == 1
        {
            base = "0x" + String(c.hex.dropFirst().prefix(6))
            layers = layers.dropFirst()
        }
        var main = "base"
        add(
            [],
            [
                Self.filter(
                    "color", [("c", base), ("s", "\(plan.width)x\(plan.height)"), ("r", "\(fps)"), ("d", num((Double(n) + 0.5) / Double(fps)))]),
                Self.filter("format", [("pix_fmts", "yuv420p")]),
            ], main)
        for layer in layers {
            switch layer.content {
            case .video(let v): main = video(layer, v, over: main)
            case .media(let m): main = media(layer, m, over: main)
            default: main = sprite(layer, over: main)
            }
        }
        add([main], [Self.filter("trim", [("end_frame", "\(n)")]), Self.filter("format", [("pix_fmts", "yuv420p")])], "vout")

        // Audio: the plan's audio graph exactly as the fast engine runs it (music piece or loop, fades, voice-over
        // and ducking, loudness gain and limiter), each file read by amovie, in AAC-sized frames (the CLI does not
        // resize them).
        let audio = plan.audioGraph
        var text = audio.text
        for (k, input) in audio.inputs.enumerated() {
            lines.append(Self.filter("amovie", [("filename", input.path)]) + "[ain\(k)]")
            text = text.replacingOccurrences(of: "[\(input.label)]", with: "[ain\(k)]")
        }
        lines.append(text.replacingOccurrences(of: "[aout]", with: "[apre]"))
        lines.append("[apre]" + Self.filter("asetnsamples", [("n", "1024"), ("p", "0")]) + "[aout]")
    }

    /// An art layer: one canvas-sized PNG overlaid in its visible frames, moved by its x/y animation and faded by
    /// its opacity animation; a PNG sequence where scale or rotation move.
    mutating func sprite(_ layer: LayerPlan, over main: String) -> String {
        let name = "layer\(layer.index).png"
        art.append(FFmpegArt(name: name, kind: .layer(layer.index)))
        // Where the PNG sits on the canvas (even, so that the chroma lines up).
        let bounds = artBounds[layer.index] ?? Rect(x: 0, y: 0, width: plan.width, height: plan.height)
        let heavy = layer.animation.contains { $0.property.isScale || $0.property == .rotation }
        var seq: FrameSpan?
        if heavy {
            // The shown frames from the first to the last where the layer is not at rest (moved, scaled, turned or
            // faded); the static picture, the layer at rest, draws the others. A pop's track spans the layer's whole
            // life, so a label that popped in and then stayed was written as a PNG a frame to the end (design14b F9:
            // 91 files for 90 frames, 73 of them the same picture).
            let rest = LayerTransform(dx: 0, dy: 0, scale: 1, rotation: layer.rotation, opacity: layer.opacity)
            var first: Int?, last = 0
            for v in layer.visible {
                for f in max(0, v.start)..<min(n, v.end) where !layer.transform(frame: f, time: Double(f) / Double(fps)).isClose(to: rest) {
                    if first == nil { first = f }
                    last = f
                }
            }
            if let first { seq = FrameSpan(first, last + 1) }
        }
        // The static picture, in the visible frames outside the sequence.
        var spans = layer.visible
        if let s = seq {
            spans = spans.flatMap { v -> [FrameSpan] in
                [FrameSpan(v.start, min(v.end, s.start)), FrameSpan(max(v.start, s.end), v.end)].filter { $0.count > 0 }
            }
        }
        var out = main
        if !spans.isEmpty {
            let s = label("s")
            var chain = still(name, start: 0, count: n)
            if !heavy, let o = animated(layer, .opacity, time: "T") {
                chain.append(Self.filter("geq", [("lum", "lum(X,Y)"), ("cb", "cb(X,Y)"), ("cr", "cr(X,Y)"), ("a", "alpha(X,Y)*clip(\(o),0,1)")]))
            }
            add([], chain, s)
            var args: [(String, String)] = [
                ("x", "\(bounds.x)" + (heavy ? "" : (animated(layer, .x, time: "t").map { "+2*round((\($0))/2)" } ?? ""))),
                ("y", "\(bounds.y)" + (heavy ? "" : (animated(layer, .y, time: "t").map { "+2*round((\($0))/2)" } ?? ""))), ("eof_action", "pass"),
            ]
            if let e = enable(spans) { args.append(("enable", e)) }
            out = label("m")
            add([main, s], [Self.filter("overlay", args)], out)
        }
        if let s = seq {
            let pattern = "layer\(layer.index)-%05d.png"
            art.append(FFmpegArt(name: pattern, kind: .sequence(layer: layer.index, frames: s)))
            let q = label("q")
            add(
                [],
                [
                    Self.filter("movie", [("filename", directory.replacingOccurrences(of: "%", with: "%%") + pattern), ("f", "image2")]),
                    Self.filter("scale", [("out_color_matrix", "bt709"), ("out_range", "tv")]), Self.filter("format", [("pix_fmts", "yuva420p")]),
                    Self.filter("settb", [("expr", "1/\(fps)")]), Self.filter("setpts", [("expr", "(N+\(s.start))/(\(fps)*TB)")]),
                ], q)
            let o = label("m")
            add([out, q], [Self.filter("overlay", [("x", "0"), ("y", "0"), ("eof_action", "pass"), ("enable", enable([s]) ?? "1")])], o)
            out = o
        }
        return out
    }

    /// A clip: fitted to its box; a full-canvas clip in the static bottom is blended in RGB (screen and add mean
    /// what they do in an editor), any other is overlaid.
    mutating func video(_ layer: LayerPlan, _ v: VideoPlan, over main: String) -> String {
        let b = layer.box
        var chain = [Self.filter("movie", [("filename", v.source.path)] + (v.animated && v.loop ? [("loop", "0")] : []))]
        chain.append(Self.filter("setpts", [("expr", "N/(FRAME_RATE*TB)")]))
        if !v.animated {
            chain += [
                Self.filter("trim", [("end_frame", "1")]), Self.filter("loop", [("loop", "-1"), ("size", "1")]),
                Self.filter("setpts", [("expr", "N/(\(fps)*TB)")]),
            ]
        } else {
            if !v.loop { chain.append(Self.filter("tpad", [("stop", "-1"), ("stop_mode", "clone")])) }
            chain.append(Self.filter("fps", [("fps", "\(fps)"), ("round", "down")]))
            // The clip starts when the layer first shows, as the fast engine plays it (a layer shown again later,
            // per shot, keeps playing here where the fast engine starts it again).
            if let first = layer.visible.first?.start, first > 0 { chain.append(Self.filter("tpad", [("start", "\(first)")])) }
        }
        chain.append(Self.filter("trim", [("end_frame", "\(n + 1)")]))
        if v.fit == .cover {
            chain += [
                Self.filter("scale", [("w", "\(b.width)"), ("h", "\(b.height)"), ("force_original_aspect_ratio", "increase")]),
                Self.filter("crop", [("w", "\(b.width)"), ("h", "\(b.height)")]),
            ]
        } else {
            chain += [
                Self.filter("scale", [("w", "\(b.width)"), ("h", "\(b.height)"), ("force_original_aspect_ratio", "decrease")]),
                Self.filter("format", [("pix_fmts", "yuva420p")]),
                Self.filter("pad", [("w", "\(b.width)"), ("h", "\(b.height)"), ("x", "(ow-iw)/2"), ("y", "(oh-ih)/2"), ("color", "black@0")]),
            ]
        }
        let full =
            layer.box == Rect(x: 0, y: 0, width: plan.width, height: plan.height) && layer.isStatic && layer.rotation == 0
            && layer.visible == [FrameSpan(0, n)] && v.fit == .cover
        let vs = label("v")
        if full {
            chain += [Self.filter("scale", [("out_color_matrix", "bt709"), ("out_range", "pc")]), Self.filter("format", [("pix_fmts", "gbrp")])]
            add([], chain, vs)
            return blendInRGB(vs, over: main, mode: v.blend, opacity: layer.opacity)
        }
        if v.blends(in: layer) {
            // screen / add of a clip that does not move: on a black canvas (black changes nothing in either mode) at
            // its box, shown in its frames, blended with everything under it in RGB. An animated opacity scales the
            // clip's colours, which for screen and add is the same as blending at that opacity.
            if let o = animated(layer, .opacity, time: "T") {
                let k = "clip(\(o),0,1)"
                chain += [
                    Self.filter("format", [("pix_fmts", "yuva420p")]),
                    Self.filter(
                        "geq",
                        [("lum", "16+(lum(X,Y)-16)*\(k)"), ("cb", "128+(cb(X,Y)-128)*\(k)"), ("cr", "128+(cr(X,Y)-128)*\(k)"), ("a", "alpha(X,Y)")]),
                ]
            }
            add([], chain, vs)
            let canvas = label("k")
            add(
                [], [Self.filter("color", [("c", "black"), ("s", "\(plan.width)x\(plan.height)"), ("r", "\(fps)"), ("d", num(plan.duration))])],
                canvas)
            var args: [(String, String)] = [("x", "\(b.x & ~1)"), ("y", "\(b.y & ~1)"), ("eof_action", "pass")]
            if let e = enable(layer.visible) { args.append(("enable", e)) }
            let top = label("v")
            add(
                [canvas, vs],
                [
                    Self.filter("overlay", args), Self.filter("scale", [("out_color_matrix", "bt709"), ("out_range", "pc")]),
                    Self.filter("format", [("pix_fmts", "gbrp")]),
                ], top)
            return blendInRGB(top, over: main, mode: v.blend, opacity: layer.opacity)
        }
        chain.append(Self.filter("format", [("pix_fmts", "yuva420p")]))
        if layer.opacity < 1 { chain.append(Self.filter("lutyuv", [("a", "val*\(num(layer.opacity))")])) }
        add([], chain, vs)
        return place(layer, stream: vs, size: (b.width, b.height), at: (b.x, b.y), over: main)
    }

    /// `top` (a canvas-sized gbrp stream, full range) blended with `main` in RGB by `mode` at `opacity`, back to the
    /// encoder's yuv420p: screen and add mean what they do in an editor.
    mutating func blendInRGB(_ top: String, over main: String, mode: BlendMode, opacity: Double) -> String {
        let under = label("g")
        add(
            [main], [Self.filter("scale", [("in_color_matrix", "bt709"), ("in_range", "tv")]), Self.filter("format", [("pix_fmts", "gbrp")])], under)
        let out = label("m")
        let name = mode == .screen ? "screen" : (mode == .add ? "addition" : "normal")
        // blend: result = top + (mode(top, bottom) - top) * opacity; normal: top * opacity + bottom * (1 - opacity).
        let inputs = mode == .normal ? [top, under] : [under, top]
        add(
            inputs,
            [
                Self.filter("blend", [("all_mode", name), ("all_opacity", num(opacity)), ("shortest", "1")]),
                Self.filter("scale", [("out_color_matrix", "bt709"), ("out_range", "tv")]), Self.filter("format", [("pix_fmts", "yuv420p")]),
            ], out)
        return out
    }

    /// Overlays a layer-sized stream whose top-left is at `at` through the layer's rotation (about its pivot),
    /// animated position and visible frames.
    mutating func place(_ layer: LayerPlan, stream: String, size: (Int, Int), at: (Int, Int), over main: String) -> String {
        var s = stream
        var origin = at
        if layer.animation.contains(where: { $0.property.isScale }) {
            // An animated scale: the whole transform, sub-pixel, by one `perspective` per frame.
            if let o = animated(layer, .opacity, time: "T") {
                let g = label("o")
                add([s], [Self.filter("geq", [("lum", "lum(X,Y)"), ("cb", "cb(X,Y)"), ("cr", "cr(X,Y)"), ("a", "alpha(X,Y)*clip(\(o),0,1)")])], g)
                s = g
            }
            let (t, o) = affine(layer, stream: s, size: size, at: at, staticRotation: true)
            var args: [(String, String)] = [("x", "\(o.0)"), ("y", "\(o.1)"), ("eof_action", "pass")]
            if let e = enable(layer.visible) { args.append(("enable", e)) }
            let out = label("m")
            add([main, t], [Self.filter("overlay", args)], out)
            return out
        }
        let rotations = layer.animation.contains { $0.property == .rotation }
        if layer.rotation.truncatingRemainder(dividingBy: 360) != 0 || rotations {
            // Pad so the pivot is the middle, then rotate about the middle.
            let px = Int(layer.pivot.x.rounded()), py = Int(layer.pivot.y.rounded())
            let hw = max(px - at.0, at.0 + size.0 - px, 1), hh = max(py - at.1, at.1 + size.1 - py, 1)
            let side = Int((Double(4 * hw * hw + 4 * hh * hh)).squareRoot().rounded(.up)) + 2 & ~1
            let angle = num(layer.rotation) + (animated(layer, .rotation, time: "t").map { "+(\($0))" } ?? "")
            let r = label("r")
            add(
                [s],
                [
                    Self.filter(
                        "pad",
                        [("w", "\(2 * hw)"), ("h", "\(2 * hh)"), ("x", "\(hw - (px - at.0))"), ("y", "\(hh - (py - at.1))"), ("color", "black@0")]),
                    Self.filter("rotate", [("a", "(\(angle))*PI/180"), ("ow", "\(side)"), ("oh", "\(side)"), ("c", "none")]),
                ], r)
            s = r
            origin = (px - side / 2, py - side / 2)
        }
        if let o = animated(layer, .opacity, time: "T") {
            let g = label("o")
            add([s], [Self.filter("geq", [("lum", "lum(X,Y)"), ("cb", "cb(X,Y)"), ("cr", "cr(X,Y)"), ("a", "alpha(X,Y)*clip(\(o),0,1)")])], g)
            s = g
        }
        // overlay floors positions to even pixels in 4:2:0: round a moving offset to the nearest even pixel instead.
        let dx = animated(layer, .x, time: "t").map { "+2*round((\($0))/2)" } ?? ""
        let dy = animated(layer, .y, time: "t").map { "+2*round((\($0))/2)" } ?? ""
        var args: [(String, String)] = [("x", "\(origin.0)\(dx)"), ("y", "\(origin.1)\(dy)"), ("eof_action", "pass")]
        if let e = enable(layer.visible) { args.append(("enable", e)) }
        let out = label("m")
        add([main, s], [Self.filter("overlay", args)], out)
        return out
    }

    /// `stream` (size `size`, its top-left at `at` on the canvas) through the layer's transform of each frame, as
    /// the fast engine draws it (bilinear, sample centres at +0.5): scale and rotation about the pivot (the static
    /// rotation too unless `staticRotation` is false, for art that has it drawn in), then the x/y offsets. Padded
    /// to the canvas with a transparent margin, so the result is a stream to overlay at the returned origin.
    mutating func affine(_ layer: LayerPlan, stream: String, size: (Int, Int), at: (Int, Int), staticRotation: Bool) -> (String, (Int, Int)) {
        let ox = (min(0, at.0) - 2) & ~1, oy = (min(0, at.1) - 2) & ~1
        let w = (max(plan.width, at.0 + size.0) + 2 - ox + 1) & ~1, h = (max(plan.height, at.1 + size.1) + 2 - oy + 1) & ~1
        // pad puts the stream on even offsets.
        let ex = (at.0 - ox) & ~1, ey = (at.1 - oy) & ~1
        let t = "((in-1)/\(fps))"
        let scale = animated(layer, .scale, time: t) ?? "1"
        var angle = staticRotation ? num(layer.rotation) : "0"
        if let r = animated(layer, .rotation, time: t) { angle += "+(\(r))" }
        let dx = animated(layer, .x, time: t) ?? "0", dy = animated(layer, .y, time: t) ?? "0"
        let px = num(layer.pivot.x), py = num(layer.pivot.y)
        let setup = "st(8,max(\(scale),0.001));st(9,(\(angle))*PI/180)"
        // `scale_x`/`scale_y`: along the layer's own width and height, before its rotation.
        let sx = animated(layer, .scaleX, time: t).map { "*max(\($0),0.001)" } ?? ""
        let sy = animated(layer, .scaleY, time: t).map { "*max(\($0),0.001)" } ?? ""
        func corner(_ X: Int, _ Y: Int) -> (String, String) {
            let qx = "(\(num(Double(ox + X) + 0.5))-\(px)-(\(dx)))", qy = "(\(num(Double(oy + Y) + 0.5))-\(py)-(\(dy)))"
            return (
                "\(setup);(cos(ld(9))*\(qx)+sin(ld(9))*\(qy))/(ld(8)\(sx))+\(num(layer.pivot.x - Double(at.0) + Double(ex) - 0.5))",
                "\(setup);(cos(ld(9))*\(qy)-sin(ld(9))*\(qx))/(ld(8)\(sy))+\(num(layer.pivot.y - Double(at.1) + Double(ey) - 0.5))"
            )
        }
        let c = [corner(0, 0), corner(w, 0), corner(0, h), corner(w, h)]
        let out = label("a")
        add(
            [stream],
            [
                Self.filter("pad", [("w", "\(w)"), ("h", "\(h)"), ("x", "\(ex)"), ("y", "\(ey)"), ("color", "black@0")]),
                Self.filter(
                    "perspective",
                    [
                        ("x0", c[0].0), ("y0", c[0].1), ("x1", c[1].0), ("y1", c[1].1), ("x2", c[2].0), ("y2", c[2].1), ("x3", c[3].0),
                        ("y3", c[3].1), ("interpolation", "linear"), ("sense", "source"), ("eval", "frame"),
                    ]),
            ], out)
        return (out, (ox, oy))
    }

    /// The job's pictures: each shot's cells zoomed and panned by `perspective` from their prepared PNG, put together in a
    /// window-sized stream with the transitions between shots, then placed like any layer.
    mutating func media(_ layer: LayerPlan, _ m: MediaPlan, over main: String) -> String {
        let w = m.window
        var win = label("w")
        add(
            [],
            [
                Self.filter(
                    "color", [("c", "black@0"), ("s", "\(w.width)x\(w.height)"), ("r", "\(fps)"), ("d", num((Double(n) + 0.5) / Double(fps)))]),
                Self.filter("format", [("pix_fmts", "yuva420p")]), Self.filter("trim", [("end_frame", "\(n)")]),
            ], win)
        let zoomTransition = m.transitions.contains { $0.kind == .zoom }
        // The largest zoom each (input, cell) is shown at.
        var zooms: [String: Double] = [:]
        for shot in m.shots {
            for c in m.cells.indices where m.inputs[shot.images[c]].kind == .picture {
                let key = "\(shot.images[c])-\(c)"
                zooms[key] = max(zooms[key] ?? 1, shot.motions[c].maxZoom * (zoomTransition ? 1.25 : 1))
            }
        }
        var named: Set<String> = []
        for (i, shot) in m.shots.enumerated() {
            let tin = m.transitions.first { $0.from == i - 1 && $0.frames.count > 0 }
            let tout = m.transitions.first { $0.from == i && $0.frames.count > 0 }
            func switchFrame(_ t: TransitionPlan) -> Int { t.frames.start + t.frames.count / 2 }
            var a = shot.startFrame, e = shot.endFrame
            if let t = tin { a = t.kind == .cut ? switchFrame(t) : min(a, t.frames.start) }
            if let t = tout { e = t.kind == .cut ? switchFrame(t) : max(e, t.frames.end) }
            a = max(0, a); e = min(n, e)
            guard e > a else { continue }
            let count = e - a
            let shown = enable([FrameSpan(a, e)]) ?? "1"
            // Progress of a transition at output time t (frames f = t * fps), as the fast engine computes it.
            func progress(_ t: TransitionPlan, time: String) -> String {
                "clip((\(time)*\(fps)-\(t.frames.start)+0.5)/\(t.frames.count),0,1)"
            }
            for (c, cell) in m.cells.enumerated() {
                let input = shot.images[c]
                let r = cell.rect
                var chain: [String]
                if m.inputs[input].kind == .clip {
                    chain = [
                        Self.filter("movie", [("filename", m.inputs[input].path), ("loop", "0")]),
                        Self.filter("setpts", [("expr", "N/(FRAME_RATE*TB)")]), Self.filter("fps", [("fps", "\(fps)"), ("round", "down")]),
                        Self.filter("trim", [("end_frame", "\(count + 1)")]),
                        // Read by its own matrix (BT.601 when untagged, as the fast engine reads it) into the
                        // encoder's BT.709: passed through, an untagged clip's colours shifted (review9b: 27 dB).
                        Self.filter(
                            "scale",
                            [
                                ("w", "\(r.width)"), ("h", "\(r.height)"),
                                ("force_original_aspect_ratio", cell.fit == .cover ? "increase" : "decrease"),
                                ("out_color_matrix", "bt709"), ("out_range", "tv"),
                            ]),
                        Self.filter("format", [("pix_fmts", "yuva420p")]),
                    ]
                    chain.append(
                        cell.fit == .cover
                            ? Self.filter("crop", [("w", "\(r.width)"), ("h", "\(r.height)")])
                            : Self.filter(
                                "pad", [("w", "\(r.width)"), ("h", "\(r.height)"), ("x", "(ow-iw)/2"), ("y", "(oh-ih)/2"), ("color", "black@0")]))
                    chain.append(Self.filter("setpts", [("expr", "PTS-STARTPTS+\(a)/(\(fps)*TB)")]))
                } else {
                    let zoom = zooms["\(input)-\(c)"] ?? 1
                    let name = "media\(layer.index)-input\(input)-cell\(c).png"
                    if named.insert(name).inserted {
                        art.append(FFmpegArt(name: name, kind: .picture(layer: layer.index, input: input, cell: c, zoom: zoom)))
                    }
                    let mo = shot.motions[c]
                    let contain = cell.fit == .contain
                    let g = pictures[FFmpegPictureKey(layer: layer.index, input: input, cell: c)] ?? .assumed(cell: r, zoom: zoom)
                    // A picture that does not move in this shot is warped once and then repeated.
                    let fixed = mo.isStill && tout?.kind != .zoom
                    // With its alpha whatever the fit: a product cut-out (a PNG or WebP with transparency) covering its
                    // cell shows what lies below through its transparent parts, as the fast engine draws it (review9b:
                    // yuv420p here drew it opaque, 9.9 dB apart).
                    chain = still(name, start: 0, count: fixed ? 0 : count + 1)
                    chain.removeLast()
                    chain.append(Self.filter("setpts", [("expr", "N/(\(fps)*TB)")]))
                    // The output frame (perspective counts its input frames from 1).
                    let f = "(in-1+\(a))"
                    let p = shot.frameCount > 1 ? "(\(f)-\(shot.startFrame))/\(shot.frameCount - 1)" : "0"
                    var z = "\(num(mo.zoomFrom))+\(num(mo.zoomTo - mo.zoomFrom))*(\(eased(mo.easing, p, reg: 0)))"
                    if let t = tout, t.kind == .zoom { z = "(\(z))*(1+0.25*\(progress(t, time: "\(f)/\(fps)")))" }
                    let cx = "\(num(mo.panFrom.x))+\(num(mo.panTo.x - mo.panFrom.x))*(\(eased(mo.easing, p, reg: 1)))"
                    let cy = "\(num(mo.panFrom.y))+\(num(mo.panTo.y - mo.panFrom.y))*(\(eased(mo.easing, p, reg: 1)))"
                    // Contained pictures get a transparent margin, so that what lies outside them samples nothing.
                    let margin = contain || g.width < r.width || g.height < r.height ? 2 : 0
                    let inW = max(g.width + 2 * margin, r.width) + 1 & ~1, inH = max(g.height + 2 * margin, r.height) + 1 & ~1
                    if inW != g.width || inH != g.height {
                        chain.append(
                            Self.filter(
                                "pad", [("w", "\(inW)"), ("h", "\(inH)"), ("x", "\(margin)"), ("y", "\(margin)"), ("color", "black@0")]))
                    }
                    let (ex, ey) = warp(g, cell: r, fit: cell.fit, zoom: z, center: (cx, cy), margin: margin)
                    chain.append(
                        Self.filter(
                            "perspective",
                            [
                                ("x0", ex[0]), ("y0", ey[0]), ("x1", ex[1]), ("y1", ey[0]), ("x2", ex[0]), ("y2", ey[1]), ("x3", ex[1]),
                                ("y3", ey[1]), ("interpolation", "linear"), ("sense", "source"), ("eval", fixed ? "init" : "frame"),
                            ]))
                    chain.append(Self.filter("crop", [("w", "\(r.width)"), ("h", "\(r.height)"), ("x", "0"), ("y", "0")]))
                    if fixed {
                        chain.append(Self.filter("loop", [("loop", "\(count + 1)"), ("size", "1"), ("start", "0")]))
                        chain.append(Self.filter("setpts", [("expr", "N/(\(fps)*TB)")]))
                    }
                    chain.append(Self.filter("format", [("pix_fmts", "yuva420p")]))
                    chain.append(Self.filter("setpts", [("expr", "PTS+\(a)/(\(fps)*TB)")]))
                }
                // The incoming transition's alpha.
                if let t = tin {
                    switch t.kind {
                    case .crossfade, .zoom:
                        chain.append(
                            Self.filter(
                                "fade",
                                [
                                    ("t", "in"), ("st", num((Double(t.frames.start) - 0.5) / Double(fps))),
                                    ("d", num(Double(t.frames.count) / Double(fps))), ("alpha", "1"),
                                ]))
                    case .wipeLeft, .wipeRight, .wipeUp, .wipeDown:
                        let pr = progress(t, time: "T")
                        let cond: String
                        switch t.kind {
                        case .wipeLeft: cond = "gte(X+\(r.x),\(w.width)-round(\(pr)*\(w.width)))"
                        case .wipeRight: cond = "lt(X+\(r.x),round(\(pr)*\(w.width)))"
                        case .wipeUp: cond = "gte(Y+\(r.y),\(w.height)-round(\(pr)*\(w.height)))"
                        default: cond = "lt(Y+\(r.y),round(\(pr)*\(w.height)))"
                        }
                        chain.append(Self.filter("geq", [("lum", "lum(X,Y)"), ("cb", "cb(X,Y)"), ("cr", "cr(X,Y)"), ("a", "alpha(X,Y)*\(cond)")]))
                    default: break
                    }
                }
                let cs = label("c")
                add([], chain, cs)
                // Contained pictures: the fill behind them first.
                if cell.fit == .contain, m.inputs[input].kind == .picture {
                    var fill: [String]?
                    switch cell.fill {
                    case .blur:
                        let name = "media\(layer.index)-input\(input)-cell\(c)-fill.png"
                        if named.insert(name).inserted {
                            art.append(FFmpegArt(name: name, kind: .blurFill(layer: layer.index, input: input, cell: c)))
                        }
                        fill = still(name, start: a, count: count, opaque: true)
                    case .color(let col):
                        fill = [
                            Self.filter(
                                "color",
                                [
                                    ("c", "0x" + String(col.hex.dropFirst().prefix(6))), ("s", "\(r.width)x\(r.height)"), ("r", "\(fps)"),
                                    ("d", num(Double(e) / Double(fps) + 0.5)),
                                ]),
                            Self.filter("trim", [("start_frame", "\(a)"), ("end_frame", "\(e)")]), Self.filter("format", [("pix_fmts", "yuva420p")]),
                        ]
                    case .none: fill = nil
                    }
                    if var fill {
                        if let t = tin, t.kind == .crossfade || t.kind == .zoom {
                            fill.append(
                                Self.filter(
                                    "fade",
                                    [
                                        ("t", "in"), ("st", num((Double(t.frames.start) - 0.5) / Double(fps))),
                                        ("d", num(Double(t.frames.count) / Double(fps))), ("alpha", "1"),
                                    ]))
                        }
                        let fl = label("f")
                        add([], fill, fl)
                        let o = label("w")
                        add(
                            [win, fl],
                            [
                                Self.filter(
                                    "overlay",
                                    [("x", xExpr(r, w, tin, tout)), ("y", yExpr(r, w, tin, tout)), ("eof_action", "pass"), ("enable", shown)])
                            ], o)
                        win = o
                    }
                }
                let o = label("w")
                add(
                    [win, cs],
                    [
                        Self.filter(
                            "overlay", [("x", xExpr(r, w, tin, tout)), ("y", yExpr(r, w, tin, tout)), ("eof_action", "pass"), ("enable", shown)])
                    ], o)
                win = o
            }
        }
        if layer.radius > 0 || m.cellRadius > 0 {
            let name = "media\(layer.index)-mask.png"
            art.append(FFmpegArt(name: name, kind: .mediaMask(layer: layer.index)))
            let mk = label("k")
            add([], still(name, start: 0, count: n), mk)
            let o = label("w")
            // The window's alpha times the mask's (blend: Y, U and V of the window as they are, alpha multiplied).
            // Not `alphamerge`, which replaces the alpha: a contained picture's or clip's transparent margin (and a
            // cut-out's transparent parts) turned opaque black inside a rounded window, where the fast engine shows
            // the layers below (29 dB apart).
            add([win, mk], [Self.filter("blend", [("c3_mode", "multiply")])], o)
            win = o
        }
        if layer.opacity < 1 {
            let o = label("w")
            add([win], [Self.filter("lutyuv", [("a", "val*\(num(layer.opacity))")])], o)
            win = o
        }
        var under = main
        if layer.shadow != nil {
            let name = "media\(layer.index)-shadow.png"
            art.append(FFmpegArt(name: name, kind: .mediaShadow(layer: layer.index)))
            var sh = label("s")
            add([], still(name, start: 0, count: n), sh)
            var args: [(String, String)] = [
                ("x", animated(layer, .x, time: "t").map { "2*round((\($0))/2)" } ?? "0"),
                ("y", animated(layer, .y, time: "t").map { "2*round((\($0))/2)" } ?? "0"), ("eof_action", "pass"),
            ]
            if layer.animation.contains(where: { $0.property.isScale }) {
                // The shadow art has the static rotation drawn in: only the animated transform is left to apply.
                let (t, o) = affine(layer, stream: sh, size: (plan.width, plan.height), at: (0, 0), staticRotation: false)
                sh = t
                args = [("x", "\(o.0)"), ("y", "\(o.1)"), ("eof_action", "pass")]
            }
            if let e = enable(layer.visible) { args.append(("enable", e)) }
            under = label("m")
            add([main, sh], [Self.filter("overlay", args)], under)
        }
        return place(layer, stream: win, size: (w.width, w.height), at: (w.x, w.y), over: under)
    }

    /// The `perspective` corners (sense=source) that resample a cell's picture as the fast engine's warp does:
    /// output pixel X samples the PNG at x0 + (X + 0.5) * sx - 0.5 (bilinear), with the zoom `zoom` and the view
    /// centre `center` (fractions of the picture, kept inside it) evaluated for each frame. Returns the x
    /// expressions at X = 0 and X = W, and the y expressions at Y = 0 and Y = H (the filter's input size).
    func warp(_ g: FFmpegPicture, cell r: Rect, fit: Fit, zoom z: String, center: (String, String), margin: Int) -> ([String], [String]) {
        func axis(_ cellSize: Int, _ image: Double, _ cropOrigin: Double, _ cropSize: Double, _ png: Int, _ c: String, _ size: String) -> [String] {
            let bs = num(g.baseScale), m = "+(\(num(Double(margin) - 0.5)))"
            let start: String
            if fit == .cover {
                // Registers: 2 zoom, 3 view size (decoded pixels), 4 step (PNG pixels a cell pixel), 5 first sample.
                // The centre is kept inside as the fast engine keeps it: min(max()), since clip() is NaN (and the
                // filter fails) when rounding puts its lower bound a hair above the upper one.
                let k = num(Double(png) / cropSize)
                start =
                    "st(2,\(z));st(3,\(cellSize)/(\(bs)*ld(2)));st(4,\(k)/(\(bs)*ld(2)));"
                    + "st(5,(min(max((\(c))*\(num(image)),ld(3)/2),\(num(image))-ld(3)/2)-ld(3)/2-\(num(cropOrigin)))*\(k)+0.5*ld(4)\(m))"
            } else {
                // The fitted picture grows about the cell's centre: 3 its size in cell pixels, 4 step, 5 first sample.
                start =
                    "st(2,\(z));st(3,\(num(image))*\(bs)*ld(2));st(4,\(png)/ld(3));"
                    + "st(5,((ld(3)-\(cellSize))/2+0.5)*ld(4)\(m))"
            }
            return ["\(start);ld(5)", "\(start);ld(5)+\(size)*ld(4)"]
        }
        return (
            axis(r.width, g.imageWidth, g.cropX, g.cropWidth, g.width, center.0, "W"),
            axis(r.height, g.imageHeight, g.cropY, g.cropHeight, g.height, center.1, "H")
        )
    }

    /// A cell's x in the window: slides move the outgoing shot out and the incoming one in by whole window widths.
    func xExpr(_ r: Rect, _ w: Rect, _ tin: TransitionPlan?, _ tout: TransitionPlan?) -> String {
        var e = "\(r.x)"
        func p(_ t: TransitionPlan) -> String { "clip((t*\(fps)-\(t.frames.start)+0.5)/\(t.frames.count),0,1)" }
        if let t = tin, t.kind == .slideLeft { e += "+\(w.width)-round(\(p(t))*\(w.width))" }
        if let t = tin, t.kind == .slideRight { e += "-\(w.width)+round(\(p(t))*\(w.width))" }
        if let t = tout, t.kind == .slideLeft { e += "-round(\(p(t))*\(w.width))" }
        if let t = tout, t.kind == .slideRight { e += "+round(\(p(t))*\(w.width))" }
        return e
    }

    func yExpr(_ r: Rect, _ w: Rect, _ tin: TransitionPlan?, _ tout: TransitionPlan?) -> String {
        var e = "\(r.y)"
        func p(_ t: TransitionPlan) -> String { "clip((t*\(fps)-\(t.frames.start)+0.5)/\(t.frames.count),0,1)" }
        if let t = tin, t.kind == .slideUp { e += "+\(w.height)-round(\(p(t))*\(w.height))" }
        if let t = tin, t.kind == .slideDown { e += "-\(w.height)+round(\(p(t))*\(w.height))" }
        if let t = tout, t.kind == .slideUp { e += "-round(\(p(t))*\(w.height))" }
        if let t = tout, t.kind == .slideDown { e += "+round(\(p(t))*\(w.height))" }
        return e
    }
}
