import FilterGraphBackend
import Foundation
import Planner
import RenderPipeline
import RendcTestSupport
import Testing

/// The music's waveform at every seam (audio13): a DC offset is taken out and every cut (a set start mid-waveform,
/// the video's end, a loop seam) is free of steps before loudness normalisation amplifies them; a loop decodes its
/// track once. Measured on the render graph's own output (48 kHz float, before AAC), against the same plan with
/// `declick` off.
@Suite(.serialized, .ownThreads) struct AudioSeamTests {
    /// What a waveform does at its cuts: the DC (mean over the steady middle, as a fraction of its peak there), the
    /// largest step between samples in that middle (the sine's own slope), and the largest step anywhere, counting
    /// the step from silence into the first sample and from the last back to silence.
    struct Seams: CustomStringConvertible {
        var dc: Double, natural: Double, worst: Double, atStart: Double, atEnd: Double
        init(_ x: [Float], middle: Range<Int>) {
            let m = x[middle]
            let peak = Double(m.map { abs($0) }.max() ?? 1)
            dc = abs(Double(m.reduce(0, +)) / Double(m.count)) / max(peak, 1e-9)
            func steps(_ r: Range<Int>) -> Double { Double(r.dropFirst().map { abs(x[$0] - x[$0 - 1]) }.max() ?? 0) }
            natural = steps(middle)
            atStart = Double(abs(x.first ?? 0))
            atEnd = Double(abs(x.last ?? 0))
            worst = max(steps(0..<x.count), atStart, atEnd)
        }
        var description: String {
            String(
                format: "dc %.3f of peak, steps: natural %.4f, worst %.4f, into the first %.4f, out of the last %.4f", dc, natural, worst, atStart,
                atEnd)
        }
    }

    static func request(_ template: String, _ track: String, seconds: Double) -> RenderRequest {
        RenderRequest(template: template, images: [AudioTests.picture], audio: track, duration: seconds, output: AudioTests.path("seam.mp4"))
    }

    /// A 220 Hz sine of 0.1 riding on +0.2 of DC, started at 1.228 s (the 0.25 s fade-in of a start inside the
    /// track covered that cut already) and cut by the video's end, normalised to -14 LUFS: without the fix the
    /// output ends with a jump to silence of 35 to 100 times the sine's own steepest step (wherever the wave is),
    /// and two thirds of its peak is DC.
    @Test func aDCOffsetAndMidWaveCutsLeaveNoStep() throws {
        let track = try AudioTests.generate("dc.wav", "0.2+0.1*sin(2*PI*220*t)", seconds: 8)
        let template = try AudioTests.template("dc-cut", audio: "start: 1.228, fade_out: 0")
        let plan = try RenderFixture.pipeline.plan(Self.request(template, track, seconds: 3))
        #expect(plan.audio?.loudness?.gain != nil, "not normalised")
        let middle = 24_000..<120_000
        let out = try AudioMeasure.rendered(plan: plan).samples
        #expect(out.count == 3 * 48_000)
        let fixed = Seams(out, middle: middle)
        #expect(fixed.dc < 0.01, "\(fixed)")
        #expect(fixed.worst <= 1.25 * fixed.natural, "\(fixed)")
        // The fade runs to its end: the limiter's 1 ms look-ahead is compensated (`latency=true`), where it used to
        // delay the audio by 1 ms and cut the fade's last millisecond off (the output ended at 7% of the wave).
        #expect(fixed.atEnd <= 0.1 * fixed.natural, "\(fixed)")
        print("audio13 cut: after \(fixed)")
        var raw = plan
        raw.audio?.declick = false
        let before = Seams(try AudioMeasure.rendered(plan: raw).samples, middle: middle)
        print("audio13 cut: before \(before)")
        #expect(before.dc > 0.5, "\(before)")
        #expect(before.atEnd > 20 * before.natural, "\(before)")
    }

    /// A 2.5 s track with the same DC looped under an 8 s video: the 80 ms crossfade leaves no step at the seams, and
    /// the track is opened and decoded once for all its pieces (no more frames than the unlooped track's single pass;
    /// before, each piece opened the file and decoded it from 0).
    @Test func loopSeamsHaveNoStepAndTheTrackIsDecodedOnce() throws {
        let track = try AudioTests.generate("dc-loop.wav", "0.2+0.5*sin(2*PI*220*t)", seconds: 2.5)
        let template = try AudioTests.template("dc-loop", audio: "fade_out: 0, loudness: off")
        let plan = try RenderFixture.pipeline.plan(Self.request(template, track, seconds: 8))
        let segments = try #require(plan.audio?.segments)
        try #require(segments.count >= 3, "\(segments)")
        #expect(plan.audioGraph.inputs.count == segments.count)
        let looped = try AudioMeasure.rendered(plan: plan)
        #expect(looped.samples.count == 8 * 48_000)
        let seams = Seams(looped.samples, middle: 24_000..<96_000)
        #expect(seams.dc < 0.01 && seams.worst <= 1.25 * seams.natural, "\(seams)")
        // The contrast: without DC removal and the short fades the track's first sample jumps from silence to the
        // DC plus the sine (0.2 here, 14 times the sine's steepest step).
        var raw = plan
        raw.audio?.declick = false
        let before = Seams(try AudioMeasure.rendered(plan: raw).samples, middle: 24_000..<96_000)
        print("audio13 loop: after \(seams), before \(before); files \(looped.files), frames \(looped.frames), held \(looped.heldBytes) B")
        #expect(before.dc > 0.2 && before.atStart > 10 * before.natural, "\(before)")
        // The seams themselves, where the pieces are crossfaded.
        for s in segments.dropFirst() {
            let at = Int(s.outputStart * 48_000)
            let around = Seams(looped.samples, middle: (at - 4800)..<(at + 4800))
            #expect(around.natural <= 1.1 * seams.natural, "seam at \(s.outputStart) s: \(around)")
        }
        #expect(looped.files == 1, "\(looped.files) files opened for \(segments.count) pieces")
        let unlooped = try RenderFixture.pipeline.plan(
            Self.request(try AudioTests.template("dc-once", audio: "loop: false, fade_out: 0, loudness: off"), track, seconds: 8))
        let once = try AudioMeasure.rendered(plan: unlooped)
        #expect(once.files == 1 && looped.frames <= once.frames, "looped: \(looped.frames) frames, once: \(once.frames)")
        // What waits for the later pieces is the track's decoded PCM (16-bit stereo here), no more.
        #expect(looped.heldBytes > 0 && looped.heldBytes <= Int(2.6 * 44_100) * 2 * 2, "\(looped.heldBytes) bytes held")
    }

    /// A 12 s track started at 9.5 s and looped under 8 s: each piece is sent only the frames from about a second
    /// before its span, where it used to get the whole file from 0. The output is the same, sample for sample within
    /// the sine's own step (the resampler starts its grid at another input sample: under one output sample, 21 µs),
    /// so every cut and seam stays where it was; a cut 1 ms off would differ by 50 times that.
    @Test func framesBeforeAPieceAreNotSentAndTheCutsStayPut() throws {
        let track = try AudioTests.generate("late-loop.wav", "0.2+0.5*sin(2*PI*220*t)", seconds: 12)
        let template = try AudioTests.template("late-loop", audio: "start: 9.5, fade_out: 0, loudness: off")
        let plan = try RenderFixture.pipeline.plan(Self.request(template, track, seconds: 8))
        let segments = try #require(plan.audio?.segments)
        try #require(segments.count >= 3 && segments.dropFirst().allSatisfy { $0.trackStart > 5 }, "\(segments)")
        let windowed = try AudioMeasure.rendered(plan: plan)
        let whole = try AudioMeasure.rendered(plan: plan, windows: false)
        try #require(windowed.samples.count == whole.samples.count)
        let natural = Seams(whole.samples, middle: 24_000..<96_000).natural
        let worst = zip(windowed.samples, whole.samples).map { abs($0 - $1) }.max() ?? 0
        print("audio13 late loop: windowed against whole files: largest difference \(worst), natural step \(natural)")
        #expect(Double(worst) <= 1.5 * natural, "largest difference \(worst), the sine's step \(natural)")
        #expect(windowed.files == 1 && windowed.frames <= whole.frames)
    }
}
