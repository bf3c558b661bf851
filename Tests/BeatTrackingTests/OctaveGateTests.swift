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
