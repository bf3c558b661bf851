import Foundation
import SpecLang
import Testing

/// Text that changes over time (`steps:`/`every:`, `counter:`) and staggered cells (`stagger:`, `cells[i].delay`):
/// what the parser reads, and what lint says about the forms a designer gets wrong, at file:line:col.
@Suite struct TextChangesTests {
    func yaml(_ layer: String, fields: String = "") -> String {
        "name: t\n\(fields)layers:\n  - type: color\n    color: \"#000000\"\n\(layer)\n"
    }
    func parse(_ yaml: String) throws -> Template { try TemplateParser.parse(yaml: yaml, file: "t.yaml") }
    func errors(_ yaml: String) -> [String] { lintMessages(yaml, \.summary) }
    func changes(_ yaml: String) throws -> TextChanges? {
        guard case .text(let t) = try parse(yaml).layers[1].content else { return nil }
        return t.changes
    }

    @Test func stepsWithAnIntervalInSecondsOrBeats() throws {
        let c = try changes(
            yaml("  - type: text\n    steps: [\"3\", \"2\", \"1\", \"GO\"]\n    every: 1 beat\n    per_step: true\n    animate: [pop]"))
        #expect(c == .steps(TextSteps(texts: ["3", "2", "1", "GO"], every: .beats(1), loop: false, perStep: true)))
        let d = try changes(
            yaml(
                "  - type: text\n    steps: [\"New\", \"{{word}}\"]\n    every: 0.5s\n    loop: true", fields: "fields:\n  word: { default: Bold }\n")
        )
        #expect(d == .steps(TextSteps(texts: ["New", "{{word}}"], every: .seconds(0.5), loop: true)))
    }

    @Test func aCounterReadsItsEndsFormatAndEasing() throws {
        let c = try changes(
            yaml(
                "  - type: text\n    counter: { from: 0, to: \"{{price}}\", duration: 1.5, easing: ease_out }",
                fields: "fields:\n  price: { required: true }\n"))
        #expect(c == .counter(TextCounter(from: .number(0, decimals: 0), to: .field("price"), duration: .seconds(1.5), easing: .easeOut)))
        let clock = try changes(yaml("  - type: text\n    counter: { from: 5, to: 0, format: \"ends in {n:m:ss}\" }\n    every: 1"))
        #expect(
            clock
                == .counter(
                    TextCounter(
                        from: .number(5, decimals: 0), to: .number(0, decimals: 0),
                        format: CounterFormat(prefix: "ends in ", number: NumberStyle(clock: true)), every: .seconds(1))))
        let money = try changes(
            yaml("  - type: text\n    counter: { from: 0, to: 1299.00, duration: 2, format: \"${n:,.2} only\" }\n    width: 800\n    height: 200"))
        guard case .counter(let m) = money else { Issue.record("not a counter"); return }
        #expect(m.to == .number(1299, decimals: 2))
        #expect(m.format == CounterFormat(prefix: "$", number: NumberStyle(decimals: 2, grouping: true), suffix: " only"))
    }

    @Test func numbersAreWrittenAsTheFormatSays() {
        #expect(NumberStyle(decimals: 2, grouping: true).text(1299, decimals: 0) == "1,299.00")
        #expect(NumberStyle(width: 2).text(5, decimals: 0) == "05")
        #expect(NumberStyle(clock: true).text(65, decimals: 2) == "1:05")
        #expect(NumberStyle(clock: true).text(5, decimals: 0) == "0:05")
        #expect(NumberStyle().text(-3, decimals: 1) == "-3.0")
        #expect(NumberStyle().text(-0.001, decimals: 1) == "0.0")
        // A field's value lends the counter its look.
        let p = NumberStyle.parse("Now $1,299.50!")
        #expect(p?.value == 1299.5 && p?.decimals == 2)
        #expect(p?.format == CounterFormat(prefix: "Now $", number: NumberStyle(decimals: 2, grouping: true), suffix: "!"))
        #expect(NumberStyle.parse("€ 29,99")?.value == 29)  // a decimal comma is not read as one: 29, then ",99"
        #expect(NumberStyle.parse("free") == nil)
        #expect(NumberStyle.parse("-40% off")?.value == -40)
    }

    @Test func badFormsAreErrorsAtTheirPlace() {
        #expect(
            errors(yaml("  - type: text\n    steps: []\n    every: 1")) == [
                "t.yaml:6:12: error: layers[1].steps: needs at least one text (steps: [\"3\", \"2\", \"1\", \"GO\"])"
            ])
        #expect(
            errors(yaml("  - type: text\n    steps: [a, b]\n    every: -1")) == [
                "t.yaml:7:12: error: layers[1].every: must be above 0 (seconds, e.g. 0.5, or beats, e.g. \"1 beat\"), got -1"
            ])
        #expect(
            errors(yaml("  - type: text\n    steps: [a, b]\n    every: 0 beats")) == [
                "t.yaml:7:12: error: layers[1].every: must be above 0 (seconds, e.g. 0.5, or beats, e.g. \"1 beat\"), got 0 beats"
            ])
        #expect(
            errors(yaml("  - type: text\n    steps: [a, b]")) == [
                "t.yaml:6:12: error: layers[1].every: steps need 'every': how long each text shows, in seconds (every: 1) or beats (every: \"1 beat\")"
            ])
        #expect(
            errors(yaml("  - type: text\n    counter: { from: 0, to: 9, format: \"only a few left\" }")) == [
                "t.yaml:6:40: error: layers[1].counter.format: the format has no number: write {n} where it goes (\"${n}\", \"{n:.2}\" for two decimals, \"ends in {n:m:ss}\" for a clock)"
            ])
        #expect(
            errors(yaml("  - type: text\n    counter: { from: 0, to: 9, format: \"{n:.x}\" }")) == [
                "t.yaml:6:40: error: layers[1].counter.format: '{n:.x}' is not a number format: write {n}, {n:.2} (decimals), {n:03} (zero-padded), {n:,} (thousands) or {n:m:ss} (a clock)"
            ])
        #expect(
            errors(yaml("  - type: text\n    counter: { from: 3, to: 3 }")) == [
                "t.yaml:6:29: error: layers[1].counter.to: equals 'from' (3): there is nothing to count (for a fixed text, use 'text')"
            ])
        #expect(
            errors(yaml("  - type: text\n    counter: { from: 0, to: \"{{price}}\" }")) == [
                "t.yaml:6:29: error: layers[1].counter.to: unknown field 'price'; declare it under 'fields:'"
            ])
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    steps: [a]\n    every: 1")) == [
                "t.yaml:6:11: error: layers[1].text: give 'text', or 'steps' / 'counter' for text that changes, not both"
            ])
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    every: 1")) == [
                "t.yaml:7:12: error: layers[1].every: 'every' goes with 'steps' or 'counter' (text that changes over time); this layer has neither"
            ])
    }

    @Test func aCounterThatWouldMakeTooManyPicturesIsRefusedWithTheWayOut() {
        // 0 to 1000 over 30 s at 30 fps changes on every frame: 901 texts.
        #expect(
            errors(yaml("  - type: text\n    counter: { from: 0, to: 1000, duration: 30 }\n    width: 1000\n    height: 260")) == [
                "t.yaml:6:14: error: layers[1].counter: counts through 901 different texts (1001 values over 30 s at 30 fps): at most 90 a layer, as each is drawn as its own picture; count over a shorter duration, with fewer decimals, or change less often (every: 0.5)"
            ])
        // The same count ticking every half second makes 61, and 0 to 20 makes 21 whatever the duration.
        #expect(
            errors(yaml("  - type: text\n    counter: { from: 0, to: 1000, duration: 30 }\n    every: 0.5\n    width: 1000\n    height: 260")).isEmpty
        )
        #expect(errors(yaml("  - type: text\n    counter: { from: 0, to: 20, duration: 30 }\n    width: 1000\n    height: 260")).isEmpty)
        let many = (1...91).map { "\"\($0)\"" }.joined(separator: ", ")
        #expect(
            errors(yaml("  - type: text\n    steps: [\(many)]\n    every: 0.1\n    width: 1000\n    height: 260")) == [
                "t.yaml:6:12: error: layers[1].steps: 91 texts: at most 90 a layer (each is drawn as its own picture and kept for the whole render)"
            ])
    }

    /// A counter without `duration` counts over the layer's time, which grows with the video: lint checks it up to
    /// the longest video a job may ask for. Before, each of these parsed clean and the job failed when planned.
    @Test func aCounterOverTheLayersTimeIsCheckedOverTheVideosLengths() throws {
        func lint(_ yaml: String, maximum: Double = 60) -> [String] {
            do {
                let t = try TemplateParser.parse(yaml: yaml, file: "t.yaml", options: .init(maximumDuration: maximum))
                return t.warnings.map(\.summary)
            } catch {
                return ((error as? SpecErrors)?.errors ?? []).map(\.summary)
            }
        }
        let box = "\n    width: 1000\n    height: 260"
        // At the template's default length (30 s), 0 to 1000 changes on every one of 900 frames: an error.
        #expect(
            lint(yaml("  - type: text\n    counter: { from: 0, to: 1000 }" + box)) == [
                "t.yaml:6:14: error: layers[1].counter: has no 'duration', so it counts over the layer's time: 900 different texts over 30 s at 30 fps in a 30 s video (the template's default length): at most 90 a layer, as each is drawn as its own picture; give the counter a 'duration' (duration: 2.9 or less keeps it within), or change less often (every: 0.5)"
            ])
        // A 2 s template: 0 to 100 fits (60 texts), but a job asking for more than 3 s makes 91 and more.
        let short = "timing: { default_duration: 2 }\n"
        #expect(
            lint(yaml("  - type: text\n    counter: { from: 0, to: 100 }" + box, fields: short)) == [
                "t.yaml:7:14: warning: layers[1].counter: has no 'duration', so it counts over the layer's time: a video longer than 3 s makes more than 90 different texts (101 at 60 s) and its job fails; give the counter a 'duration' (duration: 2.9 or less keeps it within), or change less often (every: 0.5)"
            ])
        // Where the longest video allowed is 3 s, it always fits.
        #expect(lint(yaml("  - type: text\n    counter: { from: 0, to: 100 }" + box, fields: short), maximum: 3).isEmpty)
        // Every half second: 60 ticks in 30 s, 120 in 60 s; within 90 up to 45 s.
        #expect(
            lint(yaml("  - type: text\n    counter: { from: 0, to: 1000 }\n    every: 0.5" + box)) == [
                "t.yaml:6:14: warning: layers[1].counter: has no 'duration', so it counts over the layer's time: a video longer than 45 s makes more than 90 different texts (120 at 60 s) and its job fails; give the counter a 'duration' (duration: 2.9 or less keeps it within), or change less often (every: 0.5)"
            ])
        // To a field's value: how many texts depends on the value the job sends, so a warning even at 30 s.
        #expect(
            lint(yaml("  - type: text\n    counter: { from: 0, to: \"{{price}}\" }" + box, fields: "fields:\n  price: { required: true }\n")) == [
                "t.yaml:8:14: warning: layers[1].counter: has no 'duration', so it counts over the layer's time to a field's value: a video longer than 3 s can make more than 90 different texts (1800 at 60 s, if the value has as many steps: 0 to 29.99 has 3000) and its job fails; give the counter a 'duration' (duration: 2.9 or less keeps it within), or change less often (every: 0.5)"
            ])
        // The layer's own time bounds it: 2 s of a 60 s video is 60 texts, whatever the video.
        #expect(lint(yaml("  - type: text\n    counter: { from: 0, to: 1000 }\n    start: 1\n    duration: 2" + box)).isEmpty)
        #expect(lint(yaml("  - type: text\n    counter: { from: 0, to: 1000 }\n    start: 10\n    end: 12" + box)).isEmpty)
        // Up to 2 s before the end: that grows with the video (28 s of a 30 s one).
        #expect(lint(yaml("  - type: text\n    counter: { from: 0, to: 1000 }\n    start: 0\n    end: -2" + box)).count == 1)
        // A few values fit any length; the music decides beats, and the plan checks them.
        #expect(lint(yaml("  - type: text\n    counter: { from: 5, to: 0, format: \"{n:m:ss}\" }" + box)).isEmpty)
        #expect(lint(yaml("  - type: text\n    counter: { from: 0, to: 1000 }\n    every: 1 beat" + box)).isEmpty)
    }

    @Test func theLimitShrinksWithTheBoxSoTheMemoryStaysBounded() {
        #expect(TextChanges.limit(width: 1000, height: 260) == 90)
        #expect(TextChanges.limit(width: 1080, height: 1920) == 11)
        #expect(TextChanges.limit(width: 100, height: 100) == 90)
        // A counter in a whole-canvas box (the default) making 21 texts: the message says why and what to do.
        #expect(
            errors(yaml("  - type: text\n    counter: { from: 0, to: 20, duration: 30 }")) == [
                "t.yaml:6:14: error: layers[1].counter: counts through 21 different texts (21 values over 30 s at 30 fps): at most 11 for a 1080x1920 box (23 million pixels of text pictures a layer; a smaller box allows more, up to 90), as each is drawn as its own picture; count over a shorter duration, with fewer decimals, or change less often (every: 0.5)"
            ])
    }

    @Test func staggerAndCellDelaysAreSeconds() throws {
        let t = try parse(
            yaml("  - type: media\n    layout: grid\n    stagger: 0.3s\n    cells: [{}, {delay: 1}, {fit: contain}]\n    animate: [fade_in]"))
        guard case .media(let m) = t.layers[1].content else { Issue.record("not media"); return }
        #expect(m.stagger == 0.3 && m.isStaggered)
        #expect([0, 1, 2, 3].map(m.cellDelay) == [0, 1, 0.6, 0.3 * 3])
        #expect(
            errors(yaml("  - type: media\n    layout: grid\n    stagger: 1 beat")) == [
                "t.yaml:7:14: error: layers[1].stagger: expected seconds (e.g. 0.3 or \"0.3s\"), not beats: a cell's delay moves its cuts off the beat by a fixed time"
            ])
        #expect(
            errors(yaml("  - type: media\n    stagger: 0.3")) == [
                "t.yaml:6:14: error: layers[1].stagger: the single layout has one cell: stagger needs side_by_side, stacked or grid"
            ])
        #expect(
            errors(yaml("  - type: media\n    layout: stacked\n    stagger: -0.3")) == [
                "t.yaml:7:14: error: layers[1].stagger: expected seconds from 0 to 10, got -0.3"
            ])
        #expect(
            errors(yaml("  - type: media\n    layout: stacked\n    delay: 1")).first?.contains("unknown key 'delay'") == true,
            "a delay belongs to a cell, in cells:")
    }
}
