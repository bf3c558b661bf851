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

    /// Seconds as the conventions write them (`9.85`, `"9.85s"`), and a hint for the usual slips (trial15 F6).
    @Test func secondsAsTheConventionsSayWithHintsForSlips() throws {
        let a = try parse("    start: \"9.85s\"\n    fade_in: 0.5s\n    fade_out: \"2 s\"")
        #expect(a.start == .seconds(9.85) && a.fadeIn == 0.5 && a.fadeOut == 2)
        #expect(try parse("    volume: 1").fadeIn == nil, "no fade_in: the planner's default")
        #expect(try parse("    fade_in: 0").fadeIn == 0)
        let start = "t.yaml:4:12: error: timing.audio.start: expected auto or seconds into the track (0 to 3600, e.g. 1.5 or \"1.5s\"), got"
        #expect(errors("    start: '1:30'") == [start + " '1:30' (minutes:seconds is not read here: write 90)"])
        #expect(errors("    start: 90000") == [start + " 90000 (seconds, not milliseconds: 90000 ms is 90)"])
        #expect(
            errors("    start: 4 beats") == [
                start + " '4 beats' (seconds only here: the track's beats are found after the music's start and fades are set)"
            ])
        #expect(
            errors("    start: \"9.85\"") == [start + " '9.85' (a value in quotes is text: write it without the quotes, or with an s: \"9.85s\")"])
        #expect(errors("    start: 1500ms") == [start + " '1500ms' (write seconds: 1.5)"])
        #expect(
            errors("    fade_in: 45") == ["t.yaml:4:14: error: timing.audio.fade_in: expected seconds (0 to 30, e.g. 1.5 or \"1.5s\"), got 45"])
    }

    @Test func mistakesNameTheKeyAndPlace() {
        #expect(errors("    strat: 3") == ["t.yaml:4:5: error: timing.audio.strat: unknown key 'strat' (did you mean 'start'?)"])
        #expect(
            errors("    start: later") == [
                "t.yaml:4:12: error: timing.audio.start: expected auto or seconds into the track (0 to 3600, e.g. 1.5 or \"1.5s\"), got 'later'"
            ]
        )
        #expect(errors("    loudness: -2") == ["t.yaml:4:15: error: timing.audio.loudness: expected a number from -40 to -5, got -2"])
        #expect(
            errors("    voice: { duck_bd: 10 }") == [
                "t.yaml:4:14: error: timing.audio.voice.duck_bd: unknown key 'duck_bd' (did you mean 'duck_db'?)"
            ])
    }
}
