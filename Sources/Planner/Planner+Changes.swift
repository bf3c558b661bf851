import Foundation
import SpecLang

/// A template layer that becomes several plan layers: text that changes over time (one layer a distinct text, shown in
/// its windows) and a layout whose cells enter one after another (one layer a cell). Both engines and the exported
/// FFmpeg graph already draw any number of layers with any visible frames, so they draw these alike.
extension LayerContext {
    // MARK: Text that changes

    /// One plan layer per distinct text, in order of first showing, each visible in the frames that text shows.
    func changingText(
        _ t: TextLayer, _ changes: TextChanges, layer: Layer, plan: LayerPlan, textPlan: TextPlan, notes: inout [String]
    ) throws -> [LayerPlan] {
        let path = "layers[\(plan.templateIndex)]"
        var windows: [(text: String, span: FrameSpan)] = []
        let perStep: Bool
        var fitAs: String?
        switch changes {
        case .steps(let steps):
            perStep = steps.perStep
            let texts = steps.texts.map(substitute)
            for span in plan.visible { windows += stepWindows(texts, every: steps.every, loop: steps.loop, span: span) }
        case .counter(let counter):
            perStep = counter.perStep
            windows = try counterWindows(counter, spans: plan.visible, path: path, line: layer.line)
        case .typeOn(let typing):
            perStep = false
            fitAs = substitute(typing.text) + (typing.cursor ?? "")
            let b = layer.placement.resolve(in: template.canvas)
            let limit = TextChanges.limit(width: b.width, height: b.height)
            for span in plan.visible { windows += typeOnWindows(typing, span: span, limit: limit, path: path, notes: &notes) }
        }
        // Distinct texts, in order of first showing; empty ones show nothing.
        var order: [String] = []
        var spans: [String: [FrameSpan]] = [:]
        for w in windows where w.span.count > 0 {
            if spans[w.text] == nil { order.append(w.text) }
            if let last = spans[w.text]?.last, last.end == w.span.start {
                spans[w.text]![spans[w.text]!.count - 1].end = w.span.end
            } else {
                spans[w.text, default: []].append(w.span)
            }
        }
        order.removeAll { $0.allSatisfy(\.isWhitespace) }
        let box = layer.placement.resolve(in: template.canvas)
        if order.count > TextChanges.limit(width: box.width, height: box.height) {
            let what = if case .counter = changes { "counter" } else { "steps" }
            throw PlanError(
                .invalidValue, field: "\(path).\(what)",
                message:
                    "makes \(order.count) different texts: \(TextChanges.limitReason(width: box.width, height: box.height)), as each is drawn as its own picture and kept for the whole render; count over a shorter duration, with fewer decimals, or change less often (every: 0.5)",
                line: layer.line)
        }
        return order.enumerated().map { k, text in
            var part = plan
            var tp = textPlan
            tp.text = text
            tp.fitAs = fitAs
            part.content = .text(tp)
            part.visible = spans[text]!
            part.part = "text \(k + 1) of \(order.count)"
            if perStep && !layer.animations.isEmpty && profile.motion {
                part.animation = part.visible.flatMap { tracks(layer.animations, span: $0, of: plan) }
            }
            return part
        }
    }

    /// The time `n` intervals after `origin`.
    func after(_ origin: Double, _ every: TimePoint, times n: Int) -> Double {
        switch every {
        case .seconds(let s): origin + s * Double(n)
        case .beats(let b): beatTime(b * Double(n), after: origin)
        }
    }

    func frame(_ t: Double) -> Int { Int((t * Double(fps)).rounded()) }

    /// Step k from `k * every` after the span's start; the last stays to the span's end, or the list starts again.
    func stepWindows(_ texts: [String], every: TimePoint, loop: Bool, span: FrameSpan) -> [(text: String, span: FrameSpan)] {
        let origin = Double(span.start) / Double(fps)
        var out: [(String, FrameSpan)] = []
        var k = 0
        var start = span.start
        while start < span.end && k < 1_000_000 {
            let last = !loop && k == texts.count - 1
            let end = last ? span.end : min(span.end, max(start, frame(after(origin, every, times: k + 1))))
            out.append((texts[k % texts.count], FrameSpan(start, end)))
            start = end
            k += 1
        }
        return out
    }

    /// The counter's value as text at every frame of the layer, as runs of frames with the same text.
    func counterWindows(_ c: TextCounter, spans: [FrameSpan], path: String, line: Int) throws -> [(text: String, span: FrameSpan)] {
        func end(_ v: CounterValue, _ key: String) throws -> (value: Double, decimals: Int, format: CounterFormat?) {
            switch v {
            case .number(let n, let d): return (n, d, nil)
            case .field(let name):
                let text = fields.text[name] ?? ""
                guard let parsed = NumberStyle.parse(text) else {
                    throw PlanError(
                        .invalidValue, field: "fields.\(name)",
                        message:
                            "\(path).counter counts \(key) this field, but its value has no number it can count (at most 12 digits and 6 decimals)",
                        line: line)
                }
                return (parsed.value, parsed.decimals, parsed.format)
            }
        }
        let from = try end(c.from, "from"), to = try end(c.to, "to")
        let format = c.format ?? to.format ?? from.format ?? CounterFormat()
        let decimals = format.number.clock ? 0 : (format.number.decimals ?? max(from.decimals, to.decimals))
        let prefix = substitute(format.prefix), suffix = substitute(format.suffix)
        let q = pow(10, Double(decimals))
        let up = to.value >= from.value
        func text(_ u: Double) -> String {
            let v = from.value + (to.value - from.value) * c.easing.apply(u)
            // Cut towards `from`, so that `to` shows only once reached.
            let shown = (up ? (v * q + 1e-7).rounded(.down) : (v * q - 1e-7).rounded(.up)) / q
            return prefix + format.number.text(shown, decimals: decimals) + suffix
        }
        var out: [(String, FrameSpan)] = []
        for span in spans {
            let origin = Double(span.start) / Double(fps)
            // The counter's progress (0...1) at `t` seconds after the span's start; `beats` is the exact count of beats
            // when a tick falls on one. A duration in beats is measured in beats, not in the seconds they happen to
            // take: uneven tracked beats would otherwise put a tick a hair past a whole value and skip it.
            let progress: (_ t: Double, _ beats: Double?) -> Double
            switch c.duration {
            case .seconds(let s)?: progress = { t, _ in s > 0 ? t / s : 1 }
            case .beats(let b)?: progress = { t, n in b > 0 ? (n ?? self.beatsElapsed(from: origin, to: origin + t)) / b : 1 }
            case nil:
                let s = Double(span.count - 1) / Double(fps)
                progress = { t, _ in s > 0 ? t / s : 1 }
            }
            // Tick k at `k * every` (every frame without `every`); the text is the value at the last tick.
            var ticks: [(frame: Int, time: Double, beats: Double?)] = [(span.start, 0, 0)]
            if let every = c.every {
                var k = 1
                while k < 1_000_000 {
                    let t = after(origin, every, times: k)
                    if frame(t) >= span.end { break }
                    let beats: Double? = if case .beats(let e) = every { e * Double(k) } else { nil }
                    ticks.append((frame(t), t - origin, beats))
                    k += 1
                }
            }
            var tick = 0
            var current = ""
            var runStart = span.start
            for f in span.start..<span.end {
                let u: Double
                if c.every != nil {
                    while tick + 1 < ticks.count && ticks[tick + 1].frame <= f { tick += 1 }
                    u = progress(ticks[tick].time, ticks[tick].beats)
                } else {
                    u = progress(Double(f - span.start) / Double(fps), f == span.start ? 0 : nil)
                }
                let s = text(u)
                if f == span.start {
                    current = s
                } else if s != current {
                    out.append((current, FrameSpan(runStart, f)))
                    current = s
                    runStart = f
                }
            }
            if span.end > runStart { out.append((current, FrameSpan(runStart, span.end))) }
        }
        return out
    }

    // MARK: Staggered cells

    /// One plan layer per cell: cell i shows from its delay after the layer's start, its cuts (and transitions) come
    /// that delay after the layer's, and the layer's animations run on it alone, from its own start.
    func staggeredCells(_ m: MediaLayer, _ mp: MediaPlan, layer: Layer, plan: LayerPlan, notes: inout [String]) -> [LayerPlan] {
        let w = mp.window
        let delays = mp.cells.indices.map { m.cellDelay($0) }
        notes.append(
            "layers[\(plan.templateIndex)] (media): cells shown " + delays.map { String(format: "%.2f", $0) }.joined(separator: ", ")
                + " s after the layer's start and after each cut, each drawn as its own layer")
        let radius = mp.cellRadius > 0 ? mp.cellRadius : plan.radius
        var parts: [LayerPlan] = []
        for (c, cell) in mp.cells.enumerated() {
            let o = frame(delays[c])
            let box = Rect(x: w.x + cell.rect.x, y: w.y + cell.rect.y, width: cell.rect.width, height: cell.rect.height)
            var shots: [Shot] = []
            for s in mp.shots {
                let a = s.startFrame + o, e = min(frameCount, s.endFrame + o)
                guard e > a else { break }
                shots.append(
                    Shot(
                        index: shots.count, images: [s.images[c]], start: Double(a) / Double(fps), end: Double(e) / Double(fps), startFrame: a,
                        endFrame: e, beat: s.beat.map { $0 + delays[c] }, motions: [s.motions[c]]))
            }
            let visible = cardVisible(plan.visible, delay: delays[c])
            guard !shots.isEmpty, !visible.isEmpty else {
                notes.append("layers[\(plan.templateIndex)] cell \(c + 1) never shows: its delay reaches the end of the video")
                continue
            }
            let media = MediaPlan(
                window: box, inputs: mp.inputs,
                cells: [CellPlan(rect: Rect(x: 0, y: 0, width: box.width, height: box.height), fit: cell.fit, fill: cell.fill)],
                shots: shots, transitions: transitionPlans(m.transition, shots: shots), adjust: mp.adjust, cellRadius: radius)
            // Turned as one: a rotated layout keeps the whole box's pivot; otherwise each card pops about its own centre.
            let pivot = layer.pivot != nil || plan.rotation.truncatingRemainder(dividingBy: 360) != 0 ? plan.pivot : nil
            var part = LayerPlan(
                index: plan.index, content: .media(media), box: box, rotation: plan.rotation, pivot: pivot, opacity: plan.opacity,
                radius: radius, shadow: plan.shadow, visible: visible)
            if !layer.animations.isEmpty && profile.motion {
                part.animation = visible.flatMap { tracks(layer.animations, span: $0, of: part) }
            }
            part.templateIndex = plan.templateIndex
            part.part = "cell \(c + 1) of \(mp.cells.count)"
            parts.append(part)
        }
        return parts
    }
}

extension Planner {
    /// Plan layers a template may make in all, after changing texts and staggered cards are split into their parts.
    static let maximumPlanLayers = 256
    /// Pixels of changing texts' pictures a whole plan may hold (each distinct text is drawn once, as a picture of
    /// its box): two layers' worth.
    static let maximumTextPixels = 2 * TextChanges.maximumPixels

    /// Each template layer keeps within its own limits; this bounds the plan as a whole, so that many such layers
    /// (64 aliased counters, review10: 5,760 plan layers from 1.2 KB, about 130 MB each) cannot exhaust a worker.
    static func checkBudget(_ layers: [LayerPlan]) throws {
        guard layers.count <= maximumPlanLayers else {
            throw PlanError(
                .invalidValue, field: "layers",
                message:
                    "the template makes \(layers.count) layers once its changing texts and staggered cards are split (at most \(maximumPlanLayers)): use fewer changing texts or fewer of those layers",
                line: 0)
        }
        // The parts of changing texts (a plain text layer is one picture, bounded by the layer count).
        let textPixels = layers.reduce(0) { sum, layer in
            if case .text = layer.content, layer.part != nil { sum + layer.box.width * layer.box.height } else { sum }
        }
        guard textPixels <= maximumTextPixels else {
            throw PlanError(
                .invalidValue, field: "layers",
                message:
                    "the template's texts need \(textPixels / 1_000_000) million pixels of text pictures in all (at most \(maximumTextPixels / 1_000_000) million): give changing texts smaller boxes or fewer steps",
                line: 0)
        }
    }
}
