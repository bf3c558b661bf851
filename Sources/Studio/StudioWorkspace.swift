import FilterGraphBackend
import Foundation
import Logging
import Planner
import RasterImage
import RenderPipeline
import SpecLang

/// One lint problem, positioned for the editor (1-based line and column; 0 when the position is unknown).
struct Diagnostic: Codable, Sendable, Equatable {
    var line: Int
    var column: Int
    var field: String
    var message: String
    /// `file:line:col: error: field: message`, as `rendc lint` prints it.
    var summary: String
}

/// A merge field of a template (templates v2 adds `fields:`; until then the list is empty).
struct MergeField: Codable, Sendable, Equatable {
    var name: String
    var label: String
    var kind: String
    var defaultValue: String?
}

struct LintResult: Codable, Sendable {
    var ok: Bool
    var diagnostics: [Diagnostic]
    var fields: [MergeField]
    var name: String?
    /// The template's own default caption (`fields: caption: {default: ...}`), for the page's caption box.
    var captionDefault: String? = nil
}

/// What the timeline under the preview draws.
struct PlanView: Codable, Sendable {
    struct ShotView: Codable, Sendable { var index: Int; var image: Int; var start: Double; var end: Double; var beat: Double? }
    struct Box: Codable, Sendable { var x: Int; var y: Int; var width: Int; var height: Int }
    var width: Int
    var height: Int
    var fps: Int
    var duration: Double
    var frameCount: Int
    var cutSource: String
    var tempo: Double?
    var shots: [ShotView]
    var window: Box?
    var caption: Box?
    var notes: [String]

    init(_ plan: RenderPlan) {
        width = plan.width
        height = plan.height
        fps = plan.fps
        duration = plan.duration
        frameCount = plan.frameCount
        cutSource = plan.cutSource.description
        if case .beats(let t, _) = plan.cutSource { tempo = t } else { tempo = nil }
        shots = plan.images?.shots.map { ShotView(index: $0.index, image: $0.image, start: $0.start, end: $0.end, beat: $0.beat) } ?? []
        window = plan.images.map { Box(x: Int($0.window.x), y: Int($0.window.y), width: Int($0.window.width), height: Int($0.window.height)) }
        caption = plan.caption.map { Box(x: Int($0.box.x), y: Int($0.box.y), width: Int($0.box.width), height: Int($0.box.height)) }
        notes = plan.notes
    }
}

struct TemplateEntry: Codable, Sendable {
    var id: String
    var file: String
    var name: String
    var description: String
    var editable: Bool
}

struct InputsView: Codable, Sendable {
    var images: [String]
    var audio: String?
    var custom: Bool
}

struct VideoStatus: Codable, Sendable {
    var id: String
    var state: String
    var progress: Double
    var error: String?
    var url: String?
}

/// The studio's state and work, without HTTP: templates, lint, stills, preview videos, dropped inputs.
/// Renders are CPU-bound and synchronous, so they run on their own serial queues, not on Swift's cooperative pool.
final class StudioWorkspace: @unchecked Sendable {
    let configuration: StudioConfiguration
    let pipeline: RenderPipeline
    let logger: Logger
    private let lock = NSLock()
    private let stillQueue = DispatchQueue(label: "rendc.studio.still", qos: .userInitiated)
    private let videoQueue = DispatchQueue(label: "rendc.studio.video", qos: .utility)
    // Guarded by `lock`.
    private var customImages: [(name: String, path: String)] = []
    private var customAudio: (name: String, path: String)?
    private var videos: [String: VideoStatus] = [:]
    private var recentStills: [String] = []
    private var recentVideos: [String] = []
    /// Touched only on `stillQueue`.
    private var preparedStill: PreparedStill?
    private var counter = 0

    init(configuration: StudioConfiguration, pipeline: RenderPipeline, logger: Logger) throws {
        self.configuration = configuration
        self.pipeline = pipeline
        self.logger = logger
        for sub in ["drafts", "stills", "videos", "inputs"] {
            try FileManager.default.createDirectory(atPath: path(sub), withIntermediateDirectories: true)
        }
    }

    private func path(_ parts: String...) -> String {
        parts.reduce(configuration.workDirectory) { ($0 as NSString).appendingPathComponent($1) }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func nextNumber() -> Int {
        locked {
            counter += 1
            return counter
        }
    }

    // MARK: Templates

    static let fileNamePattern = #"^[a-z0-9][a-z0-9._-]{0,60}\.ya?ml$"#
    static let templateNamePattern = #"^[a-z0-9][a-z0-9-]{0,49}$"#

    func templates() -> [TemplateEntry] {
        var list: [TemplateEntry] = []
        func scan(_ dir: String, kind: String, editable: Bool) {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            for file in files where file.range(of: Self.fileNamePattern, options: .regularExpression) != nil {
                let full = (dir as NSString).appendingPathComponent(file)
                let parsed = try? TemplateParser.parse(file: full)
                list.append(
                    TemplateEntry(
                        id: "\(kind):\(file)", file: file, name: parsed?.name ?? (file as NSString).deletingPathExtension,
                        description: parsed?.description ?? "does not lint clean", editable: editable))
            }
        }
        if let dir = configuration.editableDirectory { scan(dir, kind: "local", editable: true) }
        scan(configuration.builtinDirectory, kind: "builtin", editable: false)
        return list
    }

    /// Resolves a template id (`builtin:golden-frame.yaml`, `local:my-look.yaml`) to its file, refusing anything else.
    func resolve(_ id: String) throws -> (path: String, file: String, editable: Bool) {
        let parts = id.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[1].range(of: Self.fileNamePattern, options: .regularExpression) != nil else {
            throw StudioError(.invalid, "'\(id)' is not a template id")
        }
        switch parts[0] {
        case "builtin":
            return ((configuration.builtinDirectory as NSString).appendingPathComponent(parts[1]), parts[1], false)
        case "local":
            guard let dir = configuration.editableDirectory else { throw StudioError(.notFound, "no --templates folder was given") }
            return ((dir as NSString).appendingPathComponent(parts[1]), parts[1], true)
        default:
            throw StudioError(.invalid, "'\(id)' is not a template id")
        }
    }

    func read(_ id: String) throws -> String {
        let (path, file, _) = try resolve(id)
        guard let data = FileManager.default.contents(atPath: path) else { throw StudioError(.notFound, "no template \(file)") }
        guard let text = String(data: data, encoding: .utf8) else { throw StudioError(.invalid, "\(file) is not UTF-8") }
        return text
    }

    // MARK: Lint

    /// Where a draft's relative file paths point: the designer's folder, else the shipped templates' folder.
    var templateDirectory: String { configuration.editableDirectory ?? configuration.builtinDirectory }

    /// Lints YAML from the page as if it were `file` in the template folder (so relative paths are checked there);
    /// the diagnostics name the file only, not the folder.
    func lint(_ yaml: String, file: String) -> (LintResult, Template?) {
        let name = (file as NSString).lastPathComponent
        let path = (templateDirectory as NSString).appendingPathComponent(name)
        func diagnostic(_ e: SpecError) -> Diagnostic {
            var d = Self.diagnostic(e)
            d.summary = d.summary.replacingOccurrences(of: path, with: name)
            return d
        }
        do {
            // The YAML comes from a browser: it may name built-in assets and files beside the draft, nothing else.
            let template = try TemplateParser.parse(
                yaml: yaml, file: path, options: RenderPipeline.templateOptions(TemplateParser.Options(confineFiles: true)))
            // Text and colour fields get an input; the caption has its own box, pictures keep their default.
            let fields = template.fields.filter { $0.name != Template.captionField && $0.kind != .image }.map {
                MergeField(
                    name: $0.name, label: $0.description.isEmpty ? $0.name : "\($0.name): \($0.description)", kind: $0.kind.rawValue,
                    defaultValue: $0.defaultValue ?? ($0.required ? Self.sample(for: $0) : nil))
            }
            let caption = template.fields.first { $0.name == Template.captionField }?.defaultValue
            return (LintResult(ok: true, diagnostics: [], fields: fields, name: template.name, captionDefault: caption), template)
        } catch let e as SpecErrors {
            return (LintResult(ok: false, diagnostics: e.errors.map(diagnostic), fields: [], name: nil), nil)
        } catch let e as SpecError {
            return (LintResult(ok: false, diagnostics: [diagnostic(e)], fields: [], name: nil), nil)
        } catch {
            return (
                LintResult(
                    ok: false, diagnostics: [Diagnostic(line: 0, column: 0, field: "", message: "\(error)", summary: "\(name): error: \(error)")],
                    fields: [], name: nil), nil
            )
        }
    }

    static func diagnostic(_ e: SpecError) -> Diagnostic {
        Diagnostic(line: e.line, column: e.column, field: e.field, message: e.message, summary: e.summary)
    }

    // MARK: Inputs

    func inputs() -> InputsView {
        locked { InputsView(images: customImages.map(\.name), audio: customAudio?.name, custom: !customImages.isEmpty || customAudio != nil) }
    }

    /// The pictures and track a render uses: the designer's, else the built-in demo ones.
    func renderInputs() throws -> (images: [String], audio: String?) {
        let (custom, track) = locked { (customImages.map(\.path), customAudio?.path) }
        let images = custom.isEmpty ? try pipeline.assets.demoImages() : custom
        let audio = try track ?? pipeline.assets.path(for: "demo-track")
        return (images, audio)
    }

    static func safeName(_ name: String) -> String {
        let cleaned = String(
            name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "." || $0 == "-" || $0 == "_" ? Character($0) : "_" })
        let trimmed = String(cleaned.prefix(80)).trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return trimmed.isEmpty ? "upload" : trimmed
    }

    /// Keeps a dropped picture after checking it decodes.
    func addImage(name: String, bytes: [UInt8]) async throws -> InputsView {
        let n = nextNumber()
        let safe = Self.safeName(name)
        let dest = path("inputs", "\(n)-\(safe)")
        try Data(bytes).write(to: URL(fileURLWithPath: dest))
        do {
            _ = try await onQueue(stillQueue) { try ImageFile.decode(path: dest) }
        } catch {
            try? FileManager.default.removeItem(atPath: dest)
            throw StudioError(.invalid, "\(safe) is not a picture rendc can read")
        }
        let dropped: String? = locked {
            customImages.append((safe, dest))
            return customImages.count > 10 ? customImages.removeFirst().path : nil
        }
        if let dropped { try? FileManager.default.removeItem(atPath: dropped) }
        return inputs()
    }

    /// Keeps a dropped music track after checking libavformat reads it.
    func setAudio(name: String, bytes: [UInt8]) async throws -> InputsView {
        let n = nextNumber()
        let safe = Self.safeName(name)
        let dest = path("inputs", "\(n)-\(safe)")
        try Data(bytes).write(to: URL(fileURLWithPath: dest))
        do {
            _ = try await onQueue(stillQueue) { try MediaProbe.audioDuration(path: dest) }
        } catch {
            try? FileManager.default.removeItem(atPath: dest)
            throw StudioError(.invalid, "\(safe) is not a music track rendc can read")
        }
        let old = locked { () -> String? in
            defer { customAudio = (safe, dest) }
            return customAudio?.path
        }
        if let old { try? FileManager.default.removeItem(atPath: old) }
        return inputs()
    }

    func resetInputs() -> InputsView {
        let files = locked { () -> [String] in
            defer { customImages = []; customAudio = nil }
            return customImages.map(\.path) + (customAudio.map { [$0.path] } ?? [])
        }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        return inputs()
    }

    // MARK: Preview

    /// Writes the draft where the pipeline can load it by path (relative asset paths resolve against the draft folder).
    private func writeDraft(_ yaml: String) throws -> String {
        let draft = path("drafts", "draft-\(nextNumber()).yaml")
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: draft))
        return draft
    }

    struct Still: Sendable { var file: String; var plan: PlanView }

    /// A value that lets a required field's preview render before the designer types one.
    static func sample(for field: FieldSpec) -> String {
        switch field.kind {
        case .color: "#E63946"
        case .image, .text: String("Sample".prefix(field.maxLength))
        }
    }

    private final class PreparedStill {
        let key: String
        let plan: RenderPlan
        /// The whole renderer, once the draft has been scrubbed a few times; nil until then.
        var renderer: FilterGraphRenderer?
        var scrubs = 0
        init(key: String, plan: RenderPlan, renderer: FilterGraphRenderer?) {
            self.key = key
            self.plan = plan
            self.renderer = renderer
        }
    }

    /// Renders the frame at `time` of the draft to a JPEG in the stills folder. The prepared renderer (decoded
    /// pictures, the blended overlay loop, the caption) is kept for the last draft and inputs, so moving the scrubber
    /// only composes one frame; any edit prepares afresh.
    func still(yaml: String, at time: Double, text: String?, fields: [String: String] = [:]) async throws -> Still {
        // Any finite time past the end shows the last frame; a huge one (1e19 s) would overflow the frame number.
        guard time.isFinite else { throw StudioError(.invalid, "at must be a finite number of seconds") }
        let time = min(max(0, time), 86_400)
        let (images, audio) = try renderInputs()
        let key = ([yaml, text ?? "", audio ?? ""] + images + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(
            separator: "\u{0}")
        let number = nextNumber()
        let name = "still-\(number).jpg"
        let dest = path("stills", name)
        let draftPath = path("drafts", "draft-\(number).yaml")
        let plan: RenderPlan = try await onQueue(stillQueue) { [self] in
            // A still prepares only its frame (one overlay frame, one shot's pictures: fast); a draft scrubbed a few
            // times gets the whole renderer, after which a scrub only composes a frame.
            let image: RGBAImage
            let entry: PreparedStill
            if let cached = preparedStill, cached.key == key {
                entry = cached
                let frame = min(entry.plan.frameCount - 1, Int((max(0, time) * Double(entry.plan.fps)).rounded(.down)))
                do {
                    // Each frame prepares only what it shows (about 0.35 s for golden-frame); a whole renderer
                    // costs seconds, paid once a draft has been scrubbed three times.
                    entry.scrubs += 1
                    if entry.renderer == nil && entry.scrubs >= 3 { entry.renderer = try pipeline.prepare(entry.plan) }
                    if let renderer = entry.renderer {
                        image = try renderer.still(frame: frame)
                    } else {
                        image = try pipeline.prepare(entry.plan, stillFrame: frame).still(frame: frame)
                    }
                } catch { throw StudioError(.render, "\(error)") }
            } else {
                preparedStill = nil  // free the old one before preparing the next
                try Data(yaml.utf8).write(to: URL(fileURLWithPath: draftPath))
                defer { try? FileManager.default.removeItem(atPath: draftPath) }
                var request = RenderRequest(
                    template: draftPath, images: images, audio: audio, text: text, fields: fields, quality: .normal, output: "unused.mp4")
                request.templateDirectory = templateDirectory
                let plan = try pipeline.plan(request, measuringLoudness: false)  // a still does not hear the mix
                entry = PreparedStill(key: key, plan: plan, renderer: nil)
                let frame = min(plan.frameCount - 1, Int((max(0, time) * Double(plan.fps)).rounded(.down)))
                do { image = try pipeline.prepare(plan, stillFrame: frame).still(frame: frame) } catch { throw StudioError(.render, "\(error)") }
                preparedStill = entry
            }
            try ImageFile.writeJPEG(image, to: dest, quality: 3)
            return entry.plan
        }
        // Keep the last few stills only (the page may still be loading the previous one).
        let expired: String? = locked {
            recentStills.append(name)
            return recentStills.count > 8 ? recentStills.removeFirst() : nil
        }
        if let expired { try? FileManager.default.removeItem(atPath: path("stills", expired)) }
        return Still(file: name, plan: PlanView(plan))
    }

    func stillPath(_ name: String) -> String? {
        guard name.range(of: #"^still-[0-9]{1,9}\.jpg$"#, options: .regularExpression) != nil else { return nil }
        return path("stills", name)
    }

    // MARK: Eco preview video

    func startVideo(yaml: String, text: String?, fields: [String: String] = [:]) throws -> String {
        let (images, audio) = try renderInputs()
        let draft = try writeDraft(yaml)
        let id = "video-\(nextNumber())"
        let output = path("videos", "\(id).mp4")
        // Keep the last three preview videos.
        let expired: String? = locked {
            videos[id] = VideoStatus(id: id, state: "running", progress: 0)
            recentVideos.append(id)
            guard recentVideos.count > 3 else { return nil }
            let old = recentVideos.removeFirst()
            videos[old] = nil
            return old
        }
        if let expired { try? FileManager.default.removeItem(atPath: path("videos", "\(expired).mp4")) }
        let seconds = configuration.previewVideoSeconds
        videoQueue.async { [self] in
            defer { try? FileManager.default.removeItem(atPath: draft) }
            var request = RenderRequest(
                template: draft, images: images, audio: audio, text: text, fields: fields, duration: seconds, quality: .eco, output: output)
            request.templateDirectory = templateDirectory
            do {
                _ = try pipeline.render(request, progress: { p in self.update(id) { $0.progress = p.fraction } })
                update(id) {
                    $0.state = "done"; $0.progress = 1; $0.url = "/media/\(id).mp4"
                }
            } catch {
                logger.warning("preview video failed", metadata: ["error": "\(error)"])
                update(id) {
                    $0.state = "failed"; $0.error = "\(error)".replacingOccurrences(of: draft, with: "draft")
                }
            }
        }
        return id
    }

    private func update(_ id: String, _ change: (inout VideoStatus) -> Void) {
        locked { if var v = videos[id] { change(&v); videos[id] = v } }
    }

    func video(_ id: String) -> VideoStatus? {
        locked { videos[id] }
    }

    func videoPath(_ name: String) -> String? {
        guard name.range(of: #"^video-[0-9]{1,9}\.mp4$"#, options: .regularExpression) != nil else { return nil }
        return path("videos", name)
    }

    // MARK: Saving

    enum SaveOutcome { case saved(file: String), needsConfirmation([Diagnostic]) }

    /// Writes the draft over the template file in the designer's folder (atomically: a temporary file renamed
    /// into place), only when it lints clean or `force` is set.
    func save(id: String, yaml: String, force: Bool) throws -> SaveOutcome {
        let (path, file, editable) = try resolve(id)
        guard editable else { throw StudioError(.readOnly, "\(file) is a built-in template: use New to start a copy in your folder") }
        let (result, _) = lint(yaml, file: file)
        if !result.ok && !force { return .needsConfirmation(result.diagnostics) }
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        return .saved(file: file)
    }

    /// Starts a new template in the designer's folder from a copy of another one, renamed.
    func newTemplate(from id: String, name: String) throws -> String {
        guard let dir = configuration.editableDirectory else {
            throw StudioError(.readOnly, "start the studio with --templates DIR to create templates")
        }
        guard name.range(of: Self.templateNamePattern, options: .regularExpression) != nil else {
            throw StudioError(.invalid, "a template name is lowercase letters, digits and dashes (up to 50), e.g. my-look")
        }
        let source = try read(id)
        let dest = (dir as NSString).appendingPathComponent("\(name).yaml")
        guard !FileManager.default.fileExists(atPath: dest) else { throw StudioError(.conflict, "\(name).yaml already exists") }
        var lines = source.components(separatedBy: "\n")
        if let i = lines.firstIndex(where: { $0.hasPrefix("name:") }) {
            // The header comment that names the original names the copy, and where it came from (trial15c).
            let old = lines[i].dropFirst(5).trimmingCharacters(in: .whitespaces)
            if !old.isEmpty, let h = lines[..<i].firstIndex(where: { $0.hasPrefix("# \(old):") }) {
                lines[h] = "# \(name) (from \(old)):" + lines[h].dropFirst(3 + old.count)
            }
            lines[i] = "name: \(name)"
        } else {
            lines.insert("name: \(name)", at: 0)
        }
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: dest), options: .atomic)
        return "local:\(name).yaml"
    }

    private func onQueue<T: Sendable>(_ queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
        }
    }
}
