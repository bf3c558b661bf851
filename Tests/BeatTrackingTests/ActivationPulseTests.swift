import Foundation
import RendcTestSupport
import Testing
@testable import BeatTracking

// The ninth round's rejection (docs/beats.md): the learned activation's own pulse keeps music the onset envelope
// rejects, and material without a pulse still returns no beats.

private let rate = 22050

/// An activation with a peak at each of `frames`.
private func spikes(at frames: [Int], count: Int) -> [Float] {
    var a = [Float](repeating: 0.02, count: count)
    for f in frames where f >= 0 && f < count {
        a[f] = 0.9
        if f > 0 { a[f - 1] = max(a[f - 1], 0.4) }
        if f + 1 < count { a[f + 1] = max(a[f + 1], 0.4) }
    }
    return a
}

@Test func activationPulseMeasuresRepetitionAlongThePath() {
    let frameRate = 22050.0 / 512, count = Int(30 * frameRate)
    let judge = ActivationPulse()
    // A steady pulse at 100 BPM, the path on it: both the beat and the bar repeat.
    let period = 60 * frameRate / 100
    let onBeat = (0..<50).map { Int((Double($0) * period).rounded()) }
    let path = onBeat.map { Double($0) / frameRate }
    let steady = judge.measure(spikes(at: onBeat, count: count), beats: path, frameRate: frameRate)
    #expect(steady.pulse >= 0.7 && steady.contrast >= 5, "steady: \(steady.beat) \(steady.bar) \(steady.contrast)")
    #expect(judge.accepts(steady))
    // The same number of spikes at random times, the same path: nothing repeats.
    var generator = TrackFixtures.SeededGenerator(state: 3)
    let random = (0..<50).map { _ in Int.random(in: 0..<count, using: &generator) }.sorted()
    let noise = judge.measure(spikes(at: random, count: count), beats: path, frameRate: frameRate)
    #expect(noise.periodicity < 0.25, "random: \(noise.beat) \(noise.bar)")
    #expect(!judge.accepts(noise))
    #expect(judge.sections(noise, frameCount: count, frameRate: frameRate, minimumSeconds: 8).isEmpty)
    // A slow swell (a drone's vibrato) correlates at every short lag but has no peaks at the beats.
    var swell = [Float](repeating: 0, count: count)
    for i in 0..<count { swell[i] = Float(0.3 + 0.05 * sin(2 * Double.pi * 0.23 * Double(i) / frameRate)) }
    let drone = judge.measure(swell, beats: path, frameRate: frameRate)
    #expect(drone.contrast < 1.5, "drone contrast \(drone.contrast)")
    #expect(!judge.accepts(drone))
    // The pulse in the first half only: one section there, none after.
    let half = onBeat.filter { Double($0) < 15 * frameRate } + random.filter { Double($0) >= 15 * frameRate }
    let partial = judge.measure(spikes(at: half.sorted(), count: count), beats: path, frameRate: frameRate)
    let sections = judge.sections(partial, frameCount: count, frameRate: frameRate, minimumSeconds: 8)
    #expect(
        sections.count == 1 && (sections.first.map { $0.lowerBound == 0 && Double($0.upperBound) < 17 * frameRate } ?? false),
        "sections \(sections)")
}

@Test func theActivationKeepsAPulseTheOnsetEnvelopeRejects() throws {
    // Contrast: with the onset envelope's confidence unable to reach its threshold, a piano track keeps its
    // beats only through the activation's pulse.
    let track = try TrackFixtures.track(bpm: 95, bars: 12, drums: false)
    var strict = BeatTracker()
    strict.estimator.minimumConfidence = 1.01
    strict.estimator.lockGate = false  // (strong phase locking would lift the confidence to the threshold)
    let kept = try strict.analyze(file: track.wav.path, maxDuration: nil)
    let score = BeatEvaluation.score(estimated: kept.beats, reference: track.beats)
    #expect(score.fMeasure >= 0.9, "with the activation's pulse: F \(score.fMeasure), \(kept.beats.count) beats")
    #expect(abs(kept.tempo / 95 - 1) < 0.03 && !kept.isPartial)
    strict.activationPulse = nil
    let rejected = try strict.analyze(file: track.wav.path, maxDuration: nil)
    #expect(rejected.beats.isEmpty, "onsets alone: \(rejected.beats.count) beats")
}

@Test func aClipTooShortToMeasureKeepsTheOnsetsVerdict() {
    // 3.5 s: under half of the measure's 8 s window, so no activation figure; a click track there keeps its beats
    // (it lost them to the veto when an unmeasured clip counted as periodicity 0).
    let reference = stride(from: 0.0, to: 3.4, by: 0.5).map { $0 }
    let analysis = BeatTracker().analyze(samples: TrackFixtures.clicks(at: reference, seconds: 3.5), sampleRate: rate)
    let score = BeatEvaluation.score(estimated: analysis.beats, reference: reference)
    #expect(score.fMeasure >= 0.9, "F \(score.fMeasure), \(analysis.beats.count) beats, confidence \(analysis.confidence)")
}

/// Material without a pulse, generated here (docs/beats.md, ninth round, lists how each fares; the bench's
/// `make_negatives.py` makes the longer set).
@Test func texturesAndDronesHaveNoBeats() {
    let seconds = 12.0, n = Int(seconds * Double(rate))
    var generator = TrackFixtures.SeededGenerator(state: 9)
    func white() -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &generator) } }
    func bursts(_ times: [Double], length: Int, decay: Double) -> [Float] {
        var x = [Float](repeating: 0, count: n)
        for t in times {
            let start = Int(t * Double(rate))
            let gain = Float.random(in: 0.2...1, using: &generator)
            for k in 0..<length where start + k < n {
                let shape = Float(exp(-Double(k) / (decay * Double(rate))))
                x[start + k] += gain * shape * Float.random(in: -1...1, using: &generator)
            }
        }
        return x
    }
    var brown = [Float](repeating: 0, count: n), level: Float = 0
    for (i, v) in white().enumerated() { level = 0.998 * level + 0.02 * v; brown[i] = level }
    let w = white()
    var blue = [Float](repeating: 0, count: n)
    for i in 1..<n { blue[i] = 0.5 * (w[i] - w[i - 1]) }
    var drops: [Double] = []
    for _ in 0..<Int(150 * seconds) { drops.append(Double.random(in: 0..<seconds, using: &generator)) }
    let rain = bursts(drops, length: 400, decay: 0.004)
    var claps: [Double] = []
    for _ in 0..<40 {
        let period = 1 / Double.random(in: 2.5...6, using: &generator)
        var t = Double.random(in: 0..<period, using: &generator)
        while t < seconds { claps.append(t); t += period * Double.random(in: 0.85...1.15, using: &generator) }
    }
    let applause = bursts(claps, length: 300, decay: 0.005)
    var times: [Double] = []
    for _ in 0..<Int(seconds) { times.append(Double.random(in: 0..<seconds, using: &generator)) }
    let clicks = bursts(times, length: 80, decay: 0.001)
    var drone = [Float](repeating: 0, count: n)
    for i in 0..<n {
        let t = Double(i) / Double(rate)
        let vibrato: Double = 0.12 * sin(2 * Double.pi * 0.23 * t)
        var sum = 0.0
        for f: Double in [110, 164.8, 220, 277.2] { sum += sin(2 * Double.pi * (f * t + vibrato)) }
        drone[i] = Float(0.1 * sum)
    }
    for (name, samples) in [
        ("brown noise", brown), ("blue noise", blue), ("rain", rain), ("applause", applause),
        ("clicks in silence", clicks), ("drone", drone),
    ] {
        let analysis = BeatTracker().analyze(samples: samples, sampleRate: rate)
        #expect(analysis.beats.isEmpty, "\(name): \(analysis.beats.count) beats, confidence \(analysis.confidence)")
        #expect(analysis.confidence < BeatTracker.minimumConfidence)
    }
}

@Test func proseInSeveralLanguagesHasNoBeats() throws {
    let directory = try Fixtures.temporaryDirectory("beat-prose")
    defer { try? FileManager.default.removeItem(at: directory) }
    let texts = [
        (
            "de",
            "Die Geschichte der kleinen Stadt am Fluss reicht viele Jahrhunderte zurück. Zuerst lebten hier Fischer, später kamen Händler mit Salz, Holz und Wolle. Mit der Zeit füllten sich die engen Gassen mit Werkstätten."
        ),
        (
            "fr",
            "L'histoire de ce petit port remonte à plusieurs siècles. Des pêcheurs se sont installés à l'embouchure du fleuve, puis des marchands sont arrivés avec du sel, du bois et de la laine."
        ),
        (
            "en",
            "The history of the harbour town goes back many centuries. Fishermen settled along the river mouth, and traders soon followed with salt, timber and wool. Over time the narrow streets filled with workshops, and the old market square became the centre of public life."
        ),
    ]
    for (language, text) in texts {
        let wav = directory.appendingPathComponent("prose-\(language).wav")
        try TrackFixtures.run("espeak-ng", ["-v", language, "-s", language == "en" ? "220" : "160", "-w", wav.path, text])
        let analysis = try BeatTracker().analyze(file: wav.path, maxDuration: nil)
        #expect(analysis.beats.isEmpty, "\(language): \(analysis.beats.count) beats, confidence \(analysis.confidence)")
        #expect(analysis.analysedDuration > 8)
    }
    // Known failure, of the eighth round's tracker as of this one: the first two sentences alone at 220 words a
    // minute (6.7 s, shorter than one 8 s window of the activation's measure) get 8 beats at 72 BPM, onset
    // confidence 0.39, activation periodicity 0.25 (the veto is 0.2). docs/beats.md, ninth round.
    let short = directory.appendingPathComponent("prose-short.wav")
    try TrackFixtures.run("espeak-ng", ["-v", "en", "-s", "220", "-w", short.path, String(texts[2].1.prefix(152))])
    let analysis = try BeatTracker().analyze(file: short.path, maxDuration: nil)
    withKnownIssue("short fast prose is taken for a slow pulse") {
        #expect(analysis.beats.isEmpty, "short prose: \(analysis.beats.count) beats, confidence \(analysis.confidence)")
    }
}
