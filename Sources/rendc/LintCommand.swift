import ArgumentParser
import FilterGraphBackend
import Foundation
import RendcSettings
import RasterImage
import SpecLang
import RenderPipeline

enum ImageFileWriter {
    static func png(_ image: RGBAImage, to path: String, opaque: Bool = false) throws { try ImageFile.writePNG(image, to: path, opaque: opaque) }
}

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lint", abstract: "Check template files (every problem, with file:line:column).")
    @Argument(help: "Template files or folders (default: the built-in specs/).")
    var paths: [String] = []

    func run() throws {
        let targets = paths.isEmpty ? [try loadSettings().specsDirectory] : paths
        var files: [String] = []
        for p in targets {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                printError("rendc: error: \(p): no such file or folder")
                throw ExitCode(1)
            }
            if isDir.boolValue {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: p)) ?? []
                files += entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { (p as NSString).appendingPathComponent($0) }
            } else {
                files.append(p)
            }
        }
        var failed = 0
        var warned = 0
        var names: [String: String] = [:]
        // Counters are checked up to the longest video a job may ask for (VIDEO_MAX_DURATION, 60 s by default).
        let maximumDuration = (try? loadSettings())?.maxDuration ?? 60
        let options = RenderPipeline.templateOptions(
            TemplateParser.Options(builtinAssets: Set(DefaultAssets.builtins.keys), maximumDuration: maximumDuration))
        for file in files {
            do {
                let t = try TemplateParser.parse(file: file, options: options)
                for w in t.warnings { print(w.description) }
                warned += t.warnings.count
                if let other = names[t.name] {
                    print("\(file): error: name '\(t.name)' is also used by \(other)")
                    failed += 1
                } else {
                    names[t.name] = file
                    print("\(file): ok (\(t.name): \(t.layers.map(\.kind).joined(separator: ", ")))")
                }
            } catch {
                print("\(error)")
                failed += 1
            }
        }
        print("\(files.count - failed) of \(files.count) templates ok" + (warned > 0 ? ", \(warned) warning(s)" : ""))
        if failed > 0 { throw ExitCode(1) }
    }
}

struct TemplatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "templates", abstract: "List installed templates.")
    @Option(name: .customLong("templates"), help: "An extra folder of templates. Repeatable.")
    var templateDirectories: [String] = []
    func run() throws {
        let settings = try loadSettings()
        let pipeline = settings.renderPipeline(extraTemplates: templateDirectories, logger: settings.logger())
        let list = try pipeline.templates()
        let width = list.map(\.name.count).max() ?? 0
        for t in list { print(t.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + t.description) }
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Render a 30 s demo video from the built-in assets.")
    @Option(name: .shortAndLong) var output: String = "out/demo.mp4"
    @Option var template: String = "golden-frame"
    @Option var quality: QualityMode = .normal
    @Option var text: String = "✨ Test Video"
    @Option(name: .customLong("field"), help: "A merge field, NAME=VALUE. Repeatable.")
    var fieldValues: [String] = []
    func run() throws {
        let settings = try loadSettings()
        let pipeline = settings.renderPipeline(logger: settings.logger())
        let images = try pipeline.assets.demoImages()
        guard let track = try pipeline.assets.path(for: "demo-track") else { throw ExitCode(1) }
        let dir = (output as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let request = RenderRequest(
            template: template, images: images, audio: track, text: text, fields: try JobOptions.parseFields(fieldValues), duration: 30,
            quality: quality,
            output: output, thumbnail: (output as NSString).deletingPathExtension + ".jpg")
        try runRender(pipeline: pipeline, request: request, quiet: false)
    }
}
