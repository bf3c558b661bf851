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
///
/// Every case renders with both in-process engines and writes the export; the in-process engine's graph text
/// is checked to be `graph.txt` itself (the two differ only in the folder the art is named under). The ffmpeg
/// CLI then runs `run.sh` for one quality mode per template, in turn (each mode at least twice): what it adds
/// over the in-process engine is the CLI's own reading of the same text and its encoder arguments.
@Suite(.serialized, .ownThreads) struct EngineEquivalenceTests {
    static let templates = ["golden-frame", "silver-frame", "no-frame", "polaroid", "price-tag", "split-screen", "story", "editorial"]

    static func request(_ template: String, _ quality: QualityMode, output: String, audio: String? = RenderFixture.track) -> RenderRequest {
        RenderRequest(
            template: template, images: Array(RenderFixture.images.prefix(3)), audio: audio, text: "Équivalence 'ok' [1], ✓",
            fields: template == "price-tag" ? ["price": "$29.99"] : [:], duration: 3, quality: quality, output: output)
    }

    /// Whether `run.sh` runs for this case: template i in mode i mod 3.
    static func runsCLI(_ template: String, _ quality: QualityMode) -> Bool {
        let i = templates.firstIndex(of: template) ?? 0
        return QualityMode.allCases[i % QualityMode.allCases.count] == quality
    }

    @Test(arguments: templates, QualityMode.allCases)
    func enginesAgree(_ template: String, _ quality: QualityMode) throws {
        let name = "eq-\(template)-\(quality.rawValue)"
        let fast = RenderFixture.out("\(name)-fast.mp4"), lav = RenderFixture.out("\(name)-lavfi.mp4")
        let pipeline = RenderFixture.pipeline
        // One plan (and one caption rendering) for the three: `pipeline.render` would plan again for each engine.
        var plan = try pipeline.plan(Self.request(template, quality, output: fast))
        // What is compared is what the engines draw; they share the encoder (whose per-mode settings RenderTests
        // check). Its fastest preset here, for all three (run.sh takes it from the plan too).
        plan.encoder.preset = "ultrafast"
        let texts = try pipeline.texts(for: plan)
        _ = try pipeline.prepare(plan).render(to: fast, thumbnail: nil)
        let engine = LibavfilterRenderer(plan: plan, texts: texts)
        try engine.render(to: lav, thumbnail: nil)
        let dir = RenderFixture.root.appendingPathComponent("\(name)-export").path
        try? FileManager.default.removeItem(atPath: dir)
        let graph = try FFmpegExport.write(plan: plan, texts: texts, to: dir)
        #expect(!graph.script.contains("rendc_"), "the exported graph uses only stock filters")
        let file = try String(contentsOfFile: (dir as NSString).appendingPathComponent("graph.txt"), encoding: .utf8)
        #expect(try engine.graph(artDirectory: "").script == file, "the libavfilter engine runs graph.txt")
        if Self.runsCLI(template, quality) {
            let cli = try Self.runScript(dir)
            try Self.compare(fast, against: [("libavfilter", lav), ("run.sh", cli)], plan: plan)
        } else {
            try Self.compare(fast, against: [("libavfilter", lav)], plan: plan)
        }
    }

    @Test func everyModeAndTemplateRunsTheCLI() {
        for q in QualityMode.allCases { #expect(Self.templates.filter { Self.runsCLI($0, q) }.count >= 2, "\(q)") }
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

    /// A contained clip and a contained picture (`fill: none`) in rounded cells: the stock graph replaced the
    /// window's alpha with the rounded mask (`alphamerge`), so the transparent margins of both turned opaque black
    /// where the fast engine shows the layer below (29 dB measured before on a clip, 18 dB here); a square cell kept them.
    @Test func containedPicturesInRoundedCellsShowTheLayerBelowInBothEngines() throws {
        let dir = try Self.freshDirectory("eq-rounded")
        let clip = dir.appendingPathComponent("wide.mp4").path, picture = dir.appendingPathComponent("wide.png").path
        for (path, extra) in [(clip, ["-pix_fmt", "yuv420p", "-c:v", "libx264"]), (picture, ["-frames:v", "1"])] {
            try Self.lavfi("testsrc=s=320x240:d=2:r=30", extra, to: path)
        }
        let template = dir.appendingPathComponent("rounded.yaml").path
        try """
        name: rounded
        timing: {cut: {mode: interval, fallback_interval: 1.5, min_shot: 1, max_shot: 2}}
        layers:
          - {type: color, color: "#204060"}
          - {type: media, layout: side_by_side, gap: 20, cell_radius: 48, fit: contain, fill: none, transition: {type: cut},
             x: center, y: 300, width: 1000, height: 1200}
        """.write(toFile: template, atomically: true, encoding: .utf8)
        _ = try Self.renderBoth("eq-rounded", template: template, images: [clip, picture], duration: 3, quality: .eco)
    }

    /// A transparent product cut-out covering its cell: the stock graph converted it to yuv420p and drew it
    /// opaque, where the fast engine blends it (review9b: 9.9 dB on every frame of its shot). Then an untagged clip,
    /// whose YUV the graph passed through unconverted (27 dB).
    @Test func aTransparentPictureAndAnUntaggedClipInCellsLookTheSameInBothEngines() throws {
        let dir = try Self.freshDirectory("eq-alpha")
        let cutout = dir.appendingPathComponent("cutout.png").path
        try Self.lavfi("testsrc=s=320x240,format=rgba,colorchannelmixer=aa=0.3", ["-frames:v", "1"], to: cutout)
        let template = dir.appendingPathComponent("alpha.yaml").path
        try """
        name: alpha
        timing: {cut: {mode: interval, fallback_interval: 1.5, min_shot: 1, max_shot: 2}}
        layers:
          - {type: color, color: "#204060"}
          - {type: media, layout: single, fit: cover, transition: {type: cut}}
        """.write(toFile: template, atomically: true, encoding: .utf8)
        // And a clip without colour tags (read as BT.601 by the fast engine): the graph passed its YUV through.
        let clip = dir.appendingPathComponent("untagged.mp4").path
        try Self.lavfi("testsrc=s=320x240:d=2:r=30", ["-pix_fmt", "yuv420p", "-c:v", "libx264"], to: clip)
        _ = try Self.renderBoth("eq-alpha", template: template, images: [cutout, clip], duration: 3, quality: .eco)
    }

    /// `blend: screen` on a clip that starts later (design12: drawn `normal` by both engines, so a mostly black
    /// sparkle clip turned the frame black), and `add` on a contained clip in a box that ends early: both engines
    /// blend them in RGB, start the clip when the layer first shows, and agree frame by frame.
    @Test func aTimedScreenClipAndABoxedAddClipBlendInBothEngines() throws {
        let dir = try Self.freshDirectory("eq-blend")
        let sparks = dir.appendingPathComponent("sparks.mp4").path
        try Self.lavfi(
            "color=c=black:s=180x320:d=3:r=30,drawbox=x='10+t*40':y=130:w=30:h=30:color=white:t=fill", ["-pix_fmt", "yuv420p", "-c:v", "libx264"],
            to: sparks)
        let template = dir.appendingPathComponent("blend.yaml").path
        try """
        name: blend
        canvas: {width: 360, height: 640, fps: 30}
        layers:
          - {type: color, color: "#3050A0"}
          - {type: video, source: "\(sparks)", blend: screen, start: 1, animate: [{preset: fade_in, duration: 0.5}]}
          - {type: video, source: "\(sparks)", blend: add, fit: contain, x: 30, y: 400, width: 200, height: 140, end: 2}
          - {type: video, source: "\(sparks)", blend: screen, x: 250, y: 40, width: 80, height: 80, animate: [{preset: slide_in, from: right, duration: 0.5}]}
        """.write(toFile: template, atomically: true, encoding: .utf8)
        // A clip that moves is drawn normal in both engines for all its frames (review13: the fast engine blended it
        // once it stopped, the stock graph never did), and the plan says so.
        let notes = try RenderFixture.pipeline.plan(RenderRequest(template: template, images: [], duration: 2.5, output: "x.mp4")).notes
        #expect(notes.contains("layers[3] (video): blend: screen is drawn normal, as the video moves, scales or turns"), "\(notes)")
        let (fast, lav) = try Self.renderBoth("eq-blend", template: template, images: [], duration: 2.5, quality: .normal)
        // Blended, not drawn over: at 1.8 s the frame is still the colour under the black clip (normal: nearly black).
        for video in [fast, lav] {
            let raw = dir.appendingPathComponent("mean.rgb")
            let mean = try Subprocess.run(
                "/usr/bin/ffmpeg",
                [
                    "-v", "error", "-ss", "1.8", "-i", video, "-frames:v", "1", "-vf", "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-y", raw.path,
                ])
            #expect(mean.status == 0, "\(mean.combined)")
            let rgb = [UInt8]((try? Data(contentsOf: raw)) ?? Data())
            #expect(
                rgb.count == 3 && Int(rgb.count == 3 ? rgb[2] : 0) > 140 && Int(rgb.count == 3 ? rgb[0] : 255) < 90, "\(video): mean colour \(rgb)")
        }
    }

    // MARK: Helpers

    /// An empty folder `name` under the fixture root (emptied if a run left it).
    static func freshDirectory(_ name: String) throws -> URL {
        let dir = RenderFixture.root.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes ffmpeg's lavfi `source` (with `options`, e.g. a codec or a frame count) to `path`.
    static func lavfi(_ source: String, _ options: [String], to path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let made = try Subprocess.run("/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", source] + options + ["-y", path])
        #expect(made.status == 0, "\(made.combined)", sourceLocation: sourceLocation)
    }

    /// `template` rendered by the fast engine and by the libavfilter engine (ultrafast), compared frame by frame;
    /// returns both videos.
    static func renderBoth(_ name: String, template: String, images: [String], duration: Double, quality: QualityMode) throws -> (String, String) {
        let fast = RenderFixture.out("\(name)-fast.mp4"), lav = RenderFixture.out("\(name)-lavfi.mp4")
        let pipeline = RenderFixture.pipeline
        var plan = try pipeline.plan(RenderRequest(template: template, images: images, duration: duration, quality: quality, output: fast))
        plan.encoder.preset = "ultrafast"
        _ = try pipeline.prepare(plan).render(to: fast, thumbnail: nil)
        try LibavfilterRenderer(plan: plan, texts: try pipeline.texts(for: plan)).render(to: lav, thumbnail: nil)
        try compare(fast, against: [("libavfilter", lav)], plan: plan)
        return (fast, lav)
    }

    /// `plan` rendered by the fast engine (to `fast`), the libavfilter engine (to `lavfi`) and the exported run.sh (in
    /// `export`, which must use no rendc filter), all compared frame by frame; returns run.sh's video.
    static func renderThree(_ plan: RenderPlan, fast: String, lavfi: String, export: String) throws -> String {
        let pipeline = RenderFixture.pipeline
        let texts = try pipeline.texts(for: plan)
        _ = try pipeline.prepare(plan).render(to: fast, thumbnail: nil)
        try LibavfilterRenderer(plan: plan, texts: texts).render(to: lavfi, thumbnail: nil)
        try? FileManager.default.removeItem(atPath: export)
        let graph = try FFmpegExport.write(plan: plan, texts: texts, to: export)
        #expect(!graph.script.contains("rendc_"))
        let cli = try runScript(export)
        try compare(fast, against: [("libavfilter", lavfi), ("run.sh", cli)], plan: plan)
        return cli
    }

    /// `template` planned as the designer-motion cases are (3 s in eco, TimedContentTests' coloured pictures,
    /// ultrafast), with the fast and libavfilter videos' paths named after `name`.
    static func shortEcoPlan(_ template: String, _ name: String) throws -> (plan: RenderPlan, fast: String, lavfi: String) {
        let fast = RenderFixture.out("\(name)-fast.mp4"), lav = RenderFixture.out("\(name)-lavfi.mp4")
        var plan = try RenderFixture.pipeline.plan(
            RenderRequest(template: template, images: try TimedContentTests.pictures, text: nil, duration: 3, quality: .eco, output: fast))
        plan.encoder.preset = "ultrafast"
        return (plan, fast, lav)
    }

    /// Frames `frames` of libavfilter's and run.sh's videos (`others`, in that order) within 30 dB luma PSNR of the
    /// fast engine's.
    static func expectAgreement(
        _ fast: String, _ others: [String], plan: RenderPlan, frames: [Int], sourceLocation: SourceLocation = #_sourceLocation
    )
        throws
    {
        let psnr = try lumaPSNR(fast, others)
        for f in frames {
            for (engine, values) in zip(["libavfilter", "run.sh"], psnr) where f < values.count {
                #expect(values[f] >= 30, "\(engine) at \(describe(plan, frame: f)): \(values[f]) dB", sourceLocation: sourceLocation)
            }
        }
    }

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
        try lumaPSNR(a, [b])[0]
    }

    /// Luma PSNR of every frame of each of `others` against `reference`, in one run (the reference decoded once).
    static func lumaPSNR(_ reference: String, _ others: [String]) throws -> [[Double]] {
        let dir = try Fixtures.temporaryDirectory("psnr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let stats = others.indices.map { dir.appendingPathComponent("\($0).log").path }
        var graph = others.count > 1 ? "[0:v]split=\(others.count)" + others.indices.map { "[r\($0)]" }.joined() + ";" : "[0:v]null[r0];"
        for (k, path) in stats.enumerated() { graph += "[r\(k)][\(k + 1):v]psnr=stats_file='\(path)'[o\(k)];" }
        graph.removeLast()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments =
            ["-nostdin", "-v", "error", "-i", reference] + others.flatMap { ["-i", $0] } + ["-filter_complex", graph]
            + others.indices.flatMap { ["-map", "[o\($0)]", "-f", "null", "-"] }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return try stats.map { path in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
                guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("psnr_y:") }) else { return nil }
                let v = field.dropFirst("psnr_y:".count)
                return v == "inf" ? 99 : Double(v)
            }
        }
    }

    /// Video frames in the file, by counting its packets (one a frame in H.264 MP4; no decoding).
    static func frameCount(_ path: String) throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        p.arguments = ["-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
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

    static func compare(_ reference: String, against others: [(engine: String, path: String)], plan: RenderPlan) throws {
        let a = try FFprobe.probe(reference)
        let ca = try frameCount(reference)
        #expect(ca == plan.frameCount, "fast: \(ca) frames, plan \(plan.frameCount)")
        let psnrs = try lumaPSNR(reference, others.map(\.path))
        for ((engine, other), psnr) in zip(others, psnrs) {
            let b = try FFprobe.probe(other)
            let cb = try frameCount(other)
            #expect(cb == plan.frameCount, "\(engine): \(cb) frames, fast \(ca), plan \(plan.frameCount)")
            #expect(abs(a.duration - b.duration) < 0.05, "\(engine): \(b.duration) s, fast \(a.duration) s")
            #expect(b.audio != nil, "\(engine): no audio stream")
            // Every frame: a cut a frame early or late shows as one frame of two different pictures (under 20 dB).
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
}
