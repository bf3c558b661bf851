import Foundation
internal import Yams

/// Walks the YAML node tree, converting and validating as it goes, recording errors instead of stopping.
final class Reader {
    let file: String
    let lines: [String]
    /// The template's folder, for relative file references (nil for in-memory YAML).
    let directory: String?
    let options: TemplateParser.Options
    /// The template's timing (read before the layers).
    var timing = Timing()
    var errors: [SpecError] = []
    var warnings: [SpecError] = []
    /// Declared fields, by name (filled before the layers are read).
    var fields: [String: FieldSpec] = [:]
    /// Where each field was used, for "unused field" warnings.
    var usedFields: Set<String> = []
    /// The colour fields of the layer being read (see `slotColor`).
    var colorFields: [ColorSlot: String] = [:]
    /// The last media layer read, and its index, for a later layer's `cell:`.
    var lastMedia: (index: Int, layer: MediaLayer)?

    init(file: String, lines: [String], directory: String?, options: TemplateParser.Options) {
        self.file = file
        self.lines = lines
        self.directory = directory
        self.options = options
    }

    func error(_ node: Node?, _ path: String, _ message: String, column: Int? = nil) {
        var e = problem(node, path, message, .error)
        if let column { e.column = column }
        errors.append(e)
    }

    func warning(_ node: Node?, _ path: String, _ message: String) {
        warnings.append(problem(node, path, message, .warning))
    }

    private func problem(_ node: Node?, _ path: String, _ message: String, _ severity: SpecError.Severity) -> SpecError {
        let mark = node?.mark
        let line = mark?.line ?? 0
        let source = line >= 1 && line <= lines.count ? lines[line - 1] : nil
        return SpecError(file: file, line: line, column: mark?.column ?? 0, field: path, message: message, sourceLine: source, severity: severity)
    }

    // MARK: Document

    func template(_ root: Node) -> Template? {
        guard let map = mapping(root, "") else { return nil }
        let name = map.required("name") { self.string($0, $1, pattern: .templateName) }
        let description = map.optional("description") { self.string($0, $1) } ?? ""
        _ = map.optional("version") { self.int($0, $1, 1...2) }
        let canvas = map.optional("canvas") { self.canvas($0, $1) } ?? Canvas()
        let fieldList = map.optional("fields") { self.fieldSpecs($0, $1) } ?? []
        fields = Dictionary(fieldList.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let timing = map.optional("timing") { self.timing($0, $1) } ?? Timing()
        self.timing = timing
        let layers = map.required("layers") { self.layers($0, $1, canvas: canvas) } ?? []
        let quality = map.optional("quality") { self.quality($0, $1) } ?? [:]
        map.finish()
        if let fieldsNode = map.node("fields"), case .mapping(let m) = fieldsNode {
            for (k, _) in m {
                guard let name = k.scalar?.string, fields[name] != nil, !usedFields.contains(name) else { continue }
                if name == Template.captionField && layers.contains(where: { $0.kind == "text" }) { continue }
                warning(
                    k, "fields.\(name)",
                    "the field '\(name)' is declared but no layer uses it (write {{\(name)}} in a text layer, or \"{{\(name)}}\" as a colour or image source)"
                )
            }
        }
        guard let name else { return nil }
        return Template(name: name, description: description, canvas: canvas, timing: timing, fields: fieldList, layers: layers, quality: quality)
    }

    func canvas(_ node: Node, _ path: String) -> Canvas? {
        guard let map = mapping(node, path) else { return nil }
        var c = Canvas()
        if let w = map.optional("width", { self.int($0, $1, 16...Canvas.maximumSide, even: true) }) { c.width = w }
        if let h = map.optional("height", { self.int($0, $1, 16...Canvas.maximumSide, even: true) }) { c.height = h }
        if let f = map.optional("fps", { self.int($0, $1, 1...Canvas.maximumFPS) }) { c.fps = f }
        // 4K either way round at most: a 7680x7680 canvas needed about 7 GB a job (1.76 GB measured at 3840x3840)
        // and is past what H.264 players decode.
        if c.width * c.height > Canvas.maximumPixels, let at = map.node("width") ?? map.node("height") {
            error(at, join(path, "width"), "the canvas may have at most \(Canvas.maximumPixels) pixels (3840x2160), got \(c.width)x\(c.height)")
        }
        map.finish()
        return c
    }

    func fieldSpecs(_ node: Node, _ path: String) -> [FieldSpec]? {
        guard case .mapping(let m) = node else {
            error(node, path, "expected a mapping of field names to their settings, got \(describe(node))")
            return nil
        }
        var result: [FieldSpec] = []
        for (k, v) in m {
            guard let name = k.scalar?.string else { continue }
            let p = join(path, name)
            guard name.range(of: #"^[a-z][a-z0-9_]{0,39}$"#, options: .regularExpression) != nil else {
                error(k, p, "a field name is lowercase letters, digits and '_' (at most 40), starting with a letter; got '\(name)'")
                continue
            }
            guard let map = mapping(v, p) else { continue }
            var f = FieldSpec(name: name)
            if let t = map.optional("type", { self.enumeration($0, $1, FieldSpec.Kind.self) }) { f.kind = t }
            if let d = map.optional("description", { self.string($0, $1) }) { f.description = d }
            if let r = map.optional("required", { self.bool($0, $1) }) { f.required = r }
            if let n = map.optional("max_length", { self.int($0, $1, 1...500) }) { f.maxLength = n }
            if let defaultNode = map.node("default") {
                let dp = join(p, "default")
                _ = map.optional("default") { _, _ in () }
                switch f.kind {
                case .text:
                    if let s = string(defaultNode, dp, allowEmpty: true) {
                        if s.count > f.maxLength { error(defaultNode, dp, "is \(s.count) characters, longer than max_length \(f.maxLength)") }
                        f.defaultValue = s
                    }
                case .color:
                    if color(defaultNode, dp) != nil { f.defaultValue = defaultNode.scalar?.string }
                case .image:
                    if let ref = asset(defaultNode, dp) { f.defaultValue = ref.description }
                }
            }
            map.finish()
            result.append(f)
        }
        return result
    }

    func timing(_ node: Node, _ path: String) -> Timing? {
        guard let map = mapping(node, path) else { return nil }
        var t = Timing()
        if let v = map.optional("default_duration", { self.number($0, $1, 0.5...600) }) { t.defaultDuration = v }
        if let v = map.optional("no_audio_duration", { self.number($0, $1, 0.5...600) }) {
            t.noAudioDuration = v
        } else if map.node("default_duration") != nil {
            // A template that says how long it is means that length with no music too.
            t.noAudioDuration = t.defaultDuration
        }
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
        if let v = map.optional("fade_in", { self.audioSeconds($0, $1, 0...30) }) { a.fadeIn = v }
        if let v = map.optional("fade_out", { self.audioSeconds($0, $1, 0...30) }) { a.fadeOut = v }
        if let v = map.optional("volume", { self.number($0, $1, 0...2) }) { a.volume = v }
        if let v = map.optional("start", { self.audioStart($0, $1) }) {
            a.start = v
            a.startLine = map.node("start")?.mark?.line ?? 0
        }
        if let v = map.optional("loop", { self.bool($0, $1) }) { a.loop = v }
        if let v = map.optional(
            "loudness",
            { node, p -> Double?? in
                if case .scalar(let s) = node, s.style == .plain, s.string == "off" { return .some(nil) }
                return self.number(node, p, -40 ... -5).map { .some($0) }
            })
        {
            a.loudness = v
        }
        if let v = map.optional("voice", { self.voice($0, $1) }) { a.voice = v }
        map.finish()
        return a
    }

    /// `auto` or seconds into the track.
    func audioStart(_ node: Node, _ path: String) -> AudioRule.Start? {
        if case .scalar(let s) = node, s.style == .plain, s.string == "auto" { return .auto }
        return audioSeconds(node, path, 0...3600, expected: "auto or seconds into the track").map { .seconds($0) }
    }

    /// Seconds for a `timing.audio` key: `9.85` or `"9.85s"`, within `range`, with a hint for the usual slips
    /// (minutes:seconds, milliseconds, beats; trial15 F6).
    func audioSeconds(_ node: Node, _ path: String, _ range: ClosedRange<Double>, expected: String = "seconds") -> Double? {
        let what = "\(expected) (\(fmt(range.lowerBound)) to \(fmt(range.upperBound)), e.g. 1.5 or \"1.5s\")"
        guard case .scalar(let s) = node else {
            error(node, path, "expected \(what), got \(describe(node))")
            return nil
        }
        let text = s.string.trimmingCharacters(in: .whitespaces).lowercased()
        let number = text.hasSuffix("s") && !text.hasSuffix("ms") ? String(text.dropLast()).trimmingCharacters(in: .whitespaces) : text
        if let v = Double(number), v.isFinite, s.style == .plain || number != text {
            guard range.contains(v) else {
                let milliseconds = v > range.upperBound && v >= 1000 && range.contains(v / 1000)
                let ms = milliseconds ? " (seconds, not milliseconds: \(fmt(v)) ms is \(fmt(v / 1000)))" : ""
                error(node, path, "expected \(what), got \(fmt(v))\(ms)")
                return nil
            }
            return v
        }
        var hint = ""
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, let m = Double(parts[0]), let sec = Double(parts[1]), m >= 0, sec >= 0 {
            hint = " (minutes:seconds is not read here: write \(fmt(m * 60 + sec)))"
        } else if ["beats", "beat", "b"].contains(where: { text.hasSuffix($0) }) {
            hint = " (seconds only here: the track's beats are found after the music's start and fades are set)"
        } else if text.hasSuffix("ms"), let v = Double(text.dropLast(2)) {
            hint = " (write seconds: \(fmt(v / 1000)))"
        } else if Double(number) != nil {
            hint = " (a value in quotes is text: write it without the quotes, or with an s: \"\(number)s\")"
        }
        error(node, path, "expected \(what), got '\(s.string.prefix(40))'\(hint)")
        return nil
    }

    func voice(_ node: Node, _ path: String) -> VoiceRule? {
        guard let map = mapping(node, path) else { return nil }
        var v = VoiceRule()
        if let x = map.optional("start", { self.number($0, $1, 0...600) }) { v.start = x }
        if let x = map.optional("volume", { self.number($0, $1, 0...4) }) { v.volume = x }
        if let x = map.optional("duck_db", { self.number($0, $1, 0...40) }) { v.duckDB = x }
        map.finish()
        return v
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
            preset: map.optional("preset") {
                self.oneOf($0, $1, ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"])
            },
            crf: map.optional("crf") { self.int($0, $1, 0...51) },
            overlay: map.optional("overlay") { self.bool($0, $1) },
            motion: map.optional("motion") { self.bool($0, $1) }
        )
        map.finish()
        return o
    }

    // MARK: Scalars

    enum Pattern { case templateName }

    func mapping(_ node: Node, _ path: String) -> MappingReader? {
        guard case .mapping(let m) = node else {
            error(node, path, "expected a mapping (key: value lines), got \(describe(node))")
            return nil
        }
        return MappingReader(reader: self, node: node, mapping: m, path: path)
    }

    func string(_ node: Node, _ path: String, pattern: Pattern? = nil, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let s) = node, allowEmpty ? !(s.style == .plain && ["~", "null", "Null", "NULL"].contains(s.string)) : !isNull(node) else {
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
            if fieldReference(node) != nil {
                error(node, path, "expected a colour as \"#RRGGBB\" or \"#RRGGBBAA\": a field cannot set this colour, got \(describe(node))")
                return nil
            }
            var message = "expected a colour as \"#RRGGBB\" or \"#RRGGBBAA\" (quote it: # starts a YAML comment), got \(describe(node))"
            if let name = node.scalar?.string.lowercased(), let hex = Reader.colorNames[name] {
                message += "; colour names are not read: write \"\(hex)\" for \(name)"
            }
            error(node, path, message)
            return nil
        }
        return c
    }

    /// Common colour names, for the hint when one is written instead of a hex colour.
    static let colorNames: [String: String] = [
        "black": "#000000", "white": "#FFFFFF", "red": "#FF0000", "green": "#008000", "blue": "#0000FF", "yellow": "#FFFF00",
        "orange": "#FFA500", "purple": "#800080", "pink": "#FFC0CB", "gray": "#808080", "grey": "#808080", "gold": "#FFD700",
        "silver": "#C0C0C0", "navy": "#000080", "teal": "#008080", "transparent": "#00000000",
    ]

    /// A colour, or `"{{field}}"` naming a colour field.
    func bindableColor(_ node: Node, _ path: String) -> Bindable<Color>? {
        if let name = fieldReference(node) {
            guard let f = checkField(name, node, path, kind: .color) else { return nil }
            return .field(f.name)
        }
        return color(node, path).map { .value($0) }
    }

    /// A colour that a colour field may set (`"{{name}}"`): the field's default stands in it, and the layer being read
    /// records where the field goes (`Layer.colorFields`), for the planner to put the job's value in.
    func slotColor(_ node: Node, _ path: String, _ slot: ColorSlot) -> Color? {
        guard let name = fieldReference(node) else { return color(node, path) }
        guard let f = checkField(name, node, path, kind: .color) else { return nil }
        colorFields[slot] = f.name
        return f.defaultValue.flatMap { Color(hex: $0) } ?? .black
    }

    /// `{{name}}` when the whole scalar is one field reference.
    func fieldReference(_ node: Node) -> String? {
        guard case .scalar(let s) = node else { return nil }
        let t = s.string.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("{{"), t.hasSuffix("}}"), t.count > 4 else { return nil }
        return String(t.dropFirst(2).dropLast(2)).trimmingCharacters(in: .whitespaces)
    }

    /// Checks a reference to a field: declared, and of the right kind (`caption` is implicitly a text field).
    func checkField(_ name: String, _ node: Node, _ path: String, kind: FieldSpec.Kind) -> FieldSpec? {
        usedFields.insert(name)
        if let f = fields[name] {
            guard f.kind == kind else {
                error(node, path, "the field '\(name)' is of type \(f.kind.rawValue), not \(kind.rawValue)")
                return nil
            }
            return f
        }
        if name == Template.captionField && kind == .text { return FieldSpec(name: name) }
        var message = "unknown field '\(name)'"
        if let near = suggestion(name, Array(fields.keys)) { message += " (did you mean '\(near)'?)" }
        message += fields.isEmpty ? "; declare it under 'fields:'" : "; declared fields: \(fields.keys.sorted().joined(separator: ", "))"
        error(node, path, message, column: referenceColumn(name, node))
        return nil
    }

    /// The column of `{{name` on the node's line, from the node's own column (a squiggle under the reference, not
    /// under the first word of the text around it; trial15c); nil when it is not there (a folded or escaped text).
    func referenceColumn(_ name: String, _ node: Node) -> Int? {
        guard let mark = node.mark, mark.line >= 1, mark.line <= lines.count else { return nil }
        let line = Array(lines[mark.line - 1])
        let from = max(0, mark.column - 1)
        guard from < line.count else { return nil }
        for i in from..<max(from, line.count - 1) where line[i] == "{" && line[i + 1] == "{" {
            let rest = String(line[(i + 2)...]).drop { $0 == " " }
            // A reference that is the whole value stays marked at the value, as every other key's problem is.
            let before = line[from..<i].filter { $0 != "\"" && $0 != "'" && $0 != " " }
            if rest.hasPrefix(name) { return before.isEmpty ? nil : i + 1 }
        }
        return nil
    }

    func oneOf(_ node: Node, _ path: String, _ options: [String]) -> String? {
        guard case .scalar(let s) = node, options.contains(s.string) else {
            var message = "expected one of \(options.joined(separator: ", ")), got \(describe(node))"
            if let s = node.scalar?.string, let near = suggestion(s, options) {
                message += " (did you mean '\(near)'?)"
            } else if let s = node.scalar?.string, !s.isEmpty {
                // `slide` for slide_left, slide_right, ...: the options that start with the word.
                let family = options.filter { $0.hasPrefix(s + "_") }
                if family.count > 1 {
                    message += " (did you mean \(family.dropLast().map { "'\($0)'" }.joined(separator: ", ")) or '\(family.last!)'?)"
                }
            }
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
            // A number or true/false in quotes is text to YAML: "from 1 to 4, got '2'" read as a contradiction
            // (design14b F6).
            if s.style != .plain, Double(s.string) != nil || ["true", "false"].contains(s.string.lowercased()) {
                return "the text '\(text)' (a value in quotes is text: write it without the quotes)"
            }
            return "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

// MARK: - Mapping reader

/// Reads the keys of one mapping; `finish()` reports every key nobody asked for.
final class MappingReader {
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

    /// Marks keys as valid here without reading them (they are read elsewhere, or only with other keys).
    func allow(_ keys: String...) { used.formUnion(keys) }

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

func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

func fmt(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
}

/// The closest option within a small edit distance, for "did you mean" hints.
func suggestion(_ word: String, _ options: [String]) -> String? {
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
