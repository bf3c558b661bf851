import Foundation
import Testing
@testable import BeatTracking

// The twelfth round's metre step (docs/beats.md, "Twelfth round (continuity, 4:3, rejection)"): where the level rules
// settled a ternary level, a path at 3/4 or 4/3 of the level path that is an octave of the full range's path is kept
// when the DBN scores it higher. singularity-awakening (corpus) is the real case: 80 BPM (three pulses of a 240 grid)
// against madmom's 60 (four), the full range at 120; RealMusicTests holds its floor.

/// A generated activation at 100 frames a second: peaks of `height` every `60 / bpm` s (from 0.2 s), on a floor.
private func activation(seconds: Double, pulses: [(bpm: Double, height: Float)]) -> [Float] {
    var a = [Float](repeating: 0.02, count: Int(seconds * 100))
    for (bpm, height) in pulses {
        var t = 0.2
        while t < seconds {
            let f = Int((t * 100).rounded())
            if f < a.count { a[f] = max(a[f], height) }
            if f + 1 < a.count { a[f + 1] = max(a[f + 1], height * 0.5) }
            t += 60 / bpm
        }
    }
    return a
}

private func meanTempo(_ b: [Double]) -> Double { 60 * Double(b.count - 1) / (b[b.count - 1] - b[0]) }

/// The full-range decoder, its path through `a` forced to 80 BPM ±15 % (checked to be at 80), and its whole-range path.
private func pathsAt80(
    _ a: [Float], sourceLocation: SourceLocation = #_sourceLocation
) -> (dbn: BeatDBN, level: BeatDBN.Decoded, whole: BeatDBN.Decoded) {
    let dbn = BeatDBN()
    var level = dbn
    level.minTempo = 80 / 1.15
    level.maxTempo = 80 * 1.15
    let levelPath = level.decode(a, activationRate: 100)
    #expect(abs(meanTempo(levelPath.beats) / 80 - 1) < 0.04, "level path \(meanTempo(levelPath.beats))", sourceLocation: sourceLocation)
    return (dbn, levelPath, dbn.decode(a, activationRate: 100))
}

@Test func aBinaryPulseUnderATernaryLevelIsDecodedAtThreeQuarters() throws {
    // Strong beats at 60 BPM and weaker ones halfway (120): the full range hears 120, and a level path forced to 80 BPM
    // (where the level rules put singularity-awakening) fits it worse than the one at 60 (scores -2.80 and -2.75).
    let a = activation(seconds: 30, pulses: [(60, 0.9), (120, 0.3)])
    let tracker = BeatTracker()
    let (dbn, levelPath, whole) = pathsAt80(a)
    let metre = try #require(
        tracker.metreByScore(dbn, activation: a, frameRate: 100, level: levelPath, whole: whole, range: 0.15, margin: 0.02))
    // 3/4 of the level path, never 3/2 of it (120 is the full range's octave too, but a 2:3 step is not offered).
    #expect(abs(meanTempo(metre.beats) / 60 - 1) < 0.04, "metre path \(meanTempo(metre.beats)), whole \(meanTempo(whole.beats))")
    #expect(metre.logScorePerFrame > levelPath.logScorePerFrame + 0.02)

    // Contrast: the same paths with a margin no score difference reaches keep the level path.
    #expect(tracker.metreByScore(dbn, activation: a, frameRate: 100, level: levelPath, whole: whole, range: 0.15, margin: 10) == nil)
}

@Test func aTernaryPulseKeepsItsLevel() {
    // Strong beats at 80 BPM with their thirds (240): the full range is at 80 (or an octave), so no 3/4 or 4/3 path is
    // an octave of it and the level path stands, whatever the margin.
    let a = activation(seconds: 30, pulses: [(80, 0.9), (240, 0.3)])
    let (dbn, levelPath, whole) = pathsAt80(a)
    #expect(BeatTracker().metreByScore(dbn, activation: a, frameRate: 100, level: levelPath, whole: whole, range: 0.15, margin: -10) == nil)
}
