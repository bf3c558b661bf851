import Foundation
import MediaFormats
import LibAV
import Planner

/// The audio track: the plan's audio graph (`RenderPlan.audioGraph`, exactly as `rendc plan` prints it: the music's
/// piece or loop, fades, the voice-over and its ducking, loudness normalisation, 48 kHz float) run by libavfilter,
/// or silence. Frames come out sized for the AAC encoder.
typealias AudioSource = AudioGraph

extension AudioGraph {
    convenience init(plan: RenderPlan, frameSize: Int) throws {
        let g = plan.audioGraph
        try self.init(
            graph: g.text, inputs: g.inputs, reads: AudioGraph.reads(plan, labels: g.inputs.map(\.label)), sampleRate: plan.encoder.audioSampleRate,
            frameSize: frameSize)
    }

    /// The plan's `audioInputReads` by input label (`labels` in the order the graph numbers its inputs).
    static func reads(_ plan: RenderPlan, labels: [String]) -> [String: ClosedRange<Double>] {
        var out: [String: ClosedRange<Double>] = [:]
        for (label, read) in zip(labels, plan.audioInputReads) { if let read { out[label] = read } }
        return out
    }

    /// Output loudness read back from the graph's last `ebur128` (nil when the graph does not measure).
    var outputLoudness: LoudnessMeasurement? {
        guard let i = metadata["lavfi.r128.I"].flatMap(Double.init) else { return nil }
        let peak = metadataMaximum["lavfi.r128.true_peak"].map { 20 * log10(max($0, 1e-9)) } ?? -99
        return LoudnessMeasurement(integrated: i, truePeak: peak, range: metadata["lavfi.r128.LRA"].flatMap(Double.init) ?? 0)
    }
}

/// Measurements of audio taken before planning and rendering (first passes), all in libavfilter.
public enum AudioMeasure {
    /// Level and onset frames a second in `profile`.
    public static let profileRate = 50.0

    /// The level and onsets of the first `maxDuration` seconds of a track (mono, 8 kHz, 20 ms frames).
    public static func profile(path: String, maxDuration: Double) throws -> AudioProfile {
        let samples = try monoSamples(path: path, maxDuration: maxDuration)
        let hop = Int(8000 / profileRate)
        var level: [Float] = []
        level.reserveCapacity(samples.count / hop + 1)
        var i = 0
        while i + hop <= samples.count {
            var p: Float = 0
            for j in i..<(i + hop) { p += samples[j] * samples[j] }
            level.append(10 * log10(max(p / Float(hop), 1e-10)))
            i += hop
        }
        var onset = [Float](repeating: 0, count: level.count)
        for k in 1..<max(1, level.count) { onset[k] = max(0, level[k] - max(level[k - 1], -80)) }
        // 2.5 ms frames for lining up loops.
        let fineHop = 20
        var fine: [Float] = []
        fine.reserveCapacity(samples.count / fineHop + 1)
        i = 0
        while i + fineHop <= samples.count {
            var p: Float = 0
            for j in i..<(i + fineHop) { p += samples[j] * samples[j] }
            fine.append(max(-60, 10 * log10(max(p / Float(fineHop), 1e-10))))
            i += fineHop
        }
        return AudioProfile(frameRate: profileRate, level: level, onset: onset, fineRate: 8000 / Double(fineHop), fine: fine)
    }

    /// Where a voice speaks: 20 ms frames more than 30 dB above the floor and within 35 dB of the loudest, gaps
    /// under 0.4 s bridged, blips under 0.1 s dropped.
    public static func speech(path: String, maxDuration: Double) throws -> (duration: Double, spans: [ClosedRange<Double>]) {
        speech(profile: try profile(path: path, maxDuration: maxDuration))
    }

    /// The speech spans of a voice whose level `profile` was measured already (e.g. read from a cache).
    public static func speech(profile p: AudioProfile) -> (duration: Double, spans: [ClosedRange<Double>]) {
        let duration = Double(p.level.count) / p.frameRate
        guard let top = p.level.max() else { return (0, []) }
        let threshold = max(top - 35, -60)
        var spans: [ClosedRange<Double>] = []
        var startFrame: Int?
        for k in 0...p.level.count {
            let l: Float = k < p.level.count ? p.level[k] : -200
            if l >= threshold {
                if startFrame == nil { startFrame = k }
            } else if let s = startFrame {
                let r = Double(s) / p.frameRate...Double(k) / p.frameRate
                if let last = spans.last, r.lowerBound - last.upperBound < 0.4 {
                    spans[spans.count - 1] = last.lowerBound...r.upperBound
                } else {
                    spans.append(r)
                }
                startFrame = nil
            }
        }
        return (duration, spans.filter { $0.upperBound - $0.lowerBound >= 0.1 })
    }

    /// One measuring pass: the plan's mix (with its normalisation gain and limiter, when set), measured by `ebur128`.
    /// `shouldStop` is polled between audio frames and ends the pass with a `.cancelled` error.
    public static func loudness(plan: RenderPlan, shouldStop: () -> Bool = { false }) throws -> LoudnessMeasurement {
        let text = plan.audioGraphText(stage: .measure)
        let inputs = plan.audioGraphInputs(firstIndex: 0)
        let graph = try AudioGraph(
            graph: text, inputs: inputs, reads: AudioGraph.reads(plan, labels: inputs.map(\.label)), sampleRate: plan.encoder.audioSampleRate,
            frameSize: nil)
        while try graph.next() != nil {
            if shouldStop() { throw BackendError(.cancelled, "the loudness measurement was stopped") }
        }
        guard let m = graph.outputLoudness else {
            throw MediaError(.filter, code: .corrupt, path: plan.audio?.source?.path, "the mix could not be measured")
        }
        return m
    }

    /// Loudness normalisation by measurement: the mix as it is, then gain and limiter, the gain corrected
    /// (secant steps) until the measured loudness is within 0.3 LU of the target (at most four passes, and at most
    /// 12 dB more than `target - input`, so very peaky music ends up a little under the target rather than crushed).
    /// Silence (below -60 LUFS) is left as it is. `pass` is called before each measuring pass (for counting in
    /// tests); `shouldStop` ends the measurement early with a `.cancelled` error.
    public static func normalise(plan: RenderPlan, pass: () -> Void = {}, shouldStop: () -> Bool = { false }) throws -> LoudnessPlan? {
        guard var l = plan.audio?.loudness else { return nil }
        var p = plan
        p.audio?.loudness?.gain = nil
        func loudness(plan: RenderPlan) throws -> LoudnessMeasurement {
            pass()
            return try AudioMeasure.loudness(plan: plan, shouldStop: shouldStop)
        }
        let input = try loudness(plan: p)
        l.input = input
        guard input.integrated > -60 else { return l }
        var tried: [(gain: Double, out: Double)] = []
        var gain = l.target - input.integrated
        var best: (gain: Double, m: LoudnessMeasurement)?
        for _ in 0..<4 {
            p.audio?.loudness?.gain = gain
            let m = try loudness(plan: p)
            if best == nil || abs(m.integrated - l.target) < abs(best!.m.integrated - l.target) { best = (gain, m) }
            if abs(m.integrated - l.target) <= 0.3 { break }
            tried.append((gain, m.integrated))
            if tried.count >= 2 {
                let (a, b) = (tried[tried.count - 2], tried[tried.count - 1])
                let slope = abs(b.out - a.out) > 1e-3 ? (b.out - a.out) / (b.gain - a.gain) : 1
                gain = b.gain + (l.target - b.out) / max(0.2, min(slope, 1.5))
            } else {
                gain += l.target - m.integrated
            }
            // At most 12 dB more than the plain gain: past that the limiter would be flattening the music.
            gain = min(gain, l.target - input.integrated + 12)
        }
        l.gain = best!.gain
        l.predicted = best!.m
        return l
    }

    /// The plan's audio exactly as the video gets it (its render graph), the first channel as floats, with the
    /// files the graph opened, the frames it decoded and the most decoded audio it held at once (bytes): tests
    /// measure seams and count decodes with it. `windows: false` sends every input all of its file, as before
    /// `audioInputReads` (to show the cuts stay where they were).
    package static func rendered(plan: RenderPlan, windows: Bool = true) throws -> (samples: [Float], files: Int, frames: Int, heldBytes: Int) {
        let g = plan.audioGraph
        let text = g.text.replacingOccurrences(of: "[aout]", with: "[rendered]") + ";[rendered]pan=mono|c0=c0,aformat=sample_fmts=flt[aout]"
        let graph = try AudioGraph(
            graph: text, inputs: g.inputs, reads: windows ? AudioGraph.reads(plan, labels: g.inputs.map(\.label)) : [:],
            sampleRate: plan.encoder.audioSampleRate, frameSize: 4096)
        var out: [Float] = []
        while let f = try graph.next() { out += graph.monoSamples(of: f) }
        let counts = graph.decodeCounts
        return (out, counts.files, counts.frames, graph.peakHeldBytes)
    }

    static func monoSamples(path: String, maxDuration: Double) throws -> [Float] {
        let chain = String(
            format: "[0:a]asetpts=PTS-STARTPTS,atrim=end=%.3f,aresample=8000,aformat=sample_fmts=flt:sample_rates=8000:channel_layouts=mono[aout]",
            maxDuration)
        let graph = try AudioGraph(graph: chain, inputs: [("0:a", path)], sampleRate: 8000, frameSize: 4096)
        var out: [Float] = []
        while let f = try graph.next() { out += graph.monoSamples(of: f) }
        return out
    }
}

/// A loudness normalisation measured on a thread of its own, beside the first frames: the renderer builds its audio
/// graph (which needs the gain) only once the result is ready, and video runs ahead meanwhile (the muxer holds its
/// packets until the audio catches up). `cancel()` stops the passes; `join()` waits for the thread to end.
public final class PendingLoudness: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<LoudnessPlan?, any Error>?
    private var stopped = false
    private var running = true

    /// Starts `measure` on a new thread; it is handed a function that says whether to stop.
    public init(measure: @escaping @Sendable (_ shouldStop: @escaping @Sendable () -> Bool) throws -> LoudnessPlan?) {
        let thread = Thread { [self] in
            let r = Result { try measure { [self] in self.isStopped } }
            // The passes' decoded audio and graphs are freed: give their pages back while the frames go on.
            Backend.releaseFreeMemory()
            condition.lock()
            result = r
            running = false
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "rendc-loudness"
        thread.start()
    }

    /// A result that is already known (a cache hit): no thread.
    public init(ready: LoudnessPlan?) {
        result = .success(ready)
        running = false
    }

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    /// True once the measurement has finished (or failed).
    public var isReady: Bool {
        condition.lock(); defer { condition.unlock() }
        return result != nil
    }

    /// The measured normalisation, waiting for it if need be; rethrows the measurement's error.
    public func wait() throws -> LoudnessPlan? {
        condition.lock()
        while result == nil { condition.wait() }
        let r = result!
        condition.unlock()
        return try r.get()
    }

    /// Asks the measurement to stop (its result becomes a `.cancelled` error unless it had finished).
    public func cancel() {
        condition.lock()
        stopped = true
        condition.unlock()
    }

    /// Waits until the measuring thread has ended (after `cancel()`, within one audio frame).
    public func join() {
        condition.lock()
        while running { condition.wait() }
        condition.unlock()
    }
}
