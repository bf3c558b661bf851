import Foundation
import SpecLang

/// Resolves one template layer at a time: its box in output pixels, its visible frames, its animation tracks
/// and its content with every field, asset and beat filled in.
struct LayerContext {
    let template: Template
    let inputs: PlanInputs
    let profile: QualityProfile
    let scale: Double
    let width: Int
    let height: Int
    let fps: Int
    let duration: Double
    let frameCount: Int
    let fields: Planner.ResolvedFields
    let shotSpans: [(span: FrameSpan, beat: Double?)]
    /// Trusted beat times, or nil (then a beat counts `Planner.fallbackBeatSeconds`).
    let beats: [Double]?
    let templateDirectory: String?
    let resolveAsset: (AssetRef) -> String?

    static let clipExtensions: Set<String> = ["mp4", "mov", "m4v", "webm", "mkv"]

    /// The plan's layers for one template layer: none (never shown, or empty), one, or several when its text changes
    /// over time (one a distinct text) or its cells are staggered (one a cell); the extra ones take indexes from
    /// `nextIndex`.
    /// `planned`: the plan's layers so far (a layer that follows its card takes the card's tracks from them).
    func layers(_ layer: Layer, index: Int, planned: [LayerPlan], nextIndex: inout Int, notes: inout [String]) throws -> [LayerPlan] {
        guard let plan = try self.layer(layer, index: index, notes: &notes) else { return [] }
        var parts: [LayerPlan]
        switch (layer.content, plan.content) {
        case (.text(let t), .text(let tp)) where t.changes != nil:
            parts = try changingText(t, t.changes!, layer: layer, plan: plan, textPlan: tp, notes: &notes)
        case (.media(let m), .media(let mp)) where m.isStaggered:
            parts = staggeredCells(m, mp, layer: layer, plan: plan, notes: &notes)
        default:
            parts = [plan]
        }
        for k in parts.indices.dropFirst() {
            parts[k].index = nextIndex
            nextIndex += 1
        }
        if let ref = layer.cell, ref.follow, let card = cardLayer(ref, in: planned) {
            parts = parts.map { following($0, card: card) }
            // Documented, but seen only in a render (design14b F7): the label is not turned with a turned grid.
            if card.rotation.truncatingRemainder(dividingBy: 360) != 0 {
                notes.append(
                    "layers[\(index)] (\(layer.kind)): follow: card takes the card's motion, not the media layer's rotation "
                        + "(\(String(format: "%g", card.rotation)) degrees): the layer stays upright where the card would be unturned")
            }
        }
        return parts
    }

    /// The plan layer that draws card `ref`: the card's own part of a staggered layout, else the whole media layer
    /// (its cards move together).
    func cardLayer(_ ref: CellReference, in planned: [LayerPlan]) -> LayerPlan? {
        guard ref.layer < template.layers.count, case .media(let m) = template.layers[ref.layer].content else { return nil }
        let part = m.isStaggered ? "cell \(ref.cell + 1) of \(m.cellCount)" : nil
        return planned.first { $0.templateIndex == ref.layer && $0.part == part && $0.content.kind == "media" }
    }

    /// `layer` carried by `card` (`follow: card`): the card's tracks in the frames the layer shows, marked as the
    /// card's, so they move it about the card's pivot after its own animation (``LayerPlan/transform(frame:time:)``).
    /// The media layer's transitions are the pictures' inside the card, not the card's: the layer takes none.
    func following(_ layer: LayerPlan, card: LayerPlan) -> LayerPlan {
        let carried = card.animation.filter { t in layer.visible.contains { $0.start < t.span.end && t.span.start < $0.end } }
        guard !carried.isEmpty else { return layer }
        var l = layer
        l.cardPivot = card.pivot
        l.animation += carried.map { t in
            var t = t
            t.onCard = true
            t.source = Self.cardTrackPrefix + t.source
            return t
        }
        return l
    }

    func layer(_ layer: Layer, index: Int, notes: inout [String]) throws -> LayerPlan? {
        let path = "layers[\(index)]"
        var spans = visibleSpans(layer.timing)
        // A layer that goes with a card is placed in the card and shows while it does.
        let card = layer.cell.flatMap(self.card)
        if let card {
            spans = cardSpans(spans, timing: layer.timing, card: card)
        }
        guard !spans.isEmpty else {
            let why = card == nil && !layer.timing.perShot ? neverShownReason(layer.timing) : nil
            notes.append(
                "\(path) (\(layer.kind)) is never shown: " + (why ?? "its start/end fall outside \(card == nil ? "the video" : "its card's time")"))
            return nil
        }
        var box = scaledBox(layer.placement.resolve(in: template.canvas))
        if let card {
            // Measured in the card as on a canvas of its size (in the template's pixels), then put where it is.
            let inner = Canvas(
                width: max(1, Int((Double(card.box.width) / scale).rounded())), height: max(1, Int((Double(card.box.height) / scale).rounded())),
                fps: fps)
            let r = scaledBox(layer.placement.resolve(in: inner))
            box = Rect(x: card.box.x + r.x, y: card.box.y + r.y, width: r.width, height: r.height)
        }
        let content: LayerPlanContent
        switch layer.content {
        case .color(let fill):
            content = .color(fillPlan(fill))
        case .video(let v):
            guard profile.overlay else {
                notes.append("video layer \(path) left out in \(inputs.quality.rawValue) mode")
                return nil
            }
            guard let file = resolveAsset(v.source) else {
                throw PlanError(.assetNotFound, field: "\(path).source", message: "asset \(v.source) not found", line: layer.line)
            }
            content = .video(
                VideoPlan(source: MediaInput(path: file, kind: .clip), loop: v.loop, fit: v.fit, blend: v.blend, animated: profile.motion))
        case .media(let m):
            box = evenBox(box)
            content = .media(try media(m, box: box, notes: &notes))
        case .image(let img):
            let file: String?
            switch img.source {
            case .value(let ref):
                guard let f = resolveAsset(ref) else {
                    throw PlanError(.assetNotFound, field: "\(path).source", message: "asset \(ref) not found", line: layer.line)
                }
                file = f
            case .field(let name):
                file = try picturePath(field: name, path: path)
            }
            guard let file else {
                notes.append("\(path) (image) left out: the field it shows is empty")
                return nil
            }
            content = .image(PicturePlan(source: MediaInput(path: file), fit: img.fit))
        case .text(let t):
            let text = t.changes == nil ? substitute(t.text) : ""
            guard t.changes != nil || !text.allSatisfy(\.isWhitespace) else { return nil }
            content = .text(TextPlan(text: text, box: box, style: Planner.scaledStyle(t.style, scale), baseDirectory: templateDirectory))
        case .shape(let s):
            var stroke = s.stroke
            stroke?.width *= scale
            content = .shape(ShapePlan(shape: s.shape, fill: s.fill.map(fillPlan), stroke: stroke))
        case .border(let b):
            content = .border(color: color(b.color), width: max(1, Int((Double(b.width) * scale).rounded())))
        }
        let pivot = layer.pivot.map { Point(x: $0.x.resolve(template.canvas.width) * scale, y: $0.y.resolve(template.canvas.height) * scale) }
        var plan = LayerPlan(
            index: index, content: content, box: box, rotation: layer.rotation, pivot: pivot, opacity: layer.opacity,
            radius: Int((Double(layer.radius) * scale).rounded()), shadow: layer.shadow.map { Planner.scaledShadow($0, scale) },
            visible: spans
        )
        if !layer.animations.isEmpty {
            if profile.motion {
                plan.animation = spans.flatMap { tracks(layer.animations, span: $0, of: plan) }
            } else {
                notes.append("\(path) (\(layer.kind)): animations left out in \(inputs.quality.rawValue) mode")
            }
        }
        return plan
    }

    // MARK: Geometry

    func scaledBox(_ r: Rect) -> Rect {
        guard scale != 1 else { return r }
        return Rect(
            x: Int((Double(r.x) * scale).rounded()), y: Int((Double(r.y) * scale).rounded()),
            width: max(1, Int((Double(r.width) * scale).rounded())), height: max(1, Int((Double(r.height) * scale).rounded())))
    }

    /// Even position and size (4:2:0 chroma), kept inside the canvas where it was.
    func evenBox(_ r: Rect) -> Rect {
        let x = r.x & ~1, y = r.y & ~1
        var w = max(2, r.width & ~1), h = max(2, r.height & ~1)
        if x >= 0 && x + w > width { w = max(2, (width - x) & ~1) }
        if y >= 0 && y + h > height { h = max(2, (height - y) & ~1) }
        return Rect(x: x, y: y, width: w, height: h)
    }

    // MARK: Values

    func color(_ c: Bindable<Color>) -> Color {
        switch c {
        case .value(let v): v
        case .field(let name): fields.colors[name] ?? .black
        }
    }

    func fillPlan(_ f: Fill) -> FillPlan {
        switch f {
        case .solid(let c): .solid(color(c))
        case .linear(let angle, let stops): .linear(angle: angle, stops: stops)
        case .radial(let stops): .radial(stops: stops)
        }
    }

    /// `{{name}}` replaced by the field's text (text fields only; the parser checked the names).
    func substitute(_ text: String) -> String {
        guard text.contains("{{") else { return text }
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            out += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            out += fields.text[name] ?? ""
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    /// The file a picture field names: the job's path as given, or the template's default asset.
    func picturePath(field name: String, path: String) throws -> String? {
        guard let value = fields.pictures[name] else { return nil }
        if inputs.fields[name] != nil && !(inputs.fields[name] ?? "").isEmpty { return value }
        let ref: AssetRef = value.hasPrefix("builtin:") ? .builtin(String(value.dropFirst(8))) : .file(value)
        guard let file = resolveAsset(ref) else {
            throw PlanError(.assetNotFound, field: "fields.\(name)", message: "the default picture \(ref) was not found")
        }
        return file
    }

    // MARK: Timing

    /// The time of beat `n` counted from `origin` (beat 1 is the first beat after it); fractional beats interpolate.
    func beatTime(_ n: Double, after origin: Double) -> Double {
        guard n > 0 else { return origin }
        guard let beats else { return origin + n * Planner.fallbackBeatSeconds }
        let after = beats.filter { $0 > origin + 1e-6 }
        let whole = Int(n.rounded(.down)), frac = n - Double(whole)
        func at(_ k: Int) -> Double {
            if k <= 0 { return origin }
            if k <= after.count { return after[k - 1] }
            let period = beats.count >= 2 ? (beats[beats.count - 1] - beats[0]) / Double(beats.count - 1) : Planner.fallbackBeatSeconds
            return (after.last ?? origin) + Double(k - after.count) * period
        }
        return at(whole) + (at(whole + 1) - at(whole)) * frac
    }

    /// How many beats lie between `origin` and `t`, counted as `beatTime` counts them (the inverse of
    /// `beatTime(_:after:)`, fractions between beats included), so that progress measured in beats advances by exactly
    /// one per beat however uneven the tracked beats are.
    func beatsElapsed(from origin: Double, to t: Double) -> Double {
        guard t > origin else { return 0 }
        guard let beats else { return (t - origin) / Planner.fallbackBeatSeconds }
        var previous = origin
        var k = 0
        for b in beats where b > origin + 1e-6 {
            if b >= t { return Double(k) + (t - previous) / (b - previous) }
            previous = b
            k += 1
        }
        let period = beats.count >= 2 ? (beats[beats.count - 1] - beats[0]) / Double(beats.count - 1) : Planner.fallbackBeatSeconds
        return Double(k) + (t - previous) / period
    }

    func time(_ p: TimePoint, origin: Double, end: Double) -> Double {
        switch p {
        case .seconds(let s): s < 0 ? end + s : origin + s
        case .beats(let n): beatTime(n, after: origin)
        }
    }

    /// Why a layer timed over the whole video never shows, with its times in seconds (a time in beats as this music
    /// puts it: `start: 4 beats` with `end: 2` shows with a fast track and not with a slow one; trial15 F8).
    func neverShownReason(_ t: LayerTiming) -> String? {
        func seconds(_ x: Double) -> String { String(format: "%.2f s", x) }
        func said(_ p: TimePoint, _ at: Double) -> String {
            if case .beats(let n) = p { return "beat \(Self.number(n)) (\(seconds(at)) \(beats == nil ? "without beats" : "with this music"))" }
            return seconds(at)
        }
        let start = t.start.map { time($0, origin: 0, end: duration) } ?? 0
        var end = duration
        var endPoint = t.end
        if let e = t.end { end = time(e, origin: 0, end: duration) }
        if let d = t.duration {
            endPoint = nil
            switch d {
            case .seconds(let s): end = start + s
            case .beats(let n): end = beatTime(n, after: start)
            }
        }
        let startText = t.start.map { said($0, start) } ?? seconds(start)
        if start >= duration { return "it starts at \(startText), at or after the video's end (\(seconds(duration)))" }
        if end <= start {
            let endText = endPoint.map { said($0, end) } ?? seconds(end)
            return "it starts at \(startText) and ends at \(endText), not after it (write both in seconds or both in beats to keep their order)"
        }
        return nil
    }

    static func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%g", x) }

    func visibleSpans(_ t: LayerTiming) -> [FrameSpan] {
        let windows: [(Double, Double, FrameSpan)] =
            t.perShot
            ? shotSpans.map { (Double($0.span.start) / Double(fps), Double($0.span.end) / Double(fps), $0.span) }
            : [(0, duration, FrameSpan(0, frameCount))]
        return windows.compactMap { origin, limit, bounds in
            let start = t.start.map { time($0, origin: origin, end: limit) } ?? origin
            var end = limit
            if let e = t.end { end = time(e, origin: origin, end: limit) }
            if let d = t.duration {
                switch d {
                case .seconds(let s): end = start + s
                case .beats(let n): end = beatTime(n, after: start)
                }
            }
            let s = max(bounds.start, Int((start * Double(fps)).rounded()))
            let e = min(bounds.end, Int((end * Double(fps)).rounded()))
            return e > s ? FrameSpan(s, e) : nil
        }
    }

    // MARK: Animation

    /// The tracks of `animations` in `span` for `layer`: `slide_in`/`slide_out` move what it draws
    /// (`LayerPlan.drawnBounds`) wholly off the canvas, or by their `distance` (a percentage of its box).
    func tracks(_ animations: [Animation], span: FrameSpan, of layer: LayerPlan) -> [AnimationTrack] {
        let drawn = layer.drawnBounds
        let s0 = Double(span.start) / Double(fps), s1 = Double(span.end) / Double(fps)
        var result: [AnimationTrack] = []
        func track(_ p: AnimatedProperty, _ keys: [AnimationTrack.Key], _ source: String) {
            result.append(AnimationTrack(property: p, span: span, keys: keys, source: source))
        }
        for a in animations {
            switch a {
            case .preset(let preset, let d, let delay, let easing, let again):
                let a0 = s0 + delay, a1 = min(s1, a0 + d)
                let b1 = s1 - delay, b0 = max(s0, b1 - d)
                let first = result.count
                switch preset {
                case .fadeIn:
                    track(.opacity, [.init(time: a0, value: 0), .init(time: a1, value: 1, easing: easing ?? .linear)], "fade_in")
                case .fadeOut:
                    track(.opacity, [.init(time: b0, value: 1), .init(time: b1, value: 0, easing: easing ?? .linear)], "fade_out")
                case .slideIn(let side, let distance):
                    let (p, off) = distance.map { slideOffset(side, $0, box: layer.box) } ?? offCanvas(side, drawn)
                    track(p, [.init(time: a0, value: off), .init(time: a1, value: 0, easing: easing ?? .easeOut)], "slide_in \(side.rawValue)")
                case .slideOut(let side, let distance):
                    let (p, off) = distance.map { slideOffset(side, $0, box: layer.box) } ?? offCanvas(side, drawn)
                    track(p, [.init(time: b0, value: 0), .init(time: b1, value: off, easing: easing ?? .easeIn)], "slide_out \(side.rawValue)")
                case .pop:
                    track(.scale, [.init(time: a0, value: 0), .init(time: a1, value: 1, easing: easing ?? .cubicBezier(0.34, 1.56, 0.64, 1))], "pop")
                case .pulse(let amount):
                    var keys: [AnimationTrack.Key] = [.init(time: s0, value: 1)]
                    let grid = beats ?? stride(from: Planner.fallbackBeatSeconds, to: s1, by: Planner.fallbackBeatSeconds).map { $0 }
                    let inSpan = grid.filter { $0 >= s0 + delay && $0 < s1 }
                    for (i, b) in inSpan.enumerated() {
                        let next = i + 1 < inSpan.count ? inSpan[i + 1] : s1
                        let len = min(d, next - b)
                        guard len > 0.02 else { continue }
                        keys.append(.init(time: b, value: 1))
                        keys.append(.init(time: b + len * 0.35, value: 1 + amount, easing: .easeOut))
                        keys.append(.init(time: b + len, value: 1, easing: easing ?? .easeIn))
                    }
                    if keys.count > 1 { track(.scale, keys, "pulse") }
                }
                // An entrance that repeats: its one play, from its start to its end, mapped into by a cycle.
                if let again, a1 - a0 > 0 {
                    let cycle = AnimationTrack.Cycle(start: a0, period: a1 - a0, count: again.count, yoyo: again.yoyo)
                    for k in first..<result.count {
                        result[k].cycle = cycle
                        result[k].source += ", repeated \(again.count.map { "\($0) times" } ?? "forever")\(again.yoyo ? " (yoyo)" : "")"
                    }
                }
            case .repeatingKeyframes(let frames, let again):
                result += repeatingTracks(frames, again, span: span, of: layer)
            case .keyframes(let frames):
                for p in AnimatedProperty.allCases {
                    let keys: [AnimationTrack.Key] = frames.compactMap { k in
                        let v: Double?
                        switch p {
                        case .x: v = k.x.map { $0.resolve(template.canvas.width) * scale }
                        case .y: v = k.y.map { $0.resolve(template.canvas.height) * scale }
                        case .scale: v = k.scale
                        case .scaleX: v = k.scaleX
                        case .scaleY: v = k.scaleY
                        case .rotation: v = k.rotation
                        case .opacity: v = k.opacity
                        }
                        return v.map { .init(time: s0 + k.time, value: $0, easing: k.easing) }
                    }
                    if !keys.isEmpty { track(p, keys, "keyframes") }
                }
            }
        }
        return result
    }

    /// The offset that puts everything the layer draws (`drawn`) just off the canvas on `side`, rounded out to an
    /// even number of pixels (the stock graph moves layers by even pixels, so both engines start from the same
    /// place). The box alone was not enough: a card's drop shadow reaches past it (blur 24: 36 px), and its edge
    /// showed as a line at the canvas's side on the slide's first frames.
    /// The offset `distance` away on `side` (a percentage of `box`'s size along the slide), in output pixels,
    /// rounded to an even number as `offCanvas`.
    func slideOffset(_ side: Side, _ distance: Length, box: Rect) -> (AnimatedProperty, Double) {
        let horizontal = side == .left || side == .right
        let pixels: Double
        switch distance {
        case .pixels(let p): pixels = p * scale
        case .percent: pixels = distance.resolve(horizontal ? box.width : box.height)
        }
        let d = max(2, 2 * (pixels / 2).rounded())
        return switch side {
        case .left: (.x, -d)
        case .right: (.x, d)
        case .top: (.y, -d)
        case .bottom: (.y, d)
        }
    }

    func offCanvas(_ side: Side, _ drawn: Bounds) -> (AnimatedProperty, Double) {
        func even(_ v: Double) -> Double { 2 * (v / 2 - 1e-9).rounded(.up) }
        return switch side {
        case .left: (.x, -even(drawn.maxX))
        case .right: (.x, even(Double(width) - drawn.minX))
        case .top: (.y, -even(drawn.maxY))
        case .bottom: (.y, even(Double(height) - drawn.minY))
        }
    }

    // MARK: Media

    func media(_ m: MediaLayer, box: Rect, notes: inout [String]) throws -> MediaPlan {
        guard !inputs.images.isEmpty else {
            throw PlanError(.missingInput, field: "images", message: "at least one image is needed")
        }
        guard inputs.images.count <= Planner.maximumImages else {
            throw PlanError(.tooManyInputs, field: "images", message: "at most \(Planner.maximumImages) images, got \(inputs.images.count)")
        }
        let media = inputs.images.map { path in
            let isClip =
                inputs.clips.map { $0.contains(path) } ?? LayerContext.clipExtensions.contains(URL(fileURLWithPath: path).pathExtension.lowercased())
            return MediaInput(path: path, kind: isClip ? .clip : .picture)
        }
        let n = m.cellCount
        let cells = cellRects(m, box: box).enumerated().map { i, r in CellPlan(rect: r, fit: m.cellStyle(i).fit, fill: m.cellStyle(i).fill) }
        var shots: [Shot] = []
        for (k, s) in shotSpans.enumerated() {
            let motions: [Motion] = (0..<n).map { c in
                guard profile.motion, let kb = m.cellStyle(c).kenBurns else { return .still }
                if kb.alternate && k % 2 == 1 {
                    return Motion(zoomFrom: kb.endZoom, zoomTo: kb.startZoom, panFrom: kb.panTo, panTo: kb.panFrom, easing: kb.easing)
                }
                return Motion(zoomFrom: kb.startZoom, zoomTo: kb.endZoom, panFrom: kb.panFrom, panTo: kb.panTo, easing: kb.easing)
            }
            shots.append(
                Shot(
                    index: k, images: (0..<n).map { (k * n + $0) % media.count },
                    start: Double(s.span.start) / Double(fps), end: Double(s.span.end) / Double(fps),
                    startFrame: s.span.start, endFrame: s.span.end, beat: s.beat, motions: motions
                ))
        }
        if m.transition.kind != .cut && m.transition.duration > 0 && !profile.motion {
            notes.append("\(m.transition.kind.rawValue) transitions become cuts in \(inputs.quality.rawValue) mode")
        }
        let transitions = transitionPlans(m.transition, shots: shots)
        return MediaPlan(
            window: box, inputs: media, cells: cells, shots: shots, transitions: transitions, adjust: m.adjust,
            cellRadius: Int((Double(m.cellRadius) * scale).rounded()))
    }

    /// The cells of `m`'s layout in `box` (output pixels), relative to the box, in reading order.
    func cellRects(_ m: MediaLayer, box: Rect) -> [Rect] {
        let gap = min(Int((Double(m.gap) * scale).rounded()) & ~1, min(box.width, box.height) / 2)
        let halfW = max(2, ((box.width - gap) / 2) & ~1), halfH = max(2, ((box.height - gap) / 2) & ~1)
        let rects: [Rect]
        switch m.layout {
        case .single: rects = [Rect(x: 0, y: 0, width: box.width, height: box.height)]
        case .sideBySide:
            rects = [Rect(x: 0, y: 0, width: halfW, height: box.height), Rect(x: box.width - halfW, y: 0, width: halfW, height: box.height)]
        case .stacked:
            rects = [Rect(x: 0, y: 0, width: box.width, height: halfH), Rect(x: 0, y: box.height - halfH, width: box.width, height: halfH)]
        case .grid:
            // Even cells `gap` apart in reading order; the last column and row sit flush with the box's far edges
            // (2x2 as before: two halves). A gap too large for the box is cut per axis, as the 2x2 one is, so that k
            // cells of 2 px or more fit in order: (k - 1) x gap + 2k <= length (review13).
            let (columns, rows) = m.grid
            func fitting(_ length: Int, _ k: Int) -> Int { k < 2 ? gap : min(gap, max(0, (length - 2 * k) / (k - 1)) & ~1) }
            func side(_ length: Int, _ k: Int, _ gap: Int) -> Int { max(2, ((length - (k - 1) * gap) / k) & ~1) }
            func origin(_ i: Int, _ k: Int, _ size: Int, _ gap: Int, _ length: Int) -> Int {
                // A box under 2 px a cell: the cells overlap, spread evenly over it, still in order.
                if i == k - 1 { return length - size }
                return length < 2 * k ? ((length - size) * i / (k - 1)) & ~1 : i * (size + gap)
            }
            // Three cells or more along an axis: each edge from its unrounded place, rounded to even, so that every
            // gutter is the gap and the rounding's few pixels go one or two to a cell (design14: the last gutter took
            // all of them, 2-4 px more than the others, and in normal mode too where the cells did not divide the box).
            // In integers: the cells' own length c = length - (k - 1) x gap; cell i spans from i c / k to (i + 1) c / k
            // of it (each rounded to even, halves up), plus i gaps.
            func edges(_ length: Int, _ k: Int, _ gap: Int) -> [(Int, Int)]? {
                let c = length - (k - 1) * gap
                guard k >= 3, c >= 2 * k else { return nil }
                func even(_ m: Int) -> Int { (m * c + k) / (2 * k) * 2 }
                return (0..<k).map { i in (even(i) + i * gap, even(i + 1) - even(i)) }
            }
            let gx = fitting(box.width, columns), gy = fitting(box.height, rows)
            let cw = side(box.width, columns, gx), ch = side(box.height, rows, gy)
            let xs = edges(box.width, columns, gx) ?? (0..<columns).map { (origin($0, columns, cw, gx, box.width), cw) }
            let ys = edges(box.height, rows, gy) ?? (0..<rows).map { (origin($0, rows, ch, gy, box.height), ch) }
            rects = ys.flatMap { y in xs.map { x in Rect(x: x.0, y: y.0, width: x.1, height: y.1) } }
        }
        return rects
    }

    /// Where card `ref` is on the canvas (output pixels), how long it waits after each start and cut, and the frames
    /// it shows in: the media layer's own, each from the card's delay (as `staggeredCells` plans the card).
    func card(_ ref: CellReference) -> (box: Rect, delay: Double, spans: [FrameSpan])? {
        guard ref.layer < template.layers.count, case .media(let m) = template.layers[ref.layer].content, ref.cell < m.cellCount else { return nil }
        let media = template.layers[ref.layer]
        let window = evenBox(scaledBox(media.placement.resolve(in: template.canvas)))
        let r = cellRects(m, box: window)[ref.cell]
        let delay = m.cellDelay(ref.cell)
        return (
            Rect(x: window.x + r.x, y: window.y + r.y, width: r.width, height: r.height), delay, cardVisible(visibleSpans(media.timing), delay: delay)
        )
    }

    /// The frames a card shows in: its media layer's `visible` spans, each from the card's `delay` after its start.
    /// The card's own plan layer (``staggeredCells``) and a layer that goes with the card both use this.
    func cardVisible(_ visible: [FrameSpan], delay: Double) -> [FrameSpan] {
        visible.map { FrameSpan($0.start + frame(delay), $0.end) }.filter { $0.count > 0 }
    }

    /// The frames of a layer that goes with `card`, from its own `spans` (counted from the video's start, or from each
    /// cut when per shot): its start, and an end or duration of its own, count from the card's entrance (the media
    /// layer's start plus the card's delay; per shot, the delay after each cut), and it shows only while the card does.
    func cardSpans(_ spans: [FrameSpan], timing t: LayerTiming, card: (box: Rect, delay: Double, spans: [FrameSpan])) -> [FrameSpan] {
        guard let entrance = card.spans.first?.start else { return [] }
        let shift = t.perShot ? frame(card.delay) : entrance
        let ownEnd: Bool
        switch t.end {
        case .seconds(let s)?: ownEnd = s >= 0 || t.duration != nil
        case .beats?: ownEnd = true
        case nil: ownEnd = t.duration != nil
        }
        let shifted = spans.map { FrameSpan($0.start + shift, ownEnd ? min(frameCount, $0.end + shift) : $0.end) }
        return shifted.flatMap { s in
            card.spans.compactMap { c in
                let i = FrameSpan(max(s.start, c.start), min(s.end, c.end))
                return i.count > 0 ? i : nil
            }
        }
    }

    /// The transitions between consecutive shots, centred on each cut and at most half of either shot long (none
    /// without motion).
    func transitionPlans(_ transition: Transition, shots: [Shot]) -> [TransitionPlan] {
        guard transition.kind != .cut && transition.duration > 0 && profile.motion else { return [] }
        var transitions: [TransitionPlan] = []
        let half = Int((transition.duration * Double(fps) / 2).rounded())
        for (a, b) in zip(shots, shots.dropFirst()) {
            let h = min(half, a.frameCount / 2, b.frameCount / 2)
            if h >= 1 {
                transitions.append(TransitionPlan(kind: transition.kind, from: a.index, frames: FrameSpan(b.startFrame - h, b.startFrame + h)))
            }
        }
        return transitions
    }
}
