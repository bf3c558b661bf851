import SpecLang

/// What lint says of `yaml` (read as `t.yaml`): each problem as `text` writes it, none when it parses, or the one
/// error that is not a template problem.
func lintMessages(_ yaml: String, options: TemplateParser.Options = .init(), _ text: (SpecError) -> String) -> [String] {
    do {
        _ = try TemplateParser.parse(yaml: yaml, file: "t.yaml", options: options)
        return []
    } catch let e as SpecErrors {
        return e.errors.map(text)
    } catch {
        return ["\(error)"]
    }
}
