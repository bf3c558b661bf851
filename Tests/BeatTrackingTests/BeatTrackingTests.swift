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
