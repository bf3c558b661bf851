import Foundation
import SpecLang

/// What a job brings to a template.
public struct PlanInputs: Sendable, Equatable {
    /// Product pictures and clips (local paths), shown in order.
    public var images: [String]
    public var audio: AudioInput?
    /// The caption: fills the `caption` field (`textOverlay` in the API, `--text` on the command line).
    public var text: String?
    /// Merge field values by name (text, `#RRGGBB` colours, picture paths).
    public var fields: [String: String]
    /// Target length in seconds, or nil for the template's default.
    public var duration: Double?
    public var quality: QualityMode
    /// Beats of the audio track, or nil when not analysed (no audio, or analysis failed).
    public var beats: BeatTimes?
    /// Longest video allowed (VIDEO_MAX_DURATION).
    public var maxDuration: Double
    /// Which of `images` are video clips (the caller looked at their contents); nil: judge by the file extension.
    public var clips: Set<String>?
    /// A voice-over mixed over the music (`--voice`, the API's `voiceFile`).
    public var voice: VoiceInput?

    public init(
        images: [String], audio: AudioInput? = nil, text: String? = nil, fields: [String: String] = [:], duration: Double? = nil,
        quality: QualityMode = .normal, beats: BeatTimes? = nil, maxDuration: Double = 60, clips: Set<String>? = nil, voice: VoiceInput? = nil
    ) {
        self.voice = voice
        self.images = images
        self.audio = audio
        self.text = text
        self.fields = fields
        self.duration = duration
        self.quality = quality
        self.beats = beats
        self.maxDuration = maxDuration
        self.clips = clips
    }
}

public struct AudioInput: Sendable, Equatable {
    public var path: String
    /// Length of the track in seconds.
    public var duration: Double
    /// Level over time, for choosing the highlight (nil: not measured; the music starts at 0 s).
    public var profile: AudioProfile?
    public init(path: String, duration: Double, profile: AudioProfile? = nil) {
        self.path = path
        self.duration = duration
        self.profile = profile
    }
}

/// Beats of the audio track (seconds from the start of the track).
public struct BeatTimes: Sendable, Equatable {
    public var times: [Double]
    public var tempo: Double
    public var confidence: Double
    /// Sections (seconds) where the beats are reliable although the track as a whole is not (`confidence` below
    /// the threshold): the planner cuts on beats there and on the fallback interval elsewhere.
    public var reliableSpans: [ClosedRange<Double>]
    public init(times: [Double], tempo: Double, confidence: Double, reliableSpans: [ClosedRange<Double>] = []) {
        self.times = times
        self.tempo = tempo
        self.confidence = confidence
        self.reliableSpans = reliableSpans
    }
}

/// A job's inputs do not fit the template. `code` says what kind of problem it is (the API and the worker decide
/// on it, never on the text); `field` names the input or template field; `line` is the template line the problem
/// comes from, when it comes from the template. `description` holds no file path.
public struct PlanError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// No picture, or a required merge field without a value.
        public static let missingInput = Code(rawValue: "missing_input")
        /// More pictures than a video takes.
        public static let tooManyInputs = Code(rawValue: "too_many_inputs")
        /// A value of the wrong shape: a duration out of range, a caption too long, a colour that is not one.
        public static let invalidValue = Code(rawValue: "invalid_value")
        /// A merge field the template does not have.
        public static let unknownField = Code(rawValue: "unknown_field")
        /// An asset the template names (a built-in picture or clip) is not installed.
        public static let assetNotFound = Code(rawValue: "asset_not_found")
        public var description: String { rawValue }
    }

    public var code: Code
    public var field: String
    public var message: String
    /// 1-based line in the template file, 0 when the problem is in the job's inputs.
    public var line: Int

    public init(_ code: Code, field: String, message: String, line: Int = 0) {
        self.code = code
        self.field = field
        self.message = message
        self.line = line
    }

    public var description: String { line > 0 ? "\(field) (template line \(line)): \(message)" : "\(field): \(message)" }
}

/// Resolves a template against job inputs into a `RenderPlan`. Pure: no file, FFmpeg or clock access.
public enum Planner {
    /// Below this beat-tracker confidence the planner does not trust the beats and cuts on the fallback interval.
    public static let minimumBeatConfidence = 0.3
    public static let maximumTextLength = InputRules.maximumCaptionGraphemes
    public static let maximumImages = 10
    /// Seconds a beat counts for in `N beats` timings and pulses when the music has no usable beats.
    public static let fallbackBeatSeconds = 0.5

    /// - Parameter resolveAsset: maps a template asset reference to a readable path (nil when it does not exist).
    public static func plan(
        template: Template, inputs: PlanInputs, resolveAsset: (AssetRef) -> String?
    ) throws -> RenderPlan {
        var notes: [String] = []
        let profile = QualityProfile.resolve(inputs.quality, template: template)

        // Output geometry.
        let scale = profile.scale
        let width = even(Double(template.canvas.width) * scale)
        let height = even(Double(template.canvas.height) * scale)
        let fps = template.canvas.fps

        // Duration.
        let duration = try resolveDuration(template: template, inputs: inputs, notes: &notes)
        let frameCount = max(1, Int((duration * Double(fps)).rounded()))
        let exactDuration = Double(frameCount) / Double(fps)

        let fields = try resolveFields(template: template, inputs: inputs)

        // Which part of the track plays (highlight, loop): the beats follow it into video time.
        var inputs = inputs
        var timeline: (segments: [AudioSegment], start: Double, reason: String, notes: [String])?
        if let a = inputs.audio {
            let t = try audioTimeline(rule: template.timing.audio, track: a, beats: inputs.beats, duration: exactDuration)
            timeline = t
            notes += t.notes
            if let b = inputs.beats { inputs.beats = mapBeats(b, segments: t.segments, duration: exactDuration) }
        }
        let hasMedia = template.layers.contains { $0.kind == "media" }

        // Cuts: one timeline for every media layer and per-shot layer.
        let (cuts, source) =
            hasMedia || template.layers.contains(where: { $0.timing.perShot })
            ? cutTimes(rule: template.timing.cut, duration: exactDuration, fps: fps, beats: inputs.beats, hasAudio: inputs.audio != nil)
            : ([], CutSource.fallback(interval: template.timing.cut.fallbackInterval, reason: "the template has no media layer"))
        let shotSpans = shotFrames(cuts: cuts, frameCount: frameCount, fps: fps)
        let beatGrid = usableBeats(inputs.beats, hasAudio: inputs.audio != nil)

        var layers: [LayerPlan] = []
        try withoutActuallyEscaping(resolveAsset) { resolve in
            let context = LayerContext(
                template: template, inputs: inputs, profile: profile, scale: scale, width: width, height: height, fps: fps,
                duration: exactDuration, frameCount: frameCount, fields: fields, shotSpans: shotSpans, beats: beatGrid,
                templateDirectory: template.sourcePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path },
                resolveAsset: resolve
            )
            var nextIndex = template.layers.count
            for (i, layer) in template.layers.enumerated() {
                layers += try context.layers(
                    layer.settingColorFields { fields.colors[$0] }, index: i, planned: layers, nextIndex: &nextIndex, notes: &notes)
            }
            context.widenCardSlides(&layers)
        }
        try Self.checkBudget(layers)
        for l in layers {
            if case .video(let v) = l.content, v.blend != .normal, !v.blends(in: l) {
                notes.append("layers[\(l.templateIndex)] (video): blend: \(v.blend.rawValue) is drawn normal, as the video moves, scales or turns")
            }
        }
        if hasMedia, let m = layers.lazy.compactMap({ if case .media(let m) = $0.content { m } else { nil } }).first {
            let shown = m.shots.count * m.cells.count
            if shown > m.inputs.count { notes.append("\(m.shots.count) shots for \(m.inputs.count) picture(s): pictures repeat in order") }
        }

        var audio: AudioPlan?
        let rule = template.timing.audio
        if let a = inputs.audio, let t = timeline {
            var plan = AudioPlan(
                source: MediaInput(path: a.path), duration: exactDuration,
                fadeIn: min(rule.fadeIn ?? (t.start > 0 ? highlightFadeIn : 0), exactDuration / 2),
                fadeOut: min(rule.fadeOut, exactDuration / 2),
                volume: rule.volume, trackDuration: a.duration
            )
            plan.segments = t.segments
            plan.start = t.start
            plan.startReason = t.reason
            audio = plan
        } else if inputs.voice != nil {
            audio = AudioPlan(source: nil, duration: exactDuration, fadeIn: 0, fadeOut: 0, volume: 1, trackDuration: nil)
        }
        if let v = inputs.voice {
            audio?.voice = voicePlan(rule: rule.voice, voice: v, duration: exactDuration, notes: &notes)
        }
        if let target = rule.loudness { audio?.loudness = LoudnessPlan(target: target) }

        let thumbnailTime = exactDuration > 1 ? 1.0 : exactDuration / 2
        return RenderPlan(
            template: template.name, quality: inputs.quality, width: width, height: height, fps: fps,
            duration: exactDuration, frameCount: frameCount,
            encoder: EncoderSettings(
                preset: profile.preset, crf: profile.crf, gop: fps * profile.keyframeSeconds, tune: profile.tune,
                x264Params: "rc-lookahead=\(min(profile.lookahead, fps))"),
            layers: layers, audio: audio, thumbnailTime: thumbnailTime,
            cutSource: hasMedia ? source : .fallback(interval: template.timing.cut.fallbackInterval, reason: "the template has no media layer"),
            fields: fields.display, notes: notes
        )
    }

    static func resolveDuration(template: Template, inputs: PlanInputs, notes: inout [String]) throws -> Double {
        if let target = inputs.duration {
            guard target.isFinite, target >= InputRules.minimumDuration else {
                throw PlanError(.invalidValue, field: "duration", message: "must be at least \(InputRules.minimumDuration) seconds, got \(target)")
            }
            guard target <= inputs.maxDuration else {
                throw PlanError(
                    .invalidValue, field: "duration", message: "must be at most \(inputs.maxDuration) seconds (VIDEO_MAX_DURATION), got \(target)")
            }
            return target
        }
        if let audio = inputs.audio {
            let d = min(template.timing.defaultDuration, inputs.maxDuration)
            if audio.duration >= 0.5 && audio.duration < d {
                notes.append(String(format: "video length follows the %.2f s track", audio.duration))
                return audio.duration
            }
            return d
        }
        return min(template.timing.noAudioDuration, inputs.maxDuration)
    }

    // MARK: Fields

    struct ResolvedFields {
        var text: [String: String] = [:]
        var colors: [String: Color] = [:]
        /// Picture fields: a path given by the job, or the template's default asset.
        var pictures: [String: String] = [:]
        var display: [String: String] = [:]
    }

    /// Checks the job's field values against the template's declarations: unknown, missing, too long or
    /// malformed values are errors that name the field.
    static func resolveFields(template: Template, inputs: PlanInputs) throws -> ResolvedFields {
        var given = inputs.fields
        if let text = inputs.text {
            if let other = given[Template.captionField], other != text {
                throw PlanError(
                    .invalidValue, field: "fields.caption",
                    message: "the caption is given twice (as the text and as the field 'caption') with different values")
            }
            given[Template.captionField] = text
        }
        var declared = Dictionary(template.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if declared[Template.captionField] == nil {
            declared[Template.captionField] = FieldSpec(name: Template.captionField, maxLength: maximumTextLength)
        }
        for name in given.keys.sorted() where declared[name] == nil {
            let known = declared.keys.sorted().joined(separator: ", ")
            throw PlanError(
                .unknownField, field: "fields.\(name)", message: "the template '\(template.name)' has no field '\(name)' (its fields: \(known))")
        }
        var result = ResolvedFields()
        for spec in declared.values.sorted(by: { $0.name < $1.name }) {
            let value = given[spec.name]
            if spec.required && (value ?? "").allSatisfy(\.isWhitespace) {
                throw PlanError(
                    .missingInput, field: "fields.\(spec.name)",
                    message: "is required by the template '\(template.name)'\(spec.description.isEmpty ? "" : " (\(spec.description))")")
            }
            switch spec.kind {
            case .text:
                let v = value ?? spec.defaultValue ?? ""
                if spec.name == Template.captionField, inputs.text != nil, let problem = InputRules.captionLengthProblem(v) {
                    throw PlanError(.invalidValue, field: "text", message: problem)
                }
                let limit = min(spec.maxLength, maximumTextLength)
                guard v.count <= limit else {
                    throw PlanError(
                        .invalidValue, field: spec.name == Template.captionField && inputs.text != nil ? "text" : "fields.\(spec.name)",
                        message: "at most \(limit) characters, got \(v.count)")
                }
                guard v.unicodeScalars.count <= limit * 8 else {
                    throw PlanError(
                        .invalidValue, field: "fields.\(spec.name)", message: "at most \(limit * 8) Unicode scalars, got \(v.unicodeScalars.count)")
                }
                result.text[spec.name] = v
                result.display[spec.name] = v
            case .color:
                guard let raw = value ?? spec.defaultValue else {
                    throw PlanError(.missingInput, field: "fields.\(spec.name)", message: "needs a colour (#RRGGBB); the template gives no default")
                }
                guard let c = Color(hex: raw) else {
                    throw PlanError(
                        .invalidValue, field: "fields.\(spec.name)", message: "expected a colour as #RRGGBB or #RRGGBBAA, got '\(raw.prefix(20))'")
                }
                result.colors[spec.name] = c
                result.display[spec.name] = c.hex
            case .image:
                if let v = value, !v.isEmpty {
                    result.pictures[spec.name] = v
                    result.display[spec.name] = v
                } else if let d = spec.defaultValue {
                    result.pictures[spec.name] = d
                    result.display[spec.name] = d
                }
            }
        }
        return result
    }

    // MARK: Cuts

    /// Beats the planner trusts, or nil.
    static func usableBeats(_ beats: BeatTimes?, hasAudio: Bool) -> [Double]? {
        guard hasAudio, let beats, beats.times.count >= 2, beats.confidence >= minimumBeatConfidence else { return nil }
        return beats.times
    }

    /// Cut times in seconds (excluding 0 and the end), and where they came from.
    public static func cutTimes(rule: CutRule, duration: Double, fps: Int, beats: BeatTimes?, hasAudio: Bool) -> ([Cut], CutSource) {
        let reason: String
        // The track's reliable beats that fall in the video (partial beats need two; fewer is said why).
        let reliableInVideo = beats.map { b in b.times.filter { t in t < duration && b.reliableSpans.contains { $0.contains(t) } }.count } ?? 0
        if rule.mode == .interval {
            reason = "the template cuts on a fixed interval"
        } else if !hasAudio {
            reason = "no audio"
        } else if let beats, beats.times.count >= 2, beats.confidence >= minimumBeatConfidence {
            let cuts = beatCuts(rule: rule, duration: duration, beats: beats.times)
            return (cuts, .beats(tempo: beats.tempo, beatCount: beats.times.filter { $0 < duration }.count))
        } else if let beats, !beats.reliableSpans.isEmpty, reliableInVideo >= 2 {
            // Partial beats: on the beat where the music is reliable, every fallback interval elsewhere.
            let spans = beats.reliableSpans
            var candidates = beats.times.filter { t in spans.contains { $0.contains(t) } }.map { Cut(time: $0, beat: $0) }
            var gapStart = 0.0
            for span in spans.sorted(by: { $0.lowerBound < $1.lowerBound }) + [duration...duration] {
                candidates += steps(after: gapStart, every: rule.fallbackInterval, before: span.lowerBound)
                gapStart = max(gapStart, span.upperBound)
            }
            candidates.sort { $0.time < $1.time }
            let cuts = greedyCuts(rule: rule, duration: duration, candidates: candidates.filter { $0.time > 0 && $0.time < duration })
            return (cuts, .partial(tempo: beats.tempo, beatCount: reliableInVideo, spans: spans.filter { $0.lowerBound < duration }))
        } else if let beats, let first = beats.reliableSpans.filter({ $0.upperBound > 0 }).min(by: { $0.lowerBound < $1.lowerBound }) {
            // Reliable beats, but fewer than two in the video (trial15 F5: "0 beats, in " was printed).
            reason =
                reliableInVideo == 1
                ? "only one of the track's reliable beats falls within this video"
                : first.lowerBound >= duration
                    ? String(format: "the track's beats are reliable only from %.1f s on, after this video ends", first.lowerBound)
                    : "the track's reliable beats fall outside this video"
        } else if let beats, beats.times.count >= 2 {
            reason = String(format: "beat confidence %.2f is below %.2f", beats.confidence, minimumBeatConfidence)
        } else if beats != nil {
            reason = "no beats found in the audio"
        } else {
            reason = "the audio was not analysed"
        }
        return (
            intervalCuts(interval: rule.fallbackInterval, duration: duration, minShot: min(rule.minShot, rule.fallbackInterval)),
            .fallback(interval: rule.fallbackInterval, reason: reason)
        )
    }

    public struct Cut: Sendable, Equatable {
        public var time: Double
        /// The beat the cut lands on, if any.
        public var beat: Double?
    }

    static func intervalCuts(interval: Double, duration: Double, minShot: Double) -> [Cut] {
        var cuts = steps(after: 0, every: interval, before: duration)
        // A sliver of a last shot reads as a glitch: merge it into the one before.
        if let last = cuts.last, duration - last.time < minShot * 0.5, cuts.count > 0 { cuts.removeLast() }
        return cuts
    }

    /// Greedy: from each cut, the next is the first eligible beat at least `minShot` later; if no beat falls within
    /// `maxShot`, an off-beat cut at `maxShot` keeps shots from dragging. The last shot is at least `minShot` long.
    static func beatCuts(rule: CutRule, duration: Double, beats: [Double]) -> [Cut] {
        let eligible = beats.enumerated().filter { $0.offset % rule.everyBeats == 0 }.map(\.element).filter { $0 > 0 && $0 < duration }
        var candidates = eligible.map { Cut(time: $0, beat: $0) }
        // Where the music ends before the video does (`loop: false`), its beats stop: the rest is cut on the
        // fallback interval from the last beat, as a video without music is, not every `max_shot` (trial15).
        if let last = beats.last, beats.count >= 2, case let period = (last - beats[0]) / Double(beats.count - 1), duration - last > 2 * period {
            candidates += steps(after: last, every: rule.fallbackInterval, before: duration)
        }
        return greedyCuts(rule: rule, duration: duration, candidates: candidates)
    }

    /// Off-beat cut candidates every `interval` seconds after `start`, before `end`: the fallback interval where no
    /// beat is trusted (between reliable sections, after the music ends).
    static func steps(after start: Double, every interval: Double, before end: Double) -> [Cut] {
        var cuts: [Cut] = []
        var t = start + interval
        while t < end - 1e-9 {
            cuts.append(Cut(time: t, beat: nil))
            t += interval
        }
        return cuts
    }

    /// The greedy walk over candidate cut times (sorted): the first at least `minShot` on, or an off-beat cut at
    /// `maxShot` when none comes within it; the last shot at least `minShot` long.
    static func greedyCuts(rule: CutRule, duration: Double, candidates eligible: [Cut]) -> [Cut] {
        var cuts: [Cut] = []
        var start = 0.0
        var i = 0
        while true {
            while i < eligible.count && eligible[i].time - start < rule.minShot - 1e-9 { i += 1 }
            if i < eligible.count && eligible[i].time - start <= rule.maxShot + 1e-9 {
                cuts.append(eligible[i])
                start = eligible[i].time
                i += 1
            } else if start + rule.maxShot < duration - 1e-9 {
                start += rule.maxShot
                cuts.append(Cut(time: start, beat: nil))
            } else {
                break
            }
        }
        // The last shot must not be shorter than minShot: drop the last cut if the merged shot still fits
        // maxShot, else move it earlier.
        while let last = cuts.last, duration - last.time < rule.minShot - 1e-9 {
            let previous = cuts.count >= 2 ? cuts[cuts.count - 2].time : 0
            if duration - previous <= rule.maxShot + 1e-9 || duration - rule.minShot - previous < rule.minShot {
                cuts.removeLast()
            } else {
                cuts[cuts.count - 1] = Cut(time: duration - rule.minShot, beat: nil)
                break
            }
        }
        return cuts
    }

    /// Frame spans of the shots, with the beat each starts on.
    static func shotFrames(cuts: [Cut], frameCount: Int, fps: Int) -> [(span: FrameSpan, beat: Double?)] {
        var boundaries: [(frame: Int, beat: Double?)] = [(0, nil)]
        for cut in cuts {
            let f = Int((cut.time * Double(fps)).rounded())
            if f > boundaries.last!.frame && f < frameCount { boundaries.append((f, cut.beat)) }
        }
        return boundaries.enumerated().map { i, b in
            (FrameSpan(b.frame, i + 1 < boundaries.count ? boundaries[i + 1].frame : frameCount), b.beat)
        }
    }

    // MARK: Scaling for quality modes

    static func even(_ v: Double) -> Int { max(2, Int((v / 2).rounded()) * 2) }

    static func scaled(_ r: Rect, _ s: Double, width: Int, height: Int) -> Rect {
        if s == 1 { return r }
        let x = Int((Double(r.x) * s).rounded()), y = Int((Double(r.y) * s).rounded())
        let w = min(even(Double(r.width) * s), max(2, width - x)), h = min(even(Double(r.height) * s), max(2, height - y))
        return Rect(x: x, y: y, width: w, height: h)
    }

    static func scaledStyle(_ style: TextStyle, _ s: Double) -> TextStyle {
        if s == 1 { return style }
        var t = style
        t.size *= s
        t.minSize *= s
        if var stroke = t.stroke { stroke.width *= s; t.stroke = stroke }
        if var bg = t.background {
            bg.padding = Int((Double(bg.padding) * s).rounded())
            bg.radius = Int((Double(bg.radius) * s).rounded())
            t.background = bg
        }
        if let sh = t.shadow { t.shadow = scaledShadow(sh, s) }
        return t
    }

    static func scaledShadow(_ sh: Shadow, _ s: Double) -> Shadow {
        var sh = sh
        sh.offsetX = Int((Double(sh.offsetX) * s).rounded())
        sh.offsetY = Int((Double(sh.offsetY) * s).rounded())
        sh.blur = Int((Double(sh.blur) * s).rounded())
        return sh
    }
}

/// What a quality mode means for a template: built-in defaults, then the template's `quality:` overrides.
public struct QualityProfile: Sendable, Equatable {
    public var scale: Double
    public var preset: String
    public var crf: Int
    public var overlay: Bool
    public var motion: Bool
    public var tune: String?
    /// Frames libx264 looks ahead for rate control: each costs a full frame of memory (30 at 1080x1920 is
    /// ~130 MB more than 12 for a barely visible gain on short product videos).
    public var lookahead: Int = 12
    /// Seconds between keyframes (seek granularity). Stills change only at cuts, where x264 starts a new
    /// keyframe anyway (scene cut), so freeze spaces them out.
    public var keyframeSeconds: Int = 2

    public static func builtin(_ mode: QualityMode) -> QualityProfile {
        switch mode {
        case .normal: QualityProfile(scale: 1, preset: "fast", crf: 21, overlay: true, motion: true, tune: nil)
        case .eco: QualityProfile(scale: 2.0 / 3.0, preset: "veryfast", crf: 25, overlay: true, motion: true, tune: nil)
        // Identical frames within a shot: ultrafast costs no visible quality on stills (checked side by side with
        // veryfast at crf 21) and is what makes freeze 6x faster than normal.
        case .freeze: QualityProfile(scale: 1, preset: "ultrafast", crf: 21, overlay: true, motion: false, tune: nil, keyframeSeconds: 10)
        }
    }

    public static func resolve(_ mode: QualityMode, template: Template) -> QualityProfile {
        var p = builtin(mode)
        if let o = template.quality[mode] {
            if let v = o.scale { p.scale = v }
            if let v = o.preset { p.preset = v }
            if let v = o.crf { p.crf = v }
            if let v = o.overlay { p.overlay = v }
            if let v = o.motion { p.motion = v }
        }
        return p
    }
}
