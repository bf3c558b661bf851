import Foundation
import SpecLang
import Testing

/// `timing.audio`: start, loop, loudness and voice, with errors at file:line:col.
@Suite struct AudioKeysTests {
    func parse(_ audio: String) throws -> AudioRule {
        try TemplateParser.parse(yaml: "name: t\ntiming:\n  audio:\n\(audio)\nlayers:\n  - type: color\n    color: \"#000000\"\n", file: "t.yaml")
            .timing.audio
    }
    func errors(_ audio: String) -> [String] {
        do { _ = try parse(audio); return [] } catch let e as SpecErrors { return e.errors.map(\.summary) } catch { return ["\(error)"] }
    }

    @Test func defaultsAndValues() throws {
        let d = try parse("    volume: 1")
        #expect(d.start == .auto && d.loop && d.loudness == -14 && d.voice == VoiceRule())
        let a = try parse("    start: 12.5\n    loop: false\n    loudness: -16\n    voice: { start: 1.5, volume: 1.2, duck_db: 12 }")
        #expect(a.start == .seconds(12.5) && !a.loop && a.loudness == -16)
        #expect(a.voice == VoiceRule(start: 1.5, volume: 1.2, duckDB: 12))
        #expect(try parse("    start: auto\n    loudness: off").loudness == nil)
    }

    @Test func mistakesNameTheKeyAndPlace() {
        #expect(errors("    strat: 3") == ["t.yaml:4:5: error: timing.audio.strat: unknown key 'strat' (did you mean 'start'?)"])
        #expect(
            errors("    start: later") == ["t.yaml:4:12: error: timing.audio.start: expected auto or seconds into the track (0 to 3600), got 'later'"]
        )
        #expect(errors("    loudness: -2") == ["t.yaml:4:15: error: timing.audio.loudness: expected a number from -40 to -5, got -2"])
        #expect(
            errors("    voice: { duck_bd: 10 }") == [
                "t.yaml:4:14: error: timing.audio.voice.duck_bd: unknown key 'duck_bd' (did you mean 'duck_db'?)"
            ])
    }
}
