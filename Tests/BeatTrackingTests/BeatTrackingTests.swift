import Foundation
import Testing
@testable import BeatTracking

// MARK: - FFT and scoring helpers

@Test func realFFTMatchesTheDirectTransform() throws {
    for size in [8, 64, 2048] {
        let fft = try #require(RealFFT(size: size))
        var generator = TrackFixtures.SeededGenerator(state: UInt64(size))
        let x = (0..<size).map { _ in Float.random(in: -1...1, using: &generator) }
        var re = [Float](repeating: 0, count: size / 2 + 1)
        var im = re
        x.withUnsafeBufferPointer { input in
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in fft.forward(input.baseAddress!, outRe: r.baseAddress!, outIm: i.baseAddress!) }
            }
        }
        var worst = 0.0
        for k in [0, 1, 2, size / 4, size / 2 - 1, size / 2] {
            var sr = 0.0, si = 0.0
            for n in 0..<size {
                let angle = -2 * Double.pi * Double(k * n) / Double(size)
                sr += Double(x[n]) * cos(angle)
                si += Double(x[n]) * sin(angle)
            }
            worst = max(worst, abs(sr - Double(re[k])), abs(si - Double(im[k])))
        }
        #expect(worst < 1e-3 * Double(size).squareRoot(), "size \(size): worst error \(worst)")
    }
    #expect(RealFFT(size: 1000) == nil)
}

@Test func fMeasureScoresMatchesWithinTheTolerance() {
    let reference = (0..<10).map { Double($0) * 0.5 }
    #expect(BeatEvaluation.score(estimated: reference, reference: reference).fMeasure == 1)
    // 60 ms late: still inside ±70 ms.
    #expect(BeatEvaluation.score(estimated: reference.map { $0 + 0.06 }, reference: reference).fMeasure == 1)
    // 100 ms late: nothing matches.
    #expect(BeatEvaluation.score(estimated: reference.map { $0 + 0.1 }, reference: reference).fMeasure == 0)
    // Every other beat (half tempo): precision 1, recall 0.5.
    let half = BeatEvaluation.score(estimated: stride(from: 0, to: 5, by: 1.0).map { $0 }, reference: reference)
    #expect(half.precision == 1 && half.recall == 0.5)
    #expect(abs(half.fMeasure - 2.0 / 3.0) < 1e-9)
    // Double tempo: precision 0.5, recall 1.
    let double = BeatEvaluation.score(estimated: stride(from: 0, to: 5, by: 0.25).map { $0 }, reference: reference)
    #expect(double.recall == 1 && double.precision == 0.5)
    // One estimate cannot match two references.
    let crowded = BeatEvaluation.score(estimated: [1.0], reference: [0.97, 1.03])
    #expect(crowded.matched == 1 && crowded.recall == 0.5)
    #expect(BeatEvaluation.score(estimated: [], reference: reference).fMeasure == 0)
    #expect(BeatEvaluation.tempoError(estimated: 121.2, reference: 120) < 0.011)
}

/// CMLc, CMLt, AMLc, AMLt against mir_eval 0.8.2. Lists and figures pasted from
/// `bench/.venv/bin/python bench/beats/continuity_cases.py` (numpy default_rng(14)): a reference of 16 beats
/// round(0.3 + 0.5 i + N(0, 0.01), 3), and estimates near it, on its off-beats, at double tempo, at half tempo (even
/// beats), on a 3:2 grid, with three beats moved 0.2 s, starting at beat 4 and running 3 s past the end, on the beat
/// then off it, drifting at a 0.54 s period, two beats, one, none; each figure is mir_eval.beat.continuity(reference, e).
@Test func continuityMatchesMirEval() {
    let reference = [
        0.307, 0.790, 1.284, 1.771, 2.296, 2.812, 3.300, 3.805, 4.310, 4.791, 5.327, 5.791, 6.304, 6.827, 7.299, 7.801,
    ]
    let cases: [(String, [Double], [Double])] = [
        ("close", [0.297, 0.797, 1.241, 1.758, 2.330, 2.816, 3.295, 3.812, 4.318, 4.794, 5.339, 5.758, 6.316, 6.814, 7.315, 7.801], [1, 1, 1, 1]),
        ("offbeat", [0.539, 1.036, 1.517, 2.044, 2.554, 3.065, 3.541, 4.074, 4.547, 5.073, 5.568, 6.036, 6.569, 7.058, 7.554], [0, 0, 1, 1]),
        (
            "double",
            [
                0.321, 0.555, 0.801, 1.025, 1.286, 1.531, 1.782, 2.027, 2.302, 2.558, 2.797, 3.046, 3.304, 3.541, 3.793, 4.066, 4.313, 4.548,
                4.792, 5.055, 5.322, 5.554, 5.795, 6.061, 6.299, 6.565, 6.825, 7.050, 7.302, 7.559, 7.793,
            ], [0, 0, 1, 1]
        ),
        ("half", [0.798, 1.765, 2.824, 3.817, 4.787, 5.771, 6.824, 7.787], [0, 0, 1, 1]),
        (
            "threeTwo",
            [
                0.307, 0.640, 0.973, 1.306, 1.639, 1.972, 2.305, 2.638, 2.972, 3.305, 3.638, 3.971, 4.304, 4.637, 4.970, 5.303, 5.636, 5.969,
                6.302, 6.635, 6.968, 7.301, 7.634,
            ], [0, 0, 0, 0]
        ),
        (
            "gap", [0.294, 0.787, 1.298, 1.770, 2.294, 2.793, 3.494, 3.991, 4.515, 4.786, 5.327, 5.791, 6.302, 6.837, 7.304, 7.798],
            [0.375, 0.75, 0.375, 0.75]
        ),
        (
            "longer",
            [2.316, 2.832, 3.320, 3.825, 4.330, 4.811, 5.347, 5.811, 6.324, 6.847, 7.319, 7.821, 8.301, 8.801, 9.301, 9.801, 10.301, 10.801],
            [2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3]
        ),
        ("mixed", [0.309, 0.796, 1.298, 1.772, 2.310, 2.806, 3.298, 3.790, 4.550, 5.059, 5.559, 6.048, 6.566, 7.063, 7.550], [0.5, 0.5, 0.5, 0.5]),
        (
            "drift", [0.290, 0.830, 1.370, 1.910, 2.450, 2.990, 3.530, 4.070, 4.610, 5.150, 5.690, 6.230, 6.770, 7.310],
            [0.1875, 0.375, 0.26666666666666666, 0.375]
        ),
        ("two", [1.781, 2.306], [0.125, 0.125, 0.125, 0.125]),
        ("one", [1.771], [0, 0, 0, 0]),
        ("none", [], [0, 0, 0, 0]),
    ]
    for (name, estimated, expected) in cases {
        let c = BeatEvaluation.continuity(estimated: estimated, reference: reference)
        let got = [c.cmlC, c.cmlT, c.amlC, c.amlT]
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(name): \(got), mir_eval \(expected)")
    }
    // Order does not matter (mir_eval would refuse unsorted times), nor which side has fewer than two beats.
    let gap = cases[5].1
    #expect(BeatEvaluation.continuity(estimated: gap.reversed(), reference: reference).cmlT == 0.75)
    #expect(BeatEvaluation.continuity(estimated: reference, reference: [1.771]).amlT == 0)
}

// MARK: - Signals without music

@Test func silenceHasNoBeats() {
    let analysis = BeatTracker().analyze(samples: [Float](repeating: 0, count: 22050 * 10), sampleRate: 22050)
    #expect(analysis.beats.isEmpty)
    #expect(analysis.tempo == 0)
    #expect(analysis.confidence < 0.3)
    #expect(abs(analysis.analysedDuration - 10) < 1e-6)
}

@Test func whiteNoiseHasNoBeats() {
    for seed in [1, 2, 3] as [UInt64] {
        let analysis = BeatTracker().analyze(samples: TrackFixtures.noise(seconds: 15, seed: seed), sampleRate: 22050)
        #expect(analysis.beats.isEmpty, "seed \(seed): \(analysis.beats.count) beats, confidence \(analysis.confidence)")
        #expect(analysis.confidence < 0.3)
    }
}

@Test func irregularClicksHaveNoBeats() {
    // Random onsets, no pulse (like speech syllables or rain).
    var generator = TrackFixtures.SeededGenerator(state: 9)
    var times: [Double] = []
    var t = 0.1
    while t < 15 {
        times.append(t)
        t += Double.random(in: 0.08...0.7, using: &generator)
    }
    let analysis = BeatTracker().analyze(samples: TrackFixtures.clicks(at: times, seconds: 15), sampleRate: 22050)
    #expect(analysis.beats.isEmpty, "\(analysis.beats.count) beats, confidence \(analysis.confidence)")
}

@Test func clickTrackBeatsAreFoundFromTheFirstSecond() {
    for bpm in [75.0, 128.0, 172.0] {
        let reference = stride(from: 0.0, to: 14.9, by: 60 / bpm).map { $0 }
        let samples = TrackFixtures.clicks(at: reference, seconds: 15)
        let analysis = BeatTracker().analyze(samples: samples, sampleRate: 22050)
        let score = BeatEvaluation.score(estimated: analysis.beats, reference: reference)
        #expect(score.fMeasure >= 0.9, "\(bpm) BPM: F \(score.fMeasure)")
        #expect(BeatEvaluation.tempoError(estimated: analysis.tempo, reference: bpm) < 0.02, "\(bpm) BPM: tempo \(analysis.tempo)")
        #expect(analysis.confidence >= 0.5)
        // Another sample rate gives the same beats.
        let resampled = BeatTracker.resample(samples, from: 22050, to: 44100)
        let other = BeatTracker().analyze(samples: resampled, sampleRate: 44100)
        #expect(BeatEvaluation.score(estimated: other.beats, reference: reference).fMeasure >= 0.9)
    }
}

@Test func emptyInputGivesAnEmptyAnalysis() {
    let analysis = BeatTracker().analyze(samples: [], sampleRate: 22050)
    #expect(analysis.beats.isEmpty && analysis.analysedDuration == 0)
    #expect(BeatTracker().analyze(samples: [0.1, 0.2], sampleRate: 0).beats.isEmpty)
}
