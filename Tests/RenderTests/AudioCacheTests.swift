import Foundation
import LayerCache
import Logging
import Planner
import RenderPipeline
import RendcTestSupport
import Testing

/// The audio measurements kept between renders (issue 13): the level profile and the loudness normalisation are
/// keyed by the files' bytes and every parameter, a hit gives the same plan, a damaged entry is rebuilt, and a still
/// never runs a loudness pass. Passes are counted through the pipeline's observer, never timed.
@Suite(.serialized, .ownThreads) struct AudioCacheTests {
    final class Passes: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [AudioWork] = []
        func append(_ w: AudioWork) { lock.lock(); list.append(w); lock.unlock() }
        func count(_ w: AudioWork) -> Int { lock.lock(); defer { lock.unlock() }; return list.filter { $0 == w }.count }
    }

    /// A fresh pipeline (as a new process would be) over `dir`: beats, levels and loudness cached there.
    static func pipeline(_ dir: URL, passes: Passes, maxDuration: Double = 60) -> RenderPipeline {
        RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [Fixtures.specsDirectory.path], assetsDirectory: RenderFixture.root.appendingPathComponent("assets").path,
                cacheDirectory: dir.path, temporaryDirectory: RenderFixture.root.path, maxDuration: maxDuration,
                layerCache: LayerCacheConfiguration(directory: dir.appendingPathComponent("layers").path)
            ), logger: Logger(label: "test"), audioObserver: { passes.append($0) })
    }

    /// The first 8 s of the demo track (120 BPM): a short track keeps the debug-build beat analysis quick.
    static let track: String = {
        let p = RenderFixture.root.appendingPathComponent("audio-cache-track.wav").path
        let r = try! Subprocess.run("/usr/bin/ffmpeg", ["-hide_banner", "-nostats", "-y", "-i", RenderFixture.track, "-t", "8", p])
        precondition(r.status == 0, r.errors)
        return p
    }()

    func request(track: String, duration: Double = 4, output: String = "x.mp4") -> RenderRequest {
        RenderRequest(
            template: "golden-frame", images: [RenderFixture.images[0]], audio: track, duration: duration, quality: .eco, output: output)
    }

    func layerFiles(_ dir: URL) -> [URL] {
        (FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "layer" }
    }

    @Test func aSecondPlanRunsNoAudioPassAndGetsTheSamePlan() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-audio-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let coldPasses = Passes()
        let cold = try Self.pipeline(dir, passes: coldPasses).plan(request(track: Self.track))
        #expect(coldPasses.count(.levelProfile) == 1 && coldPasses.count(.beatAnalysis) == 1)
        // The input pass and at least one pass with the gain.
        #expect(coldPasses.count(.loudnessPass) >= 2)
        let measured = try #require(cold.audio?.loudness)
        #expect(measured.input != nil && measured.gain != nil && measured.predicted != nil)

        let warmPasses = Passes()
        let warm = try Self.pipeline(dir, passes: warmPasses).plan(request(track: Self.track))
        #expect(warm == cold)
        #expect(warmPasses.count(.levelProfile) == 0 && warmPasses.count(.beatAnalysis) == 0 && warmPasses.count(.loudnessPass) == 0)

        // Another length of video is another mix: its loudness is measured, the track's level is not.
        let otherPasses = Passes()
        _ = try Self.pipeline(dir, passes: otherPasses).plan(request(track: Self.track, duration: 3))
        #expect(otherPasses.count(.loudnessPass) >= 2 && otherPasses.count(.levelProfile) == 0)

        // A track one byte longer (the same sound: WAV ignores bytes after its data) is another file: everything misses.
        let copy = dir.appendingPathComponent("track.wav")
        try FileManager.default.copyItem(atPath: Self.track, toPath: copy.path)
        let handle = try FileHandle(forWritingTo: copy)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0]))
        try handle.close()
        let changedPasses = Passes()
        let changed = try Self.pipeline(dir, passes: changedPasses).plan(request(track: copy.path))
        #expect(changedPasses.count(.levelProfile) == 1 && changedPasses.count(.loudnessPass) >= 2)
        #expect(changed.audio?.loudness == cold.audio?.loudness)
    }

    @Test func aDamagedEntryIsRebuiltAndAStillMeasuresNoLoudness() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-audio-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A still plans the cuts (beats, the level for the highlight) but does not hear the mix.
        let stillPasses = Passes()
        _ = try Self.pipeline(dir, passes: stillPasses).still(request(track: Self.track), at: 0.5)
        #expect(stillPasses.count(.levelProfile) == 1 && stillPasses.count(.loudnessPass) == 0)

        let reference = try Self.pipeline(dir, passes: Passes()).plan(request(track: Self.track))
        let files = layerFiles(dir)
        #expect(files.count >= 2)  // the level profile and the loudness (and the still's picture and overlay)
        for file in files {
            var bytes = try [UInt8](Data(contentsOf: file))
            bytes[bytes.count - 1] ^= 0xFF
            try Data(bytes).write(to: file)
        }
        let damagedPasses = Passes()
        let damaged = Self.pipeline(dir, passes: damagedPasses)
        #expect(try damaged.plan(request(track: Self.track)) == reference)
        #expect(damaged.layerCache.statistics.corrupt >= 2)
        #expect(damagedPasses.count(.levelProfile) == 1 && damagedPasses.count(.loudnessPass) >= 2)
        // Rebuilt: the next process reads both again.
        let againPasses = Passes()
        #expect(try Self.pipeline(dir, passes: againPasses).plan(request(track: Self.track)) == reference)
        #expect(againPasses.count(.levelProfile) == 0 && againPasses.count(.loudnessPass) == 0)
    }

    /// The level profile serves the highlight and loop seams only: with the music starting at a set time in a track
    /// longer than any video allowed, it is not measured; with the automatic start (the contrast) it is.
    @Test func aFixedStartOnALongTrackMeasuresNoLevel() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-audio-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        func template(_ name: String, audio: String) throws -> String {
            let p = dir.appendingPathComponent("\(name).yaml").path
            try
                "name: \(name)\ncanvas: { width: 160, height: 288, fps: 30 }\ntiming:\n  audio: { \(audio) }\nlayers:\n  - type: color\n    color: \"#202020\"\n  - type: media\n"
                .write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        // An 8 s track, videos of at most 4 s.
        for (audio, level) in [("start: 2, loudness: off", 0), ("loudness: off", 1)] {
            let passes = Passes()
            let t = try template(level == 0 ? "fixed" : "auto", audio: audio)
            let plan = try Self.pipeline(dir, passes: passes, maxDuration: 4).plan(
                RenderRequest(template: t, images: [RenderFixture.images[0]], audio: Self.track, duration: 4, output: "x.mp4"))
            #expect(passes.count(.levelProfile) == level, "\(audio)")
            if level == 0 { #expect(plan.audio?.start == 2) }
        }
    }

    /// A render measures its loudness beside the first frames (cold) or reads it (warm): the same normalisation
    /// either way, and the warm render runs no pass.
    @Test func aRenderMeasuresLoudnessOnceAndReportsIt() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-audio-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.mp4").path
        let coldPasses = Passes()
        let cold = try Self.pipeline(dir, passes: coldPasses).render(request(track: Self.track, duration: 1, output: out))
        #expect(coldPasses.count(.loudnessPass) >= 2)
        let warmPasses = Passes()
        let warm = try Self.pipeline(dir, passes: warmPasses).render(request(track: Self.track, duration: 1, output: out))
        #expect(warmPasses.count(.loudnessPass) == 0)
        let input = try #require(cold.loudnessIn)
        #expect(warm.loudnessIn == input && warm.plan == cold.plan)
        // The plan rendered says what was measured, as `rendc plan` does.
        #expect(cold.plan.contains(String(format: "measured input %.1f LUFS", input.integrated)))
        #expect(try #require(warm.loudnessOut).integrated > -60)
    }
}
