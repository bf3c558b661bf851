import Foundation
import Testing
@testable import BeatTracking

/// The full-range tempo DBN (`BeatDBN`) on generated activations: a beat probability per frame at the analysis frame
/// rate (512 / 22050 s), with peaks at known beat times over a floor of small values and some seeded noise.
struct DecoderTests {
    static let frameRate = 22050.0 / 512

    static func activation(beats: [Double], seconds: Double, seed: UInt64) -> [Float] {
        var generator = TrackFixtures.SeededGenerator(state: seed)
        var a = (0..<Int(seconds * frameRate)).map { _ in Float.random(in: 0.01...0.08, using: &generator) }
        for b in beats {
            let f = Int((b * frameRate).rounded())
            for (d, v) in [(-1, Float(0.3)), (0, 0.9), (1, 0.3)] where f + d >= 0 && f + d < a.count { a[f + d] = max(a[f + d], v) }
        }
        return a
    }

    @Test(arguments: [60.0, 123.0, 200.0])
    func decodesASteadyPulseAnywhereInTheTempoRange(bpm: Double) {
        let beats = stride(from: 0.3, to: 19.5, by: 60 / bpm).map { $0 }
        let act = Self.activation(beats: beats, seconds: 20, seed: UInt64(bpm))
        let decoded = BeatDBN().decode(act, activationRate: Self.frameRate)
        let score = BeatEvaluation.score(estimated: decoded.beats, reference: beats)
        #expect(score.fMeasure >= 0.95, "\(bpm) BPM: F \(score.fMeasure)")
        let tempo = 60 * Double(decoded.beats.count - 1) / ((decoded.beats.last ?? 0) - (decoded.beats.first ?? 0))
        #expect(BeatEvaluation.tempoError(estimated: tempo, reference: bpm) < 0.02, "\(bpm) BPM: tempo \(tempo)")
        // Contrast: limited to a range that excludes the pulse, the decoder cannot find it.
        var elsewhere = BeatDBN()
        elsewhere.minTempo = bpm * 1.3
        elsewhere.maxTempo = bpm * 1.6
        let wrong = elsewhere.decode(act, activationRate: Self.frameRate)
        #expect(BeatEvaluation.score(estimated: wrong.beats, reference: beats).fMeasure < 0.8)
    }

    @Test func followsATempoStepAndPruningKeepsThePath() {
        let first = stride(from: 0.4, to: 12, by: 60 / 90.0).map { $0 }
        let second = stride(from: (first.last ?? 0) + 0.5, to: 24, by: 0.5).map { $0 }
        let beats = first + second
        let act = Self.activation(beats: beats, seconds: 24.5, seed: 3)
        let pruned = BeatDBN().decode(act, activationRate: Self.frameRate)
        #expect(BeatEvaluation.score(estimated: pruned.beats, reference: beats).fMeasure >= 0.95)
        // Every transition kept (madmom's model as it is): the same beats, but for one at the step that a transition
        // under the floor moves by 20 ms.
        var full = BeatDBN()
        full.transitionFloor = 0
        let unpruned = full.decode(act, activationRate: Self.frameRate)
        #expect(unpruned.beats.count == pruned.beats.count)
        #expect(zip(unpruned.beats, pruned.beats).filter { abs($0 - $1) > 1e-9 }.count <= 1)
        #expect(zip(unpruned.beats, pruned.beats).allSatisfy { abs($0 - $1) <= 0.03 })
    }

    @Test func aPulseFitsTheModelBetterThanNoiseAndNoInputGivesNoBeats() {
        let beats = stride(from: 0.3, to: 19.5, by: 0.5).map { $0 }
        let pulse = BeatDBN().decode(Self.activation(beats: beats, seconds: 20, seed: 5), activationRate: Self.frameRate)
        let noise = BeatDBN().decode(Self.activation(beats: [], seconds: 20, seed: 5), activationRate: Self.frameRate)
        #expect(pulse.logScorePerFrame > noise.logScorePerFrame, "pulse \(pulse.logScorePerFrame), noise \(noise.logScorePerFrame)")
        #expect(BeatDBN().decode([], activationRate: Self.frameRate).beats.isEmpty)
        #expect(BeatDBN().decode([0.5], activationRate: Self.frameRate).beats.isEmpty)
    }
}
