import CaptionText
import FilterGraphBackend
import Foundation
import LayerCache
import Logging
import Planner
import RasterImage
import SpecLang

/// Where the pipeline finds templates and default assets, and where it may write.
public struct PipelineConfiguration: Sendable {
    /// Folders searched for `NAME.yaml`, first match wins (designer folders first, the built-in `specs/` last).
    public var templateDirectories: [String]
    /// Folder of the generated default assets (overlay loops, demo music and pictures).
    public var assetsDirectory: String
    /// Folder for caches (beat analysis), or nil for none.
    public var cacheDirectory: String?
    /// Folder for temporary files.
    public var temporaryDirectory: String
    /// Longest video allowed, in seconds (VIDEO_MAX_DURATION).
    public var maxDuration: Double
    /// Prepared pictures and overlay loops kept between renders (RENDC_CACHE_MB in memory, a folder on disk).
    public var layerCache: LayerCacheConfiguration

    public init(
        templateDirectories: [String], assetsDirectory: String, cacheDirectory: String? = nil, temporaryDirectory: String, maxDuration: Double = 60,
        layerCache: LayerCacheConfiguration = .disabled
    ) {
        self.templateDirectories = templateDirectories
        self.assetsDirectory = assetsDirectory
        self.cacheDirectory = cacheDirectory
        self.temporaryDirectory = temporaryDirectory
        self.maxDuration = maxDuration
        self.layerCache = layerCache
    }
}

public struct TemplateInfo: Sendable, Equatable {
    public var name: String
    public var description: String
    public var path: String
}

/// An error from the pipeline that is the job's fault (bad input) or the machine's, with the stage it happened in.
/// Why a render or plan failed. `kind` is the stage; `underlying` keeps the structured error it came from (a
/// `SpecErrors` with file:line:col, a `PlanError` with its code and template line, a `MediaError` with its code, a
/// caption error), so callers decide on codes, never on text. `description` names no secret and no folder of this
/// machine beyond the paths the caller gave.
public struct PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case template, input, plan, caption, render, cancelled }
    public var kind: Kind
    public var message: String
    public var underlying: (any Error & Sendable)?

    public init(_ kind: Kind, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    public static let cancelled = PipelineError(.cancelled, "the render was cancelled")
    public var description: String { kind == .cancelled ? message : "\(kind.rawValue): \(message)" }

    /// The planner's error, when the inputs did not fit the template.
    public var planError: PlanError? { underlying as? PlanError }
    /// The template's errors with their positions, when the template did not load.
    public var templateErrors: [SpecError] { (underlying as? SpecErrors)?.errors ?? (underlying as? SpecError).map { [$0] } ?? [] }
    /// Whether trying again cannot help: bad input or a bad template fail the same way every time.
    public var isPermanent: Bool {
        switch kind {
        case .template, .input, .plan, .caption: true
        case .render: (underlying as? BackendError)?.isPermanent ?? false
        case .cancelled: false
        }
    }

    public static func == (a: PipelineError, b: PipelineError) -> Bool { a.kind == b.kind && a.message == b.message }
}

/// What a product media file is, judged by its first bytes (never by its name).
enum MediaKind {
    /// MP4/MOV (an ISO-BMFF `ftyp` box that is not a still-image brand) or Matroska/WebM (EBML).
    static func isVideo(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 12)) ?? Data())
        guard head.count >= 12 else { return false }
        if head[0...3] == [0x1A, 0x45, 0xDF, 0xA3] { return true }
        if head[4...7] == Array("ftyp".utf8)[...] {
            let brand = String(decoding: head[8...11], as: UTF8.self)
            return !["avif", "avis", "heic", "heix", "mif1", "msf1"].contains(brand)
        }
        return false
    }
}

/// The one composition both `rendc render` and the worker run: load template -> beats -> caption -> plan -> backend.
public final class RenderPipeline: Sendable {
    public let configuration: PipelineConfiguration
    let logger: Logger
    public let assets: DefaultAssets
    /// Shared by every render of this pipeline (the worker's renders share its in-memory part); also holds the
    /// audio measurements (level profiles, loudness normalisation).
    public let layerCache: LayerCache
    /// Told of every audio pass actually run (not read from a cache), from any thread.
    let audioObserver: (@Sendable (AudioWork) -> Void)?

    public init(configuration: PipelineConfiguration, logger: Logger, audioObserver: (@Sendable (AudioWork) -> Void)? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.audioObserver = audioObserver
        assets = DefaultAssets(directory: configuration.assetsDirectory)
        layerCache = LayerCache(configuration: configuration.layerCache, logger: logger)
    }

    // MARK: Templates

    /// Installed templates, by name (first folder wins), with their one-line descriptions. Unparsable templates are
    /// left out here (`rendc lint` reports them).
    public func templates() throws -> [TemplateInfo] {
        var seen: [String: TemplateInfo] = [:]
        let options = loadOptions  // as loading checks them: a template no job could load is not listed
        for dir in configuration.templateDirectories {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for file in files.sorted() where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                let path = (dir as NSString).appendingPathComponent(file)
                guard let t = try? TemplateParser.parse(file: path, options: options), seen[t.name] == nil else { continue }
                seen[t.name] = TemplateInfo(name: t.name, description: t.description, path: path)
            }
        }
        return seen.values.sorted { $0.name < $1.name }
    }

    /// `options` plus what this process can check beyond the YAML: the installed font families, so a `font.family`
    /// nothing can draw is reported at its file:line:col (by `rendc lint`, the studio and a render alike) rather than
    /// when the caption is drawn.
    public static func templateOptions(_ options: TemplateParser.Options = .init()) -> TemplateParser.Options {
        var o = options
        o.fontFamilies = CaptionRenderer().fontFamilies()
        return o
    }

    /// What loading a template checks here: `templateOptions(_:)`, counters up to this pipeline's longest video.
    var loadOptions: TemplateParser.Options { Self.templateOptions(.init(maximumDuration: configuration.maxDuration)) }

    /// Loads a template by name (searching the template folders) or by path to a YAML file.
    public func loadTemplate(_ nameOrPath: String) throws -> Template {
        if nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") || nameOrPath.contains("/") {
            return try TemplateParser.parse(file: nameOrPath, options: loadOptions)
        }
        guard nameOrPath.range(of: #"^[a-z0-9][a-z0-9-]{0,49}$"#, options: .regularExpression) != nil else {
            throw PipelineError(.template, "'\(nameOrPath)' is not a template name")
        }
        for dir in configuration.templateDirectories {
            for ext in ["yaml", "yml"] {
                let path = (dir as NSString).appendingPathComponent("\(nameOrPath).\(ext)")
                if FileManager.default.fileExists(atPath: path) { return try TemplateParser.parse(file: path, options: loadOptions) }
            }
        }
        let known = (try? templates().map(\.name).joined(separator: ", ")) ?? ""
        guard !known.isEmpty else {
            // A binary copied away from its checkout finds no built-in specs (design12 met "(installed: )").
            throw PipelineError(
                .template,
                "no template named '\(nameOrPath)': no templates are installed (set RENDC_SPECS_DIR to the specs folder, or give a folder with --templates)"
            )
        }
        throw PipelineError(.template, "no template named '\(nameOrPath)' (installed: \(known))")
    }

    /// The request's template; with a `templateDirectory`, the file is read as if it were in that folder, so its
    /// relative paths are checked and resolved there.
    func loadTemplate(for request: RenderRequest) throws -> Template {
        guard let directory = request.templateDirectory else { return try loadTemplate(request.template) }
        return try TemplateParser.parse(
            file: request.template, as: (directory as NSString).appendingPathComponent((request.template as NSString).lastPathComponent),
            options: loadOptions)
    }

    func resolveAsset(_ ref: AssetRef, template: Template) -> String? {
        switch ref {
        case .builtin(let name):
            do { return try assets.path(for: name) } catch {
                logger.error("cannot generate built-in asset", metadata: ["asset": "\(name)", "error": "\(error)"])
                return nil
            }
        case .file(let p):
            let path =
                p.hasPrefix("/")
                ? p : ((template.sourcePath.map { ($0 as NSString).deletingLastPathComponent } ?? ".") as NSString).appendingPathComponent(p)
            return FileManager.default.isReadableFile(atPath: path) ? path : nil
        }
    }

    // MARK: Planning

    /// Resolves a request into a plan. Reads the audio's header, beats and level (cached), no pixels. With
    /// `measuringLoudness` (the default: `rendc plan` prints it) the loudness normalisation is measured too (cached);
    /// without, the plan's loudness says "not measured yet" (a still does not need it).
    public func plan(_ request: RenderRequest, measuringLoudness: Bool = true) throws -> RenderPlan {
        let hashes = ContentHashes(cache: layerCache)
        var plan = try plan(request, template: loadTemplate(for: request), hashes: hashes)
        if measuringLoudness, plan.audio?.loudness != nil {
            let measured = try loudness(plan, hashes: hashes)
            plan.audio?.loudness = measured
        }
        return plan
    }

    /// The plan without its loudness measured (`render` measures it beside the first frames).
    func plan(_ request: RenderRequest, template: Template, hashes: ContentHashes) throws -> RenderPlan {
        for image in request.images where !FileManager.default.isReadableFile(atPath: image) {
            throw PipelineError(.input, "image \(image): file not found or not readable")
        }
        for field in template.fields where field.kind == .image {
            if let path = request.fields[field.name], !path.isEmpty, !FileManager.default.isReadableFile(atPath: path) {
                throw PipelineError(.input, "field \(field.name): picture \(path) not found or not readable")
            }
        }
        var audio: AudioInput?
        var beats: BeatTimes?
        if let path = request.audio {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw PipelineError(.input, "audio \(path): file not found or not readable")
            }
            var duration: Double
            do { duration = try MediaProbe.audioDuration(path: path) } catch {
                throw PipelineError(.input, "audio \(error)", underlying: error as? any Error & Sendable)
            }
            // The highlight is chosen from the whole track (up to a limit), so beats and level cover it too; a set
            // start is analysed from there.
            let (from, span) = analysisWindow(template: template, trackDuration: duration)
            let analysed = try analyseBeats(path: path, from: from, span: span, hashes: hashes)
            beats = analysed.beats
            // A header that says less than what decodes (an MP3 Xing count that says 1 s of 600): the decode wins.
            if let decoded = analysed.trackDuration, decoded > duration + 1 {
                logger.warning(
                    "the audio header understates the track; planning with the decoded length",
                    metadata: ["file": "\(path)", "header": "\(duration)", "decoded": "\(decoded)"])
                duration = decoded
            }
            audio = AudioInput(path: path, duration: duration)
            // The level over time: for the highlight and for lining up loops (neither happens when the template
            // starts the music at a set time and the track runs past any video allowed).
            var levelNeeded = true
            if case .seconds(let s) = template.timing.audio.start, duration - s > configuration.maxDuration + 0.01 { levelNeeded = false }
            if levelNeeded {
                do { audio?.profile = try levelProfile(path: path, maxDuration: span, hashes: hashes) } catch {
                    logger.warning(
                        "audio level not measured; the music starts at 0 s and loops on the tracked beats",
                        metadata: ["file": "\(path)", "error": "\(error)"])
                }
            }
        }
        var voice: VoiceInput?
        if let path = request.voice {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw PipelineError(.input, "voice \(path): file not found or not readable")
            }
            do {
                let s = AudioMeasure.speech(profile: try levelProfile(path: path, maxDuration: configuration.maxDuration + 1, hashes: hashes))
                voice = VoiceInput(path: path, duration: s.duration, speech: s.spans)
            } catch {
                throw PipelineError(.input, "voice \(error)")
            }
        }
        let inputs = PlanInputs(
            images: request.images, audio: audio, text: request.text, fields: request.fields, duration: request.duration,
            quality: request.quality, beats: beats, maxDuration: configuration.maxDuration,
            clips: Set(request.images.filter(MediaKind.isVideo(path:))), voice: voice
        )
        do {
            var plan = try Planner.plan(template: template, inputs: inputs) { resolveAsset($0, template: template) }
            plan.notes += cutFieldNotes(plan, template: template)
            return plan
        } catch let e as PlanError {
            throw PipelineError(.plan, e.description, underlying: e)
        }
    }

    /// A note for each text layer whose merge fields' text is cut to fit its box (design14: a merchant never learnt
    /// that their price was cut). Only the text renderer knows, so each such text is set once more here (the
    /// renderer sets it again when drawing); a text that fails to set is left to `texts(for:)` to report.
    func cutFieldNotes(_ plan: RenderPlan, template: Template) -> [String] { fieldCuts(plan, template: template).map(\.note) }

    /// The text layers of `plan` whose merge fields' text is cut to fit (set by the text renderer, as the render
    /// will): for the plan's notes, and for submit's warnings to the store (trial15b: a store learnt its caption was
    /// cut only after the render).
    public func fieldCuts(_ plan: RenderPlan, template: Template) -> [FieldCut] {
        let renderer = CaptionRenderer()
        var cuts: [FieldCut] = [], seen: Set<Int> = []
        for layer in plan.layers {
            guard case .text(let t) = layer.content, layer.templateIndex < template.layers.count,
                case .text(let source) = template.layers[layer.templateIndex].content, !seen.contains(layer.templateIndex)
            else { continue }
            // A typed text is fitted as its whole text; other changing texts show numbers or the template's own steps.
            guard let text = t.fitAs ?? (source.changes == nil ? t.text : nil) else { continue }
            let fields = Planner.fieldNames(in: source.text).filter { !(plan.fields[$0] ?? "").isEmpty }
            guard !fields.isEmpty else { continue }
            seen.insert(layer.templateIndex)
            // Laid out as the render will, not drawn (the render draws it; submit only needs the count).
            guard
                let r = try? renderer.measure(text, style: t.style, width: t.box.width, height: t.box.height, baseDirectory: t.baseDirectory),
                r.truncated
            else { continue }
            let shown = r.lines.reduce(0) { $0 + $1.count } - r.lines.filter { $0.hasSuffix("\u{2026}") }.count
            // In the template's pixels, as the designer wrote them (an eco plan is drawn at 2/3 of them: design14b F5).
            let k = Double(template.canvas.width) / Double(max(1, plan.width))
            func inTemplate(_ v: Int) -> Int { k == 1 ? v : 2 * Int((Double(v) * k / 2).rounded()) }  // the planner's sizes are even
            let box = Rect(x: 0, y: 0, width: inTemplate(t.box.width), height: inTemplate(t.box.height))
            cuts.append(
                FieldCut(
                    layer: layer.templateIndex, fields: fields, text: text, shownCharacters: shown, box: box, size: r.fontSize * k,
                    lines: r.lines.count, ellipsis: t.style.ellipsis))
        }
        return cuts
    }

    /// The part of the track whose beats are analysed, in track seconds (`from` to `span`): from a set start to
    /// the longest video allowed after it (review12 M1: a start of 230 s was analysed over 0-61 s), else
    /// `highlightSpan`. A few seconds before a set start let the tracker settle on the first beats.
    func analysisWindow(template: Template, trackDuration: Double) -> (from: Double, span: Double) {
        guard case .seconds(let s) = template.timing.audio.start, s > 0 else {
            return (0, highlightSpan(template: template, trackDuration: trackDuration))
        }
        // Not cut at the header's length: a header may understate the track (the decode stops at its real end).
        // At least 16 s when the track has them: a start near the end analysed from 4 s before it gave the tracker
        // less than its 8 s windows, so no beats (trial15 F3).
        let from = max(0, min(s - 4, trackDuration - 16))
        return (from, max(from + 1, s + configuration.maxDuration + 1))
    }

    /// Seconds of the track analysed: the whole track (up to 4 minutes) when the template may pick a highlight in it.
    func highlightSpan(template: Template, trackDuration: Double) -> Double {
        let base = configuration.maxDuration + 1
        guard template.timing.audio.start == .auto, trackDuration > base else { return base }
        return min(trackDuration, 240)
    }

    // MARK: Rendering

    /// Renders synchronously on the calling thread. `progress` is called at most a few times a second;
    /// `shouldCancel` is polled every frame and stops the render with `PipelineError.cancelled`.
    /// No partial output is left on failure or cancellation.
    public func render(
        _ request: RenderRequest,
        engine: RenderEngine = .fast,
        progress: @Sendable (RenderProgress) -> Void = { _ in },
        shouldCancel: @Sendable () -> Bool = { false }
    ) throws -> RenderResult {
        let clock = ContinuousClock()
        let started = clock.now
        func seconds() -> Double { (clock.now - started) / .seconds(1) }
        let template = try loadTemplate(for: request)
        let hashes = ContentHashes(cache: layerCache)
        var plan = try plan(request, template: template, hashes: hashes)
        // Loudness: the mix measured by ebur128, then the gain before the limiter that lands on the target; from the
        // cache, else measured beside the first frames (the libavfilter engine needs it before it starts).
        var pending = pendingLoudness(plan, hashes: hashes)
        defer {
            pending?.cancel()
            pending?.join()
        }
        if engine == .libavfilter, let p = pending {
            plan.audio?.loudness = try p.wait()
            pending = nil
        }
        var lastReport = -1.0
        var loudnessOut: LoudnessMeasurement?
        var firstFrame = 0.0
        let report: (Int, Int) -> Void = { frame, total in
            let now = seconds()
            if now - lastReport >= 0.25 || frame == total {
                lastReport = now
                progress(RenderProgress(frame: frame, frameCount: total, elapsed: now))
            }
        }
        do {
            switch engine {
            case .fast:
                loudnessOut = try prepare(plan).render(
                    to: request.output, thumbnail: request.thumbnail, progress: report, shouldCancel: shouldCancel,
                    firstFrameSent: { firstFrame = seconds() }, loudness: pending)
            case .libavfilter:
                try LibavfilterRenderer(plan: plan, texts: try texts(for: plan))
                    .render(to: request.output, thumbnail: request.thumbnail, progress: report, shouldCancel: shouldCancel)
            }
        } catch let e as BackendError where e.stage == .cancelled {
            throw PipelineError.cancelled
        } catch let e as BackendError {
            // Bad input found while rendering (corrupt or NaN audio, an undecodable frame) fails the same way again.
            throw PipelineError(e.isPermanent ? .input : .render, e.description, underlying: e)
        }
        if let pending { plan.audio?.loudness = try pending.wait() }
        return RenderResult(
            output: request.output, thumbnail: request.thumbnail, duration: plan.duration, frameCount: plan.frameCount, elapsed: seconds(),
            plan: plan.summary, loudnessIn: plan.audio?.loudness?.input, loudnessOut: loudnessOut, firstFrameSeconds: firstFrame,
            notes: plan.notes)
    }

    /// One frame of the video as RGBA (for `rendc still`).
    /// Plans without measuring loudness: one frame needs the cuts (beats, highlight), not the mix's level.
    public func still(_ request: RenderRequest, at time: Double) throws -> (RGBAImage, RenderPlan) {
        let plan = try plan(request, measuringLoudness: false)
        guard time.isFinite, time >= 0, time < plan.duration else {
            throw PipelineError(.input, String(format: "--at %.3f s is outside the video (0 to %.3f s)", time, plan.duration))
        }
        let frame = min(plan.frameCount - 1, Int((time * Double(plan.fps)).rounded(.down)))
        let renderer = try prepare(plan, stillFrame: frame)
        do { return (try renderer.still(frame: frame), plan) } catch let e as BackendError {
            throw PipelineError(.render, e.description, underlying: e)
        }
    }

    /// Renders every text layer and prepares the backend (decodes pictures, builds static layers); with
    /// `stillFrame`, only what that one frame shows.
    public func prepare(_ plan: RenderPlan, stillFrame: Int? = nil, trace: (@Sendable (RenderEvent) -> Void)? = nil) throws -> FilterGraphRenderer {
        let texts = try texts(for: plan, visibleAt: stillFrame)
        do {
            let options = RenderOptions(cache: layerCache, trace: trace)
            if let stillFrame { return try FilterGraphRenderer(plan: plan, texts: texts, stillFrame: stillFrame, options: options) }
            return try FilterGraphRenderer(plan: plan, texts: texts, options: options)
        } catch let e as BackendError {
            throw PipelineError(e.isPermanent ? .input : .render, e.description, underlying: e)
        }
    }

    /// The text renderer's image of every text layer, by layer index; with `frame`, only of those that frame shows (a
    /// still of a counter draws one of its texts, not all of them).
    public func texts(for plan: RenderPlan, visibleAt frame: Int? = nil) throws -> [Int: RGBAImage] {
        var texts: [Int: RGBAImage] = [:]
        let renderer = CaptionRenderer()
        // The size each layer's `fitAs` text fits at and its lines (a typed text's parts share both: one size, one place).
        var fitted: [String: (size: Double, lines: Int)] = [:]
        for layer in plan.layers {
            guard case .text(let t) = layer.content, frame.map(layer.isVisible(at:)) ?? true else { continue }
            do {
                var style = t.style
                var blockLines = 0
                if let whole = t.fitAs {
                    let key = "\(layer.templateIndex)\u{0}\(whole)"
                    let fit =
                        try fitted[key]
                        ?? renderer.renderDetailed(whole, style: style, width: t.box.width, height: t.box.height, baseDirectory: t.baseDirectory)
                        .fitted
                    fitted[key] = fit
                    style.size = fit.size
                    style.minSize = min(style.minSize, fit.size)
                    blockLines = fit.lines
                }
                texts[layer.index] =
                    try renderer.renderDetailed(
                        t.text, style: style, width: t.box.width, height: t.box.height, baseDirectory: t.baseDirectory, blockLines: blockLines
                    )
                    .image
            } catch {
                throw PipelineError(.caption, "layers[\(layer.templateIndex)]: \(error)", underlying: error as? any Error & Sendable)
            }
        }
        return texts
    }

    /// The plan's stock FFmpeg graph as `exportFFmpeg` writes it (its pictures are read to place them).
    public func ffmpegGraph(_ plan: RenderPlan) throws -> FFmpegGraph {
        do {
            return try FFmpegExport.graph(plan: plan, texts: try texts(for: plan))
        } catch let e as BackendError {
            throw PipelineError(e.isPermanent ? .input : .render, e.description, underlying: e)
        }
    }

    /// `rendc plan --emit-ffmpeg`: the plan's stock FFmpeg graph, its PNG art and `run.sh` in `directory`.
    public func exportFFmpeg(_ plan: RenderPlan, to directory: String) throws -> FFmpegGraph {
        do {
            return try FFmpegExport.write(plan: plan, texts: try texts(for: plan), to: directory)
        } catch let e as BackendError {
            throw PipelineError(e.isPermanent ? .input : .render, e.description, underlying: e)
        }
    }
}
