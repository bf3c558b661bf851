import Foundation

/// The octave of the level path (docs/beats.md, "Twelfth round (octave)"): after the full-range decoder's path within
/// the level rules' span, the paths at half and twice that span are candidates (each only when its mean tempo is an
/// exact octave of the level path's, `BeatTracker.isOctave`). v11c keeps the one with the largest DBN score below a
/// confidence gate (`BeatTracker.decoderOctaveByScoreBelow`); this struct measures more cues per candidate (the TCN
/// activation and the onset envelope at its beats and halfway between them, their autocorrelation at its period)
/// and, when `rule` is set, decides by them instead (measured in the twelfth round and not adopted: off by default).
package struct OctaveChoice: Sendable {
    /// Fitting only (driver OCTFORCE): take the candidate at this factor (0.5, 1 or 2) whenever it exists.
    package var forced: Double?
    /// The rule by the pair's alternation (nil, the default: v11c's score below the gate).
    package var rule: Rule?
    /// One JSON line per decision with every candidate's cues (driver OCTDUMP).
    package var log: (@Sendable (String) -> Void)?

    package init() {}

    /// The pair's alternation decides (fitted on the development and synthetic sets, docs/beats.md, twelfth round):
    /// of a slower path and the path at twice its tempo, the slower one is the level when the TCN activation at the
    /// faster path's extra beats is weak against its own beats (`Cues.contrast` above `threshold`): the half is taken
    /// when its contrast is above `threshold`, else the double when the level path's is not; the DBN's score is not
    /// used. Only below confidence `below` (nil: every accepted track); above it, v11c's step.
    package struct Rule: Sendable {
        package var threshold = 0.28
        package var below: Double? = 1.0

        package init() {}

        /// The factor (0.5, 1 or 2) of the candidate to take, from the level path's cues and the candidates'.
        package func factor(level: Cues, half: Cues?, double: Cues?) -> Double {
            if let half, half.contrast > threshold { return 0.5 }
            if double != nil, level.contrast <= threshold { return 2 }
            return 1
        }
    }

    /// What is measured of one candidate path.
    package struct Cues: Sendable {
        package var factor: Double
        package var tempo: Double
        package var logScorePerFrame: Double
        /// Mean TCN activation (peak within ±1 frame) at the beats and halfway between them.
        package var on: Double
        package var mid: Double
        /// The onset envelope, likewise.
        package var onsetOn: Double
        package var onsetMid: Double
        /// Normalised autocorrelation of the TCN activation and of the onset envelope at the candidate's period.
        package var acf: Double
        package var onsetACF: Double

        /// 1 − activation halfway between the beats / at the beats: near 1 when the beats alternate with nothing,
        /// near 0 when the halfway points are as strong (the level is twice as fast).
        package var contrast: Double { on > 0 ? 1 - mid / on : 0 }

        var json: String {
            String(
                format: "{\"factor\":%.1f,\"tempo\":%.3f,\"lps\":%.5f,\"on\":%.4f,\"mid\":%.4f,\"onsetOn\":%.4f,"
                    + "\"onsetMid\":%.4f,\"acf\":%.4f,\"onsetACF\":%.4f}",
                factor, tempo, logScorePerFrame, on, mid, onsetOn, onsetMid, acf, onsetACF)
        }
    }

    /// Measures a path (beat times in seconds on the activation's axis, frames at `frameRate`).
    static func cues(
        factor: Double, path: BeatDBN.Decoded, activation: [Float], onsets: [Float], frameRate: Double
    ) -> Cues {
        let b = path.beats
        let tempo = b.count >= 2 && b[b.count - 1] > b[0] ? 60 * Double(b.count - 1) / (b[b.count - 1] - b[0]) : 0
        func peak(_ x: [Float], _ t: Double) -> Double {
            guard !x.isEmpty else { return 0 }
            let f = Int((t * frameRate).rounded())
            guard f >= 0, f < x.count else { return 0 }
            var m: Float = 0
            for k in max(0, f - 1)...min(x.count - 1, f + 1) { m = max(m, x[k]) }
            return Double(m)
        }
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        let mids = zip(b.dropFirst(), b).map { ($0 + $1) / 2 }
        func acf(_ x: [Float]) -> Double {
            guard tempo > 0, x.count > 4 else { return 0 }
            let lag = 60 / tempo * frameRate
            let m = x.reduce(0) { $0 + Double($1) } / Double(x.count)
            var energy = 0.0
            for v in x { energy += (Double(v) - m) * (Double(v) - m) }
            guard energy > 0 else { return 0 }
            // The largest of the whole lags around the period (the path's tempo is a mean; frames are 23 ms).
            var best = -1.0
            for l in [Int(lag.rounded(.down)) - 1, Int(lag.rounded(.down)), Int(lag.rounded(.up)), Int(lag.rounded(.up)) + 1]
            where l > 0 && l < x.count {
                var s = 0.0
                for i in 0..<(x.count - l) { s += (Double(x[i]) - m) * (Double(x[i + l]) - m) }
                best = max(best, s / energy)
            }
            return best
        }
        return Cues(
            factor: factor, tempo: tempo, logScorePerFrame: path.logScorePerFrame, on: mean(b.map { peak(activation, $0) }),
            mid: mean(mids.map { peak(activation, $0) }), onsetOn: mean(b.map { peak(onsets, $0) }),
            onsetMid: mean(mids.map { peak(onsets, $0) }), acf: acf(activation), onsetACF: acf(onsets))
    }
}

extension BeatTracker {
    /// The octave step after the level path's decode (called from `decodedBeats`): v11c's score below the gate,
    /// or `octave`'s rule / forced candidate.
    func octavePath(
        _ decoder: BeatDBN, span: ClosedRange<Double>, range: Double, levelPath: BeatDBN.Decoded, activation: [Float],
        envelope: OnsetEnvelope, confidence: Double
    ) -> BeatDBN.Decoded {
        let gated = decoderOctaveByScoreBelow.map { confidence < $0 } ?? false
        let ruled = octave.rule.map { rule in rule.below.map { confidence < $0 } ?? true } ?? false
        guard gated || ruled || octave.forced != nil || octave.log != nil else { return levelPath }
        var decoded = levelPath
        var candidates: [(factor: Double, path: BeatDBN.Decoded)] = []
        for factor in [0.5, 2.0] {
            var other = decoder
            other.minTempo = max(decoder.minTempo, span.lowerBound * factor / (1 + range))
            other.maxTempo = min(decoder.maxTempo, span.upperBound * factor * (1 + range))
            guard other.minTempo < other.maxTempo else { continue }
            let path = other.decode(activation, activationRate: envelope.frameRate)
            estimator.debugLog?("OCTAVE x\(factor): \(path.logScorePerFrame) vs \(decoded.logScorePerFrame)")
            guard path.beats.count >= 4, Self.isOctave(path.beats, of: levelPath.beats, factor: factor) else { continue }
            candidates.append((factor, path))
            // v11c: the largest score (the double against the half when the half was taken).
            if path.logScorePerFrame > decoded.logScorePerFrame { decoded = path }
        }
        let v11c = gated ? decoded : levelPath
        var cues: [OctaveChoice.Cues] = []
        if octave.rule != nil || octave.log != nil {
            cues = ([(1.0, levelPath)] + candidates).map {
                OctaveChoice.cues(
                    factor: $0.0, path: $0.1, activation: activation, onsets: envelope.values, frameRate: envelope.frameRate)
            }
        }
        if let log = octave.log {
            let v11cFactor = v11c.beats == levelPath.beats ? 1.0 : (candidates.first { $0.path.beats == v11c.beats }?.factor ?? 1)
            log(
                String(format: "{\"confidence\":%.4f,\"v11c\":%.1f,\"candidates\":[", confidence, v11cFactor)
                    + cues.map(\.json).joined(separator: ",") + "]}")
        }
        if let forced = octave.forced {
            return forced == 1 ? levelPath : (candidates.first { $0.factor == forced }?.path ?? levelPath)
        }
        if let rule = octave.rule {
            guard ruled else { return v11c }
            let chosen = rule.factor(
                level: cues[0], half: cues.first { $0.factor == 0.5 }, double: cues.first { $0.factor == 2 })
            return candidates.first { $0.factor == chosen }?.path ?? levelPath
        }
        return v11c
    }
}
