import ArgumentParser
import CaptionText
import Foundation
import RendcSettings
import Planner
import RenderPipeline
import FilterGraphBackend
import SpecLang

/// The inputs shared by render, plan and still.
struct JobOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Template name (see `rendc templates`) or path to a template YAML file.")
    var template: String = "golden-frame"
    @Option(name: .customLong("image"), help: "A product image (JPEG, PNG, WebP, ...). Repeat for more, in order.")
    var images: [String] = []
    @Option(help: "Music track (MP3, M4A/AAC, OGG, Opus, FLAC, WAV). Omit for a silent video.")
    var audio: String?
    @Option(help: "Voice-over (same formats as --audio), mixed over the music, which ducks under it.")
    var voice: String?
    @Option(help: "Caption text (UTF-8, at most 500 characters).")
    var text: String?
    @Option(help: "Read the caption from a UTF-8 file instead (keeps quotes, newlines and emoji exactly).")
    var textFile: String?
    @Option(name: .customLong("field"), help: "A merge field of the template, NAME=VALUE (text, #RRGGBB colour or a picture path). Repeatable.")
    var fieldValues: [String] = []
    @Option(help: "Target length in seconds (default: the template's, or the track's if shorter).")
    var duration: Double?
    @Option(help: "normal, eco or freeze.")
    var quality: QualityMode = .normal
    @Option(name: .customLong("templates"), help: "An extra folder of templates, searched before the built-in ones. Repeatable.")
    var templateDirectories: [String] = []

    func caption() throws -> String? {
        if let textFile {
            guard let data = FileManager.default.contents(atPath: textFile) else { throw ValidationError("cannot read --text-file \(textFile)") }
            do { return try CaptionRenderer.decodeCaption([UInt8](data)) } catch { throw ValidationError("--text-file \(textFile): \(error)") }
        }
        return text
    }

    /// `--field NAME=VALUE` as a dictionary; a name given twice or without `=` is a usage error.
    func fields() throws -> [String: String] {
        try JobOptions.parseFields(fieldValues)
    }

    static func parseFields(_ values: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in values {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ValidationError("--field expects NAME=VALUE, got '\(item.prefix(40))'")
            }
            let name = String(item[..<eq]), value = String(item[item.index(after: eq)...])
            guard result[name] == nil else { throw ValidationError("--field \(name) is given twice") }
            result[name] = value
        }
        return result
    }

    func request(output: String, thumbnail: String?) throws -> RenderRequest {
        RenderRequest(
            template: template, images: images, audio: audio, text: try caption(), fields: try fields(), duration: duration, quality: quality,
            output: output, thumbnail: thumbnail, voice: voice)
    }

    /// Whether the template shows the job's pictures (a `media` layer), so that it needs `--image`.
    func needsPictures(_ pipeline: RenderPipeline) -> Bool {
        guard let t = try? pipeline.loadTemplate(template) else { return false }
        return t.layers.contains { $0.kind == "media" }
    }

    /// `rendc still` and `rendc plan` without `--image`: the built-in demo pictures (as the studio uses), said on
    /// stderr, so a designer can look at a template before having product photos.
    func requestWithSamples(_ pipeline: RenderPipeline, output: String) throws -> RenderRequest {
        var request = try self.request(output: output, thumbnail: nil)
        if images.isEmpty && needsPictures(pipeline) {
            request.images = try pipeline.assets.demoImages()
            printError(
                "no --image given: using the built-in demo pictures (\(request.images.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))"
            )
        }
        return request
    }
}

extension QualityMode: ExpressibleByArgument {}
extension RenderEngine: ExpressibleByArgument {}

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Render one video from local files.")
    @OptionGroup var job: JobOptions
    @Option(name: .shortAndLong, help: "Output MP4 path.")
    var output: String = "out.mp4"
    @Option(help: "Thumbnail JPEG path (default: the output path with .jpg).")
    var thumbnail: String?
    @Flag(help: "Do not write a thumbnail.")
    var noThumbnail = false
    @Flag(help: "Print only errors.")
    var quiet = false
    @Option(help: .hidden)
    var statsJson: String?
    @Option(help: "fast (rendc's compositor, the default) or libavfilter (the plan's stock FFmpeg graph, in-process).")
    var engine: RenderEngine = .fast

    func run() throws {
        let settings = try loadSettings()
        let pipeline = settings.renderPipeline(extraTemplates: job.templateDirectories, logger: settings.logger())
        let thumb = noThumbnail ? nil : (thumbnail ?? (output as NSString).deletingPathExtension + ".jpg")
        try FileManager.default.createDirectory(
            atPath: (output as NSString).deletingLastPathComponent.isEmpty ? "." : (output as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        if job.images.isEmpty && job.needsPictures(pipeline) {
            printError(
                "rendc: error: \(job.template) shows product pictures: give them with --image FILE (repeatable, in order); `rendc still` and `rendc plan` use the built-in demo pictures without it"
            )
            throw ExitCode(1)
        }
        let request = try job.request(output: output, thumbnail: thumb)
        let clock = ContinuousClock()
        let started = clock.now
        let result = try runRender(pipeline: pipeline, request: request, quiet: quiet, engine: engine)
        if let statsJson {
            let d = clock.now - started
            let seconds = d / .seconds(1)
            let json =
                "{\"seconds\": \(seconds), \"peakRSSKB\": \(peakRSSKilobytes()), \"firstFrameSeconds\": \(result.firstFrameSeconds), \"cpuSeconds\": \(processCPUSeconds())}\n"
            try json.write(toFile: statsJson, atomically: true, encoding: .utf8)
        }
    }
}

/// Renders with a progress display: a live line on a terminal, a plain line every 10% otherwise.
@discardableResult
func runRender(pipeline: RenderPipeline, request: RenderRequest, quiet: Bool, engine: RenderEngine = .fast) throws -> RenderResult {
    let terminal = isatty(2) != 0
    let lastDecile = LockedBox(-1)
    do {
        let result = try pipeline.render(
            request, engine: engine,
            progress: { p in
                guard !quiet else { return }
                let fps = p.elapsed > 0 ? Double(p.frame) / p.elapsed : 0
                let eta = fps > 0 ? Double(p.frameCount - p.frame) / fps : 0
                let line = String(
                    format: "frame %d/%d  %3.0f%%  %.1f fps  %.2fx realtime  ETA %.0f s", p.frame, p.frameCount, p.fraction * 100, fps, fps / 30, eta)
                if terminal {
                    FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
                } else {
                    let decile = Int(p.fraction * 10)
                    if lastDecile.swap(decile) != decile { printError(line) }
                }
            })
        if terminal && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
        if !quiet {
            print(String(format: "wrote %@ (%.2f s, %d frames) in %.2f s", result.output, result.duration, result.frameCount, result.elapsed))
            if let t = result.thumbnail { print("wrote \(t)") }
            if let i = result.loudnessIn, let o = result.loudnessOut {
                print(String(format: "loudness: %.1f LUFS in, %.1f LUFS out (true peak %.1f dBTP)", i.integrated, o.integrated, o.truePeak))
            }
            // What the plan noted (a field's text cut to fit, pictures repeated): a render is where a long price shows.
            for note in result.notes { print("note: \(note)") }
        }
        return result
    } catch {
        if terminal && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
        printError("rendc: error: \(error)")
        throw ExitCode(1)
    }
}

final class LockedBox<T: Sendable>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func swap(_ new: T) -> T { lock.lock(); defer { lock.unlock() }; let old = value; value = new; return old }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Print the resolved plan and filter graph without rendering.")
    @OptionGroup var job: JobOptions
    @Option(name: .customLong("emit-ffmpeg"), help: "Write graph.txt (stock FFmpeg filters), its PNG art and run.sh (ffmpeg CLI) into this folder.")
    var emitFFmpeg: String?
    @Flag(help: "Print only the plan's summary (layers, shots, timing, notes), not its filter graphs.")
    var summary = false
    func run() throws {
        let settings = try loadSettings()
        let pipeline = settings.renderPipeline(extraTemplates: job.templateDirectories, logger: settings.logger())
        do {
            let clock = ContinuousClock()
            let started = clock.now
            var request = try job.requestWithSamples(pipeline, output: "out.mp4")
            if emitFFmpeg != nil {
                // run.sh runs from its own folder: a relative --image/--audio/--voice or template path (and media
                // named relative to that template) would not be found there.
                request = request.withAbsolutePaths(from: FileManager.default.currentDirectoryPath)
            }
            let plan = try pipeline.plan(request)
            let took = clock.now - started
            print(plan.summary)
            if !summary {
                print("")
                print(try pipeline.ffmpegGraph(plan).script)
            }
            if let dir = emitFFmpeg {
                let graph = try pipeline.exportFFmpeg(plan, to: dir)
                printError("wrote \((dir as NSString).appendingPathComponent("graph.txt")), run.sh and \(graph.art.count) art file(s)")
            }
            printError(String(format: "planned in %.1f ms", took / .milliseconds(1)))
        } catch {
            printError("rendc: error: \(error)")
            throw ExitCode(1)
        }
    }
}

struct StillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "still", abstract: "Render one frame to a PNG, for designers.")
    @OptionGroup var job: JobOptions
    @Option(help: "Time of the frame in seconds.")
    var at: Double = 1
    @Option(name: .shortAndLong, help: "Output PNG path.")
    var output: String = "frame.png"
    func run() throws {
        let settings = try loadSettings()
        let pipeline = settings.renderPipeline(extraTemplates: job.templateDirectories, logger: settings.logger())
        do {
            let (image, plan) = try pipeline.still(try job.requestWithSamples(pipeline, output: "unused.mp4"), at: at)
            // A rendered frame is opaque: stored as RGB.
            try ImageFileWriter.png(image, to: output, opaque: true)
            print("wrote \(output) (\(image.width)x\(image.height), frame \(Int(at * Double(plan.fps))) of \(plan.frameCount))")
            for note in plan.notes { print("note: \(note)") }
        } catch {
            printError("rendc: error: \(error)")
            throw ExitCode(1)
        }
    }
}

extension RenderRequest {
    /// The request with its input files and a template given as a file named from `directory` when relative.
    func withAbsolutePaths(from directory: String) -> RenderRequest {
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
        }
        var copy = self
        copy.images = images.map(absolute)
        copy.audio = audio.map(absolute)
        copy.voice = voice.map(absolute)
        if template.hasSuffix(".yaml") || template.hasSuffix(".yml") || template.contains("/") { copy.template = absolute(template) }
        return copy
    }
}
