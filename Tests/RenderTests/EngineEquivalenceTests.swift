import FilterGraphBackend
import Foundation
import Planner
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// The three ways to draw a plan agree: rendc's fast compositor, the plan's stock FFmpeg graph run in-process
/// (`--engine libavfilter`) and the exported `run.sh` (the ffmpeg CLI). Same frame count and duration, every
/// frame's luma within 25 dB (so cuts land on the same frames) and PSNR >= 30 dB on sampled frames, transitions
/// and animations included. Short (3 s), for CI.
@Suite(.serialized, .ownThreads) struct EngineEquivalenceTests {
    static let templates = ["golden-frame", "silver-frame", "no-frame", "polaroid", "price-tag", "split-screen", "story"]

    static func request(_ template: String, _ quality: QualityMode, output: String, audio: String? = RenderFixture.track) -> RenderRequest {
        RenderRequest(
            template: template, images: Array(RenderFixture.images.prefix(3)), audio: audio, text: "Équivalence 'ok' [1], ✓",
            fields: template == "price-tag" ? ["price": "$29.99"] : [:], duration: 3, quality: quality, output: output)
    }

    @Test(arguments: templates, QualityMode.allCases)
    func enginesAgree(_ template: String, _ quality: QualityMode) throws {
        let name = "eq-\(template)-\(quality.rawValue)"
        let fast = RenderFixture.out("\(name)-fast.mp4"), lav = RenderFixture.out("\(name)-lavfi.mp4")
        let pipeline = RenderFixture.pipeline
        let plan = try pipeline.plan(Self.request(template, quality, output: fast))
        _ = try pipeline.render(Self.request(template, quality, output: fast))
        _ = try pipeline.render(Self.request(template, quality, output: lav), engine: .libavfilter)
        let dir = RenderFixture.root.appendingPathComponent("\(name)-export").path
        try? FileManager.default.removeItem(atPath: dir)
        let graph = try pipeline.exportFFmpeg(plan, to: dir)
        #expect(!graph.script.contains("rendc_"), "the exported graph uses only stock filters")
        let cli = try Self.runScript(dir)
        try Self.compare(fast, against: lav, engine: "libavfilter", plan: plan)
        try Self.compare(fast, against: cli, engine: "run.sh", plan: plan)
    }

    /// Hostile names: an audio file whose name has quotes, a colon, commas, brackets, a semicolon and spaces
    /// reaches the graph escaped; the export, copied to a folder with such a name, runs from another directory.
    @Test func hostileFileNamesNeverBreakTheGraph() throws {
        let hostile = RenderFixture.root.appendingPathComponent("it's a \"track\"; [v]:1, final.m4a").path
        try? FileManager.default.removeItem(atPath: hostile)
        try FileManager.default.copyItem(atPath: RenderFixture.track, toPath: hostile)
        let pipeline = RenderFixture.pipeline
        let out = RenderFixture.out("hostile-fast.mp4")
        let plan = try pipeline.plan(Self.request("story", .eco, output: out, audio: hostile))
        let dir = RenderFixture.root.appendingPathComponent("export tmp").path
        try? FileManager.default.removeItem(atPath: dir)
        _ = try pipeline.exportFFmpeg(plan, to: dir)
        let moved = RenderFixture.root.appendingPathComponent("moved 'x', [y]; z").path
        try? FileManager.default.removeItem(atPath: moved)
        try FileManager.default.moveItem(atPath: dir, toPath: moved)
        let cli = try Self.runScript(moved)
        let info = try FFprobe.probe(cli)
        #expect(info.audio?.codecName == "aac")
        #expect(abs(info.duration - 3) < 0.1)
        let lav = RenderFixture.out("hostile-lavfi.mp4")
        _ = try pipeline.render(Self.request("story", .eco, output: lav, audio: hostile), engine: .libavfilter)
        #expect(try FFprobe.probe(lav).audio?.codecName == "aac")
    }

    // MARK: Helpers

    /// Runs `dir/run.sh` from another working directory; returns the video it wrote.
    static func runScript(_ dir: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [(dir as NSString).appendingPathComponent("run.sh")]
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw EquivalenceError(message: "run.sh failed: \(String(decoding: message, as: UTF8.self))")
        }
        return (dir as NSString).appendingPathComponent("out.mp4")
    }

    struct EquivalenceError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// Luma PSNR of every frame of `b` against `a` (full size), by FFmpeg's `psnr` filter: one decode of each.
    static func lumaPSNR(_ a: String, _ b: String) throws -> [Double] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-nostdin", "-v", "error", "-i", a, "-i", b, "-lavfi", "[0:v][1:v]psnr=stats_file=-", "-f", "null", "-"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("psnr_y:") }) else { return nil }
            let v = field.dropFirst("psnr_y:".count)
            return v == "inf" ? 99 : Double(v)
        }
    }

    /// What shows at `frame`, for a failure message: the visible layers, the shot and any transition.
    static func describe(_ plan: RenderPlan, frame: Int) -> String {
        var parts = plan.layers.filter { $0.isVisible(at: frame) }.map { l -> String in
            var s = "layers[\(l.index)] \(l.content.kind)"
            if l.animation.contains(where: { $0.span.contains(frame) }) { s += " (animating)" }
            if case .media(let m) = l.content {
                if let shot = m.shot(at: frame) { s += " shot \(shot.index)" }
                if let (t, p) = m.transition(at: frame) { s += String(format: " in a %@ at %.2f", t.kind.rawValue, p) }
            }
            return s
        }
        if parts.isEmpty { parts = ["no layer"] }
        return "frame \(frame) (" + parts.joined(separator: ", ") + ")"
    }

    /// Frames worth comparing: the first, the middle of each transition, each animation's middle, one inside
    /// each of the first shots, the thumbnail, the last.
    static func samples(_ plan: RenderPlan) -> [Int] {
        var f: Set<Int> = [0, plan.frameCount - 1, plan.thumbnailFrame]
        for l in plan.layers {
            for t in l.animation where t.span.count > 0 { f.insert(min(plan.frameCount - 1, t.span.start + min(t.span.count / 2, 12))) }
            if case .media(let m) = l.content {
                for t in m.transitions.prefix(2) where t.frames.count > 0 { f.insert(t.frames.start + t.frames.count / 2) }
                for s in m.shots.prefix(2) { f.insert(min(plan.frameCount - 1, s.startFrame + s.frameCount / 3)) }
            }
        }
        return f.sorted()
    }

    static func compare(_ reference: String, against other: String, engine: String, plan: RenderPlan) throws {
        let a = try FFprobe.probe(reference), b = try FFprobe.probe(other)
        let ca = try FFprobe.frameCount(reference), cb = try FFprobe.frameCount(other)
        #expect(ca == plan.frameCount && cb == plan.frameCount, "\(engine): \(cb) frames, fast \(ca), plan \(plan.frameCount)")
        #expect(abs(a.duration - b.duration) < 0.05, "\(engine): \(b.duration) s, fast \(a.duration) s")
        #expect(b.audio != nil, "\(engine): no audio stream")
        // Every frame: a cut a frame early or late shows as one frame of two different pictures (under 20 dB).
        let psnr = try lumaPSNR(reference, other)
        #expect(psnr.count == plan.frameCount, "\(engine): compared \(psnr.count) frames")
        for (i, p) in psnr.enumerated() {
            #expect(p >= 25, "\(engine) differs from fast at \(describe(plan, frame: i)): luma PSNR \(String(format: "%.1f", p)) dB")
        }
        // Sampled frames (inside transitions, animations and shots): PSNR >= 30 dB.
        for f in samples(plan) where f < psnr.count {
            #expect(psnr[f] >= 30, "\(engine) differs from fast at \(describe(plan, frame: f)): luma PSNR \(String(format: "%.1f", psnr[f])) dB")
        }
    }
}
