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
        #expect(t.layers.map(\.kind) == ["background", "overlay_video", "images", "frame", "text"])
        guard case .background(let bg) = t.layers[0], case .overlayVideo(let ov) = t.layers[1], case .images(let im) = t.layers[2],
              case .frame(.border(let color, let width)) = t.layers[3], case .text(let text) = t.layers[4] else {
            Issue.record("unexpected layers"); return
        }
        #expect(bg.color == Color(hex: "#050505"))
        #expect(ov.opacity == 0.7)
        #expect(im.window == Rect(x: 90, y: 160, width: 900, height: 1600))
        #expect(im.kenBurns?.startZoom == 1.0 && im.kenBurns?.endZoom == 1.05)
        #expect(color == Color(hex: "#D4AF37") && width == 10)
        #expect(text.box == Rect(x: 0, y: 100, width: 1080, height: 200))
        #expect(text.style.size == 60 && text.style.color == .white && text.style.stroke == Stroke(color: .black, width: 2))
        #expect(t.timing.cut.fallbackInterval == 2 && t.timing.noAudioDuration == 30)
    }

    @Test func silverAndNoFrameDifferWhereTheyShould() throws {
        guard case .frame(.border(let silver, _))? = try load("silver-frame").layers.first(where: { $0.kind == "frame" }) else {
            Issue.record("silver-frame has no border"); return
        }
        #expect(silver == Color(hex: "#C0C0C0"))
        #expect(try load("no-frame").layers.contains { $0.kind == "frame" } == false)
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
        #expect(t.layers == [.background(BackgroundLayer(color: .black))])
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
        #expect(errs.first?.description == """
        t.yaml:6:14: error: layers[1].opacity: expected a number from 0 to 1, got 'high'
                opacity: high
                         ^
        """)
    }

    @Test func outOfRangeNumber() {
        let errs = errors(minimal + "\n  - type: overlay_video\n    source: x.mp4\n    opacity: 1.5\n")
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
        let errs = errors("layers:\n  - type: images\n    fit: stretch\n")
        #expect(errs.map(\.field).sorted() == ["layers[0].fit", "layers[0].window", "name"])
        #expect(errs.first { $0.field == "layers[0].fit" }?.message == "expected one of cover, contain, got 'stretch'")
    }

    @Test func unknownLayerTypeSuggests() {
        let errs = errors("name: t\nlayers:\n  - type: imagez\n")
        #expect(errs.map(\.summary) == ["t.yaml:3:11: error: layers[0].type: expected one of background, overlay_video, images, frame, text, got 'imagez' (did you mean 'images'?)"])
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

    @Test func duplicateLayerKind() {
        let errs = errors(minimal + "\n  - type: background\n")
        #expect(errs.map(\.field) == ["layers[1]"])
    }

    @Test func yamlSyntaxErrorHasAPosition() {
        let errs = errors("name: t\nlayers: [\n  - type: x\n")
        #expect(errs.count == 1)
        #expect((errs.first?.line ?? 0) > 0)
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
    }
}
