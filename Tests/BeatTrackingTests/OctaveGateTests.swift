import Foundation
import RendcTestSupport
import Testing
@testable import BeatTracking

// The tenth round's octave (docs/beats.md): below a saturated onset confidence the DBN's own score picks between the
// level range's path and those at half and twice its tempo. A clean fast pulse is confident, so the gate keeps its
// octave; ungated, the score halves it (the ninth round's D′ on the generated 180 BPM drums).

@Test func aCleanFastPulseKeepsItsOctaveAboveTheGate() throws {
    let track = try TrackFixtures.track(bpm: 180, bars: 24, drums: true)
    let gated = try BeatTracker().analyze(file: track.wav.path, maxDuration: nil)
    let score = BeatEvaluation.score(estimated: gated.beats, reference: track.beats)
    #expect(gated.confidence >= 1.0, "confidence \(gated.confidence)")
    #expect(score.fMeasure >= 0.9, "F \(score.fMeasure), tempo \(gated.tempo)")
    #expect(BeatEvaluation.tempoError(estimated: gated.tempo, reference: 180) < 0.04, "tempo \(gated.tempo)")

    // Contrast: the same track with the octave always by the score (gate above any confidence) is halved, so it is
    // the gate that keeps it.
    var always = BeatTracker()
    always.decoderOctaveByScoreBelow = 1.01
    let ungated = try always.analyze(file: track.wav.path, maxDuration: nil)
    #expect(BeatEvaluation.tempoError(estimated: ungated.tempo, reference: 90) < 0.04, "ungated tempo \(ungated.tempo)")
}

// The eleventh round: the octave by the score may only halve or double the level path. hr-domina-hunting-30's level
// path is at 139 BPM and its "half" window (58-106 BPM) held the DBN's 2:3 level at 92 BPM, which v11 took.
@Test func theOctaveByTheScoreOnlyHalvesOrDoubles() {
    func beats(_ bpm: Double, _ count: Int = 20) -> [Double] { (0..<count).map { 0.3 + Double($0) * 60 / bpm } }
    #expect(BeatTracker.isOctave(beats(69.5), of: beats(139), factor: 0.5))
    #expect(BeatTracker.isOctave(beats(278), of: beats(139), factor: 2))
    #expect(BeatTracker.isOctave(beats(71.5), of: beats(139), factor: 0.5))  // +2.9 %: within ±4 %
    #expect(!BeatTracker.isOctave(beats(92), of: beats(139), factor: 0.5))  // 2:3
    #expect(!BeatTracker.isOctave(beats(208.5), of: beats(139), factor: 2))  // 3:2
    #expect(!BeatTracker.isOctave(beats(73), of: beats(139), factor: 0.5))  // +5.0 %
    #expect(!BeatTracker.isOctave(beats(69.5), of: [], factor: 0.5))
}
