import Foundation
internal import Yams

/// Parses and validates template YAML. Every problem is collected with its file, line, column and field path;
/// unknown keys are errors (with a suggestion), never silently ignored.
public enum TemplateParser {
    /// What the parser may check beyond the YAML itself.
    public struct Options: Sendable {
        /// Names of the built-in assets (`builtin:NAME`); nil accepts any well-formed name.
        public var builtinAssets: Set<String>?
        /// Check that referenced files (pictures, videos, fonts) exist, relative to the template's folder.
        public var checkFiles: Bool
        /// Refuse file paths that leave the template's folder (absolute, or with a `..` part): for templates that
        /// come from a browser (the studio), which may name only built-in assets and files beside the template.
        public var confineFiles: Bool
        /// The installed font families, to report a `font.family` nothing can draw at its line; nil checks nothing
        /// (SpecLang reads no fonts: the caller, which can, says what exists).
        public var fontFamilies: FontFamilies?
        /// The longest video a job may ask for (seconds; the service's `VIDEO_MAX_DURATION`): what is counted over
        /// the layer's time (a counter without `duration`) is checked up to it.
        public var maximumDuration: Double
        public init(
            builtinAssets: Set<String>? = nil, checkFiles: Bool = true, confineFiles: Bool = false, fontFamilies: FontFamilies? = nil,
            maximumDuration: Double = 60
        ) {
            self.builtinAssets = builtinAssets
            self.checkFiles = checkFiles
            self.confineFiles = confineFiles
            self.fontFamilies = fontFamilies
            self.maximumDuration = maximumDuration
        }
    }

    /// Which font families exist: `exists` answers for a family name as a template writes it, `names` are offered as
    /// "did you mean" suggestions.
    public struct FontFamilies: Sendable {
        public var names: [String]
        public var exists: @Sendable (String) -> Bool
        public init(names: [String], exists: @escaping @Sendable (String) -> Bool) {
            self.names = names
            self.exists = exists
        }
    }

    /// Reads and parses a template file. Throws `SpecErrors` (one or more problems). With `anchor`, the template is
    /// parsed as if it were that file (its errors name it and its relative paths resolve beside it): a copy read in
    /// place of the original.
    public static func parse(file path: String, as anchor: String? = nil, options: Options = Options()) throws -> Template {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SpecErrors([SpecError(file: path, line: 0, column: 0, field: "", message: "cannot read the file (\(error.localizedDescription))")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecError(file: path, line: 0, column: 0, field: "", message: "the file is not valid UTF-8")])
        }
        return try parse(yaml: text, file: anchor ?? path, options: options)
    }

    /// Parses template YAML held in memory; `file` names it in errors and anchors relative asset paths
    /// (`<string>` for neither).
    public static func parse(yaml: String, file: String = "<string>", options: Options = Options()) throws -> Template {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).replacingOccurrences(of: "\r", with: "") }
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SpecErrors(syntaxErrors(first: error, yaml: lines, file: file))
        }
        guard let node else {
            throw SpecErrors([SpecError(file: file, line: 1, column: 1, field: "", message: "the template is empty")])
        }
        let directory = file == "<string>" ? nil : (file as NSString).deletingLastPathComponent
        let reader = Reader(file: file, lines: lines, directory: directory, options: options)
        let template = reader.template(node)
        if !reader.errors.isEmpty { throw SpecErrors(inFileOrder(reader.errors)) }
        guard var template else { throw SpecErrors([SpecError(file: file, line: 1, column: 1, field: "", message: "not a template")]) }
        if file != "<string>" { template.sourcePath = file }
        template.warnings = inFileOrder(reader.warnings)
        return template
    }

    /// Problems by line and column, as a compiler lists them (the reader finds some, such as a field's use, after
    /// later lines); problems at one position keep the order they were found in.
    static func inFileOrder(_ problems: [SpecError]) -> [SpecError] {
        problems.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }

    /// libyaml stops at the first syntax error. To report the others too, the line at fault is blanked and the
    /// document parsed again, up to ten times; an error is reported once per line.
    static func syntaxErrors(first: YamlError, yaml lines: [String], file: String) -> [SpecError] {
        var errors: [SpecError] = []
        var current = lines
        var error: YamlError? = first
        var seenLines: Set<Int> = []
        while let e = error, errors.count < 10 {
            let spec = syntaxError(e, file: file, lines: lines)
            guard spec.line >= 1, spec.line <= current.count, !seenLines.contains(spec.line) else {
                if !errors.contains(spec) { errors.append(spec) }
                break
            }
            seenLines.insert(spec.line)
            errors.append(spec)
            current[spec.line - 1] = ""
            do {
                _ = try Yams.compose(yaml: current.joined(separator: "\n"))
                error = nil
            } catch let next as YamlError {
                error = next
            } catch {
                break
            }
        }
        return errors
    }

    /// What libyaml's words mean for the usual cause, a line indented one space or one level off (trial15c: "did
    /// not find expected key" alone did not tell a designer to look at the spaces).
    static func indentationHint(_ problem: String) -> String {
        let indentation = [
            "did not find expected key", "did not find expected '-' indicator", "mapping values are not allowed in this context",
            "did not find expected <document start>", "block sequence entries are not allowed in this context",
        ]
        guard indentation.contains(where: problem.contains) else { return "" }
        // "mapping values" is also a value with ': ' in it that is not quoted (text: Sale: 50% off).
        let quoting = problem.contains("mapping values") ? "; or quote a value that contains ': ', as in text: \"Sale: 50% off\"" : ""
        return " (check the indentation here and on the line above: the keys of one mapping start in the same column,"
            + " two spaces deeper than the key they belong to, and list items start with '- ' at one column\(quoting))"
    }

    private static func syntaxError(_ error: YamlError, file: String, lines: [String]) -> SpecError {
        func make(_ problem: String, _ line: Int, _ column: Int) -> SpecError {
            let source = line >= 1 && line <= lines.count ? lines[line - 1] : nil
            return SpecError(file: file, line: line, column: column, field: "", message: "YAML syntax: \(problem)", sourceLine: source)
        }
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return make(problem + indentationHint(problem), mark.line, mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Point at the second occurrence of the key, never print the mapping's whole text.
            let key = duplicates.sorted().first ?? ""
            var found: [(Int, Int)] = []
            for (i, line) in lines.enumerated() where i + 1 >= context.mark.line {
                let trimmed = line.drop { $0 == " " || $0 == "-" }
                if trimmed.hasPrefix(key + ":") || trimmed.hasPrefix("\"\(key)\":") {
                    found.append((i + 1, line.count - trimmed.count + 1))
                }
            }
            let at = found.count >= 2 ? found[1] : (found.first ?? (context.mark.line, context.mark.column))
            return make("duplicate key '\(key)' (a key may appear once in a mapping)", at.0, at.1)
        case .reader(let problem, let offset, let value, _):
            // Bytes libyaml will not read (a control character, a NUL, a noncharacter): at the character's
            // line and column, named as a code point, never echoed raw.
            var line = 1
            var column = 1
            if let offset {
                var seen = 0
                outer: for text in lines {
                    for _ in text.unicodeScalars {
                        if seen == offset { break outer }
                        seen += 1
                        column += 1
                    }
                    if seen == offset { break }
                    seen += 1  // the line break
                    line += 1
                    column = 1
                }
            }
            let character = value >= 0 ? String(format: " (U+%04X)", value) : ""
            return make("\(problem)\(character): write it as an escape in a quoted string, or remove it", line, column)
        default:
            return SpecError(file: file, line: 0, column: 0, field: "", message: "YAML syntax error")
        }
    }
}
