import Foundation
import SpecLang
import Testing

/// What design13's designers asked for: a short slide (`distance`), text aligned to its own start or end, and entrance
/// presets that repeat. Each read as written and each bad form reported at its file:line:col (grids and cards:
/// Design13GridTests).
@Suite struct Design13Tests {
    func yaml(_ layer: String) -> String { "name: t\nlayers:\n  - type: color\n    color: \"#000000\"\n\(layer)\n" }
    func parse(_ yaml: String) throws -> Template { try TemplateParser.parse(yaml: yaml, file: "t.yaml") }
    func errors(_ yaml: String) -> [String] { lintMessages(yaml, \.summary) }
    func animation(_ item: String) throws -> Animation? {
        try parse(yaml("  - type: shape\n    animate:\n      - \(item)")).layers[1].animations.first
    }

    @Test func aSlideTakesADistanceInPixelsOrPercent() throws {
        #expect(
            try animation("{ preset: slide_in, from: left, distance: 80 }")
                == .preset(.slideIn(from: .left, distance: .pixels(80)), duration: 0.4, delay: 0, easing: nil))
        #expect(
            try animation("{ preset: slide_out, to: top, distance: \"20%\" }")
                == .preset(.slideOut(to: .top, distance: .percent(20)), duration: 0.4, delay: 0, easing: nil))
        // Without it: just off the canvas, as before.
        #expect(try animation("{ preset: slide_in, from: right }") == .preset(.slideIn(from: .right), duration: 0.4, delay: 0, easing: nil))
        #expect(try animation("slide_in") == .preset(.slideIn(from: .bottom, distance: nil), duration: 0.4, delay: 0, easing: nil))
    }

    @Test func aBadDistanceIsReportedAtItsKey() {
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: slide_in, distance: 0 }")) == [
                "t.yaml:7:39: error: layers[1].animate[0].distance: expected pixels (e.g. 80) or a percentage of the box's size along the slide (e.g. \"20%\") from 1 to 10000 px, got 0"
            ])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: slide_in, distance: \"500%\" }")) == [
                "t.yaml:7:39: error: layers[1].animate[0].distance: expected pixels (e.g. 80) or a percentage of the box's size along the slide (e.g. \"20%\") from 1 to 400%, got 500%"
            ])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: slide_in, distance: far }")) == [
                "t.yaml:7:39: error: layers[1].animate[0].distance: expected pixels (e.g. 80) or a percentage of the box's size along the slide (e.g. \"20%\"), got 'far'"
            ])
        // Only slides travel.
        let fade = errors(yaml("  - type: shape\n    animate:\n      - { preset: fade_in, distance: 80 }"))
        #expect(
            fade == [
                "t.yaml:7:28: error: layers[1].animate[0].distance: unknown key 'distance'; expected one of delay, duration, easing, preset, repeat, yoyo"
            ])
    }

    @Test func textAlignsToItsStartOrEnd() throws {
        for (word, align) in [("start", TextAlign.start), ("end", .end), ("left", .left)] {
            guard case .text(let t) = try parse(yaml("  - type: text\n    text: Hi\n    align: \(word)")).layers[1].content else {
                Issue.record("not a text layer")
                return
            }
            #expect(t.style.align == align)
        }
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    align: begin")) == [
                "t.yaml:7:12: error: layers[1].align: expected one of left, center, right, start, end, got 'begin'"
            ])
    }

    @Test func entrancePresetsRepeatAsKeyframesDo() throws {
        #expect(
            try animation("{ preset: pop, duration: 0.4, repeat: 3 }")
                == .preset(.pop, duration: 0.4, delay: 0, easing: nil, again: KeyframeRepeat(count: 3)))
        #expect(
            try animation("{ preset: fade_in, repeat: forever, yoyo: true }")
                == .preset(.fadeIn, duration: 0.4, delay: 0, easing: nil, again: KeyframeRepeat(count: nil, yoyo: true)))
        #expect(
            try animation("{ preset: slide_in, from: left, distance: 40, repeat: 2, yoyo: true }")
                == .preset(
                    .slideIn(from: .left, distance: .pixels(40)), duration: 0.4, delay: 0, easing: nil, again: KeyframeRepeat(count: 2, yoyo: true)))
    }

    @Test func presetsThatCannotRepeatSaySoAtTheKey() {
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: pulse, repeat: 4 }")) == [
                "t.yaml:7:34: error: layers[1].animate[0].repeat: 'pulse' already plays on every beat (every 0.5 s without beats), so it takes no 'repeat'; for a pulse on its own clock, write keyframes with 'repeat'"
            ])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: fade_out, yoyo: true }")) == [
                "t.yaml:7:35: error: layers[1].animate[0].yoyo: 'fade_out' plays once, at the layer's end, so it takes no 'yoyo'; 'repeat' works on fade_in, slide_in and pop, or on keyframes"
            ])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: slide_out, repeat: forever }")) == [
                "t.yaml:7:38: error: layers[1].animate[0].repeat: 'slide_out' plays once, at the layer's end, so it takes no 'repeat'; 'repeat' works on fade_in, slide_in and pop, or on keyframes"
            ])
        // The same checks as on keyframes.
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: pop, yoyo: true }")) == [
                "t.yaml:7:30: error: layers[1].animate[0].yoyo: 'yoyo' plays every second repeat backwards: give 'repeat' too (repeat: forever)"
            ])
        #expect(
            errors(yaml("  - type: shape\n    animate:\n      - { preset: pop, repeat: 0 }")) == [
                "t.yaml:7:32: error: layers[1].animate[0].repeat: expected a number of plays from 1 to 10000, or forever, got 0"
            ])
    }
}
