import Foundation
import Logging
import Planner
import RenderPipeline
import RendcTestSupport
import Testing

/// Which part of a music track is analysed, and which length is believed (review12 M1, M2). Tracks are made at test
/// time with ffmpeg; the plans come from a pipeline with a cache directory of its own, beat passes counted.
@Suite(.serialized, .ownThreads) struct AudioWindowTests {
    final class Passes: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [AudioWork] = []
        func append(_ w: AudioWork) { lock.lock(); list.append(w); lock.unlock() }
        func count(_ w: AudioWork) -> Int { lock.lock(); defer { lock.unlock() }; return list.filter { $0 == w }.count }
    }

    static func pipeline(_ dir: URL, passes: Passes, maxDuration: Double) -> RenderPipeline {
        RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [Fixtures.specsDirectory.path], assetsDirectory: RenderFixture.root.appendingPathComponent("assets").path,
                cacheDirectory: dir.path, temporaryDirectory: RenderFixture.root.path, maxDuration: maxDuration
            ), logger: Logger(label: "test"), audioObserver: { passes.append($0) })
    }

    static func ffmpeg(_ args: [String]) throws {
        let r = try Subprocess.run("/usr/bin/ffmpeg", ["-hide_banner", "-loglevel", "error", "-y"] + args)
        try #require(r.status == 0, "\(r.errors)")
    }

    static func template(_ dir: URL, _ name: String, audio: String) throws -> String {
        let p = dir.appendingPathComponent("\(name).yaml").path
        try
            "name: \(name)\ncanvas: { width: 160, height: 288, fps: 30 }\ntiming:\n  audio: { \(audio) }\nlayers:\n  - type: color\n    color: \"#202020\"\n  - type: media\n"
            .write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    /// 20 s of silence, then 10 s of clicks at 120 BPM. Videos of at most 4 s: before the fix, any start was
    /// analysed over 0-5 s (silence), so a template starting the music at 22 s cut on the fallback interval.
    @Test func aSetStartIsAnalysedWhereTheVideoPlaysAndKeysTheCache() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-audio-window")
        defer { try? FileManager.default.removeItem(at: dir) }
        let track = dir.appendingPathComponent("late.wav").path
        try Self.ffmpeg([
            "-f", "lavfi", "-i", "aevalsrc='if(gte(t,20),0.8*sin(2*PI*1000*t)*exp(-60*mod(t,0.5)),0)':d=30:s=22050", track,
        ])
        let late = try Self.template(dir, "late", audio: "start: 22, loudness: off")
        let passes = Passes()
        let plan = try Self.pipeline(dir, passes: passes, maxDuration: 4).plan(
            RenderRequest(template: late, images: [RenderFixture.images[0]], audio: track, duration: 4, output: "x.mp4"))
        #expect(plan.audio?.start == 22)
        guard case .beats(let tempo, let count) = plan.cutSource else {
            Issue.record("no beats from a set start of 22 s: \(plan.cutSource)"); return
        }
        #expect(abs(tempo - 120) < 3 && count >= 8, "\(plan.cutSource)")
        #expect(passes.count(.beatAnalysis) == 1)
        // The same file from 2 s (silence there) is another analysis, not the cached one from 22 s.
        let early = try Self.template(dir, "early", audio: "start: 2, loudness: off")
        let earlyPasses = Passes()
        let earlyPlan = try Self.pipeline(dir, passes: earlyPasses, maxDuration: 4).plan(
            RenderRequest(template: early, images: [RenderFixture.images[0]], audio: track, duration: 4, output: "x.mp4"))
        #expect(earlyPasses.count(.beatAnalysis) == 1)
        if case .beats = earlyPlan.cutSource { Issue.record("beats found in silence: \(earlyPlan.cutSource)") }
    }

    /// An MP3 whose Xing/Info frame count is patched to `frames` (1152 samples each at 44.1 kHz).
    static func lyingMP3(_ dir: URL, seconds: Int, frames: Int) throws -> String {
        let honest = dir.appendingPathComponent("honest-\(seconds).mp3").path
        try ffmpeg([
            "-f", "lavfi", "-i", "aevalsrc='0.6*sin(2*PI*880*t)*exp(-30*mod(t,0.5))':d=\(seconds):s=44100", "-c:a", "libmp3lame", "-b:a", "64k",
            honest,
        ])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: honest)))
        let tag = bytes.indices.first { i in
            i + 12 <= bytes.count && (bytes[i..<i + 4].elementsEqual("Info".utf8) || bytes[i..<i + 4].elementsEqual("Xing".utf8))
        }
        let at = try #require(tag, "no Xing/Info header in the MP3 ffmpeg made")
        try #require(bytes[at + 7] & 1 == 1, "the Xing header holds no frame count")
        for k in 0..<4 { bytes[at + 8 + k] = UInt8(frames >> (8 * (3 - k)) & 0xFF) }
        let lying = dir.appendingPathComponent("says-\(frames)-holds-\(seconds).mp3").path
        try Data(bytes).write(to: URL(fileURLWithPath: lying))
        return lying
    }

    /// The header says 1 h, the file holds 10 s: the plan fails with the truncation (it planned 30 s with 20 s of
    /// silence before). The header says 1 s, the file holds 20 s: the plan takes the decoded length (it made a 1-s
    /// video before).
    @Test func theDecodedLengthWinsOverALyingHeader() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-audio-window")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pipeline = Self.pipeline(dir, passes: Passes(), maxDuration: 60)
        let long = try Self.lyingMP3(dir, seconds: 10, frames: 137_812)
        do {
            let plan = try pipeline.plan(RenderRequest(template: "golden-frame", images: [RenderFixture.images[0]], audio: long, output: "x.mp4"))
            Issue.record("a header saying 1 h over 10 s of audio was planned: \(plan.duration) s, \(plan.cutSource)")
        } catch let error as PipelineError {
            #expect(error.kind == .input, "\(error)")
            #expect(error.description.contains("truncated") && error.description.contains("could be decoded"), "\(error)")
        }
        let short = try Self.lyingMP3(dir, seconds: 20, frames: 38)
        let plan = try pipeline.plan(RenderRequest(template: "golden-frame", images: [RenderFixture.images[0]], audio: short, output: "x.mp4"))
        let track = try #require(plan.audio?.trackDuration)
        #expect(abs(track - 20) < 0.5, "track \(track) s")
        #expect(plan.duration > 15, "video \(plan.duration) s")
        // And a set start past the header's end (review13): the beats are analysed where the video plays, not cut
        // off at the 1 s the header states (before: "no beats found in the audio").
        let late = try Self.template(dir, "late-start", audio: "start: 8")
        let started = try pipeline.plan(RenderRequest(template: late, images: [RenderFixture.images[0]], audio: short, duration: 6, output: "x.mp4"))
        guard case .beats(let tempo, _) = started.cutSource else {
            Issue.record("a set start past the header's end cut on \(started.cutSource)")
            return
        }
        #expect(abs(tempo - 120) < 2, "tempo \(tempo)")
    }
}
