import Foundation

/// Finds the tempo and the beats of a music track: decode (libav*) -> log-mel spectral flux -> windowed
/// autocorrelation tempo with a log-normal prior and a metrical-level check -> Ellis' dynamic-programming tracker.
/// Returns no beats (and a low confidence) on silence, noise or speech, so callers fall back to fixed intervals.
public struct BeatTracker: Sendable {
    /// Rate the audio is resampled to before analysis.
    package static let analysisRate = 22050
    /// Bumped whenever a change can alter results (it keys the cache).
    package static let algorithmVersion = 12
    /// Seconds added to every beat time to correct the envelope's latency. Measured on the benchmark's rendered MIDI
    /// tracks, the mean offset to the true beats is -12...+13 ms depending on the instruments (frames are 23 ms), so
    /// no correction is applied.
    package static let onsetLatency = 0.0

    /// Below this whole-track confidence, only the beats of reliable sections are returned (see `BeatAnalysis`).
    public static var minimumConfidence: Double { BeatEstimator().minimumConfidence }

    package var onsets = OnsetDetector()
    package var estimator = BeatEstimator()
    /// A second pass for confident tracks: when set, a track that `estimator` accepts as a whole (confidence at least
    /// its `minimumConfidence`) takes its beats and tempo from this estimator (e.g. with the learned activation also
    /// in the tempo and the level rules), while the confidence, the rejection of noise and speech, partial beats and
    /// the reliable sections stay `estimator`'s. Off by default (docs/beats.md, fifth round).
    package var confidentEstimator: BeatEstimator?
    /// The beats of a confident track (one `estimator` accepts as a whole) come from a full-range tempo DBN
    /// (`BeatDBN`, madmom's bar-pointer model) decoding the TCN's activation (`BeatTCN`); the confidence, the
    /// rejection of noise and speech, partial beats and the reliable sections stay `estimator`'s. nil: the estimator's
    /// beats (the fifth round's tracker). On since the sixth round (docs/beats.md).
    package var fullRangeDecoder: BeatDBN? = BeatDBN()
    /// The returned path is decoded again within ± this fraction of a tempo (nil: the whole range's path): the
    /// estimator's, or the whole range's tempo moved by octaves to the one nearest the estimator's when the two are
    /// not in octaves (`decoderFoldsLevel`): the DBN says binary or ternary, the level rules say which octave.
    package var decoderLevelRange: Double? = 0.15
    package var decoderFoldsLevel = true
    /// Only decoded beats within half a beat of the estimator's first and last beats are kept (the decoder runs on
    /// through a silent tail; the estimator trims its beats by their onsets' salience).
    package var decoderTrim = true
    /// Where most decoded beats are off the estimator's at the same tempo, the estimator's beats are returned when the
    /// bass at them is this many times the bass at the decoded ones (measured: triplets over a kick 2.2, the decoder
    /// right 1.7 at most) ...
    package var decoderBassRatio = 2.0
    /// ... or when the decoded path drifts by this fraction of a beat within four beats and the estimator's does not
    /// (measured: decoded paths that changed phase 0.41–0.45, the estimator's chains 0.11–0.18, a drifting chain 0.33).
    package var decoderDrift = 0.25
    /// The octave by the DBN's own score, below this confidence (docs/beats.md, tenth round; nil: off): the path within
    /// the level range is compared with those at half and twice its tempo (within the DBN's own tempo range only), and
    /// the one with the largest log score per frame is kept. Gated because the score also halves clean fast pulses
    /// (generated 180 BPM drums and piano), whose onset confidence saturates at 1. Fitted on the development and
    /// synthetic sets: 1.0, i.e. every accepted track whose confidence is not saturated. A candidate is taken only
    /// when its tempo is half or twice the level path's within ±4 % (`isOctave`, eleventh round).
    package var decoderOctaveByScoreBelow: Double? = 1.0
    /// The octave step's cues, its multi-cue rule and the driver's hooks (`OctaveChoice`, twelfth round; off by default).
    package var octave = OctaveChoice()
    /// The learned activation's own pulse along the full-range decoder's path (`ActivationPulse`, docs/beats.md,
    /// ninth round): a track the onset envelope rejects is kept with the decoded beats when its activation pulses
    /// (or gets the decoded beats of the sections that pulse), and a track it accepts returns none when its
    /// activation does not repeat at all. nil: the onset envelope alone decides (the eighth round's tracker).
    package var activationPulse: ActivationPulse? = ActivationPulse()
    /// Signals quieter than this RMS (about -80 dBFS) are silence.
    package var silenceRMS: Float = 1e-4
    /// The DBN's metre against a ternary level (`metreByScore`, docs/beats.md, twelfth round): where the level rules
    /// settled a ternary level, a path at 3/4 or 4/3 of it that is an octave of the full range's is kept when its log
    /// score per frame is higher by more than this. nil: off. Fitted on the development and synthetic sets: 0.02.
    package var decoderMetreMargin: Double? = 0.02
    /// The chosen path decoded again around its own tempo with this transition lambda (`redecoded`, only where the
    /// estimator's tempo is steady; nil: off). Fitted on the development and synthetic sets: 300 (docs/beats.md,
    /// twelfth round: fof-escape's path no longer drifts onto the off-beat through its breaks).
    package var decoderFinalLambda: Double? = 300

    public init() {}

    /// Decodes at most `maxDuration` seconds of `path` (all of it when nil) and tracks its beats.
    public func analyze(file path: String, maxDuration: Double?) throws -> BeatAnalysis {
        let audio = try AudioDecoder(sampleRate: Self.analysisRate).decode(path: path, maxDuration: maxDuration)
        var result = analyze(samples: audio.samples, sampleRate: audio.sampleRate)
        result.trackDuration = audio.trackDuration
        return result
    }

    /// Tracks the beats of mono samples at any rate (resampled linearly to 22050 Hz when needed).
    public func analyze(samples: [Float], sampleRate: Int) -> BeatAnalysis {
        let duration = sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0
        let none = BeatAnalysis(tempo: 0, confidence: 0, beats: [], analysedDuration: duration, trackDuration: duration)
        guard sampleRate > 0, !samples.isEmpty else { return none }
        let input = sampleRate == Self.analysisRate ? samples : Self.resample(samples, from: sampleRate, to: Self.analysisRate)
        var energy: Double = 0
        for s in input where s.isFinite { energy += Double(s) * Double(s) }
        guard Float((energy / Double(input.count)).squareRoot()) > silenceRMS else { return none }
        let clean = input.contains { !$0.isFinite } ? input.map { $0.isFinite ? $0 : 0 } : input

        var detector = onsets
        detector.sampleRate = Self.analysisRate
        let envelope = detector.envelope(clean)
        var activation: [Float] = []
        var tcn: [Float] = []
        if estimator.usesActivation || confidentEstimator?.usesActivation == true {
            switch estimator.activationModel {
            case .mlp: activation = BeatActivation.activation(mel: envelope.mel, bands: envelope.melBands)
            case .tcn:
                tcn = BeatTCN.activation(mel: envelope.mel, bands: envelope.melBands)
                activation = tcn
            }
        }
        var result = estimator.track(envelope.values, low: envelope.low, activation: activation, frameRate: envelope.frameRate)
        if let second = confidentEstimator, !result.beatFrames.isEmpty, result.confidence >= estimator.minimumConfidence {
            let other = second.track(envelope.values, low: envelope.low, activation: activation, frameRate: envelope.frameRate)
            if !other.beatFrames.isEmpty {
                result.beatFrames = other.beatFrames
                result.tempo = other.tempo
            }
        }
        var beats = result.beatFrames
            .map { envelope.time(ofFrame: Double($0)) + Self.onsetLatency }
            .filter { $0 >= 0 && $0 <= duration }
        let accepted = result.confidence >= estimator.minimumConfidence
        // The TCN's activation and the full range's path, for the decoder and for the activation's pulse.
        var whole: BeatDBN.Decoded?
        if let decoder = fullRangeDecoder, activationPulse != nil || (accepted && beats.count >= 2) {
            if tcn.isEmpty { tcn = BeatTCN.activation(mel: envelope.mel, bands: envelope.melBands) }
            whole = decoder.decode(tcn, activationRate: envelope.frameRate)
        }
        if let judge = activationPulse, let whole {
            let pulse = judge.measure(tcn, beats: whole.beats, frameRate: envelope.frameRate)
            estimator.debugLog?(
                String(
                    format: "PULSE beat %.3f bar %.3f contrast %.2f windows %d onset confidence %.2f", pulse.beat, pulse.bar,
                    pulse.contrast, pulse.windows.count, result.confidence))
            if accepted, !beats.isEmpty {
                // Confident by the onsets, but the activation repeats neither at the beat nor at the bar: counted
                // speech, whose syllables line up for a while. (A clip shorter than half a window is not measured:
                // the onsets decide.)
                if !pulse.windows.isEmpty, pulse.periodicity < judge.veto {
                    return BeatAnalysis(
                        tempo: 0, confidence: min(result.confidence, estimator.minimumConfidence * max(0, pulse.periodicity) / judge.veto),
                        beats: [], analysedDuration: duration, trackDuration: duration)
                }
            } else if let kept = pulsedBeats(
                judge, pulse, whole: whole, activation: tcn, envelope: envelope, duration: duration, partial: beats,
                partialSpans: spans(of: result, envelope, duration: duration))
            {
                // Accepted as a whole: confident (never partial); sections only: partial, the onsets' confidence.
                let confidence =
                    judge.accepts(pulse)
                    ? max(result.confidence, min(1, estimator.minimumConfidence * pulse.pulse / judge.accept)) : result.confidence
                return BeatAnalysis(
                    tempo: kept.tempo, confidence: confidence, beats: kept.beats, analysedDuration: duration, trackDuration: duration,
                    reliableSpans: kept.spans)
            }
        }
        if let decoder = fullRangeDecoder, beats.count >= 2, accepted {
            if tcn.isEmpty { tcn = BeatTCN.activation(mel: envelope.mel, bands: envelope.melBands) }
            let decoded =
                (decodedBeats(decoder, activation: tcn, envelope: envelope, estimated: result, estimatedBeats: beats, whole: whole) ?? [])
                .filter { $0 >= 0 && $0 <= duration }
            if decoded.count >= 2, decoded[decoded.count - 1] > decoded[0] {
                beats = decoded
                // The decoder takes one beat per pass through a beat region, none skipped: the mean tempo.
                result.tempo = 60 * Double(decoded.count - 1) / (decoded[decoded.count - 1] - decoded[0])
            }
        }
        let spans = spans(of: result, envelope, duration: duration)
        return BeatAnalysis(
            tempo: beats.isEmpty ? 0 : result.tempo, confidence: result.confidence, beats: beats,
            analysedDuration: duration, trackDuration: duration, reliableSpans: beats.isEmpty ? [] : spans)
    }

    /// The DBN's beats (seconds) for a track the estimator accepted, with the estimator's metrical level (see
    /// `decoderLevelRange`), phase when the bass settled it, and first and last beats (`decoderTrim`); nil when the
    /// estimator's beats stand (`decoderBassRatio`, `decoderDrift`).
    func decodedBeats(
        _ decoder: BeatDBN, activation: [Float], envelope: OnsetEnvelope, estimated: BeatEstimator.Result, estimatedBeats: [Double],
        whole: BeatDBN.Decoded? = nil
    ) -> [Double]? {
        var decoded = whole ?? decoder.decode(activation, activationRate: envelope.frameRate)
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
        if let range = decoderLevelRange, estimated.tempo > 0 {
            let rules = estimated.tempoSpan ?? estimated.tempo...estimated.tempo
            var span = rules
            // The whole range's tempo in the octave nearest the estimator's: when that is another tempo (a 3:2 or
            // 4:3 relation, not an octave), the DBN's metre stands, unless the level rules settled it (the 3:2
            // pairs, or triplets over a bass on every beat).
            if decoderFoldsLevel, !estimated.ternaryLevelSettled, decoded.beats.count >= 4 {
                let whole = 60 / median(zip(decoded.beats.dropFirst(), decoded.beats).map { $0 - $1 })
                // (Halfway between two octaves of the estimator's tempo, within 5 %, the DBN's own octave stands.)
                var folded = whole
                while folded > estimated.tempo * 2.0.squareRoot() * 1.05 { folded /= 2 }
                while folded < estimated.tempo / 2.0.squareRoot() / 1.05 { folded *= 2 }
                estimator.debugLog?("dbn: estimator \(estimated.tempo) (\(rules)), whole range \(whole) -> \(folded)")
                if folded < rules.lowerBound / 1.06 || folded > rules.upperBound * 1.06 { span = folded...folded }
            }
            var level = decoder
            level.minTempo = max(decoder.minTempo * 0.8, span.lowerBound / (1 + range))
            level.maxTempo = min(decoder.maxTempo * 1.2, span.upperBound * (1 + range))
            decoded = level.decode(activation, activationRate: envelope.frameRate)
            decoded = octavePath(
                decoder, span: span, range: range, levelPath: decoded, activation: activation, envelope: envelope,
                confidence: estimated.confidence)
            if let margin = decoderMetreMargin, estimated.ternaryLevelSettled, let whole,
                let metre = metreByScore(
                    decoder, activation: activation, frameRate: envelope.frameRate, level: decoded, whole: whole, range: range, margin: margin)
            {
                decoded = metre
            }
            if let lambda = decoderFinalLambda, estimated.tempoSpan == nil {
                decoded = redecoded(decoder, activation: activation, frameRate: envelope.frameRate, path: decoded, range: range, lambda: lambda)
            }
        }
        var times = decoded.beats.map { envelope.timeOffset + $0 + Self.onsetLatency }
        // The bass under off-beat chords settled the phase (the activation hears the chords as beats): a path that
        // mostly misses the estimator's beats moves half a beat onto them.
        if estimated.phaseSettled, times.count >= 4 {
            func hits(_ xs: [Double]) -> Int { xs.filter { x in estimatedBeats.contains { abs($0 - x) <= 0.07 } }.count }
            let moved = zip(times.dropFirst(), times).map { ($0 + $1) / 2 }
            if 2 * hits(times) < times.count && hits(moved) > hits(times) { times = moved }
        }
        // Where the two disagree at the same tempo (most decoded beats off the estimator's), the estimator's beats
        // stand when they carry the bass (`decoderBassRatio` times the bass at the decoded beats: a kick under
        // triplets the activation follows), or when the decoded path drifts by a quarter beat or more within four
        // beats and the estimator's chain does not (the activation changed phase, the onsets did not).
        if times.count >= 8, estimatedBeats.count >= 8 {
            let pd = median(zip(times.dropFirst(), times).map { $0 - $1 })
            let pe = median(zip(estimatedBeats.dropFirst(), estimatedBeats).map { $0 - $1 })
            let agreeing = times.filter { x in estimatedBeats.contains { abs($0 - x) <= 0.07 } }.count
            if abs(pd / pe - 1) < 0.04, 2 * agreeing < times.count {
                func drift(_ xs: [Double], _ p: Double) -> Double {
                    var worst = 0.0
                    for i in 0..<(xs.count - 4) { worst = max(worst, abs(xs[i + 4] - xs[i] - 4 * p) / p) }
                    return worst
                }
                func bass(_ ts: [Double]) -> Double {
                    var sum = 0.0
                    for t in ts {
                        let f = Int((t * envelope.frameRate).rounded())
                        var m: Float = 0
                        for k in max(0, f - 1)...min(envelope.low.count - 1, max(0, f + 1)) { m = max(m, envelope.low[k]) }
                        sum += Double(m)
                    }
                    return sum / Double(max(1, ts.count))
                }
                let dd = drift(times, pd), de = drift(estimatedBeats, pe)
                let bd = envelope.low.isEmpty ? 0 : bass(times), be = envelope.low.isEmpty ? 0 : bass(estimatedBeats)
                estimator.debugLog?("DRIFT decoded \(dd) estimator \(de) bass \(bd) vs \(be) agree \(Double(agreeing) / Double(times.count))")
                if be > decoderBassRatio * bd || (dd >= decoderDrift && de < decoderDrift) { return nil }
            }
        }
        if decoderTrim, let first = estimatedBeats.first, let last = estimatedBeats.last, estimated.tempo > 0 {
            let margin = 30 / estimated.tempo
            times = times.filter { $0 >= first - margin && $0 <= last + margin }
        }
        return times
    }

    /// Whether `candidate`'s mean tempo (as the tracker reports it: beats less one over their span) is within ±4 % of
    /// exactly `factor` times `level`'s (eleventh round, docs/beats.md): the octave by the score may only halve or
    /// double; a "half" window reaching the DBN's 2:3 level (hr-domina-hunting-30: 137 -> 92 BPM) keeps the level path.
    static func isOctave(_ candidate: [Double], of level: [Double], factor: Double) -> Bool {
        func meanTempo(_ b: [Double]) -> Double {
            b.count >= 2 && b[b.count - 1] > b[0] ? 60 * Double(b.count - 1) / (b[b.count - 1] - b[0]) : 0
        }
        let reference = meanTempo(level) * factor
        return reference > 0 && abs(meanTempo(candidate) / reference - 1) <= 0.04
    }

    /// The estimator's reliable sections in seconds.
    func spans(of result: BeatEstimator.Result, _ envelope: OnsetEnvelope, duration: Double) -> [ClosedRange<Double>] {
        result.reliableSpans.compactMap { span -> ClosedRange<Double>? in
            let lo = max(0, envelope.time(ofFrame: Double(span.lowerBound)) + Self.onsetLatency)
            let hi = min(duration, envelope.time(ofFrame: Double(span.upperBound)) + Self.onsetLatency)
            return lo < hi ? lo...hi : nil
        }
    }

    /// For a track the onset envelope rejects (as a whole): the full range's decoded beats when the activation
    /// pulses (`ActivationPulse.accepts`); else the estimator's partial beats (`partial`, in `partialSpans`) plus the
    /// decoded beats inside the sections that pulse and overlap none of the estimator's (there its beats stand: a
    /// window straddling noise and a pulse marks part of the noise), when those hold at least the estimator's
    /// `minimumPartialBeats`; nil: the estimator's result stands.
    func pulsedBeats(
        _ judge: ActivationPulse, _ pulse: ActivationPulse.Measure, whole: BeatDBN.Decoded, activation: [Float], envelope: OnsetEnvelope,
        duration: Double, partial: [Double], partialSpans: [ClosedRange<Double>]
    ) -> (beats: [Double], tempo: Double, spans: [ClosedRange<Double>])? {
        let rate = envelope.frameRate
        let decoded = judge.trimmed(whole.beats, activation: activation, frameRate: rate)
        func time(_ t: Double) -> Double { envelope.timeOffset + t + Self.onsetLatency }
        func tempo(_ xs: [Double]) -> Double {
            let gaps = zip(xs.dropFirst(), xs).map { $0 - $1 }.sorted()
            return gaps.isEmpty ? 0 : 60 / gaps[gaps.count / 2]
        }
        if judge.accepts(pulse) {
            let beats = decoded.map(time).filter { $0 >= 0 && $0 <= duration }
            guard beats.count >= 2, beats[beats.count - 1] > beats[0] else { return nil }
            // One beat per pass through a beat region, none skipped: the mean tempo.
            let mean = 60 * Double(beats.count - 1) / (beats[beats.count - 1] - beats[0])
            return (beats, mean, [beats[0]...beats[beats.count - 1]])
        }
        let sections = judge.sections(pulse, frameCount: activation.count, frameRate: rate, minimumSeconds: estimator.minimumSpanSeconds)
        var beats: [Double] = []
        var spans: [ClosedRange<Double>] = []
        for section in sections {
            let seconds = time(Double(section.lowerBound) / rate)...time(Double(section.upperBound) / rate)
            guard !partialSpans.contains(where: { $0.overlaps(seconds) }) else { continue }
            let inside = decoded.filter { $0 * rate >= Double(section.lowerBound) && $0 * rate <= Double(section.upperBound) }
                .map(time).filter { $0 >= 0 && $0 <= duration }
            guard let first = inside.first, let last = inside.last, first < last else { continue }
            beats += inside
            spans.append(first...last)
        }
        estimator.debugLog?("PULSE sections \(sections.count), kept \(spans) beats \(beats.count)")
        guard beats.count >= estimator.minimumPartialBeats else { return nil }
        let all = (beats + partial).sorted()
        return (all, tempo(all), (spans + partialSpans).sorted { $0.lowerBound < $1.lowerBound })
    }

    /// The length of the track in seconds, from the container (or counted from its packets), without decoding.
    public static func trackDuration(file path: String) throws -> Double {
        try AudioDecoder(sampleRate: analysisRate).probeDuration(path: path)
    }

    static func resample(_ x: [Float], from source: Int, to target: Int) -> [Float] {
        let count = Int(Double(x.count) * Double(target) / Double(source))
        guard count > 0 else { return [] }
        let step = Double(source) / Double(target)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let position = Double(i) * step
            let j = Int(position)
            let f = Float(position - Double(j))
            let a = x[min(j, x.count - 1)], b = x[min(j + 1, x.count - 1)]
            out[i] = a + (b - a) * f
        }
        return out
    }
}
