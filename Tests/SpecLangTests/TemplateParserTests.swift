import Foundation
import RendcTestSupport
import SpecLang
import Testing

@Suite struct BuiltinTemplates {
    func load(_ name: String) throws -> Template {
        try TemplateParser.parse(file: Fixtures.specsDirectory.appendingPathComponent("\(name).yaml").path)
    }

    @Test func goldenFrameMatchesTheContract() throws {
        let t = try load("golden-frame")
        #expect(t.name == "golden-frame")
        #expect(t.canvas == Canvas(width: 1080, height: 1920, fps: 30))
        #expect(t.layers.map(\.kind) == ["color", "video", "media", "border", "text"])
        guard case .color(.solid(.value(let bg))) = t.layers[0].content, case .video(let ov) = t.layers[1].content,
            case .media(let im) = t.layers[2].content, case .border(let border) = t.layers[3].content,
            case .text(let text) = t.layers[4].content
        else {
            Issue.record("unexpected layers"); return
        }
        #expect(bg == Color(hex: "#050505"))
        #expect(t.layers[1].opacity == 0.7 && ov.blend == .screen && ov.loop)
        #expect(t.layers[2].placement.resolve(in: t.canvas) == Rect(x: 90, y: 160, width: 900, height: 1600))
        #expect(im.style.kenBurns?.startZoom == 1.0 && im.style.kenBurns?.endZoom == 1.05)
        #expect(border.color == .value(Color(hex: "#D4AF37")!) && border.width == 10)
        // The seed's caption at the top, centred; kept 40 px clear of the frame's sides so a long caption's lines do
        // not run over the border (trial15b).
        #expect(t.layers[4].placement.resolve(in: t.canvas) == Rect(x: 40, y: 100, width: 1000, height: 200))
        #expect(text.text == "{{caption}}")
        #expect(text.style.size == 60 && text.style.color == .white && text.style.stroke == Stroke(color: .black, width: 2))
        #expect(t.timing.cut.fallbackInterval == 2 && t.timing.noAudioDuration == 30)
        #expect(t.warnings.isEmpty)
    }

    @Test func silverAndNoFrameDifferWhereTheyShould() throws {
        guard case .border(let silver)? = try load("silver-frame").layers.first(where: { $0.kind == "border" })?.content else {
            Issue.record("silver-frame has no border"); return
        }
        #expect(silver.color == .value(Color(hex: "#C0C0C0")!))
        #expect(try load("no-frame").layers.contains { $0.kind == "border" } == false)
    }

    @Test(arguments: ["golden-frame", "silver-frame", "no-frame", "polaroid", "price-tag", "split-screen", "story", "editorial"])
    func everyShippedTemplateLintsCleanWithNoWarnings(_ name: String) throws {
        let t = try TemplateParser.parse(
            file: Fixtures.specsDirectory.appendingPathComponent("\(name).yaml").path,
            options: .init(builtinAssets: ["glitter-rain", "demo-track", "demo-logo"]))
        #expect(t.warnings.isEmpty, "\(t.warnings)")
    }
}

@Suite struct SpecErrorsTests {
    func errors(_ yaml: String) -> [SpecError] {
        do {
            _ = try TemplateParser.parse(yaml: yaml, file: "t.yaml")
            return []
        } catch let e as SpecErrors {
            return e.errors
        } catch {
            return [SpecError(file: "?", line: 0, column: 0, field: "", message: "\(error)")]
        }
    }

    let minimal = """
        name: t
        layers:
          - type: background
            color: "#000000"
        """

    @Test func minimalTemplateParses() throws {
        let t = try TemplateParser.parse(yaml: minimal)
        #expect(t.layers == [Layer(.color(.solid(.value(.black))))])
        #expect(t.timing == Timing())
    }

    @Test func wrongTypeNamesFileLineColumnAndField() {
        let yaml = """
            name: t
            layers:
              - type: background
              - type: overlay_video
                source: builtin:glitter-rain
                opacity: high
            """
        let errs = errors(yaml)
        #expect(errs.count == 1)
        #expect(
            errs.first?.description == """
                t.yaml:6:14: error: layers[1].opacity: expected a number from 0 to 1, got 'high'
                        opacity: high
                                 ^
                """)
    }

    @Test func outOfRangeNumber() {
        let errs = errors(minimal + "\n  - type: overlay_video\n    source: builtin:glitter-rain\n    opacity: 1.5\n")
        #expect(errs.map(\.summary) == ["t.yaml:7:14: error: layers[1].opacity: expected a number from 0 to 1, got 1.5"])
    }

    @Test func unknownKeyIsAnErrorWithASuggestion() {
        let errs = errors(minimal + "\n    colour: \"#FFFFFF\"\n")
        #expect(errs.map(\.summary) == ["t.yaml:5:5: error: layers[0].colour: unknown key 'colour' (did you mean 'color'?)"])
    }

    @Test func unquotedHexColourIsExplained() {
        let errs = errors("name: t\nlayers:\n  - type: background\n    color: #FFFFFF\n")
        #expect(errs.count == 1)
        #expect(errs.first?.field == "layers[0].color")
        #expect(errs.first?.message.contains("quote it") == true)
    }

    @Test func missingRequiredFieldAndEveryProblemReported() {
        let errs = errors("layers:\n  - type: media\n    fit: stretch\n  - type: video\n")
        #expect(errs.map(\.field).sorted() == ["layers[0].fit", "layers[1].source", "name"])
        #expect(errs.first { $0.field == "layers[0].fit" }?.message == "expected one of cover, contain, got 'stretch'")
    }

    @Test func unknownLayerTypeSuggests() {
        let errs = errors("name: t\nlayers:\n  - type: imagez\n")
        #expect(
            errs.map(\.summary) == [
                "t.yaml:3:11: error: layers[0].type: expected one of color, video, media, image, text, shape, border, background, overlay_video, images, frame, got 'imagez' (did you mean 'image'?)"
            ])
    }

    @Test func boxOffTheCanvas() {
        let errs = errors(minimal + "\n  - type: text\n    box: { x: 100, y: 0, width: 1000, height: 200 }\n")
        #expect(errs.count == 1)
        #expect(errs.first?.field == "layers[1].box.x")
        #expect(errs.first?.message.contains("right edge") == true)
    }

    @Test func oddCanvasSizeRejected() {
        let errs = errors("name: t\ncanvas: { width: 1081 }\n" + minimal.dropFirst(8))
        #expect(errs.first?.field == "canvas.width")
        #expect(errs.first?.message.contains("even") == true)
    }

    @Test func minShotLongerThanMaxShot() {
        let errs = errors("name: t\ntiming:\n  cut: { min_shot: 5, max_shot: 2 }\n" + minimal.dropFirst(8))
        #expect(errs.map(\.field) == ["timing.cut.min_shot"])
    }

    @Test func anyNumberOfLayersOfAKind() throws {
        let t = try TemplateParser.parse(yaml: minimal + "\n  - type: text\n    text: a\n  - type: text\n    text: b\n  - type: background\n")
        #expect(t.layers.map(\.kind) == ["color", "text", "text", "color"])
    }

    @Test func yamlSyntaxErrorHasAPosition() {
        let errs = errors("name: t\nlayers: [\n  - type: x\n")
        #expect(!errs.isEmpty)
        #expect(errs.allSatisfy { $0.line > 0 })
        #expect(errs.first?.message.hasPrefix("YAML syntax") == true)
    }

    @Test func templateNamesAreRestricted() {
        let errs = errors("name: \"../etc\"\nlayers:\n  - type: background\n")
        #expect(errs.map(\.field) == ["name"])
    }

    @Test func colours() {
        #expect(Color(hex: "#D4AF37") == Color(r: 0xD4, g: 0xAF, b: 0x37))
        #expect(Color(hex: "000000A0")?.a == 0xA0)
        #expect(Color(hex: "#FFF") == .white)
        #expect(Color(hex: "#GG0000") == nil)
        #expect(Color(hex: "#12345") == nil)
        // Full-width digits are not hex digits (and must not crash).
        #expect(Color(hex: "#ＦＦ００００") == nil)
        #expect(Color(hex: "#١٢٣") == nil)
    }

    @Test func fullWidthColourIsAnErrorNotACrash() {
        let errs = errors("name: t\nlayers:\n  - type: color\n    color: \"#ＦＦ００００\"\n")
        #expect(errs.map(\.field) == ["layers[0].color"])
    }

    @Test func strokeFalseIsAllowed() throws {
        let t = try TemplateParser.parse(yaml: "name: t\nlayers:\n  - type: text\n    stroke: false\n")
        guard case .text(let text) = t.layers[0].content else { Issue.record("no text layer"); return }
        #expect(text.style.stroke == nil)
    }

    @Test func duplicateKeyPointsAtTheDuplicateWithoutPrintingTheFile() {
        let yaml =
            "name: t\ndescription: a long description that must not be repeated in the error\nlayers:\n  - type: color\n    color: \"#000000\"\n    color: \"#FFFFFF\"\n"
        let errs = errors(yaml)
        #expect(errs.count == 1)
        #expect(errs.first?.summary == "t.yaml:6:5: error: YAML syntax: duplicate key 'color' (a key may appear once in a mapping)")
        #expect(errs.first?.description.contains("long description") == false)
    }

    @Test func everySyntaxErrorIsReported() {
        let yaml = "name: t\nlayers:\n  - type: color\n    color: [\n  - type: shape\n    x: {\n"
        let errs = errors(yaml)
        #expect(errs.count >= 2, "\(errs)")
        #expect(Set(errs.map(\.line)).count == errs.count)
    }

    @Test func fieldsAreCheckedWhereTheyAreUsed() {
        let yaml = """
            name: t
            fields:
              price: { type: text, max_length: 8 }
              accent: { type: color, default: "#FF0000" }
              unused: { type: text }
            layers:
              - type: text
                text: "{{price}} {{prise}}"
              - type: shape
                fill: "{{price}}"
            """
        let errs = errors(yaml)
        #expect(
            errs.map(\.summary).sorted()
                == [
                    "t.yaml:8:22: error: layers[0].text: unknown field 'prise' (did you mean 'price'?); declared fields: accent, price, unused",
                    "t.yaml:10:11: error: layers[1].fill: the field 'price' is of type text, not color",
                ].sorted())
    }

    @Test func unusedFieldsAreWarnings() throws {
        let t = try TemplateParser.parse(
            yaml: "name: t\nfields:\n  tagline: { type: text }\nlayers:\n  - type: color\n    color: \"#000000\"\n", file: "t.yaml")
        #expect(
            t.warnings.map(\.summary) == [
                "t.yaml:3:3: warning: fields.tagline: the field 'tagline' is declared but no layer uses it (write {{tagline}} in a text layer, or \"{{tagline}}\" as a colour or image source)"
            ])
    }

    @Test func referencedFilesMustExist() throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("t.yaml").path
        try
            "name: t\nlayers:\n  - type: image\n    source: logo.png\n  - type: text\n    font: { file: fonts/Brand.ttf }\n  - type: video\n    source: builtin:glitter-rian\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try TemplateParser.parse(file: path, options: .init(builtinAssets: ["glitter-rain", "demo-track"]))
            Issue.record("missing files should be errors")
        } catch let e as SpecErrors {
            #expect(
                e.errors.map { "\($0.line):\($0.column) \($0.field)" } == [
                    "4:13 layers[0].source", "6:19 layers[1].font.file", "8:13 layers[2].source",
                ])
            #expect(e.errors[2].message.contains("did you mean 'builtin:glitter-rain'"))
        }
        try Data().write(to: dir.appendingPathComponent("logo.png"))
        #expect(throws: SpecErrors.self) { try TemplateParser.parse(file: path) }
    }

    @Test func confinedTemplatesNameOnlyFilesBesideThem() throws {
        let dir = try Fixtures.temporaryDirectory()
        try Data().write(to: dir.appendingPathComponent("logo.png"))
        let outside = try Fixtures.temporaryDirectory().appendingPathComponent("secret.png").path
        try Data().write(to: URL(fileURLWithPath: outside))
        let template = { (source: String) in
            "name: t\nfields:\n  pic: { type: image, default: \"\(source)\" }\nlayers:\n  - type: image\n    source: \"{{pic}}\"\n  - type: text\n    font: { file: \"\(source)\" }\n"
        }
        let file = dir.appendingPathComponent("t.yaml").path
        let confined = TemplateParser.Options(confineFiles: true)
        // A file beside the template is fine; the same template naming an existing file outside is not.
        _ = try TemplateParser.parse(yaml: template("logo.png"), file: file, options: confined)
        _ = try TemplateParser.parse(yaml: template(outside), file: file)
        for source in [outside, "../\(URL(fileURLWithPath: outside).deletingLastPathComponent().lastPathComponent)/secret.png", "a/../../x.png"] {
            do {
                _ = try TemplateParser.parse(yaml: template(source), file: file, options: confined)
                Issue.record("\(source) should be refused")
            } catch let e as SpecErrors {
                #expect(e.errors.map(\.field) == ["fields.pic.default", "layers[1].font.file"], "\(e.errors)")
                #expect(e.errors.allSatisfy { $0.message.contains("outside the template's folder") })
            }
        }
    }

    @Test func unknownKeyListsEveryValidKeyWhenNothingIsClose() {
        let errs = errors("name: t\nlayers:\n  - type: shape\n    zzzzzzzzzz: 1\n")
        let message = errs.first?.message ?? ""
        for key in [
            "x", "y", "width", "height", "anchor", "rotation", "opacity", "shadow", "start", "end", "animate", "shape", "fill", "stroke", "radius",
        ] {
            #expect(message.contains(key), "missing \(key) in: \(message)")
        }
    }

    @Test func timingAnimationAndLayoutParse() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                layers:
                  - type: media
                    layout: grid
                    transition: { type: slide_up, duration: 0.3 }
                    cells: [{ fit: contain, fill: blur }]
                  - type: shape
                    start: 2 beats
                    end: -0.5
                    animate:
                      - { preset: slide_in, from: right, duration: 0.5, easing: "cubic-bezier(0.3, 1.4, 0.6, 1)" }
                      - keyframes: [{ t: 0, opacity: 0 }, { t: 1, opacity: 1, easing: ease_out }]
                """)
        guard case .media(let m) = t.layers[0].content else { Issue.record("no media"); return }
        #expect(m.layout == .grid && m.transition == Transition(kind: .slideUp, duration: 0.3))
        #expect(m.cellStyle(0).fit == .contain && m.cellStyle(0).fill == .blur && m.cellStyle(1).fit == .cover)
        #expect(t.layers[1].timing == LayerTiming(start: .beats(2), end: .seconds(-0.5)))
        #expect(t.layers[1].animations.count == 2)
        #expect(t.layers[1].animations.first == .preset(.slideIn(from: .right), duration: 0.5, delay: 0, easing: .cubicBezier(0.3, 1.4, 0.6, 1)))
    }

    /// A field where no field may go (a contained cell's fill) is not told to quote a value already quoted.
    @Test func aFieldWhereNoneMayGoSaysSo() {
        let messages = lintMessages(
            "name: t\nfields:\n  accent: { type: color, default: \"#FF0000\" }\nlayers:\n  - type: media\n    cells: [{ fit: contain, fill: \"{{accent}}\" }]\n"
        ) { $0.description }
        #expect(messages.count == 1 && messages[0].contains("a field cannot set this colour") && !messages[0].contains("quote it"), "\(messages)")
    }
}
