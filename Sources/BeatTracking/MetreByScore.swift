import Foundation

extension BeatTracker {
    /// The DBN's metre against a ternary level (docs/beats.md, twelfth round, continuity / 4:3): when the level rules
    /// settled a ternary level (`BeatEstimator.Result.ternaryLevelSettled`), the full range's path is not folded to
    /// the estimator's octave, so where the two hear the same fast grid grouped by three (the estimator) and by two or
    /// four (the DBN) the level path is 4:3 or 3:4 of the DBN's beat (singularity-awakening: 80 BPM against madmom's
    /// 60 and the DBN's 120). The candidate is the octave of the full range's tempo that is 3/4 or 4/3 of the level
    /// path's (within ±4 %); it is decoded within ± `range` of it and taken when its log score per frame beats the
    /// level path's by more than `margin` and its own mean tempo is still 3/4 or 4/3 of the level's (±4 %). Never
    /// 2:3 or 3:2 of the level path; nil when the level path stands.
    func metreByScore(
        _ decoder: BeatDBN, activation: [Float], frameRate: Double, level: BeatDBN.Decoded, whole: BeatDBN.Decoded, range: Double,
        margin: Double
    ) -> BeatDBN.Decoded? {
        func meanTempo(_ b: [Double]) -> Double {
            b.count >= 2 && b[b.count - 1] > b[0] ? 60 * Double(b.count - 1) / (b[b.count - 1] - b[0]) : 0
        }
        let levelTempo = meanTempo(level.beats), wholeTempo = meanTempo(whole.beats)
        guard levelTempo > 0, wholeTempo > 0, level.beats.count >= 4 else { return nil }
        var best: BeatDBN.Decoded?
        for ratio in [0.75, 4.0 / 3.0] {
            let target = levelTempo * ratio
            // The full range's tempo moved by octaves to the one nearest the candidate: it must be the candidate.
            var folded = wholeTempo
            while folded > target * 2.0.squareRoot() { folded /= 2 }
            while folded < target / 2.0.squareRoot() { folded *= 2 }
            guard abs(folded / target - 1) <= 0.04 else { continue }
            var other = decoder
            other.minTempo = max(decoder.minTempo, target / (1 + range))
            other.maxTempo = min(decoder.maxTempo, target * (1 + range))
            guard other.minTempo < other.maxTempo else { continue }
            let path = other.decode(activation, activationRate: frameRate)
            estimator.debugLog?("METRE x\(ratio): \(path.logScorePerFrame) vs \(level.logScorePerFrame) (whole \(wholeTempo))")
            guard path.beats.count >= 4, abs(meanTempo(path.beats) / target - 1) <= 0.04,
                path.logScorePerFrame > level.logScorePerFrame + margin,
                path.logScorePerFrame > (best?.logScorePerFrame ?? -.infinity)
            else { continue }
            best = path
        }
        return best
    }
}

extension BeatTracker {
    /// The chosen path decoded again within ± `range` of its own mean tempo with the transition lambda `lambda`
    /// (twelfth round, continuity: a stiffer tempo keeps the path from drifting onto the off-beat through a break); the
    /// octave and metre decisions were made before, with the decoder's own lambda. `path` when it has under 4 beats.
    func redecoded(
        _ decoder: BeatDBN, activation: [Float], frameRate: Double, path: BeatDBN.Decoded, range: Double, lambda: Double
    )
        -> BeatDBN.Decoded
    {
        let b = path.beats
        guard b.count >= 4, b[b.count - 1] > b[0] else { return path }
        let tempo = 60 * Double(b.count - 1) / (b[b.count - 1] - b[0])
        var stiff = decoder
        stiff.transitionLambda = lambda
        stiff.minTempo = max(decoder.minTempo * 0.8, tempo / (1 + range))
        stiff.maxTempo = min(decoder.maxTempo * 1.2, tempo * (1 + range))
        let again = stiff.decode(activation, activationRate: frameRate)
        return again.beats.count >= 4 ? again : path
    }
}
