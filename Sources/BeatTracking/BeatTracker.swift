import Foundation

/// Finds the tempo and the beats of a music track: decode (libav*) -> log-mel spectral flux -> windowed
/// autocorrelation tempo with a log-normal prior and a metrical-level check -> Ellis' dynamic-programming tracker.
/// Returns no beats (and a low confidence) on silence, noise or speech, so callers fall back to fixed intervals.
public struct BeatTracker: Sendable {
    /// Rate the audio is resampled to before analysis.
    package static let analysisRate = 22050
    /// Bumped whenever a change can alter results (it keys the cache).
    package static let algorithmVersion = 7
    /// Seconds added to every beat time to correct the envelope's latency. Measured on the benchmark's rendered MIDI
    /// tracks, the mean offset to the true beats is -12...+13 ms depending on the instruments (frames are 23 ms), so
    /// no correction is applied.
    package static let onsetLatency = 0.0

    /// Below this whole-track confidence, only the beats of reliable sections are returned (see `BeatAnalysis`).
    public static var minimumConfidence: Double { BeatEstimator().minimumConfidence }

    package var onsets = OnsetDetector()
    package var estimator = BeatEstimator()
    /// A second pass for confident tracks: when set, a track that `estimator` accepts as a whole (confidence at least
    /// its `minimumConfidence`) takes its beats and tempo from this estimator (e.g. with the learned activation also
    /// in the tempo and the level rules), while the confidence, the rejection of noise and speech, partial beats and
    /// the reliable sections stay `estimator`'s. Off by default (docs/beats.md, fifth round).
    package var confidentEstimator: BeatEstimator?
    /// Signals quieter than this RMS (about -80 dBFS) are silence.
    package var silenceRMS: Float = 1e-4

    public init() {}

    /// Decodes at most `maxDuration` seconds of `path` (all of it when nil) and tracks its beats.
    public func analyze(file path: String, maxDuration: Double?) throws -> BeatAnalysis {
        let audio = try AudioDecoder(sampleRate: Self.analysisRate).decode(path: path, maxDuration: maxDuration)
        var result = analyze(samples: audio.samples, sampleRate: audio.sampleRate)
        result.trackDuration = audio.trackDuration
        return result
    }

    /// Tracks the beats of mono samples at any rate (resampled linearly to 22050 Hz when needed).
    public func analyze(samples: [Float], sampleRate: Int) -> BeatAnalysis {
        let duration = sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0
        let none = BeatAnalysis(tempo: 0, confidence: 0, beats: [], analysedDuration: duration, trackDuration: duration)
        guard sampleRate > 0, !samples.isEmpty else { return none }
        let input = sampleRate == Self.analysisRate ? samples : Self.resample(samples, from: sampleRate, to: Self.analysisRate)
        var energy: Double = 0
        for s in input where s.isFinite { energy += Double(s) * Double(s) }
        guard Float((energy / Double(input.count)).squareRoot()) > silenceRMS else { return none }
        let clean = input.contains { !$0.isFinite } ? input.map { $0.isFinite ? $0 : 0 } : input

        var detector = onsets
        detector.sampleRate = Self.analysisRate
        let envelope = detector.envelope(clean)
        var activation: [Float] = []
        if estimator.usesActivation || confidentEstimator?.usesActivation == true {
            switch estimator.activationModel {
            case .mlp: activation = BeatActivation.activation(mel: envelope.mel, bands: envelope.melBands)
            case .tcn: activation = BeatTCN.activation(mel: envelope.mel, bands: envelope.melBands)
            }
        }
        var result = estimator.track(envelope.values, low: envelope.low, activation: activation, frameRate: envelope.frameRate)
        if let second = confidentEstimator, !result.beatFrames.isEmpty, result.confidence >= estimator.minimumConfidence {
            let other = second.track(envelope.values, low: envelope.low, activation: activation, frameRate: envelope.frameRate)
            if !other.beatFrames.isEmpty {
                result.beatFrames = other.beatFrames
                result.tempo = other.tempo
            }
        }
        let beats = result.beatFrames
            .map { envelope.time(ofFrame: Double($0)) + Self.onsetLatency }
            .filter { $0 >= 0 && $0 <= duration }
        let spans = result.reliableSpans.compactMap { span -> ClosedRange<Double>? in
            let lo = max(0, envelope.time(ofFrame: Double(span.lowerBound)) + Self.onsetLatency)
            let hi = min(duration, envelope.time(ofFrame: Double(span.upperBound)) + Self.onsetLatency)
            return lo < hi ? lo...hi : nil
        }
        return BeatAnalysis(
            tempo: beats.isEmpty ? 0 : result.tempo, confidence: result.confidence, beats: beats,
            analysedDuration: duration, trackDuration: duration, reliableSpans: beats.isEmpty ? [] : spans)
    }

    /// The length of the track in seconds, from the container (or counted from its packets), without decoding.
    public static func trackDuration(file path: String) throws -> Double {
        try AudioDecoder(sampleRate: analysisRate).probeDuration(path: path)
    }

    static func resample(_ x: [Float], from source: Int, to target: Int) -> [Float] {
        let count = Int(Double(x.count) * Double(target) / Double(source))
        guard count > 0 else { return [] }
        let step = Double(source) / Double(target)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let position = Double(i) * step
            let j = Int(position)
            let f = Float(position - Double(j))
            let a = x[min(j, x.count - 1)], b = x[min(j + 1, x.count - 1)]
            out[i] = a + (b - a) * f
        }
        return out
    }
}
