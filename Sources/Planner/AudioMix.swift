import Foundation
import SpecLang

// The audio of a video: which part of the track plays (the highlight, or a loop on the bar), the voice-over and
// its ducking, and loudness normalisation, as one libavfilter graph. Pure: the caller measures the audio
// (`AudioProfile`, speech spans, first-pass loudness) and the planner decides.

/// How loud a track is over time, measured by the caller (FilterGraphBackend) for highlight selection.
public struct AudioProfile: Sendable, Equatable {
    /// Frames a second.
    public var frameRate: Double
    /// Level of each frame (RMS, dBFS).
    public var level: [Float]
    /// Rise of the level into each frame (dB, half-wave rectified): large on drum hits.
    public var onset: [Float]
    /// Frames a second of `fine`.
    public var fineRate: Double
    /// Level (dBFS, floored at -60) in short frames, for lining up a loop to the millisecond.
    public var fine: [Float]
    public init(frameRate: Double, level: [Float], onset: [Float], fineRate: Double = 0, fine: [Float] = []) {
        self.frameRate = frameRate
        self.level = level
        self.onset = onset
        self.fineRate = fineRate
        self.fine = fine
    }
}

/// A voice-over file and where its speech is (seconds from its start, measured by the caller).
public struct VoiceInput: Sendable, Equatable {
    public var path: String
    public var duration: Double
    public var speech: [ClosedRange<Double>]
    public init(path: String, duration: Double, speech: [ClosedRange<Double>]) {
        self.path = path
        self.duration = duration
        self.speech = speech
    }
}

/// One piece of the track in the video: track seconds `trackStart..<trackEnd` play from `outputStart`.
/// Consecutive pieces meet with a crossfade centred on the seam.
public struct AudioSegment: Sendable, Equatable {
    public var trackStart: Double
    public var trackEnd: Double
    public var outputStart: Double
    public init(trackStart: Double, trackEnd: Double, outputStart: Double) {
        self.trackStart = trackStart
        self.trackEnd = trackEnd
        self.outputStart = outputStart
    }
    public var length: Double { trackEnd - trackStart }
}

/// The voice-over as planned: where it starts in the video, its gain, and the music's gain envelope under it.
public struct VoicePlan: Sendable, Equatable {
    public var source: MediaInput
    public var start: Double
    public var volume: Double
    public var duckDB: Double
    /// Seconds of the video during which the music is ducked (speech, shifted by `start`).
    public var speech: [ClosedRange<Double>]
    /// True when the video ends before the voice does (its end then gets a short fade).
    public var cut = false
    /// Seconds the music takes to go down before speech, and to come back after it.
    public static let attack = 0.1
    public static let release = 0.3
}

/// Integrated loudness (EBU R128) of the mix, measured by libavfilter's `ebur128`.
public struct LoudnessMeasurement: Sendable, Equatable, Codable {
    /// Integrated loudness, LUFS.
    public var integrated: Double
    /// True peak, dBTP.
    public var truePeak: Double
    /// Loudness range, LU.
    public var range: Double
    public init(integrated: Double, truePeak: Double, range: Double) {
        self.integrated = integrated
        self.truePeak = truePeak
        self.range = range
    }
}

public struct LoudnessPlan: Sendable, Equatable {
    /// Target integrated loudness, LUFS.
    public var target: Double
    /// Highest true peak allowed, dBTP.
    public var truePeakLimit: Double = -1
    /// The mix before normalisation (the first pass), filled in by the caller before rendering; nil: not measured yet.
    public var input: LoudnessMeasurement?
    /// Gain (dB) before the limiter, found by the caller's measuring passes (the limiter takes some loudness
    /// off peaky music, so the gain is more than `target - input`); nil: not normalised.
    public var gain: Double?
    /// The measured loudness of the mix with `gain` and the limiter (the last measuring pass).
    public var predicted: LoudnessMeasurement?
    /// The limiter's ceiling (sample peak, linear): 3 dB under full scale keeps the true peak under -1 dBTP (at 2 dB
    /// under, the limiter's 1 ms attack let the demo track reach -0.9 dBTP).
    public static let limiterCeiling = 0.708
    public init(target: Double, input: LoudnessMeasurement? = nil, gain: Double? = nil) {
        self.target = target
        self.input = input
        self.gain = gain
    }
}

extension Planner {
    /// Crossfade at a loop seam (seconds).
    public static let loopCrossfade = 0.08
    /// Fade-in when the music starts inside the track.
    public static let highlightFadeIn = 0.25
    /// The shortest fade wherever the music or the voice starts or stops (its start, the video's end cutting it,
    /// the track running out before the video): 15 ms, too short to hear as a fade, long enough that a cut
    /// mid-waveform is no click for loudness normalisation to amplify (audio13 L2).
    public static let declickFade = 0.015
    /// Corner of the high-pass that takes a DC offset out of the music and the voice before they are cut and
    /// normalised (2 poles; 20 Hz is under any instrument's fundamental that matters in a phone speaker).
    public static let dcCutoff = 20.0

    /// Where the music comes from for a video of `duration`: the pieces of the track, the start and why.
    static func audioTimeline(
        rule: AudioRule, track: AudioInput, beats: BeatTimes?, duration: Double
    ) throws -> (segments: [AudioSegment], start: Double, reason: String, notes: [String]) {
        var notes: [String] = []
        let T = track.duration
        let grid = barGrid(beats: beats, profile: track.profile)
        var start = 0.0
        var reason: String
        switch rule.start {
        case .seconds(let s):
            guard s < T - 0.1 else {
                // What to write instead: a start inside the track, or `auto` (trial15 F4).
                var advice = String(format: "; give a start under %.1f s, or auto", ((T - 0.1) * 10).rounded(.down) / 10)
                if T > duration + 0.1 {
                    advice += String(format: " (up to %.1f s, this %.1f s video plays without looping the track)", T - duration, duration)
                }
                throw PlanError(
                    .invalidValue, field: "timing.audio.start",
                    message: String(format: "%.2f s is past the end of the %.2f s track", s, T) + advice, line: rule.startLine)
            }
            start = s
            reason = "set by the template"
        case .auto:
            if T <= duration + 0.01 {
                reason = "the track is not longer than the video"
            } else {
                (start, reason) = highlight(track: track, beats: beats, bars: grid.bars, duration: duration)
            }
        }
        let available = T - start
        guard available + 0.01 < duration else {
            return ([AudioSegment(trackStart: start, trackEnd: start + duration, outputStart: 0)], start, reason, notes)
        }
        guard rule.loop, available >= 1 else {
            notes.append(
                String(format: "the track has %.2f s from %.2f s; silence fills the last %.2f s", available, start, duration - available)
                    + (rule.loop ? " (too short to loop: a loop needs at least 1 s of track)" : ""))
            return ([AudioSegment(trackStart: start, trackEnd: T, outputStart: 0)], start, reason, notes)
        }
        // Loop on bar lines: from the first bar at or after the start to the last bar that leaves room for the
        // crossfade before the track's sound ends (a quiet tail would be a gap at every seam: trial15 F3).
        let xf = loopCrossfade
        var end = soundingEnd(track)
        if end - start < 1 { end = T }
        if end < T - 0.1 {
            notes.append(String(format: "the track's last %.2f s are quiet: the loop leaves them out", T - end))
        }
        var a = start, b = end - xf
        let bars = grid.bars
        // The loop is a whole number of bars of the fitted tempo, so the grid runs on across every seam.
        if let first = bars.first(where: { $0 >= start - 0.005 }), grid.barLength > 0,
            case let count = ((end - xf - first) / grid.barLength).rounded(.down), count >= 1, count * grid.barLength >= 1
        {
            a = first
            b = first + refinedLoopLength(count * grid.barLength, from: first, limit: end - xf, profile: track.profile)
            let barCount = max(1, Int(((b - a) / grid.barLength).rounded()))
            notes.append(
                String(format: "the track loops on the bar: %.3f–%.3f s (", a, b) + "\(barCount) bar\(barCount == 1 ? "" : "s")"
                    + String(format: "), %.0f ms crossfade", xf * 1000))
        } else {
            notes.append(String(format: "the track loops from %.3f s to %.3f s (no bar grid), %.0f ms crossfade", a, b, xf * 1000))
        }
        var segments = [AudioSegment(trackStart: start, trackEnd: b, outputStart: 0)]
        var out = b - start
        while out < duration - 1e-6 {
            segments.append(AudioSegment(trackStart: a, trackEnd: b, outputStart: out))
            out += b - a
        }
        return (segments, start, reason, notes)
    }

    /// The loop length near `length` at which the track best matches itself (autocorrelation of the fine level
    /// from `from`, within 1% or 25 ms, to a fraction of a frame): beat times from the tracker are a few ms off,
    /// and every seam would add that error to the grid.
    static func refinedLoopLength(_ length: Double, from: Double, limit: Double, profile: AudioProfile?) -> Double {
        guard let p = profile, p.fineRate > 0, p.fine.count > 10 else { return length }
        let x = p.fine
        let i0 = max(0, Int(from * p.fineRate))
        // A profile shorter than the track (it is measured over the first minute or so) may end before `from`
        // (review12: a track whose stream starts at 59 s trapped here).
        guard i0 < x.count - Int(p.fineRate / 2) else { return length }
        let mean = x[i0...].reduce(0, +) / Float(x.count - i0)
        let centred = x.map { $0 - mean }
        let lag0 = length * p.fineRate
        let span = max(1, Int(max(length * 0.01, 0.025) * p.fineRate))
        var scores: [(lag: Int, c: Double)] = []
        for lag in (Int(lag0.rounded()) - span)...(Int(lag0.rounded()) + span) where lag > 0 {
            let n = centred.count - lag - i0
            guard n > Int(p.fineRate / 2) else { continue }
            var c: Float = 0
            centred.withUnsafeBufferPointer { b in
                for i in i0..<(i0 + n) { c += b[i] * b[i + lag] }
            }
            scores.append((lag, Double(c) / Double(n)))
        }
        guard let k = scores.indices.max(by: { scores[$0].c < scores[$1].c }) else { return length }
        var lag = Double(scores[k].lag)
        if k > 0, k < scores.count - 1 {
            let (l, m, r) = (scores[k - 1].c, scores[k].c, scores[k + 1].c)
            let d = l - 2 * m + r
            if d < 0 { lag += 0.5 * (l - r) / d }
        }
        let refined = lag / p.fineRate
        return from + refined <= limit ? refined : length
    }

    /// Bar lines (every 4th beat, phased on the strongest onsets) when the beats are trusted.
    static func barGrid(beats: BeatTimes?, profile: AudioProfile?) -> (bars: [Double], barLength: Double) {
        guard let beats, beats.times.count >= 8, beats.confidence >= minimumBeatConfidence || !beats.reliableSpans.isEmpty else { return ([], 0) }
        let times = beats.times
        var phase = 0
        if let p = profile, !p.onset.isEmpty {
            var best = -Double.infinity
            for ph in 0..<4 {
                let strengths = stride(from: ph, to: times.count, by: 4).map { onsetNear(times[$0], p) }
                let m = strengths.reduce(0, +) / Double(max(1, strengths.count))
                if m > best + 1e-9 { best = m; phase = ph }
            }
        }
        let bars = stride(from: phase, to: times.count, by: 4).map { times[$0] }
        // Beat period: least-squares slope of beat time over beat number.
        let n = Double(times.count), mi = (n - 1) / 2, mt = times.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for (i, t) in times.enumerated() { sxy += (Double(i) - mi) * (t - mt); sxx += (Double(i) - mi) * (Double(i) - mi) }
        return (bars, sxx > 0 ? 4 * sxy / sxx : 0)
    }

    static func onsetNear(_ t: Double, _ p: AudioProfile) -> Double {
        let c = Int((t * p.frameRate).rounded())
        var m: Float = 0
        for i in max(0, c - 2)...max(0, c + 2) where i < p.onset.count { m = max(m, p.onset[i]) }
        return Double(m)
    }

    /// The level (dBFS) under which a frame of the track counts as quiet: 30 dB under the track's loud level (its
    /// 95th percentile: a track mostly silent still has one), and under -40 dBFS.
    static func quietLevel(_ p: AudioProfile) -> Float {
        Float(min(-40, Double(p.level.sorted()[p.level.count * 95 / 100]) - 30))
    }

    /// Where the track's sound ends: its duration, less a quiet tail (a song's last seconds of silence) when the
    /// profile reaches the end.
    static func soundingEnd(_ track: AudioInput) -> Double {
        guard let p = track.profile, p.level.count > 10, Double(p.level.count) / p.frameRate >= track.duration - 0.5 else {
            return track.duration
        }
        let floor = quietLevel(p)
        guard let last = p.level.lastIndex(where: { $0 >= floor }) else { return track.duration }
        return min(track.duration, Double(last + 1) / p.frameRate + 0.05)
    }

    /// The window of `duration` with the strongest, steadiest beat and the most energy, starting on a bar line.
    static func highlight(track: AudioInput, beats: BeatTimes?, bars: [Double], duration: Double) -> (Double, String) {
        guard let p = track.profile, p.level.count > 10 else { return (0, "the track's loudness was not measured") }
        let analysed = Double(p.level.count) / p.frameRate
        let end = min(track.duration, analysed)
        var candidates = bars.filter { $0 + duration <= end + 1e-6 }
        let onBars = !candidates.isEmpty
        if !onBars { candidates = Array(stride(from: 0.0, through: max(0, end - duration), by: 1.0)) }
        if !candidates.contains(where: { $0 < 0.01 }) { candidates.insert(0, at: 0) }
        let steady = beats.map { $0.confidence >= minimumBeatConfidence } ?? false
        // Frames far under the track's loud level (30 dB, and under -40 dBFS) are quiet: a window
        // reaching into the track's silent tail or a break would leave the video silent for that long (trial15 F1:
        // a 10 s window 55 % silent won, as its silence lowered the mean onset and so raised its on-beat contrast).
        let quietFloor = quietLevel(p)
        struct Score {
            var start: Double, level: Double, contrast: Double, spread: Double, reliable: Double, quiet: Double, beats: Int
            var total = 0.0
        }
        var scores: [Score] = []
        for s in candidates {
            let i0 = max(0, Int(s * p.frameRate)), i1 = min(p.level.count, Int((s + duration) * p.frameRate))
            guard i1 > i0 else { continue }
            var power = 0.0, onsetSum = 0.0, quietFrames = 0
            for i in i0..<i1 {
                power += pow(10, Double(p.level[i]) / 10)
                if p.level[i] < quietFloor { quietFrames += 1 } else { onsetSum += Double(p.onset[i]) }
            }
            let level = 10 * log10(max(power / Double(i1 - i0), 1e-12))
            let sounding = i1 - i0 - quietFrames
            let inWindow = (beats?.times ?? []).filter { $0 >= s && $0 < s + duration }
            var contrast = 1.0, spread = 1.0
            if inWindow.count >= 4 {
                let atBeats = inWindow.map { onsetNear($0, p) }.reduce(0, +) / Double(inWindow.count)
                // The mean onset over the window's sounding frames: its quiet ones are scored below, not here.
                contrast = atBeats / (onsetSum / Double(max(1, sounding)) + 0.05)
                let gaps = zip(inWindow.dropFirst(), inWindow).map { $0 - $1 }
                let mean = gaps.reduce(0, +) / Double(gaps.count)
                let sd = sqrt(gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count))
                spread = sd / max(mean, 1e-6)
            }
            var reliable = steady ? 1.0 : 0.0
            if !steady, let spans = beats?.reliableSpans {
                reliable = spans.map { max(0, min($0.upperBound, s + duration) - max($0.lowerBound, s)) }.reduce(0, +) / duration
            }
            scores.append(
                Score(
                    start: s, level: level, contrast: contrast, spread: spread, reliable: reliable,
                    quiet: Double(quietFrames) / Double(i1 - i0), beats: inWindow.count))
        }
        guard let loudest = scores.map(\.level).max() else { return (0, "no window fits") }
        for i in scores.indices {
            let s = scores[i]
            // 6 dB of level, a doubling of the on-beat onset contrast and a fully reliable window weigh about the same;
            // irregular beat spacing costs, and quiet frames cost most (a wholly quiet window: 6 of those units).
            scores[i].total = (s.level - loudest) / 6 + log2(max(s.contrast, 0.25)) - 3 * min(s.spread, 1) + s.reliable - 6 * s.quiet
        }
        // A window with more than a tenth of it quiet is taken only when every window is.
        let eligible = scores.contains { $0.quiet <= 0.1 } ? scores.filter { $0.quiet <= 0.1 } : scores
        let best = eligible.max { $0.total < $1.total || ($0.total == $1.total && $0.start > $1.start) }!
        let first = scores[0]
        func describe(_ s: Score) -> String {
            var text =
                s.beats < 4
                ? String(format: "level %.1f dB, no beats in it", s.level)
                : String(
                    format: "level %.1f dB, on-beat onsets %.1f× the mean, beat spacing varies %.0f%%", s.level, s.contrast, s.spread * 100)
            if s.quiet >= 0.005 { text += String(format: ", %.0f%% of it quiet", s.quiet * 100) }
            return text
        }
        if best.start < 0.01 { return (0, "the opening window scores best (\(describe(best)))") }
        let bar = onBars ? (bars.firstIndex { abs($0 - best.start) < 1e-6 }.map { "on bar \($0 + 1), " } ?? "") : "no bar grid, "
        return (best.start, "auto, \(bar)the strongest, steadiest window of \(scores.count) (\(describe(best)); at 0 s: \(describe(first)))")
    }

    /// Beats (and reliable spans) in video time: each piece of the track brings its beats, shifted.
    static func mapBeats(_ beats: BeatTimes, segments: [AudioSegment], duration: Double) -> BeatTimes {
        if segments.count == 1, segments[0].trackStart == 0 { return beats }
        var times: [Double] = []
        var spans: [ClosedRange<Double>] = []
        let period = beats.tempo > 0 ? 60 / beats.tempo : 0.5
        for seg in segments {
            let shift = seg.outputStart - seg.trackStart
            for t in beats.times where t >= seg.trackStart - 1e-6 && t < seg.trackEnd - 1e-6 {
                let o = t + shift
                guard o >= 0, o < duration else { continue }
                if let last = times.last, o - last < period * 0.25 { continue }
                times.append(o)
            }
            for s in beats.reliableSpans {
                let lo = max(s.lowerBound, seg.trackStart), hi = min(s.upperBound, seg.trackEnd)
                guard hi > lo else { continue }
                let r = (lo + shift)...(min(hi + shift, duration))
                guard r.upperBound > r.lowerBound else { continue }
                if let last = spans.last, r.lowerBound - last.upperBound < 0.2 {
                    spans[spans.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
                } else {
                    spans.append(r)
                }
            }
        }
        return BeatTimes(times: times, tempo: beats.tempo, confidence: beats.confidence, reliableSpans: spans)
    }

    /// The voice-over plan: speech shifted into video time and clipped to it.
    static func voicePlan(rule: VoiceRule, voice: VoiceInput, duration: Double, notes: inout [String]) -> VoicePlan {
        let speech = voice.speech.compactMap { s -> ClosedRange<Double>? in
            let lo = s.lowerBound + rule.start, hi = min(s.upperBound + rule.start, duration)
            return hi > lo ? lo...hi : nil
        }
        if rule.start + voice.duration > duration + 0.01 {
            notes.append(
                String(
                    format: "the voice-over is %.2f s from %.2f s: its last %.2f s are cut", voice.duration, rule.start,
                    rule.start + voice.duration - duration))
        }
        return VoicePlan(
            source: MediaInput(path: voice.path), start: rule.start, volume: rule.volume, duckDB: rule.duckDB, speech: speech,
            cut: rule.start + voice.duration > duration + 0.01)
    }
}

// MARK: The audio graph

extension RenderPlan {
    /// `.measure` ends in `ebur128` (a measuring pass, with the normalisation gain when one is set); `.render` is
    /// the chain the video gets.
    public enum AudioStage: Sendable { case measure, render }

    /// The audio chain as filtergraph nodes: inputs are named `[N:a]` (N from `input`), the output `[aout]`.
    /// Self-contained so the video part of the printed graph can change independently.
    public func audioGraphNodes(stage: AudioStage = .render, input: (String, String) -> Int) -> [FilterGraph.Node] {
        var nodes: [FilterGraph.Node] = []
        var n = 0
        func f(_ d: Double) -> String { String(format: "%.3f", d) }
        func label() -> String { n += 1; return "a\(n)" }
        /// Appends a linear chain from `from`; returns the last label.
        func chain(_ from: [String], _ steps: [(String, [(String, String)])], to last: String? = nil) -> String {
            var inputs = from
            var out = ""
            for (i, s) in steps.enumerated() {
                out = i == steps.count - 1 ? (last ?? label()) : label()
                nodes.append(.init(inputs: inputs, filter: s.0, arguments: s.1, outputs: [out]))
                inputs = [out]
            }
            return out
        }
        let rate = encoder.audioSampleRate
        let layout = encoder.audioChannels == 2 ? "stereo" : "mono"
        let format: (String, [(String, String)]) = ("aformat", [("sample_fmts", "fltp"), ("sample_rates", "\(rate)"), ("channel_layouts", layout)])
        // DC removal before anything cuts the signal (audio13 L2): each piece of the track and the voice are
        // high-passed from their file's start, before `atrim`, so a cut lands on a signal centred on zero.
        let declick = audio?.declick ?? false
        let dcBlock: [(String, [(String, String)])] = declick ? [("highpass", [("f", f(Planner.dcCutoff)), ("p", "2")])] : []
        var music: String
        if let a = audio, let source = a.source {
            let segs = a.segments
            let xf = Planner.loopCrossfade
            /// The track read from its own input, resampled: one per loop piece. (One input split in `asplit` would
            /// hold every piece's samples until `acrossfade` reads it, after the piece before: a whole decoded copy
            /// of the track, 11.5 MB for 30 s of 48 kHz stereo, growing with the loop count and so with the video.)
            func head(_ kind: String) -> String {
                let i = input(kind, source.path)
                return chain(
                    ["\(i):a"], [("asetpts", [("expr", "PTS-STARTPTS")]), ("aresample", [("out_sample_rate", "\(rate)")]), format] + dcBlock)
            }
            if segs.count <= 1 {
                let s = segs.first ?? AudioSegment(trackStart: 0, trackEnd: a.duration, outputStart: 0)
                music = chain(
                    [head("audio")], [("atrim", [("start", f(s.trackStart)), ("end", f(s.trackEnd))]), ("asetpts", [("expr", "PTS-STARTPTS")])])
            } else {
                var pieces: [String] = []
                for (k, s) in segs.enumerated() {
                    // Each piece reaches half the crossfade past its seams (or all of it on the side that cannot).
                    let pre = k == 0 ? 0 : min(xf / 2, s.trackStart)
                    let post = k == segs.count - 1 ? 0 : xf - min(xf / 2, segs[k + 1].trackStart)
                    pieces.append(
                        chain(
                            [head("audio, loop piece \(k + 1)")],
                            [("atrim", [("start", f(s.trackStart - pre)), ("end", f(s.trackEnd + post))]), ("asetpts", [("expr", "PTS-STARTPTS")])]))
                }
                music = pieces[0]
                for p in pieces.dropFirst() {
                    music = chain([music, p], [("acrossfade", [("d", f(xf)), ("c1", "tri"), ("c2", "tri")])])
                }
            }
            var steps: [(String, [(String, String)])] = []
            steps.append(("apad", [("whole_dur", f(a.duration))]))
            steps.append(("atrim", [("end", f(a.duration))]))
            if a.volume != 1 { steps.append(("volume", [("volume", f(a.volume))])) }
            // Fades: the template's, and at least `declickFade` where the music starts and where it stops (the
            // video's end, or the track's when silence fills the rest), since either may cut mid-waveform.
            let short = declick ? Planner.declickFade : 0
            let fadeIn = min(max(a.fadeIn, short), a.duration / 2)
            if fadeIn > 0 { steps.append(("afade", [("t", "in"), ("st", "0"), ("d", f(fadeIn))])) }
            let musicEnd = min(a.duration, segs.last.map { $0.outputStart + $0.length } ?? a.duration)
            if declick, musicEnd < a.duration - 1e-6, musicEnd > short {
                steps.append(("afade", [("t", "out"), ("st", f(musicEnd - short)), ("d", f(short))]))
            } else {
                let fadeOut = min(max(a.fadeOut, short), a.duration / 2)
                if fadeOut > 0 { steps.append(("afade", [("t", "out"), ("st", f(a.duration - fadeOut)), ("d", f(fadeOut))])) }
            }
            if let v = a.voice, !v.speech.isEmpty, v.duckDB > 0 {
                // The music's gain under the voice: down by duck_db from `attack` before speech, back up over `release`.
                let depth = 1 - pow(10, -v.duckDB / 20)
                let terms = v.speech.map { s in
                    "clip((t-\(f(s.lowerBound - VoicePlan.attack)))/\(f(VoicePlan.attack)),0,1)*clip((\(f(s.upperBound + VoicePlan.release))-t)/\(f(VoicePlan.release)),0,1)"
                }
                steps.append(("asetnsamples", [("n", "256"), ("p", "0")]))
                steps.append(
                    ("volume", [("volume", "1-\(String(format: "%.4f", depth))*min(1,\(terms.joined(separator: "+")))"), ("eval", "frame")]))
            }
            music = chain([music], steps)
        } else {
            music = chain([], [("anullsrc", [("r", "\(rate)"), ("cl", layout), ("d", f(duration))])])
        }
        var mix = music
        if let v = audio?.voice {
            let i = input("voice", v.source.path)
            var steps: [(String, [(String, String)])] = [
                ("asetpts", [("expr", "PTS-STARTPTS")]), ("aresample", [("out_sample_rate", "\(rate)")]), format,
            ]
            steps += dcBlock
            // The voice's own first samples may start mid-waveform (or on a DC offset): a short fade-in, as the music.
            if declick { steps.append(("afade", [("t", "in"), ("st", "0"), ("d", f(Planner.declickFade))])) }
            if v.volume != 1 { steps.append(("volume", [("volume", f(v.volume))])) }
            if v.start > 0 { steps.append(("adelay", [("delays", "\(Int((v.start * 1000).rounded()))"), ("all", "1")])) }
            steps += [("apad", [("whole_dur", f(duration))]), ("atrim", [("end", f(duration))])]
            // A voice the video's end cuts stops with a short fade, as the music does.
            if declick, v.cut, duration > Planner.declickFade {
                steps.append(("afade", [("t", "out"), ("st", f(duration - Planner.declickFade)), ("d", f(Planner.declickFade))]))
            }
            let voice = chain(["\(i):a"], steps)
            mix = chain([music, voice], [("amix", [("inputs", "2"), ("duration", "first"), ("normalize", "0")])])
        }
        // Loudness: the measured gain, then a limiter under the true-peak ceiling; the render reads its output
        // loudness back from a final ebur128.
        var steps: [(String, [(String, String)])] = []
        if let l = audio?.loudness, let g = l.gain {
            steps.append(("volume", [("volume", String(format: "%.2fdB", g))]))
            steps.append(
                (
                    "alimiter",
                    [
                        ("limit", String(format: "%.3f", LoudnessPlan.limiterCeiling)), ("attack", "1"), ("release", "50"), ("level", "false"),
                        ("latency", "true"),
                    ]
                ))
        }
        if stage == .measure || audio?.loudness?.gain != nil {
            steps.append(("ebur128", [("metadata", "1"), ("peak", "true")]))
        }
        steps.append(format)
        _ = chain([mix], steps, to: "aout")
        return nodes
    }

    /// The files the audio graph reads, by label, in the order `audioGraphNodes` numbers them after `firstIndex`.
    public func audioGraphInputs(firstIndex: Int) -> [(label: String, path: String)] {
        var result: [(label: String, path: String)] = []
        if let a = audio {
            if let s = a.source {
                for _ in 0..<max(1, a.segments.count) { result.append(("\(firstIndex + result.count):a", s.path)) }
            }
            if let v = a.voice { result.append(("\(firstIndex + result.count):a", v.source.path)) }
        }
        return result
    }

    /// Seconds of its file (from its first sample) that each audio input's chain uses, in the order of
    /// `audioGraphInputs`: a piece of the track its `atrim` span, widened by a second before it (the resampler and
    /// the high-pass settle there) and half a second after (their delay); nil for the whole file (the voice).
    /// The backend decodes a file once for all its inputs and sends each only these frames (audio13 L3).
    public var audioInputReads: [ClosedRange<Double>?] {
        guard let a = audio else { return [] }
        var reads: [ClosedRange<Double>?] = []
        if a.source != nil {
            let segs = a.segments
            let xf = Planner.loopCrossfade
            if segs.count <= 1 {
                reads.append(segs.first.map { max(0, $0.trackStart - 1)...($0.trackEnd + 0.5) })
            } else {
                for (k, s) in segs.enumerated() {
                    let pre = k == 0 ? 0 : min(xf / 2, s.trackStart)
                    let post = k == segs.count - 1 ? 0 : xf - min(xf / 2, segs[k + 1].trackStart)
                    reads.append(max(0, s.trackStart - pre - 1)...(s.trackEnd + post + 0.5))
                }
            }
        }
        if a.voice != nil { reads.append(nil) }
        return reads
    }

    /// The audio graph as libavfilter text, inputs numbered from 0 (what the backend parses and runs; `rendc plan`
    /// prints the same nodes inside the whole graph, numbered after the video inputs).
    public func audioGraphText(stage: AudioStage = .render) -> String {
        var count = 0
        let nodes = audioGraphNodes(stage: stage) { _, _ in
            count += 1; return count - 1
        }
        return nodes.map(\.text).joined(separator: ";\n")
    }
}

extension AudioPlan {
    /// What `rendc plan` prints about the audio.
    public var summary: [String] {
        var lines: [String] = []
        if let source {
            let name = URL(fileURLWithPath: source.path).lastPathComponent
            lines.append(String(format: "audio: %@ from %.3f s (%@)", name, start, startReason))
            if segments.count > 1 {
                lines.append(
                    "  loop: "
                        + segments.prefix(6).map { String(format: "%.3f–%.3f s at %.3f s", $0.trackStart, $0.trackEnd, $0.outputStart) }.joined(
                            separator: ", ") + (segments.count > 6 ? ", …" : ""))
            }
            if fadeIn > 0 { lines.append(String(format: "  fade in %.2f s", fadeIn)) }
        }
        if let v = voice {
            lines.append(
                String(
                    format: "voice-over: %@ from %.2f s, volume %.2f; music %.0f dB down under %d speech span(s)",
                    URL(fileURLWithPath: v.source.path).lastPathComponent, v.start, v.volume, v.duckDB, v.speech.count))
        }
        if let l = loudness {
            var line = String(format: "loudness: target %.1f LUFS, true peak ≤ %.1f dBTP", l.target, l.truePeakLimit)
            if let m = l.input {
                line += String(format: "; measured input %.1f LUFS (true peak %.1f dBTP, range %.1f LU)", m.integrated, m.truePeak, m.range)
                if let g = l.gain, let p = l.predicted {
                    line += String(
                        format: "; gain %+.2f dB and a limiter at %.1f dBFS: %.1f LUFS (true peak %.1f dBTP)", g,
                        20 * log10(LoudnessPlan.limiterCeiling), p.integrated, p.truePeak)
                } else if l.gain == nil {
                    line += ", silent: left as is"
                }
            } else {
                line += "; input not measured yet"
            }
            lines.append(line)
        }
        return lines
    }
}
