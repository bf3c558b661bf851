import Foundation
internal import Yams

/// Text that changes over time: `steps:` with `every:`, or `counter:`, in a text layer's mapping.
extension Reader {
    /// Reads `steps`, `counter`, `every`, `loop` and `per_step`; nil when the layer has neither `steps` nor `counter`
    /// (then `every`, `loop` and `per_step` are errors). `canvas` bounds how many texts a counter may make; a counter
    /// without `duration` counts over the layer's `timing`.
    func textChanges(_ map: MappingReader, _ path: String, canvas: Canvas, box: Rect, timing: LayerTiming) -> TextChanges? {
        let limit = TextChanges.limit(width: box.width, height: box.height)
        let why = TextChanges.limitReason(width: box.width, height: box.height)
        let stepsNode = map.node("steps"), counterNode = map.node("counter")
        map.allow("steps", "counter", "every", "loop", "per_step")
        let every = map.node("every").flatMap { interval($0, join(path, "every")) }
        let loop = map.node("loop").flatMap { bool($0, join(path, "loop")) }
        let perStep = map.node("per_step").flatMap { bool($0, join(path, "per_step")) } ?? false
        if let stepsNode, let counterNode {
            error(counterNode, join(path, "counter"), "give 'steps' or 'counter', not both")
            _ = stepsNode
            return nil
        }
        if let stepsNode {
            let stepsPath = join(path, "steps")
            guard case .sequence(let seq) = stepsNode else {
                error(stepsNode, stepsPath, "expected a list of texts (steps: [\"3\", \"2\", \"1\", \"GO\"]), got \(describe(stepsNode))")
                return nil
            }
            if seq.isEmpty {
                error(stepsNode, stepsPath, "needs at least one text (steps: [\"3\", \"2\", \"1\", \"GO\"])")
                return nil
            }
            if seq.count > limit {
                error(stepsNode, stepsPath, "\(seq.count) texts: \(why) (each is drawn as its own picture and kept for the whole render)")
                return nil
            }
            let texts = seq.enumerated().compactMap { templateText($0.element, "\(stepsPath)[\($0.offset)]") }
            guard texts.count == seq.count else { return nil }
            guard let every else {
                if map.node("every") == nil {
                    error(
                        stepsNode, join(path, "every"),
                        "steps need 'every': how long each text shows, in seconds (every: 1) or beats (every: \"1 beat\")")
                }
                return nil
            }
            return .steps(TextSteps(texts: texts, every: every, loop: loop ?? false, perStep: perStep))
        }
        if let counterNode {
            if let n = map.node("loop") { error(n, join(path, "loop"), "'loop' is for steps: a counter stops at its 'to'") }
            guard var counter = counter(counterNode, join(path, "counter"), canvas: canvas, every: every, limit: (limit, why)) else { return nil }
            if counter.duration == nil {
                checkCountingTime(counter, counterNode, join(path, "counter"), canvas: canvas, timing: timing, limit: (limit, why))
            }
            counter.perStep = perStep
            return .counter(counter)
        }
        for key in ["every", "loop", "per_step"] {
            if let n = map.node(key) {
                error(n, join(path, key), "'\(key)' goes with 'steps' or 'counter' (text that changes over time); this layer has neither")
            }
        }
        return nil
    }

    /// A positive length of time: seconds (`0.5`, `"0.5s"`) or beats (`"1 beat"`).
    func interval(_ node: Node, _ path: String) -> TimePoint? {
        if let s = node.scalar?.string, s.trimmingCharacters(in: .whitespaces).hasPrefix("-") {
            error(node, path, "must be above 0 (seconds, e.g. 0.5, or beats, e.g. \"1 beat\"), got \(s)")
            return nil
        }
        guard let t = timePoint(node, path, negative: false) else { return nil }
        switch t {
        case .seconds(let v) where v < 1e-3, .beats(let v) where v < 1e-3:
            error(node, path, "must be above 0 (seconds, e.g. 0.5, or beats, e.g. \"1 beat\"), got \(node.scalar?.string ?? "0")")
            return nil
        default: return t
        }
    }

    func counter(_ node: Node, _ path: String, canvas: Canvas, every: TimePoint?, limit: (count: Int, why: String)) -> TextCounter? {
        guard let map = mapping(node, path) else { return nil }
        defer { map.finish() }
        let from = map.required("from") { self.counterValue($0, $1) }
        let to = map.required("to") { self.counterValue($0, $1) }
        let duration = map.optional("duration") { self.interval($0, $1) }
        let format = map.optional("format") { self.counterFormat($0, $1) }
        let easing = map.optional("easing") { self.easing($0, $1) } ?? .linear
        guard let from, let to else { return nil }
        if case .number(let a, _) = from, case .number(let b, _) = to, a == b {
            error(map.node("to"), join(path, "to"), "equals 'from' (\(fmt(a))): there is nothing to count (for a fixed text, use 'text')")
            return nil
        }
        if map.node("format") != nil && format == nil { return nil }
        let counter = TextCounter(from: from, to: to, duration: duration, format: format, easing: easing, every: every)
        // How many texts it makes, when the template alone says (numbers, a duration in seconds): one a frame at most.
        if case .number(let a, let da) = from, case .number(let b, let db) = to, case .seconds(let d)? = duration {
            let decimals = format?.number.clock == true ? 0 : (format?.number.decimals ?? max(da, db))
            let values = Int((abs(b - a) * pow(10, Double(decimals))).rounded(.down)) + 1
            var ticks = Int((d * Double(canvas.fps)).rounded()) + 1
            if case .seconds(let e)? = every { ticks = Int((d / e).rounded(.down)) + 1 }
            let texts = min(values, ticks)
            if texts > limit.count {
                error(
                    node, path,
                    "counts through \(texts) different texts (\(values) values over \(fmt(d)) s at \(canvas.fps) fps): \(limit.why), as each is drawn as its own picture; count over a shorter duration, with fewer decimals, or change less often (every: 0.5)"
                )
                return nil
            }
        }
        return counter
    }

    /// A counter without `duration` counts over the layer's time, which grows with the video: up to the longest
    /// video a job may ask for (`Options.maximumDuration`), it may make more texts than the layer may hold, and the
    /// job fails when planned. An error when the template's own lengths (`default_duration`, `no_audio_duration`)
    /// already make too many; a warning with the longest video that keeps it within the limit when only longer
    /// videos do, or when a field gives an end (its value decides how many values there are). Nothing is said when
    /// the layer's time or the counter's `every` is in beats, or the layer shows `per_shot`: the music and the cuts
    /// decide those, and the plan checks them.
    func checkCountingTime(_ c: TextCounter, _ node: Node, _ path: String, canvas: Canvas, timing t: LayerTiming, limit: (count: Int, why: String)) {
        let fps = canvas.fps
        func videoFrames(_ seconds: Double) -> Int { Int((seconds * Double(fps)).rounded()) }
        func texts(_ video: Int) -> Int? { t.frames(videoFrames: video, fps: fps).flatMap { c.texts(frames: $0, fps: fps) } }
        let longest = videoFrames(options.maximumDuration)
        guard let most = texts(longest), most > limit.count else { return }
        // The longest video (in frames) whose layer still makes few enough texts: texts grow with the video.
        var lo = 0, hi = longest
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if (texts(mid) ?? 0) <= limit.count { lo = mid } else { hi = mid - 1 }
        }
        let bound = fmt((Double(lo) / Double(fps) * 10).rounded(.down) / 10)
        // A duration that keeps it within the limit whatever the video: one text a frame over `limit - 1` frames after
        // the first, in tenths of a second.
        let fits = max(0.1, (Double(limit.count - 1) / Double(fps) * 10).rounded(.down) / 10)
        let remedy = "give the counter a 'duration' (duration: \(fmt(fits)) or less keeps it within), or change less often (every: 0.5)"
        let own = [timing.defaultDuration, timing.noAudioDuration].map { videoFrames(min($0, options.maximumDuration)) }
        if c.values != nil, let worst = own.max(), let n = texts(worst), n > limit.count {
            let layer = fmt(Double(t.frames(videoFrames: worst, fps: fps) ?? 0) / Double(fps))
            error(
                node, path,
                "has no 'duration', so it counts over the layer's time: \(n) different texts over \(layer) s at \(fps) fps in a \(fmt(Double(worst) / Double(fps))) s video (the template's default length): \(limit.why), as each is drawn as its own picture; \(remedy)"
            )
        } else if c.values != nil {
            warning(
                node, path,
                "has no 'duration', so it counts over the layer's time: a video longer than \(bound) s makes more than \(limit.count) different texts (\(most) at \(fmt(options.maximumDuration)) s) and its job fails; \(remedy)"
            )
        } else {
            warning(
                node, path,
                "has no 'duration', so it counts over the layer's time to a field's value: a video longer than \(bound) s can make more than \(limit.count) different texts (\(most) at \(fmt(options.maximumDuration)) s, if the value has as many steps: 0 to 29.99 has 3000) and its job fails; \(remedy)"
            )
        }
    }

    /// A number (its decimals are those written: `29.90` has two) or `"{{field}}"` naming a text field.
    func counterValue(_ node: Node, _ path: String) -> CounterValue? {
        if let name = fieldReference(node) {
            return checkField(name, node, path, kind: .text).map { .field($0.name) }
        }
        guard case .scalar(let s) = node, s.style == .plain, let v = Double(s.string), v.isFinite, abs(v) < 1e12 else {
            error(node, path, "expected a number (e.g. 29.99) or a text field holding one (\"{{price}}\"), got \(describe(node))")
            return nil
        }
        let text = s.string
        let decimals = text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0
        guard decimals <= 6, !text.lowercased().contains("e") else {
            error(node, path, "expected a number with at most 6 decimals, got \(text)")
            return nil
        }
        return .number(v, decimals: decimals)
    }

    /// `prefix{n:SPEC}suffix`, exactly one `{n}`; `{{field}}` placeholders allowed around it.
    func counterFormat(_ node: Node, _ path: String) -> CounterFormat? {
        guard let text = templateText(node, path) else { return nil }
        var placeholders: [Range<String.Index>] = []
        var i = text.startIndex
        while i < text.endIndex {
            if text[i...].hasPrefix("{{") {
                guard let close = text[i...].range(of: "}}") else { break }
                i = close.upperBound
                continue
            }
            if text[i...].hasPrefix("{n}") || text[i...].hasPrefix("{n:") {
                guard let close = text[i...].firstIndex(of: "}") else {
                    error(node, path, "'{n' without a closing '}'")
                    return nil
                }
                placeholders.append(i..<text.index(after: close))
                i = text.index(after: close)
                continue
            }
            i = text.index(after: i)
        }
        guard let p = placeholders.first else {
            error(
                node, path,
                "the format has no number: write {n} where it goes (\"${n}\", \"{n:.2}\" for two decimals, \"ends in {n:m:ss}\" for a clock)")
            return nil
        }
        if placeholders.count > 1 {
            error(node, path, "the format has \(placeholders.count) numbers ({n}): a counter shows one")
            return nil
        }
        let inner = text[p].dropFirst(2).dropLast()
        let spec = inner.hasPrefix(":") ? String(inner.dropFirst()) : ""
        guard let style = numberStyle(spec) else {
            error(
                node, path,
                "'{n:\(spec)}' is not a number format: write {n}, {n:.2} (decimals), {n:03} (zero-padded), {n:,} (thousands) or {n:m:ss} (a clock)")
            return nil
        }
        return CounterFormat(prefix: String(text[..<p.lowerBound]), number: style, suffix: String(text[p.upperBound...]))
    }

    /// `""`, `m:ss`, or `[0W][,][.D]`.
    func numberStyle(_ spec: String) -> NumberStyle? {
        if spec.isEmpty { return NumberStyle() }
        if spec == "m:ss" { return NumberStyle(clock: true) }
        var s = Substring(spec)
        var style = NumberStyle()
        if s.hasPrefix("0") {
            let digits = s.dropFirst().prefix { $0.isASCII && $0.isNumber }
            guard let w = Int(digits), (1...12).contains(w) else { return nil }
            style.width = w
            s = s.dropFirst(1 + digits.count)
        }
        if s.hasPrefix(",") {
            style.grouping = true
            s = s.dropFirst()
        }
        if s.hasPrefix(".") {
            guard let d = Int(s.dropFirst()), (0...6).contains(d) else { return nil }
            style.decimals = d
            s = ""
        }
        return s.isEmpty ? style : nil
    }

    /// Seconds only (`0.3`, `"0.3s"`), within `range`: a cell's delay shifts its cuts, so it is not counted in beats.
    func seconds(_ node: Node, _ path: String, _ range: ClosedRange<Double>) -> Double? {
        guard let t = timePoint(node, path, negative: true) else { return nil }
        guard case .seconds(let v) = t else {
            error(node, path, "expected seconds (e.g. 0.3 or \"0.3s\"), not beats: a cell's delay moves its cuts off the beat by a fixed time")
            return nil
        }
        guard range.contains(v) else {
            error(node, path, "expected seconds from \(fmt(range.lowerBound)) to \(fmt(range.upperBound)), got \(fmt(v))")
            return nil
        }
        return v
    }
}
