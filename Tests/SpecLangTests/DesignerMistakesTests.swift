import Foundation
import SpecLang
import Testing

/// What a designer writing a first template gets wrong, and what lint says about it: the whole message at its
/// file:line:col, with the fix in it.
@Suite struct DesignerMistakesTests {
    /// A template with one text layer (or any layer) whose keys are `layer`, indented under `  - `.
    func yaml(_ layer: String, fields: String = "") -> String {
        "name: t\n\(fields)layers:\n  - type: color\n    color: \"#000000\"\n\(layer)\n"
    }
    func parse(_ yaml: String, options: TemplateParser.Options = .init()) throws -> Template {
        try TemplateParser.parse(yaml: yaml, file: "t.yaml", options: options)
    }
    func errors(_ yaml: String, options: TemplateParser.Options = .init()) -> [String] {
        lintMessages(yaml, options: options, \.summary)
    }

    @Test func anEndBeforeTheStartIsAnError() {
        #expect(
            errors(yaml("  - type: shape\n    start: 2s\n    end: 1s")) == [
                "t.yaml:7:10: error: layers[1].end: ends at 1 s, not after it starts at 2 s: the layer would never show (for a length, write 'duration')"
            ])
        #expect(
            errors(yaml("  - type: shape\n    start: 4 beats\n    end: 2 beats")) == [
                "t.yaml:7:10: error: layers[1].end: ends at beat 2, not after it starts at beat 4: the layer would never show (for a length, write 'duration')"
            ])
        #expect(
            errors(yaml("  - type: shape\n    duration: 0")) == [
                "t.yaml:6:15: error: layers[1].duration: must be above 0 (a layer shown for no time never shows)"
            ])
        // A negative end counts from the video's end, and units that differ are checked by the planner.
        #expect(errors(yaml("  - type: shape\n    start: 2\n    end: -1")).isEmpty)
        #expect(errors(yaml("  - type: shape\n    start: 2\n    end: 1 beat")).isEmpty)
        // Counting back from the end is in seconds: "-2 beats" says so (trial15 F7).
        #expect(
            errors(yaml("  - type: shape\n    end: -2 beats")) == [
                "t.yaml:6:10: error: layers[1].end: expected seconds (e.g. 0.5, or -1 for a second before the end) or beats (e.g. \"4 beats\"), got '-2 beats' (counting back from the end is in seconds only: e.g. -1 for a second before the end)"
            ])
    }

    /// trial15c: an undeclared field inside a text was marked at the text's first word, not at the reference.
    @Test func anUnknownFieldIsMarkedAtItsReference() {
        #expect(
            errors(yaml("  - type: text\n    text: \"Only {{discount}} today\"")) == [
                "t.yaml:6:17: error: layers[1].text: unknown field 'discount'; declare it under 'fields:'"
            ])
        // A reference that is the whole value is marked at the value, as any other key's problem.
        #expect(
            errors(yaml("  - type: text\n    text: \"{{ discount }}\"")) == [
                "t.yaml:6:11: error: layers[1].text: unknown field 'discount'; declare it under 'fields:'"
            ])
    }

    /// trial15c: libyaml's "did not find expected key" alone did not tell a designer to look at the spaces.
    @Test func anIndentationSlipSaysToLookAtTheIndentation() {
        let hint =
            " (check the indentation here and on the line above: the keys of one mapping start in the same column,"
            + " two spaces deeper than the key they belong to, and list items start with '- ' at one column)"
        #expect(
            errors("name: t\nlayers:\n  - type: color\n    color: \"#000000\"\n  - type: text\n   text: hi\n") == [
                "t.yaml:6:4: error: YAML syntax: did not find expected '-' indicator" + hint
            ])
        #expect(
            errors("name: t\nlayers:\n  - type: color\n     color: \"#000000\"\n") == [
                "t.yaml:4:11: error: YAML syntax: mapping values are not allowed in this context"
                    + hint.dropLast() + "; or quote a value that contains ': ', as in text: \"Sale: 50% off\")"
            ])
        // Other syntax problems keep libyaml's words alone.
        #expect(errors("name: t\nlayers: [\n").allSatisfy { !$0.contains("check the indentation") })
    }

    @Test func aPresetMayBeWrittenByItsNameAlone() throws {
        let t = try parse(yaml("  - type: shape\n    animate:\n      - fade_in\n      - { preset: pulse, amount: 0.1 }"))
        #expect(t.layers[1].animations.first == .preset(.fadeIn, duration: 0.4, delay: 0, easing: nil))
        #expect(
            errors(yaml("  - type: shape\n    animate: [fadein]")) == [
                "t.yaml:6:15: error: layers[1].animate[0]: expected a preset (e.g. - fade_in, or - { preset: slide_in, from: left }) or keyframes, got 'fadein' (did you mean 'fade_in'?); presets: fade_in, fade_out, slide_in, slide_out, pop, pulse"
            ])
    }

    @Test func textSizesTakePixelsAsPositionsDo() throws {
        let t = try parse(yaml("  - type: text\n    size: 80px\n    min_size: \"40 px\""))
        guard case .text(let text) = t.layers[1].content else { Issue.record("not a text layer"); return }
        #expect(text.style.size == 80 && text.style.minSize == 40)
        #expect(
            errors(yaml("  - type: text\n    size: 2000px")) == [
                "t.yaml:6:11: error: layers[1].size: expected a number of pixels from 4 to 1000, got '2000px'"
            ])
    }

    @Test func colourNamesGetTheHexToWrite() {
        #expect(
            errors(yaml("  - type: shape\n    fill: red")) == [
                "t.yaml:6:11: error: layers[1].fill: expected a colour as \"#RRGGBB\" or \"#RRGGBBAA\" (quote it: # starts a YAML comment), got 'red'; colour names are not read: write \"#FF0000\" for red"
            ])
    }

    @Test func otherShapeNamesPointAtRendcs() {
        #expect(
            errors(yaml("  - type: shape\n    shape: circle")) == [
                "t.yaml:6:12: error: layers[1].shape: expected one of rectangle, rounded_rectangle, ellipse, pill, got 'circle': a circle is shape: ellipse (with equal width and height)"
            ])
    }

    @Test func aLayerWhollyOffTheCanvasIsAWarning() throws {
        let t = try parse(yaml("  - type: shape\n    x: center\n    y: 120%\n    width: 200\n    height: 200"))
        #expect(
            t.warnings.map(\.summary) == [
                "t.yaml:7:8: warning: layers[1].y: the box (200x200+440+2304) lies wholly outside the 1080x1920 canvas, so the layer never shows (percentages are of the canvas: \"50%\" is its middle)"
            ])
        // Sliding in from off the canvas is not a mistake.
        #expect(try parse(yaml("  - type: shape\n    y: 120%\n    animate: [{ keyframes: [{ t: 0 }, { t: 1, y: -1000 }] }]")).warnings.isEmpty)
    }

    /// design12: `size: 440` in a 480 px box drew at about 352 px while the plan said 440. Lint says so, with the
    /// height that keeps the size; a box tall enough, or `shrink_to_fit: false`, says nothing.
    @Test func aBoxTooShortForOneLineAtItsSizeIsAWarning() throws {
        let t = try parse(yaml("  - type: text\n    text: \"9\"\n    height: 480\n    size: 440\n    stroke: false"))
        #expect(
            t.warnings.map(\.summary) == [
                "t.yaml:7:13: warning: layers[1].height: a line at size 440 needs a box about 599 px tall (1.36 × size, plus stroke and padding); this one is 480 px, so the text is drawn at about 352 px"
            ])
        #expect(try parse(yaml("  - type: text\n    text: \"9\"\n    height: 600\n    size: 440\n    stroke: false")).warnings.isEmpty)
        #expect(try parse(yaml("  - type: text\n    text: \"9\"\n    height: 480\n    size: 440\n    shrink_to_fit: false")).warnings.isEmpty)
    }

    @Test func aFontFamilyThatIsNotInstalledIsReportedAtItsLine() {
        let fonts = TemplateParser.FontFamilies(names: ["mono", "Noto Serif", "Noto Serif Display", "sans", "serif"]) {
            ["sans", "serif", "mono", "Noto Serif", "Noto Serif Display"].contains($0)
        }
        let options = TemplateParser.Options(fontFamilies: fonts)
        #expect(
            errors(yaml("  - type: text\n    font: { family: \"Noto Serif Displai\" }"), options: options) == [
                "t.yaml:6:21: error: layers[1].font.family: no font family 'Noto Serif Displai' is installed (did you mean 'Noto Serif Display'?); sans, serif or an installed family (`fc-list : family` lists them), or give font.file"
            ])
        #expect(errors(yaml("  - type: text\n    font: { family: \"Noto Serif Display\", weight: regular }"), options: options).isEmpty)
        // Without the list (SpecLang reads no fonts itself) nothing is checked.
        #expect(errors(yaml("  - type: text\n    font: { family: \"Noto Serif Displai\" }")).isEmpty)
    }

    @Test func decorationIsRead() throws {
        let t = try parse(yaml("  - type: text\n    decoration: strikethrough"))
        guard case .text(let text) = t.layers[1].content else { Issue.record("not a text layer"); return }
        #expect(text.style.decoration == .strikethrough)
        let italic = try parse(yaml("  - type: text\n    font: { family: serif, weight: regular, style: italic }"))
        guard case .text(let it) = italic.layers[1].content else { Issue.record("not a text layer"); return }
        #expect(it.style.font == FontSpec(family: "serif", weight: .regular, italic: true))
        #expect(
            errors(yaml("  - type: text\n    decoration: line-through")) == [
                "t.yaml:6:17: error: layers[1].decoration: expected one of none, strikethrough, underline, got 'line-through'"
            ])
    }

    @Test func letterSpacingIsReadInPixelsOrPercentOfTheSize() throws {
        func spacing(_ value: String) throws -> Double {
            let t = try parse(yaml("  - type: text\n    size: 80\n    letter_spacing: \(value)"))
            guard case .text(let text) = t.layers[1].content else { return .nan }
            return text.style.letterSpacing
        }
        #expect(try spacing("8") == 0.1)
        #expect(try spacing("\"8px\"") == 0.1)
        #expect(try spacing("\"25%\"") == 0.25)
        #expect(
            errors(yaml("  - type: text\n    size: 80\n    letter_spacing: 200")) == [
                "t.yaml:7:21: error: layers[1].letter_spacing: expected pixels at the text's size (e.g. 4) or a percentage of it (e.g. \"10%\"), from -50% to 200% of the size, got '200' (250% of 80 px)"
            ])
        #expect(
            errors(yaml("  - type: text\n    size: 80\n    letter_spacing: wide")) == [
                "t.yaml:7:21: error: layers[1].letter_spacing: expected pixels at the text's size (e.g. 4) or a percentage of it (e.g. \"10%\"), from -50% to 200% of the size, got 'wide'"
            ])
    }

    @Test func aWordThatStartsSeveralOptionsListsThem() {
        #expect(
            errors(yaml("  - type: media\n    transition: { type: slide, duration: 0.5 }")) == [
                "t.yaml:6:25: error: layers[1].transition.type: expected one of cut, crossfade, slide_left, slide_right, slide_up, slide_down, wipe_left, wipe_right, wipe_up, wipe_down, zoom, got 'slide' (did you mean 'slide_left', 'slide_right', 'slide_up' or 'slide_down'?)"
            ])
    }

    @Test func problemsAreListedInFileOrder() {
        // The field reference on line 6 is checked after the animation on line 8 was read.
        let found = errors(yaml("  - type: text\n    text: \"{{titel}}\"\n    animate:\n      - { preset: slide_in, from: up }\n    align: centre"))
        #expect(found.map { $0.split(separator: ":").prefix(3).joined(separator: ":") } == ["t.yaml:6:11", "t.yaml:8:35", "t.yaml:9:12"], "\(found)")
    }

    @Test func aTemplatesLengthHoldsWithoutMusicToo() throws {
        func timing(_ keys: String) throws -> Timing {
            try parse("name: t\ntiming:\n\(keys)\nlayers:\n  - type: color\n    color: \"#000000\"\n").timing
        }
        let t = try timing("  default_duration: 12")
        #expect(t.defaultDuration == 12 && t.noAudioDuration == 12)
        let both = try timing("  default_duration: 12\n  no_audio_duration: 20")
        #expect(both.defaultDuration == 12 && both.noAudioDuration == 20)
        #expect(try timing("  cut: { mode: interval }").noAudioDuration == 30)
    }
}
