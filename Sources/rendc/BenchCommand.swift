import ArgumentParser
import CaptionText
import FilterGraphBackend
import Foundation
import Planner
import RenderPipeline
import SpecLang

/// Peak resident memory of this process's own image, in kilobytes: `VmHWM` from /proc/self/status. (getrusage's
/// `ru_maxrss` starts a spawned child at its parent's peak, so a bench's children would report the bench's own.)
func peakRSSKilobytes() -> Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
        return kb
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss)
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure render speed and memory against the encode floor of the same frames.",
        discussion: """
        Renders the demo (built-in pictures, 120 BPM track, caption) in each quality mode in a child process, then
        composes the same normal-mode frames once more into a raw file and encodes them alone with the same encoder
        settings: the encode floor. Prints wall times, their ratios and peak RSS (also for a render twice as long).
        """
    )
    @Option(name: .customLong("template"), help: "Templates to measure (repeatable); eco, freeze and the memory growth run use the first.")
    var templates: [String] = ["golden-frame", "story", "split-screen"]
    @Option(help: "Video length in seconds.")
    var duration: Double = 30
    @Option var text: String = "✨ Test Video"
    @Flag(help: "Skip the double-length memory run.")
    var skipMemoryGrowth = false

    struct Stats: Decodable { var seconds: Double; var peakRSSKB: Int }

    func run() throws {
        let env = RendcEnvironment()
        let pipeline = env.pipeline(logger: makeLogger())
        let images = try pipeline.assets.demoImages()
        guard let track = try pipeline.assets.path(for: "demo-track") else { throw ExitCode(1) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rendc-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        func child(_ template: String, _ mode: QualityMode, seconds: Double, engine: RenderEngine = .fast) throws -> Stats {
            let statsPath = dir.appendingPathComponent("\(template)-\(mode)-\(seconds)-\(engine).json").path
            var args = ["render", "--template", template, "--audio", track, "--text", text, "--duration", String(seconds),
                        "--quality", mode.rawValue, "--output", dir.appendingPathComponent("\(mode).mp4").path, "--quiet", "--stats-json", statsPath,
                        "--engine", engine.rawValue]
            for i in images { args += ["--image", i] }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0, let data = FileManager.default.contents(atPath: statsPath) else {
                printError("rendc bench: the \(mode) render failed")
                throw ExitCode(1)
            }
            return try JSONDecoder().decode(Stats.self, from: data)
        }

        func row(_ name: String, _ value: String, _ note: String = "") { print("  " + name.padding(toLength: 34, withPad: " ", startingAt: 0) + value.padding(toLength: 12, withPad: " ", startingAt: 0) + note) }
        func check(_ ok: Bool) -> String { ok ? "ok" : "MISSED" }
        let mb = { (kb: Int) in String(format: "%.0f MB", Double(kb) / 1024) }
        for (n, template) in templates.enumerated() {
            let request = RenderRequest(template: template, images: images, audio: track, text: text, duration: duration, quality: .normal, output: dir.appendingPathComponent("floor.mp4").path)
            let plan = try pipeline.plan(request)
            print("rendc bench: \(template), \(fmt(duration)) s, \(plan.frameCount) frames at \(plan.width)x\(plan.height), libx264 \(plan.encoder.preset) crf \(plan.encoder.crf), \(ProcessInfo.processInfo.activeProcessorCount) cores")
            _ = try child(template, .normal, seconds: min(duration, 3))  // warm caches (assets, beats, page cache)
            let normal = try child(template, .normal, seconds: duration)
            let renderer = try pipeline.prepare(plan)
            let raw = dir.appendingPathComponent("frames.yuv").path
            let composeOnly = try renderer.composeAll(rawPath: raw)
            let floor = try FilterGraphRenderer.encodeFloor(plan: plan, rawPath: raw, output: dir.appendingPathComponent("floor.mp4").path)
            try? FileManager.default.removeItem(atPath: raw)
            row("encode floor (same frames)", String(format: "%.2f s", floor), String(format: "%.1f fps", Double(plan.frameCount) / floor))
            row("compositor alone", String(format: "%.2f s", composeOnly), String(format: "%.2f ms/frame", composeOnly * 1000 / Double(plan.frameCount)))
            let r = normal.seconds / floor
            row("normal", String(format: "%.2f s", normal.seconds), String(format: "%.2fx the floor (target <= 1.25: %@)", r, check(r <= 1.25)))
            row("peak RSS, normal \(fmt(duration)) s", mb(normal.peakRSSKB), "(target <= 400 MB: \(check(normal.peakRSSKB <= 400 * 1024)))")
            // The plan's stock FFmpeg graph run by libavfilter, same frames and encoder: why the fast engine is the default.
            let lavfi = try child(template, .normal, seconds: duration, engine: .libavfilter)
            row("libavfilter engine", String(format: "%.2f s", lavfi.seconds), String(format: "%.2fx the floor, %.2fx the fast engine, peak RSS %@", lavfi.seconds / floor, lavfi.seconds / normal.seconds, mb(lavfi.peakRSSKB)))
            guard n == 0 else { continue }
            let eco = try child(template, .eco, seconds: duration)
            let freeze = try child(template, .freeze, seconds: duration)
            let e = normal.seconds / eco.seconds, f = normal.seconds / freeze.seconds
            row("eco", String(format: "%.2f s", eco.seconds), String(format: "%.2fx faster than normal (target >= 2.5: %@)", e, check(e >= 2.5)))
            row("freeze", String(format: "%.2f s", freeze.seconds), String(format: "%.2fx faster than normal (target >= 5: %@)", f, check(f >= 5)))
            if !skipMemoryGrowth {
                let long = try child(template, .normal, seconds: duration * 2)
                let growth = Double(long.peakRSSKB - normal.peakRSSKB) / Double(normal.peakRSSKB) * 100
                row("peak RSS, normal \(fmt(duration * 2)) s", mb(long.peakRSSKB), String(format: "(%+.1f%% for twice the length: %@)", growth, check(growth < 10)))
            }
            row("peak RSS, eco / freeze", "\(mb(eco.peakRSSKB)) / \(mb(freeze.peakRSSKB))")
        }
        print("captions (rendered once per video):")
        print(try CaptionBenchmark.run().split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    }

    func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
