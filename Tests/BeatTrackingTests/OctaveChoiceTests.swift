import Foundation
import Testing
@testable import BeatTracking

// The twelfth round's octave cue (docs/beats.md, "Twelfth round (octave)"): of a path and the one at twice its tempo,
// the slower is the level when the activation at the faster one's extra beats is weak against its own beats.

/// An activation at `rate` frames a second with a peak every `period` seconds from 0.5 s, alternately `strong` and `weak`.
private func alternating(strong: Float, weak: Float, period: Double, seconds: Double, rate: Double) -> [Float] {
    var x = [Float](repeating: 0.01, count: Int(seconds * rate))
    var k = 0
    var t = 0.5
    while Int((t * rate).rounded()) < x.count {
        x[Int((t * rate).rounded())] = k % 2 == 0 ? strong : weak
        k += 1
        t += period
    }
    return x
}

private func path(period: Double, from start: Double = 0.5, until end: Double) -> BeatDBN.Decoded {
    let beats = stride(from: start, through: end, by: period).map { $0 }
    return BeatDBN.Decoded(beats: beats, intervals: beats.map { _ in period }, logScorePerFrame: -2.6)
}

@Test func theContrastMeasuresTheAlternationOfTheFasterLevel() {
    let rate = 43.0
    // Strong beats every second, weak ones halfway: the half path (on the strong beats) has a high contrast, the
    // level path (every beat) a low one against its own halfway points (nothing there).
    let uneven = alternating(strong: 1, weak: 0.2, period: 0.5, seconds: 20, rate: rate)
    let half = OctaveChoice.cues(factor: 0.5, path: path(period: 1, until: 19), activation: uneven, onsets: uneven, frameRate: rate)
    let level = OctaveChoice.cues(factor: 1, path: path(period: 0.5, until: 19), activation: uneven, onsets: uneven, frameRate: rate)
    #expect(abs(half.contrast - 0.8) < 0.05, "half \(half.contrast)")
    #expect(level.contrast > 0.95, "level \(level.contrast)")
    #expect(abs(half.tempo - 60) < 0.5 && abs(level.tempo - 120) < 0.5, "\(half.tempo) \(level.tempo)")
    // Every beat as strong: halving would drop real beats; the half path's contrast is near 0.
    let even = alternating(strong: 1, weak: 1, period: 0.5, seconds: 20, rate: rate)
    let evenHalf = OctaveChoice.cues(factor: 0.5, path: path(period: 1, until: 19), activation: even, onsets: even, frameRate: rate)
    #expect(abs(evenHalf.contrast) < 0.05, "even half \(evenHalf.contrast)")
    // The autocorrelation at the period: the alternating activation repeats at the half's period better than at the level's.
    #expect(half.acf > level.acf, "acf half \(half.acf) level \(level.acf)")
}

@Test func theRuleHalvesOrDoublesByTheContrastOnly() {
    func cues(_ factor: Double, contrast: Double, lps: Double = -2.6) -> OctaveChoice.Cues {
        OctaveChoice.Cues(
            factor: factor, tempo: 120 * factor, logScorePerFrame: lps, on: 1, mid: 1 - contrast, onsetOn: 1, onsetMid: 1,
            acf: 0, onsetACF: 0)
    }
    let rule = OctaveChoice.Rule()
    #expect(rule.threshold == 0.28 && rule.below == 1.0)
    // The half's alternation above the threshold: halved, whatever the scores (a better-scoring level path too).
    #expect(rule.factor(level: cues(1, contrast: 0.99, lps: -2.5), half: cues(0.5, contrast: 0.4, lps: -2.7), double: nil) == 0.5)
    // Below it: the level stands, unless the level path itself alternates weakly (then its double is the level).
    #expect(rule.factor(level: cues(1, contrast: 0.99), half: cues(0.5, contrast: 0.2), double: nil) == 1)
    #expect(rule.factor(level: cues(1, contrast: 0.2), half: nil, double: cues(2, contrast: 0.9)) == 2)
    #expect(rule.factor(level: cues(1, contrast: 0.2), half: nil, double: nil) == 1)
    #expect(rule.factor(level: cues(1, contrast: 0.5), half: nil, double: cues(2, contrast: 0.9)) == 1)
}
