import Foundation
internal import Yams

/// Parses and validates template YAML. Every problem is collected with its file, line, column and field path;
/// unknown keys are errors (with a suggestion), never silently ignored.
public enum TemplateParser {
    /// Reads and parses a template file. Throws `SpecErrors` (one or more problems) or `SpecError`.
    public static func parse(file path: String) throws -> Template {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SpecErrors([SpecError(file: path, line: 0, column: 0, field: "", message: "cannot read the file (\(error.localizedDescription))")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecError(file: path, line: 0, column: 0, field: "", message: "the file is not valid UTF-8")])
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses template YAML held in memory; `file` names it in errors and anchors relative asset paths.
    public static func parse(yaml: String, file: String = "<string>") throws -> Template {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).replacingOccurrences(of: "\r", with: "") }
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SpecErrors([syntaxError(error, file: file, lines: lines)])
        }
        guard let node else {
            throw SpecErrors([SpecError(file: file, line: 1, column: 1, field: "", message: "the template is empty")])
        }
        let reader = Reader(file: file, lines: lines)
        let template = reader.template(node)
        if !reader.errors.isEmpty { throw SpecErrors(reader.errors) }
        guard var template else { throw SpecErrors([SpecError(file: file, line: 1, column: 1, field: "", message: "not a template")]) }
        if file != "<string>" { template.sourcePath = file }
        return template
    }

    private static func syntaxError(_ error: YamlError, file: String, lines: [String]) -> SpecError {
        func make(_ problem: String, _ mark: Mark) -> SpecError {
            let source = mark.line >= 1 && mark.line <= lines.count ? lines[mark.line - 1] : nil
            return SpecError(file: file, line: mark.line, column: mark.column, field: "", message: "YAML syntax: \(problem)", sourceLine: source)
        }
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return make(problem, mark)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return make("duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) \(context.text)", context.mark)
        default:
            return SpecError(file: file, line: 0, column: 0, field: "", message: "YAML syntax: \(error)")
        }
    }
}

// MARK: - Reader

/// Walks the YAML node tree, converting and validating as it goes, recording errors instead of stopping.
private final class Reader {
    let file: String
    let lines: [String]
    var errors: [SpecError] = []

    init(file: String, lines: [String]) {
        self.file = file
        self.lines = lines
    }

    func error(_ node: Node?, _ path: String, _ message: String) {
        let mark = node?.mark
        let line = mark?.line ?? 0
        let source = line >= 1 && line <= lines.count ? lines[line - 1] : nil
        errors.append(SpecError(file: file, line: line, column: mark?.column ?? 0, field: path, message: message, sourceLine: source))
    }

    // MARK: Document

    func template(_ root: Node) -> Template? {
        guard let map = mapping(root, "") else { return nil }
        let name = map.required("name") { self.string($0, $1, pattern: .templateName) }
        let description = map.optional("description") { self.string($0, $1) } ?? ""
        let canvas = map.optional("canvas") { self.canvas($0, $1) } ?? Canvas()
        let timing = map.optional("timing") { self.timing($0, $1) } ?? Timing()
        let layers = map.required("layers") { self.layers($0, $1, canvas: canvas) } ?? []
        let quality = map.optional("quality") { self.quality($0, $1) } ?? [:]
        map.finish()
        guard let name else { return nil }
        return Template(name: name, description: description, canvas: canvas, timing: timing, layers: layers, quality: quality)
    }

    func canvas(_ node: Node, _ path: String) -> Canvas? {
        guard let map = mapping(node, path) else { return nil }
        var c = Canvas()
        if let w = map.optional("width", { self.int($0, $1, 16...7680, even: true) }) { c.width = w }
        if let h = map.optional("height", { self.int($0, $1, 16...7680, even: true) }) { c.height = h }
        if let f = map.optional("fps", { self.int($0, $1, 1...120) }) { c.fps = f }
        map.finish()
        return c
    }

    func timing(_ node: Node, _ path: String) -> Timing? {
        guard let map = mapping(node, path) else { return nil }
        var t = Timing()
        if let v = map.optional("default_duration", { self.number($0, $1, 0.5...600) }) { t.defaultDuration = v }
        if let v = map.optional("no_audio_duration", { self.number($0, $1, 0.5...600) }) { t.noAudioDuration = v }
        if let v = map.optional("cut", { self.cut($0, $1) }) { t.cut = v }
        if let v = map.optional("audio", { self.audio($0, $1) }) { t.audio = v }
        map.finish()
        return t
    }

    func cut(_ node: Node, _ path: String) -> CutRule? {
        guard let map = mapping(node, path) else { return nil }
        var c = CutRule()
        if let v = map.optional("mode", { self.enumeration($0, $1, CutRule.Mode.self) }) { c.mode = v }
        if let v = map.optional("every_beats", { self.int($0, $1, 1...64) }) { c.everyBeats = v }
        let minNode = map.node("min_shot")
        if let v = map.optional("min_shot", { self.number($0, $1, 0.1...60) }) { c.minShot = v }
        if let v = map.optional("max_shot", { self.number($0, $1, 0.1...600) }) { c.maxShot = v }
        if let v = map.optional("fallback_interval", { self.number($0, $1, 0.1...600) }) { c.fallbackInterval = v }
        map.finish()
        if c.minShot > c.maxShot {
            error(minNode ?? node, join(path, "min_shot"), "must not be longer than max_shot (\(fmt(c.minShot)) > \(fmt(c.maxShot)))")
        }
        return c
    }

    func audio(_ node: Node, _ path: String) -> AudioRule? {
        guard let map = mapping(node, path) else { return nil }
        var a = AudioRule()
        if let v = map.optional("fade_in", { self.number($0, $1, 0...30) }) { a.fadeIn = v }
        if let v = map.optional("fade_out", { self.number($0, $1, 0...30) }) { a.fadeOut = v }
        if let v = map.optional("volume", { self.number($0, $1, 0...2) }) { a.volume = v }
        map.finish()
        return a
    }

    func quality(_ node: Node, _ path: String) -> [QualityMode: QualityOverride]? {
        guard let map = mapping(node, path) else { return nil }
        var result: [QualityMode: QualityOverride] = [:]
        for mode in QualityMode.allCases {
            if let o = map.optional(mode.rawValue, { self.qualityOverride($0, $1) }) { result[mode] = o }
        }
        map.finish()
        return result
    }

    func qualityOverride(_ node: Node, _ path: String) -> QualityOverride? {
        guard let map = mapping(node, path) else { return nil }
        let o = QualityOverride(
            scale: map.optional("scale") { self.number($0, $1, 0.1...1) },
            preset: map.optional("preset") { self.oneOf($0, $1, ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]) },
            crf: map.optional("crf") { self.int($0, $1, 0...51) },
            overlay: map.optional("overlay") { self.bool($0, $1) },
            motion: map.optional("motion") { self.bool($0, $1) }
        )
        map.finish()
        return o
    }

    // MARK: Layers

    func layers(_ node: Node, _ path: String, canvas: Canvas) -> [Layer]? {
        guard case .sequence(let seq) = node else {
            error(node, path, "expected a list of layers, got \(describe(node))")
            return nil
        }
        var result: [Layer] = []
        var seen: [String: Int] = [:]
        for (i, item) in seq.enumerated() {
            let p = "\(path)[\(i)]"
            guard let layer = layer(item, p, canvas: canvas) else { continue }
            if let first = seen[layer.kind] {
                error(item, p, "a template has at most one \(layer.kind) layer (the first is layers[\(first)])")
                continue
            }
            seen[layer.kind] = i
            result.append(layer)
        }
        if seq.isEmpty { error(node, path, "a template needs at least one layer") }
        return result
    }

    func layer(_ node: Node, _ path: String, canvas: Canvas) -> Layer? {
        guard let map = mapping(node, path) else { return nil }
        let kinds = ["background", "overlay_video", "images", "frame", "text"]
        guard let type = map.required("type", { self.oneOf($0, $1, kinds) }) else {
            map.abandon()
            return nil
        }
        defer { map.finish() }
        switch type {
        case "background":
            let color = map.optional("color") { self.color($0, $1) } ?? Color(r: 5, g: 5, b: 5)
            return .background(BackgroundLayer(color: color))
        case "overlay_video":
            let source = map.required("source", { self.asset($0, $1) })
            let opacity = map.optional("opacity") { self.number($0, $1, 0...1) } ?? 0.7
            let blend = map.optional("blend") { self.enumeration($0, $1, BlendMode.self) } ?? .normal
            guard let source else { return nil }
            return .overlayVideo(OverlayVideoLayer(source: source, opacity: opacity, blend: blend))
        case "images":
            let window = map.required("window", { self.rect($0, $1, canvas: canvas) })
            let fit = map.optional("fit") { self.enumeration($0, $1, Fit.self) } ?? .cover
            var kb: KenBurns? = KenBurns()
            if let kbNode = map.node("ken_burns") {
                kb = map.optional("ken_burns") { self.kenBurns($0, $1) } ?? (isNullOrFalse(kbNode) ? nil : KenBurns())
            }
            guard let window else { return nil }
            return .images(ImageLayer(window: window, fit: fit, kenBurns: kb))
        case "frame":
            let borderNode = map.node("border")
            let imageNode = map.node("image")
            if borderNode != nil && imageNode != nil {
                error(imageNode, join(path, "image"), "a frame is either a border or an image, not both")
                return nil
            }
            if let image = map.optional("image", { self.asset($0, $1) }) { return .frame(.image(image)) }
            if let border = map.optional("border", { self.border($0, $1, canvas: canvas) }) { return .frame(border) }
            if borderNode == nil && imageNode == nil { error(node, path, "a frame needs a 'border' or an 'image'") }
            return nil
        case "text":
            let box = map.required("box", { self.rect($0, $1, canvas: canvas) })
            let style = textStyle(map, path)
            guard let box else { return nil }
            return .text(TextLayer(box: box, style: style))
        default:
            return nil
        }
    }

    func border(_ node: Node, _ path: String, canvas: Canvas) -> FrameLayer? {
        guard let map = mapping(node, path) else { return nil }
        let color = map.required("color") { self.color($0, $1) }
        let width = map.required("width") { self.int($0, $1, 1...(min(canvas.width, canvas.height) / 4)) }
        map.finish()
        guard let color, let width else { return nil }
        return .border(color: color, width: width)
    }

    func kenBurns(_ node: Node, _ path: String) -> KenBurns? {
        if isNullOrFalse(node) { return nil }
        guard let map = mapping(node, path) else { return nil }
        var k = KenBurns()
        if let v = map.optional("start_zoom", { self.number($0, $1, 1...3) }) { k.startZoom = v }
        if let v = map.optional("end_zoom", { self.number($0, $1, 1...3) }) { k.endZoom = v }
        if let v = map.optional("pan_from", { self.unitPoint($0, $1) }) { k.panFrom = v }
        if let v = map.optional("pan_to", { self.unitPoint($0, $1) }) { k.panTo = v }
        if let v = map.optional("easing", { self.enumeration($0, $1, Easing.self) }) { k.easing = v }
        if let v = map.optional("alternate", { self.bool($0, $1) }) { k.alternate = v }
        map.finish()
        return k
    }

    /// Text style keys live directly in the text layer's mapping.
    func textStyle(_ map: MappingReader, _ path: String) -> TextStyle {
        var s = TextStyle()
        if let v = map.optional("font", { self.font($0, $1) }) { s.font = v }
        if let v = map.optional("size", { self.number($0, $1, 4...1000) }) { s.size = v }
        let minNode = map.node("min_size")
        if let v = map.optional("min_size", { self.number($0, $1, 4...1000) }) { s.minSize = v } else { s.minSize = min(s.minSize, s.size) }
        if let v = map.optional("color", { self.color($0, $1) }) { s.color = v }
        if let strokeNode = map.node("stroke") {
            s.stroke = isNullOrFalse(strokeNode) ? nil : map.optional("stroke") { self.stroke($0, $1) }
        }
        if let v = map.optional("background", { self.captionBackground($0, $1) }) { s.background = v }
        if let v = map.optional("shadow", { self.shadow($0, $1) }) { s.shadow = v }
        if let v = map.optional("align", { self.enumeration($0, $1, TextAlign.self) }) { s.align = v }
        if let v = map.optional("vertical_align", { self.enumeration($0, $1, VerticalAlign.self) }) { s.verticalAlign = v }
        if let v = map.optional("max_lines", { self.int($0, $1, 1...20) }) { s.maxLines = v }
        if let v = map.optional("wrap", { self.enumeration($0, $1, WrapMode.self) }) { s.wrap = v }
        if let v = map.optional("line_spacing", { self.number($0, $1, 0.5...4) }) { s.lineSpacing = v }
        if let v = map.optional("shrink_to_fit", { self.bool($0, $1) }) { s.shrinkToFit = v }
        if let v = map.optional("ellipsis", { self.bool($0, $1) }) { s.ellipsis = v }
        if s.minSize > s.size {
            error(minNode, join(path, "min_size"), "must not be larger than size (\(fmt(s.minSize)) > \(fmt(s.size)))")
        }
        return s
    }

    func font(_ node: Node, _ path: String) -> FontSpec? {
        guard let map = mapping(node, path) else { return nil }
        var f = FontSpec()
        if let v = map.optional("family", { self.string($0, $1) }) { f.family = v }
        if let v = map.optional("weight", { self.enumeration($0, $1, FontWeight.self) }) { f.weight = v }
        if let v = map.optional("file", { self.string($0, $1) }) { f.file = v }
        map.finish()
        return f
    }

    func stroke(_ node: Node, _ path: String) -> Stroke? {
        guard let map = mapping(node, path) else { return nil }
        let color = map.optional("color") { self.color($0, $1) } ?? .black
        let width = map.optional("width") { self.number($0, $1, 0...50) } ?? 2
        map.finish()
        return Stroke(color: color, width: width)
    }

    func captionBackground(_ node: Node, _ path: String) -> CaptionBackground? {
        guard let map = mapping(node, path) else { return nil }
        let color = map.required("color") { self.color($0, $1) }
        let padding = map.optional("padding") { self.int($0, $1, 0...500) } ?? 16
        let radius = map.optional("radius") { self.int($0, $1, 0...500) } ?? 0
        map.finish()
        guard let color else { return nil }
        return CaptionBackground(color: color, padding: padding, radius: radius)
    }

    func shadow(_ node: Node, _ path: String) -> Shadow? {
        guard let map = mapping(node, path) else { return nil }
        let color = map.optional("color") { self.color($0, $1) } ?? Color(r: 0, g: 0, b: 0, a: 160)
        let dx = map.optional("offset_x") { self.int($0, $1, -200...200) } ?? 0
        let dy = map.optional("offset_y") { self.int($0, $1, -200...200) } ?? 4
        let blur = map.optional("blur") { self.int($0, $1, 0...100) } ?? 8
        map.finish()
        return Shadow(color: color, offsetX: dx, offsetY: dy, blur: blur)
    }

    // MARK: Compound values

    /// `{x, y, width, height}`; `x`/`y` may be `center`. The rectangle must lie on the canvas.
    func rect(_ node: Node, _ path: String, canvas: Canvas) -> Rect? {
        guard let map = mapping(node, path) else { return nil }
        let width = map.required("width") { self.int($0, $1, 2...canvas.width) }
        let height = map.required("height") { self.int($0, $1, 2...canvas.height) }
        let xNode = map.node("x"), yNode = map.node("y")
        let x = map.optional("x") { self.coordinate($0, $1, size: width, extent: canvas.width) } ?? 0
        let y = map.optional("y") { self.coordinate($0, $1, size: height, extent: canvas.height) } ?? 0
        map.finish()
        guard let width, let height else { return nil }
        let r = Rect(x: x, y: y, width: width, height: height)
        if r.x + r.width > canvas.width {
            error(xNode ?? node, join(path, "x"), "the box (\(r)) runs past the canvas's right edge (\(canvas.width) px)")
            return nil
        }
        if r.y + r.height > canvas.height {
            error(yNode ?? node, join(path, "y"), "the box (\(r)) runs past the canvas's bottom edge (\(canvas.height) px)")
            return nil
        }
        return r
    }

    func coordinate(_ node: Node, _ path: String, size: Int?, extent: Int) -> Int? {
        if let s = node.scalar?.string, s == "center" || s == "centre" {
            return ((extent - (size ?? extent)) / 2)
        }
        return int(node, path, 0...extent, expected: "a whole number of pixels or 'center'")
    }

    func unitPoint(_ node: Node, _ path: String) -> UnitPoint? {
        if let s = node.scalar?.string, s == "center" || s == "centre" { return .center }
        guard case .sequence(let seq) = node, seq.count == 2 else {
            error(node, path, "expected [x, y] as fractions of the image (e.g. [0.5, 0.4]) or 'center', got \(describe(node))")
            return nil
        }
        let items = Array(seq)
        guard let x = number(items[0], path + "[0]", 0...1), let y = number(items[1], path + "[1]", 0...1) else { return nil }
        return UnitPoint(x: x, y: y)
    }

    func asset(_ node: Node, _ path: String) -> AssetRef? {
        guard let s = string(node, path) else { return nil }
        if s.hasPrefix("builtin:") {
            let name = String(s.dropFirst("builtin:".count))
            guard name.range(of: #"^[a-z0-9][a-z0-9-]*$"#, options: .regularExpression) != nil else {
                error(node, path, "'\(s)' is not a built-in asset name (lowercase letters, digits and '-')")
                return nil
            }
            return .builtin(name)
        }
        if s.isEmpty || s.contains("\0") {
            error(node, path, "expected a file path or builtin:NAME")
            return nil
        }
        return .file(s)
    }

    // MARK: Scalars

    enum Pattern { case templateName }

    func mapping(_ node: Node, _ path: String) -> MappingReader? {
        guard case .mapping(let m) = node else {
            error(node, path.isEmpty ? "" : path, "expected a mapping (key: value lines), got \(describe(node))")
            return nil
        }
        return MappingReader(reader: self, node: node, mapping: m, path: path)
    }

    func string(_ node: Node, _ path: String, pattern: Pattern? = nil) -> String? {
        guard case .scalar(let s) = node, !isNull(node) else {
            error(node, path, "expected text, got \(describe(node))")
            return nil
        }
        if pattern == .templateName, s.string.range(of: #"^[a-z0-9][a-z0-9-]{0,49}$"#, options: .regularExpression) == nil {
            error(node, path, "expected a template name of lowercase letters, digits and '-' (at most 50), got '\(s.string)'")
            return nil
        }
        return s.string
    }

    func number(_ node: Node, _ path: String, _ range: ClosedRange<Double>) -> Double? {
        guard case .scalar(let s) = node, s.style == .plain, let v = Double(s.string), v.isFinite else {
            error(node, path, "expected a number from \(fmt(range.lowerBound)) to \(fmt(range.upperBound)), got \(describe(node))")
            return nil
        }
        guard range.contains(v) else {
            error(node, path, "expected a number from \(fmt(range.lowerBound)) to \(fmt(range.upperBound)), got \(fmt(v))")
            return nil
        }
        return v
    }

    func int(_ node: Node, _ path: String, _ range: ClosedRange<Int>, even: Bool = false, expected: String? = nil) -> Int? {
        let what = expected ?? "a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard case .scalar(let s) = node, s.style == .plain, let v = Int(s.string) else {
            error(node, path, "expected \(what), got \(describe(node))")
            return nil
        }
        guard range.contains(v) else {
            error(node, path, "expected \(what), got \(v)")
            return nil
        }
        if even && v % 2 != 0 {
            error(node, path, "must be even (H.264 with 4:2:0 chroma needs even sizes), got \(v)")
            return nil
        }
        return v
    }

    func bool(_ node: Node, _ path: String) -> Bool? {
        guard case .scalar(let s) = node, s.style == .plain else {
            error(node, path, "expected true or false, got \(describe(node))")
            return nil
        }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node, path, "expected true or false, got '\(s.string)'")
            return nil
        }
    }

    func color(_ node: Node, _ path: String) -> Color? {
        guard case .scalar(let s) = node, let c = Color(hex: s.string) else {
            error(node, path, "expected a colour as \"#RRGGBB\" or \"#RRGGBBAA\" (quote it: # starts a YAML comment), got \(describe(node))")
            return nil
        }
        return c
    }

    func oneOf(_ node: Node, _ path: String, _ options: [String]) -> String? {
        guard case .scalar(let s) = node, options.contains(s.string) else {
            var message = "expected one of \(options.joined(separator: ", ")), got \(describe(node))"
            if let s = node.scalar?.string, let near = suggestion(s, options) { message += " (did you mean '\(near)'?)" }
            error(node, path, message)
            return nil
        }
        return s.string
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, _: E.Type) -> E? where E.RawValue == String {
        oneOf(node, path, E.allCases.map(\.rawValue)).flatMap(E.init(rawValue:))
    }

    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    func isNullOrFalse(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return isNull(node) || ["false", "no", "off"].contains(s.string.lowercased())
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            if isNull(node) { return "nothing" }
            let text = s.string.count > 40 ? String(s.string.prefix(40)) + "…" : s.string
            return "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

// MARK: - Mapping reader

/// Reads the keys of one mapping; `finish()` reports every key nobody asked for.
private final class MappingReader {
    let reader: Reader
    let node: Node
    let path: String
    var entries: [(key: String, keyNode: Node, value: Node)] = []
    var used: Set<String> = []
    var abandoned = false

    init(reader: Reader, node: Node, mapping: Node.Mapping, path: String) {
        self.reader = reader
        self.node = node
        self.path = path
        for (k, v) in mapping {
            guard let key = k.scalar?.string else {
                reader.error(k, path, "keys must be plain names")
                continue
            }
            entries.append((key, k, v))
        }
    }

    func node(_ key: String) -> Node? { entries.first { $0.key == key }?.value }

    func optional<T>(_ key: String, _ convert: (Node, String) -> T?) -> T? {
        used.insert(key)
        guard let value = node(key) else { return nil }
        return convert(value, join(path, key))
    }

    func required<T>(_ key: String, _ convert: (Node, String) -> T?) -> T? {
        used.insert(key)
        guard let value = node(key) else {
            reader.error(node, join(path, key), "is required")
            return nil
        }
        return convert(value, join(path, key))
    }

    /// Stop reading this mapping without reporting its other keys (its type was already wrong).
    func abandon() { abandoned = true }

    func finish() {
        guard !abandoned else { return }
        let known = Array(used).sorted()
        for entry in entries where !used.contains(entry.key) {
            var message = "unknown key '\(entry.key)'"
            if let near = suggestion(entry.key, known) {
                message += " (did you mean '\(near)'?)"
            } else if !known.isEmpty {
                message += "; expected one of \(known.joined(separator: ", "))"
            }
            reader.error(entry.keyNode, join(path, entry.key), message)
        }
    }
}

private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

private func fmt(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
}

/// The closest option within a small edit distance, for "did you mean" hints.
private func suggestion(_ word: String, _ options: [String]) -> String? {
    let best = options.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
    guard let best, best.1 <= max(2, word.count / 3) else { return nil }
    return best.0
}

private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
