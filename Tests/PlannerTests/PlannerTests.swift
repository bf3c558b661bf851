import Foundation
import Planner
import RendcTestSupport
import SpecLang
import Testing

func builtin(_ name: String) throws -> Template {
    try TemplateParser.parse(file: Fixtures.specsDirectory.appendingPathComponent("\(name).yaml").path)
}

func plan(_ template: Template, _ inputs: PlanInputs) throws -> RenderPlan {
    try Planner.plan(template: template, inputs: inputs) { ref in "/assets/\(ref)" }
}

let threeImages = ["/in/a.jpg", "/in/b.png", "/in/c.webp"]

@Suite struct PlannerTests {
    @Test(arguments: ["golden-frame", "silver-frame", "no-frame"], QualityMode.allCases)
    func shotsCoverEveryFrameExactlyOnce(_ name: String, _ mode: QualityMode) throws {
        let p = try plan(try builtin(name), PlanInputs(images: threeImages, quality: mode))
        let shots = try #require(p.images?.shots)
        #expect(shots.first?.startFrame == 0)
        #expect(shots.last?.endFrame == p.frameCount)
        for (a, b) in zip(shots, shots.dropFirst()) { #expect(a.endFrame == b.startFrame) }
        #expect(shots.allSatisfy { $0.frameCount > 0 })
        #expect(shots.enumerated().allSatisfy { $0.element.image == $0.offset % 3 })
    }

    @Test func noAudioMeansThirtySecondsAndCutsEveryTwo() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages))
        #expect(p.duration == 30 && p.frameCount == 900)
        #expect(p.audio == nil)
        #expect(p.cutSource == .fallback(interval: 2, reason: "no audio"))
        #expect(p.images?.shots.map(\.startFrame) == Array(stride(from: 0, to: 900, by: 60)))
        #expect(p.thumbnailFrame == 30)
    }

    @Test func cutsLandOnBeatsWithinOneFrameAndHonourShotLimits() throws {
        let t = try builtin("golden-frame")
        let beats = (1..<80).map { Double($0) * 0.5 + 0.013 }  // 120 BPM, slightly off the frame grid
        let p = try plan(
            t,
            PlanInputs(
                images: threeImages, audio: AudioInput(path: "/in/song.mp3", duration: 40), duration: 20,
                beats: BeatTimes(times: beats, tempo: 120, confidence: 0.9)))
        guard case .beats(let tempo, _) = p.cutSource else { Issue.record("expected beat cuts, got \(p.cutSource)"); return }
        #expect(tempo == 120)
        let shots = try #require(p.images?.shots)
        for s in shots.dropFirst() {
            let beat = try #require(s.beat, "shot \(s.index) is not on a beat")
            #expect(abs(Double(s.startFrame) / 30 - beat) <= 1.0 / 30 + 1e-9)
        }
        for s in shots.dropLast() { #expect(s.duration >= t.timing.cut.minShot - 1.0 / 30 && s.duration <= t.timing.cut.maxShot + 1.0 / 30) }
        #expect(shots.last!.duration >= t.timing.cut.minShot - 1.0 / 30)
        #expect(shots.first!.duration >= t.timing.cut.minShot - 1.0 / 30)
    }

    @Test func longGapsBetweenBeatsGetAnExtraCut() {
        let rule = CutRule(minShot: 1.5, maxShot: 4, fallbackInterval: 2)
        let (cuts, _) = Planner.cutTimes(
            rule: rule, duration: 20, fps: 30, beats: BeatTimes(times: [2, 12, 14], tempo: 60, confidence: 0.8), hasAudio: true)
        #expect(cuts.map(\.time) == [2, 6, 10, 12, 14, 18])
        #expect(cuts.map { $0.beat != nil } == [true, false, false, true, true, false])
    }

    @Test func partialBeatsCutOnTheBeatWhereReliableAndOnTheIntervalElsewhere() throws {
        // The track as a whole is unreliable (0.1) but its 10-20 s section has a clear 120 BPM pulse.
        let beats = stride(from: 10.0, through: 20.0, by: 0.5).map { $0 + 0.013 }
        let p = try plan(
            try builtin("golden-frame"),
            PlanInputs(
                images: threeImages, audio: AudioInput(path: "/s.mp3", duration: 60), duration: 30,
                beats: BeatTimes(times: beats, tempo: 120, confidence: 0.1, reliableSpans: [10...20])))
        guard case .partial(let tempo, _, let spans) = p.cutSource else { Issue.record("expected partial beats, got \(p.cutSource)"); return }
        #expect(tempo == 120 && spans == [10...20])
        #expect(p.summary.contains("the fallback interval elsewhere"))
        let shots = try #require(p.images?.shots)
        let onBeats = shots.filter { $0.beat != nil }
        #expect(onBeats.count >= 3, "cuts on beats inside the section")
        #expect(onBeats.allSatisfy { (10...20.1).contains($0.start) })
        // Outside the section: the 2 s interval, no beats.
        #expect(shots.filter { $0.start < 9.9 && $0.start > 0 }.allSatisfy { $0.beat == nil && abs($0.start.remainder(dividingBy: 2)) < 0.04 })
        #expect(shots.contains { $0.start > 20.5 && $0.beat == nil })
    }

    @Test func lowConfidenceBeatsFallBackAndSaySo() throws {
        let p = try plan(
            try builtin("golden-frame"),
            PlanInputs(
                images: threeImages, audio: AudioInput(path: "/s.mp3", duration: 60),
                beats: BeatTimes(times: [1, 2, 3], tempo: 60, confidence: 0.1)))
        guard case .fallback(let interval, let reason) = p.cutSource else { Issue.record("expected fallback"); return }
        #expect(interval == 2)
        #expect(reason.contains("confidence"))
    }

    @Test func audioShorterThanTheDefaultSetsTheLength() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, audio: AudioInput(path: "/s.mp3", duration: 12.5)))
        #expect(p.duration == 12.5 && p.frameCount == 375)
        #expect(p.audio?.fadeOut == 1.5)
    }

    @Test func ecoScalesEverythingByTwoThirds() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, text: "Hi", quality: .eco))
        #expect(p.width == 720 && p.height == 1280)
        // Picture windows are even-aligned for 4:2:0 chroma.
        #expect(p.images?.window == Rect(x: 60, y: 106, width: 600, height: 1066))
        #expect(p.caption?.box == Rect(x: 27, y: 67, width: 667, height: 133))
        #expect(p.caption?.style.size == 40)
        #expect(p.layers.contains { $0.content == .border(color: Color(hex: "#D4AF37")!, width: 7) })
        #expect(p.encoder.preset == "veryfast")
    }

    @Test func freezeHasNoMotionAndAStillOverlay() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, quality: .freeze))
        #expect(p.images?.shots.allSatisfy { $0.motion.isStill } == true)
        #expect(p.overlay?.animated == false)
        let normal = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages))
        #expect(normal.images?.shots.allSatisfy { $0.motion.zoomFrom == 1 && $0.motion.zoomTo == 1.05 } == true)
        #expect(normal.overlay?.animated == true)
    }

    @Test func templateQualityOverridesWinOverTheBuiltInProfile() throws {
        var t = try builtin("golden-frame")
        let freeze = try plan(t, PlanInputs(images: threeImages, quality: .freeze))
        #expect(freeze.encoder.preset == "ultrafast" && freeze.encoder.gop == 300)
        #expect(try plan(t, PlanInputs(images: threeImages)).encoder.gop == 60)
        t.quality[.eco] = QualityOverride(scale: 0.5, preset: "superfast", crf: 30, overlay: false)
        let eco = try plan(t, PlanInputs(images: threeImages, quality: .eco))
        #expect(eco.width == 540 && eco.height == 960 && eco.encoder.preset == "superfast" && eco.encoder.crf == 30)
        #expect(eco.overlay == nil && eco.notes.contains("video layer layers[1] left out in eco mode"))
    }

    @Test func noFrameAlternatesZoomDirection() throws {
        let p = try plan(try builtin("no-frame"), PlanInputs(images: threeImages))
        let zooms = try #require(p.images?.shots.prefix(2).map { ($0.motion.zoomFrom, $0.motion.zoomTo) })
        #expect(zooms.map(\.0) == [1.0, 1.05] && zooms.map(\.1) == [1.05, 1.0])
        #expect(!p.layers.contains { $0.content.kind == "border" })
    }

    @Test func inputLimits() throws {
        let t = try builtin("golden-frame")
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: [])) }
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: Array(repeating: "/a.jpg", count: 11))) }
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: threeImages, duration: 61)) }
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: threeImages, text: String(repeating: "é", count: 501))) }
        #expect(throws: Never.self) { try plan(t, PlanInputs(images: threeImages, text: String(repeating: "👍🏽", count: 500))) }
    }

    @Test func userTextNeverEntersTheGraph() throws {
        let hostile = "'; drawtext=text=%{pts}:fontfile=/etc/passwd [out] \\ , ; \n 🎉"
        let p = try plan(
            try builtin("golden-frame"), PlanInputs(images: threeImages, audio: AudioInput(path: "/in/a b:c'd.mp3", duration: 30), text: hostile))
        let graph = p.filterGraph.description
        #expect(!graph.contains("passwd") && !graph.contains("%{pts}") && !graph.contains("🎉"))
        #expect(p.caption?.text == hostile)
        #expect(graph.contains("text4.rgba"))
        #expect(!p.audioGraph.text.contains("/in/"))
    }

    @Test func graphDescribesEveryLayer() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, text: "x"))
        let filters = p.filterGraph.video.map(\.filter)
        #expect(filters.first == "color" && filters.last == "format")
        #expect(filters.contains("rendc_kenburns") && filters.contains("drawbox") && filters.filter { $0 == "overlay" }.count == 2)
        #expect(p.filterGraph.description.contains("color=c=0x050505:s=1080x1920:r=30:d=30.000[bg]"))
        #expect(
            p.audioGraph.text
                == "anullsrc=r=48000:cl=stereo:d=30.000[a1];[a1]aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo[aout]")
    }

    @Test func filterOptionEscaping() {
        #expect(FilterGraph.escape("plain") == "plain")
        #expect(FilterGraph.escape("a:b") == "a\\\\:b")
        #expect(FilterGraph.escape("it's") == "it\\\\\\'s")
        #expect(FilterGraph.escape("[x],y;") == "\\[x\\]\\,y\\;")
    }

    /// Planner errors keep their structure: a code to decide on, the field, and the template line they come from.
    @Test func aMissingAssetNamesItsCodeAndTemplateLine() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                layers:
                  - type: color
                    color: "#000000"
                  - type: image
                    source: no-such-sticker
                """)
        do {
            _ = try Planner.plan(template: t, inputs: PlanInputs(images: threeImages)) { _ in nil }
            Issue.record("a missing asset was accepted")
        } catch let error as PlanError {
            #expect(error.code == .assetNotFound)
            #expect(error.field == "layers[1].source")
            #expect(error.line == 5)
            #expect(error.description == "layers[1].source (template line 5): asset no-such-sticker not found")
        }
        #expect(throws: PlanError(.missingInput, field: "images", message: "at least one image is needed")) {
            try plan(try builtin("golden-frame"), PlanInputs(images: []))
        }
    }

    @Test func fieldsFillTextAndAreValidated() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                fields:
                  price: { type: text, required: true, max_length: 6 }
                  accent: { type: color, default: "#112233" }
                layers:
                  - type: shape
                    fill: "{{accent}}"
                  - type: text
                    text: "Now {{price}}!"
                """)
        let p = try plan(t, PlanInputs(images: [], fields: ["price": "$9"]))
        #expect(p.layers.compactMap { if case .text(let x) = $0.content { x.text } else { nil } } == ["Now $9!"])
        #expect(p.layers.first?.content == .shape(ShapePlan(shape: .rectangle, fill: .solid(Color(hex: "#112233")!), stroke: nil)))
        let red = try plan(t, PlanInputs(images: [], fields: ["price": "$9", "accent": "#FF0000"]))
        #expect(red.layers.first?.content == .shape(ShapePlan(shape: .rectangle, fill: .solid(Color(r: 255, g: 0, b: 0)), stroke: nil)))
        #expect(throws: PlanError(.missingInput, field: "fields.price", message: "is required by the template 't'")) {
            try plan(t, PlanInputs(images: []))
        }
        #expect(throws: PlanError(.invalidValue, field: "fields.price", message: "at most 6 characters, got 7")) {
            try plan(t, PlanInputs(images: [], fields: ["price": "$123456"]))
        }
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: [], fields: ["price": "1", "accent": "red"])) }
        do {
            _ = try plan(t, PlanInputs(images: [], fields: ["price": "1", "colour": "x"]))
            Issue.record("unknown field accepted")
        } catch let e as PlanError {
            #expect(e.field == "fields.colour" && e.message.contains("accent, caption, price"))
        }
        // Field values are data: they never reach the graph.
        let hostile = try plan(t, PlanInputs(images: [], fields: ["price": "[x];'"]))
        #expect(!hostile.filterGraph.description.contains("[x];"))
    }

    /// A brand colour reaches every colour a designer writes (design12: only colour layers, shape fills and borders
    /// took a colour field, so the brand colour could not reach a text): a text's colour, stroke, background and
    /// shadow, a shape's stroke, a layer's shadow, and each gradient stop. The template's default stands in each until
    /// a job gives the field.
    @Test func colourFieldsSetTextStrokeBackgroundShadowAndGradientStops() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                fields:
                  accent: { type: color, default: "#112233" }
                  ink: { type: color, default: "#FFFFFF" }
                layers:
                  - type: color
                    gradient: { stops: ["#000000", "{{accent}}", { color: "{{ink}}", at: 1 }] }
                  - type: shape
                    fill: "#000000"
                    stroke: { color: "{{accent}}", width: 4 }
                    shadow: { color: "{{ink}}" }
                  - type: text
                    text: Sale
                    color: "{{ink}}"
                    stroke: { color: "{{accent}}", width: 3 }
                    background: { color: "{{accent}}" }
                    shadow: { color: "{{ink}}" }
                """)
        #expect(t.layers[2].colorFields == [.text: "ink", .stroke: "accent", .background: "accent", .shadow: "ink"])
        let accent = Color(hex: "#FF0000")!, ink = Color(hex: "#00FF00")!
        for (given, a, i) in [([String: String](), Color(hex: "#112233")!, Color.white), (["accent": "#FF0000", "ink": "#00FF00"], accent, ink)] {
            let p = try plan(t, PlanInputs(images: [], fields: given))
            guard case .color(.linear(_, let stops)) = p.layers[0].content, case .shape(let shape) = p.layers[1].content,
                case .text(let text) = p.layers[2].content
            else {
                Issue.record("unexpected layers: \(p.layers.map(\.content))")
                return
            }
            #expect(stops.map(\.color) == [.black, a, i], "\(given)")
            #expect(shape.stroke?.color == a && p.layers[1].shadow?.color == i, "\(given)")
            let style = text.style
            #expect(style.color == i && style.stroke?.color == a && style.background?.color == a && style.shadow?.color == i, "\(given)")
        }
        // A text field where a colour goes is refused at its line and column, naming the kind.
        do {
            _ = try TemplateParser.parse(
                yaml: "name: t\nfields:\n  word: { default: x }\nlayers:\n  - type: text\n    text: a\n    shadow: { color: \"{{word}}\" }\n",
                file: "w.yaml")
            Issue.record("a text field accepted as a shadow's colour")
        } catch let e as SpecErrors {
            #expect(e.description.contains("w.yaml:7:22: error: layers[0].shadow.color: the field 'word' is of type text, not color"), "\(e)")
        }
    }

    @Test func layerTimingInSecondsBeatsAndPerShot() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                timing: { cut: { mode: beats, min_shot: 1, max_shot: 4, fallback_interval: 2 } }
                layers:
                  - type: media
                  - type: shape
                    start: 2
                    end: -1
                  - type: shape
                    start: 2 beats
                    duration: 1 beat
                  - type: shape
                    per_shot: true
                    duration: 0.5
                """)
        let beats = BeatTimes(times: stride(from: 0.4, to: 20, by: 0.6).map { $0 }, tempo: 100, confidence: 0.9)
        let p = try plan(t, PlanInputs(images: threeImages, audio: AudioInput(path: "/a.mp3", duration: 30), duration: 10, beats: beats))
        #expect(p.layers[1].visible == [FrameSpan(60, 270)])
        #expect(p.layers[2].visible == [FrameSpan(30, 48)])  // beat 2 at 1.0 s, beat 3 at 1.6 s
        let shots = try #require(p.images?.shots)
        #expect(p.layers[3].visible == shots.map { FrameSpan($0.startFrame, min($0.endFrame, $0.startFrame + 15)) })
        // Without beats a beat counts half a second.
        let silent = try plan(t, PlanInputs(images: threeImages, duration: 10))
        #expect(silent.layers[2].visible == [FrameSpan(30, 45)])
    }

    @Test func transitionsAreCentredOnTheCut() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                timing: { cut: { mode: interval, fallback_interval: 2 } }
                layers:
                  - type: media
                    layout: side_by_side
                    gap: 10
                    transition: { type: crossfade, duration: 0.4 }
                """)
        let p = try plan(t, PlanInputs(images: threeImages, duration: 6))
        let m = try #require(p.images)
        #expect(m.transitions.map(\.frames) == [FrameSpan(54, 66), FrameSpan(114, 126)])
        #expect(m.cells.map(\.rect) == [Rect(x: 0, y: 0, width: 534, height: 1920), Rect(x: 546, y: 0, width: 534, height: 1920)])
        #expect(m.shots.map(\.images) == [[0, 1], [2, 0], [1, 2]])
        let (tr, progress) = try #require(m.transition(at: 60))
        #expect(tr.from == 0 && abs(progress - 0.541) < 0.01)
        // Freeze mode: no motion, so cuts.
        let freeze = try plan(t, PlanInputs(images: threeImages, duration: 6, quality: .freeze))
        #expect(freeze.images?.transitions.isEmpty == true)
    }

    @Test func animationsBecomeTracks() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                layers:
                  - type: shape
                    x: 100
                    width: 200
                    start: 1
                    animate:
                      - { preset: fade_in, duration: 0.5 }
                      - { preset: slide_in, from: left, duration: 1 }
                      - { preset: pop, duration: 0.4 }
                """)
        let p = try plan(t, PlanInputs(images: [], duration: 4))
        let l = p.layers[0]
        #expect(l.transform(frame: 30, time: 1.0).opacity == 0)
        #expect(abs(l.transform(frame: 45, time: 1.5).opacity - 1) < 1e-9)
        #expect(l.transform(frame: 30, time: 1.0).dx == -300)
        #expect(l.transform(frame: 90, time: 3.0).dx == 0)
        // pop overshoots 1 before settling.
        let scales = stride(from: 1.0, through: 1.4, by: 0.02).map { l.transform(frame: 40, time: $0).scale }
        #expect(scales.max()! > 1.02)
        #expect(abs(l.transform(frame: 45, time: 1.45).scale - 1) < 1e-6)
        let freeze = try plan(t, PlanInputs(images: [], duration: 4, quality: .freeze))
        #expect(freeze.layers[0].animation.isEmpty)
    }

    /// slide_in starts with all the layer draws off the canvas: its box, its drop shadow's reach (blur 24 spreads
    /// 36 px; the box alone left a line of the shadow at the canvas's edge on the first frames) and the corners its
    /// rotation turns out, rounded out to even pixels (the stock graph moves layers by even pixels).
    @Test(arguments: ["left", "right", "top", "bottom"])
    func slideInStartsWithTheShadowAndTurnedCornersOffTheCanvas(_ side: String) throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                layers:
                  - type: shape
                    x: 101
                    y: 301
                    width: 877
                    height: 1201
                    rotation: 8
                    shadow: { color: "#00000050", offset_x: -6, offset_y: 12, blur: 24 }
                    start: 1
                    animate: [{ preset: slide_in, from: \(side), duration: 0.5 }]
                """)
        let l = try plan(t, PlanInputs(images: [], duration: 4)).layers[0]
        let first = l.transform(frame: 30, time: 1.0), settled = l.transform(frame: 60, time: 2.0)
        #expect(settled.dx == 0 && settled.dy == 0)
        // The box (101...978, 301...1502) and its shadow (moved -6, 12, 36 px of blur around it: 59...1008,
        // 277...1550), turned 8 degrees about the box's centre.
        let (cx, cy) = (101 + 877 / 2.0, 301 + 1201 / 2.0), a = 8 * Double.pi / 180
        let corners = [(59.0, 277.0), (1008.0, 277.0), (59.0, 1550.0), (1008.0, 1550.0)].map { x, y in
            (cx + (x - cx) * cos(a) - (y - cy) * sin(a), cy + (x - cx) * sin(a) + (y - cy) * cos(a))
        }
        let b = (minX: corners.map(\.0).min()!, minY: corners.map(\.1).min()!, maxX: corners.map(\.0).max()!, maxY: corners.map(\.1).max()!)
        #expect(abs(l.drawnBounds.minX - b.minX) < 1e-6 && abs(l.drawnBounds.maxY - b.maxY) < 1e-6, "\(l.drawnBounds)")
        switch side {
        case "left": #expect(b.maxX + first.dx <= 0 && b.maxX + first.dx > -2, "dx \(first.dx)")
        case "right": #expect(b.minX + first.dx >= 1080 && b.minX + first.dx < 1082, "dx \(first.dx)")
        case "top": #expect(b.maxY + first.dy <= 0 && b.maxY + first.dy > -2, "dy \(first.dy)")
        default: #expect(b.minY + first.dy >= 1920 && b.minY + first.dy < 1922, "dy \(first.dy)")
        }
        #expect((first.dx + first.dy).truncatingRemainder(dividingBy: 2) == 0, "an even offset: \(first.dx), \(first.dy)")
    }

    @Test func kenBurnsNeverExceedsItsRange() {
        let m = Motion(zoomFrom: 1, zoomTo: 1.05, panFrom: .center, panTo: UnitPoint(x: 0.4, y: 0.6), easing: .easeInOut)
        let zooms = stride(from: -0.5, through: 1.5, by: 0.05).map(m.zoom(at:))
        #expect(zooms.allSatisfy { $0 >= 1 && $0 <= 1.05 })
        #expect(zip(zooms, zooms.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(m.zoom(at: 0) == 1 && m.zoom(at: 1) == 1.05)
    }
}
