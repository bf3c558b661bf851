import Foundation
import RendcTestSupport
import SpecLang
import Testing

/// What design12 could not say: text that types on, keyframes that repeat, a scale along one side, and lint's list
/// of a media layer's keys. Each read as written and each bad form reported at its file:line:col.
@Suite struct TypeOnAndRepeatTests {
    func yaml(_ layer: String, fields: String = "") -> String {
        "name: t\n\(fields)layers:\n  - type: color\n    color: \"#000000\"\n\(layer)\n"
    }
    func parse(_ yaml: String) throws -> Template { try TemplateParser.parse(yaml: yaml, file: "t.yaml") }
    func errors(_ yaml: String) -> [String] { lintMessages(yaml, \.summary) }

    @Test func typeOnTypesTheLayersTextWithItsCursor() throws {
        let t = try parse(
            yaml(
                "  - type: text\n    text: \"{{caption}} now\"\n    type_on: { per_char: 0.05, cursor: \"|\", blink: 0.6, blinks: 3 }",
                fields: "fields:\n  caption: { default: New }\n"))
        guard case .text(let text) = t.layers[1].content else { Issue.record("not a text layer"); return }
        #expect(
            text.changes
                == .typeOn(TextTypeOn(text: "{{caption}} now", rate: .perPiece(.seconds(0.05)), cursor: "|", blink: 0.6, blinks: 3)))
        // Over a time in beats, by words; a cursor blinks once a second unless told otherwise.
        let beats = try parse(yaml("  - type: text\n    text: Hello there\n    type_on: { duration: 4 beats, by: word, cursor: \"▍\" }"))
        guard case .text(let b) = beats.layers[1].content else { Issue.record("not a text layer"); return }
        #expect(b.changes == .typeOn(TextTypeOn(text: "Hello there", rate: .over(.beats(4)), unit: .word, cursor: "▍", blink: 1)))
        let steady = try parse(yaml("  - type: text\n    text: Hi\n    type_on: { per_char: 1 beat, cursor: \"|\", blink: false }"))
        guard case .text(let s) = steady.layers[1].content else { Issue.record("not a text layer"); return }
        #expect(s.changes == .typeOn(TextTypeOn(text: "Hi", rate: .perPiece(.beats(1)), cursor: "|")))
    }

    @Test func badTypeOnFormsAreReportedAtTheirKey() {
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    type_on: { cursor: \"|\" }")) == [
                "t.yaml:7:14: error: layers[1].type_on: needs 'per_char' (seconds or beats for each character: per_char: 0.05) or 'duration' (for the whole text: duration: 0.8)"
            ])
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    type_on: { per_char: 0.1, duration: 1 }")) == [
                "t.yaml:7:41: error: layers[1].type_on.duration: give 'per_char' (a time for each character) or 'duration' (for the whole text), not both"
            ])
        #expect(
            errors(yaml("  - type: text\n    steps: [a, b]\n    every: 1\n    type_on: { per_char: 0.1 }")) == [
                "t.yaml:8:14: error: layers[1].type_on: 'type_on' types the layer's 'text'; it does not go with 'steps' or 'counter'"
            ])
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    type_on: { per_char: 0, blink: 0.5 }")) == [
                "t.yaml:7:26: error: layers[1].type_on.per_char: must be above 0 (seconds, e.g. 0.5, or beats, e.g. \"1 beat\"), got 0",
                "t.yaml:7:36: error: layers[1].type_on.blink: 'blink' is for the cursor: add one (cursor: \"|\")",
            ])
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    type_on: { per_char: 0.1, cursor: \"\" }")) == [
                "t.yaml:7:39: error: layers[1].type_on.cursor: expected a short cursor of 1 to 4 characters on one line (cursor: \"|\"), got ''"
            ])
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    type_on: { per_char: 0.1, by: letter }")) == [
                "t.yaml:7:35: error: layers[1].type_on.by: expected one of character, word, got 'letter'"
            ])
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    type_on: { per_char: 0.1, cursor: \"|\", blink: false, blinks: 2 }")) == [
                "t.yaml:7:66: error: layers[1].type_on.blinks: the cursor does not blink (blink: false)"
            ])
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    type_on: { per_char: 0.1, speed: 2 }")) == [
                "t.yaml:7:31: error: layers[1].type_on.speed: unknown key 'speed'; expected one of blink, blinks, by, cursor, duration, per_char"
            ])
    }

    @Test func keyframesRepeatAFixedNumberOfTimesOrForever() throws {
        let t = try parse(
            yaml(
                "  - type: text\n    text: x\n    animate:\n      - keyframes: [{ t: 0, rotation: -8 }, { t: 1.2, rotation: 8, easing: ease_in_out }]\n        repeat: forever\n        yoyo: true\n      - keyframes: [{ t: 0, opacity: 0 }, { t: 0.5, opacity: 1 }]\n        repeat: 3"
            ))
        #expect(
            t.layers[1].animations == [
                .repeatingKeyframes(
                    [Keyframe(time: 0, rotation: -8), Keyframe(time: 1.2, rotation: 8, easing: .easeInOut)], KeyframeRepeat(count: nil, yoyo: true)),
                .repeatingKeyframes([Keyframe(time: 0, opacity: 0), Keyframe(time: 0.5, opacity: 1)], KeyframeRepeat(count: 3)),
            ])
        let once = try parse(yaml("  - type: shape\n    animate:\n      - keyframes: [{ t: 0, scale: 0 }, { t: 1, scale: 1 }]"))
        #expect(once.layers[1].animations == [.keyframes([Keyframe(time: 0, scale: 0), Keyframe(time: 1, scale: 1)])])
    }

    @Test func badRepeatsAreReportedAtTheirKey() {
        let kf = "      - keyframes: [{ t: 0, rotation: -8 }, { t: 1, rotation: 8 }]\n"
        #expect(
            errors(yaml("  - type: shape\n    animate:\n\(kf)        repeat: 0")) == [
                "t.yaml:8:17: error: layers[1].animate[0].repeat: expected a number of plays from 1 to 10000, or forever, got 0"
            ])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n\(kf)        repeat: always")) == [
                "t.yaml:8:17: error: layers[1].animate[0].repeat: expected a number of plays from 1 to 10000, or forever, got 'always'"
            ])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n\(kf)        yoyo: true")) == [
                "t.yaml:8:15: error: layers[1].animate[0].yoyo: 'yoyo' plays every second repeat backwards: give 'repeat' too (repeat: forever)"
            ])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - keyframes: [{ t: 1, scale: 0 }, { t: 1, scale: 1 }]\n        repeat: 2")) == [
                "t.yaml:8:17: error: layers[1].animate[0].repeat: the keyframes span no time (1 to 1 s): a repeat plays them from the first 't' to the last"
            ])
        // An entrance preset repeats too (design13); pulse, which already repeats on the beat, does not.
        #expect(errors(yaml("  - type: shape\n    animate:\n      - { preset: pop, repeat: 2 }")).isEmpty)
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: pulse, repeat: 2 }")) == [
                "t.yaml:7:34: error: layers[1].animate[0].repeat: 'pulse' already plays on every beat (every 0.5 s without beats), so it takes no 'repeat'; for a pulse on its own clock, write keyframes with 'repeat'"
            ])
    }

    @Test func scaleXAndScaleYAreKeyframeProperties() throws {
        let t = try parse(yaml("  - type: shape\n    animate:\n      - keyframes: [{ t: 0, scale_x: 0 }, { t: 0.4, scale_x: 1, scale_y: 2 }]"))
        var a = Keyframe(time: 0)
        a.scaleX = 0
        var b = Keyframe(time: 0.4)
        b.scaleX = 1
        b.scaleY = 2
        #expect(t.layers[1].animations == [.keyframes([a, b])])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - keyframes: [{ t: 0, scale_x: -1 }, { t: 1, scale_y: 1 }]")) == [
                "t.yaml:7:38: error: layers[1].animate[0].keyframes[0].scale_x: expected a number from 0 to 20, got -1"
            ])
    }

    /// docs/templates.md's examples of these sections lint as written (as layers, or as a shape's keys).
    @Test func theDocsExamplesLint() throws {
        let doc = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("docs/templates.md"), encoding: .utf8)
        func block(_ heading: String) throws -> String {
            let section = try #require(doc.components(separatedBy: heading).dropFirst().first)
            return try #require(section.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        }
        func indented(_ text: String) -> String { text.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") }
        let typing = try block("### Text that types on"), scale = try block("### Scale along one side")
        let swing = try block("### Keyframes that repeat")
        #expect(errors("name: t\nlayers:\n\(indented(typing))\n\(indented(scale))\n").isEmpty)
        #expect(errors("name: t\nlayers:\n  - type: shape\n\(indented(swing))\n").isEmpty)
        #expect(typing.contains("type_on") && scale.contains("scale_x") && swing.contains("yoyo"))
    }

    /// design12 finding 10: `columns` on a media layer listed the keys lint knows, leaving out `cells`, `fill` and
    /// `ken_burns`, which it accepts; `grid` (design13: `grid: {columns, rows}`) is among them.
    @Test func anUnknownMediaKeyListsEveryMediaKey() {
        let message = errors(yaml("  - type: media\n    layout: grid\n    columns: 3"))
        #expect(
            message == [
                "t.yaml:7:5: error: layers[1].columns: unknown key 'columns'; expected one of adjust, anchor, animate, box, cell_radius, cells, duration, end, fill, fit, gap, grid, height, ken_burns, layout, opacity, per_shot, pivot, radius, rotation, shadow, stagger, start, transition, type, width, window, x, y"
            ])
    }
}
