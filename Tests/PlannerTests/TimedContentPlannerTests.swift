import Foundation
import Planner
import RendcTestSupport
import SpecLang
import Testing

/// Text that changes over time and staggered cells, as planned: which text shows in which frames, which cell enters
/// when, and the limit on distinct texts.
@Suite struct TimedContentPlannerTests {
    func template(_ layer: String, fields: String = "", cut: String = "{ mode: interval, fallback_interval: 2 }") throws -> Template {
        try TemplateParser.parse(
            yaml: "name: t\n\(fields)timing: { cut: \(cut) }\nlayers:\n  - type: color\n    color: \"#000000\"\n\(layer)\n", file: "t.yaml")
    }
    /// The text layers' texts and visible frames, in plan order.
    func texts(_ p: RenderPlan) -> [(String, [FrameSpan])] {
        p.layers.compactMap { l in if case .text(let t) = l.content { (t.text, l.visible) } else { nil } }
    }

    @Test func aCountdownShowsEachTextForItsSecondAndHoldsTheLast() throws {
        let t = try template("  - type: text\n    steps: [\"3\", \"2\", \"1\", \"GO\"]\n    every: 1")
        let p = try plan(t, PlanInputs(images: threeImages, duration: 5))
        let shown = texts(p)
        #expect(shown.map(\.0) == ["3", "2", "1", "GO"])
        #expect(shown.map(\.1) == [[FrameSpan(0, 30)], [FrameSpan(30, 60)], [FrameSpan(60, 90)], [FrameSpan(90, 150)]])
        // One template layer, four plan layers: unique indexes, one template index for messages.
        let parts = p.layers.filter { $0.templateIndex == 1 }
        #expect(parts.count == 4 && Set(parts.map(\.index)).count == 4 && parts[0].index == 1)
        #expect(!parts.contains { $0.index == 0 })
        #expect(p.summary.contains("layer 1 (text 4 of 4): text") && p.summary.contains("\"GO\""))
    }

    @Test func stepsOnTheBeatFollowTheTrackedBeatsAndLoop() throws {
        let t = try template(
            "  - type: text\n    steps: [Fresh, \"{{word}}\", Yours]\n    every: 2 beats\n    loop: true\n    start: 1 beat",
            fields: "fields:\n  word: { default: Bold }\n")
        let beats = (1..<40).map { Double($0) * 0.4 }  // 150 BPM
        let p = try plan(
            t,
            PlanInputs(
                images: threeImages, audio: AudioInput(path: "/s.mp3", duration: 30), duration: 4,
                beats: BeatTimes(times: beats, tempo: 150, confidence: 0.9)))
        let shown = texts(p)
        #expect(shown.map(\.0) == ["Fresh", "Bold", "Yours"], "merge fields are filled in each step")
        // The layer starts on beat 1 (0.4 s, frame 12); each text lasts two beats (0.8 s, 24 frames), then the list starts again.
        #expect(shown[0].1 == [FrameSpan(12, 36), FrameSpan(84, 108)])
        #expect(shown[1].1 == [FrameSpan(36, 60), FrameSpan(108, 120)])
        #expect(shown[2].1 == [FrameSpan(60, 84)])
    }

    @Test func aPriceCountsUpToTheFieldsValueInItsOwnLook() throws {
        let t = try template(
            "  - type: text\n    counter: { from: 0, to: \"{{price}}\", duration: 1.5, easing: ease_out }\n    width: 1000\n    height: 260",
            fields: "fields:\n  price: { required: true }\n")
        let p = try plan(t, PlanInputs(images: threeImages, fields: ["price": "$1,299.00"], duration: 3))
        let shown = texts(p)
        #expect(shown.first?.0 == "$0.00" && shown.first?.1 == [FrameSpan(0, 1)])
        #expect(shown.last?.0 == "$1,299.00")
        #expect(shown.last?.1 == [FrameSpan(45, 90)], "the value is reached at 1.5 s and held")
        // Counting up: every text shows once, in one run, the numbers rising.
        let values = shown.map { Double($0.0.dropFirst().replacingOccurrences(of: ",", with: ""))! }
        #expect(values == values.sorted() && Set(values).count == values.count)
        #expect(shown.allSatisfy { $0.1.count == 1 })
        #expect(shown.count <= 46)
        // A value without a number is the job's mistake, named by its field.
        // So is one too large to count (review10: 19 digits trapped the clock format; 300 decimals showed "nan").
        for value in ["ask us", "$9999999999999999999", "$1." + String(repeating: "5", count: 300)] {
            #expect(
                throws: PlanError(
                    .invalidValue, field: "fields.price",
                    message: "layers[1].counter counts to this field, but its value has no number it can count (at most 12 digits and 6 decimals)",
                    line: 8)
            ) {
                try plan(t, PlanInputs(images: threeImages, fields: ["price": value], duration: 3))
            }
        }
    }

    @Test func aClockTicksDownBySecondsAndEndsAtZero() throws {
        let t = try template("  - type: text\n    counter: { from: 5, to: 0, duration: 5, format: \"ends in {n:m:ss}\" }\n    every: 1")
        let p = try plan(t, PlanInputs(images: threeImages, duration: 6))
        #expect(texts(p).map(\.0) == (0...5).reversed().map { "ends in 0:0\($0)" })
        #expect(texts(p).map(\.1) == (0..<5).map { [FrameSpan($0 * 30, $0 * 30 + 30)] } + [[FrameSpan(150, 180)]])
    }

    /// A designer's countdown (design12): 9 to 0 over 18 beats, a number every 2 beats. Measured in the seconds the
    /// beats took, uneven tracked beats put some ticks a hair past a whole value, so 4 and 1 never showed and 5 and 7
    /// held for four beats. Counted in beats, every number shows for its two beats, whatever the beats' spacing.
    @Test func aCountdownInBeatsShowsEveryNumberOnUnevenBeats() throws {
        let t = try template("  - type: text\n    counter: { from: 9, to: 0, duration: 18 beats }\n    every: 2 beats")
        // 140 BPM with the jitter a tracker leaves (±12 ms, alternating in a pattern that is not periodic in 2).
        let jitter = [0.004, -0.009, 0.011, -0.003, 0.008, -0.012, 0.002, 0.010, -0.006, 0.012, -0.011, 0.005]
        let beats = (0..<40).map { Double($0) * 60 / 140 + jitter[$0 % jitter.count] + 0.02 }
        for duration in [10.0, 12.0] {
            let p = try plan(
                t,
                PlanInputs(
                    images: threeImages, audio: AudioInput(path: "/s.mp3", duration: 30), duration: duration,
                    beats: BeatTimes(times: beats, tempo: 140, confidence: 0.9)))
            let shown = texts(p)
            #expect(shown.map(\.0) == (0...9).reversed().map(String.init), "at \(duration) s")
            // Each number but the last shows for two beats: tick k is the (2k)th beat after the start (beats[2k - 1]).
            for (k, (_, spans)) in shown.dropLast().enumerated() {
                #expect(spans.count == 1 && spans[0].end == Int((beats[2 * k + 1] * 30).rounded()), "\(k): \(spans)")
            }
        }
    }

    @Test func tooManyDistinctTextsAreRefusedWhenPlanned() throws {
        // The template cannot know the field's value: 0 to $999.99 over 4 s changes on each of 120 frames.
        let t = try template(
            "  - type: text\n    counter: { from: 0, to: \"{{price}}\", duration: 4 }\n    width: 1000\n    height: 260",
            fields: "fields:\n  price: { required: true }\n")
        #expect(
            throws: PlanError(
                .invalidValue, field: "layers[1].counter",
                message:
                    "makes 121 different texts: at most 90 a layer, as each is drawn as its own picture and kept for the whole render; count over a shorter duration, with fewer decimals, or change less often (every: 0.5)",
                line: 8)
        ) { try plan(t, PlanInputs(images: threeImages, fields: ["price": "$999.99"], duration: 5)) }
        // Whole dollars make 1000 values, but only one a frame for 4 s: still too many; every 0.1 s makes 41.
        let slower = try template(
            "  - type: text\n    counter: { from: 0, to: \"{{price}}\", duration: 4 }\n    every: 0.1\n    width: 1000\n    height: 260",
            fields: "fields:\n  price: { required: true }\n")
        #expect(texts(try plan(slower, PlanInputs(images: threeImages, fields: ["price": "$999.99"], duration: 5))).count == 41)
    }

    @Test func perStepAnimationsRunAgainOnEveryStep() throws {
        let t = try template("  - type: text\n    steps: [a, b]\n    every: 1\n    per_step: true\n    animate: [pop]")
        let p = try plan(t, PlanInputs(images: threeImages, duration: 3))
        let b = try #require(p.layers.first { if case .text(let x) = $0.content { x.text == "b" } else { false } })
        #expect(b.animation.map(\.span) == [FrameSpan(30, 90)], "b pops in when it first shows, at 1 s")
        let once = try plan(
            try template("  - type: text\n    steps: [a, b]\n    every: 1\n    animate: [pop]"), PlanInputs(images: threeImages, duration: 3))
        #expect(once.layers.filter { $0.templateIndex == 1 }.allSatisfy { $0.animation.map(\.span) == [FrameSpan(0, 90)] })
    }

    @Test func staggeredCellsEnterAndCutOneAfterAnother() throws {
        let t = try template(
            "  - type: media\n    layout: grid\n    stagger: 0.3\n    ken_burns: false\n    transition: { type: crossfade, duration: 0.2 }\n    animate: [{ preset: slide_in, from: left }]"
        )
        let p = try plan(t, PlanInputs(images: ["/a.png", "/b.png", "/c.png", "/d.png", "/e.png"], duration: 5))
        let cells = p.layers.compactMap { l -> (LayerPlan, MediaPlan)? in if case .media(let m) = l.content { (l, m) } else { nil } }
        #expect(cells.count == 4)
        #expect(cells.map { $0.0.visible } == [0, 9, 18, 27].map { [FrameSpan($0, 150)] }, "cell i shows from 0.3·i s")
        // Each cell's cut (2 s, 4 s) comes its delay later, and it shows the picture of its place in the grid.
        #expect(cells[2].1.shots.map(\.startFrame) == [18, 78, 138])
        #expect(cells[2].1.shots.map(\.images) == [[2], [1], [0]])
        #expect(cells[2].1.transitions.map(\.frames) == [FrameSpan(75, 81), FrameSpan(135, 141)])
        // The boxes tile the layer's grid; each slides in from off the canvas on its own.
        let window = Rect(x: 0, y: 0, width: 1080, height: 1920)
        #expect(
            cells.map(\.0.box) == [
                Rect(x: 0, y: 0, width: 540, height: 960), Rect(x: 540, y: 0, width: 540, height: 960),
                Rect(x: 0, y: 960, width: 540, height: 960), Rect(x: 540, y: 960, width: 540, height: 960),
            ])
        #expect(cells.allSatisfy { $0.1.window == $0.0.box && $0.1.cells.count == 1 })
        #expect(cells[3].0.animation.first?.span == FrameSpan(27, 150))
        #expect(cells[3].0.animation.first?.keys.first?.value == -Double(window.width), "cell 4 starts one canvas width to the left")
        #expect(cells[3].0.animation.first?.keys.first?.time == 0.9)
        #expect(p.notes.contains { $0.contains("cells shown 0.00, 0.30, 0.60, 0.90 s after") })
    }

    @Test func aCellsOwnDelayOverridesTheStagger() throws {
        let t = try template("  - type: media\n    layout: side_by_side\n    cells: [{}, { delay: 1.5 }]")
        let p = try plan(t, PlanInputs(images: threeImages, duration: 3))
        #expect(p.layers.filter { $0.kind == "media" }.map(\.visible) == [[FrameSpan(0, 90)], [FrameSpan(45, 90)]])
    }

    /// Field values in steps and counters become pixels: neither the plan's graph nor the exported FFmpeg graph holds
    /// them, whatever they contain.
    @Test func changingTextNeverEntersAGraphString() throws {
        let t = try template(
            "  - type: text\n    steps: [\"{{word}}\", b]\n    every: 1\n  - type: text\n    counter: { from: 0, to: \"{{price}}\", duration: 1 }\n"
                + "    width: 1000\n    height: 260",
            fields: "fields:\n  word: {}\n  price: {}\n")
        let hostile = "';[out]drawtext=text=x,SPLIT:1"
        let p = try plan(t, PlanInputs(images: threeImages, fields: ["word": hostile, "price": "$9 '];[x]"], duration: 3))
        #expect(texts(p).contains { $0.0 == hostile } && texts(p).contains { $0.0 == "$9 '];[x]" })
        for script in [p.ffmpegGraph().script, p.filterGraph.description] {
            #expect(!script.contains("SPLIT") && !script.contains("'];[x]"))
        }
    }

    /// docs/templates.md's complete example is a template that lints and plans as the text around it says.
    @Test func theDocsCompleteExamplePlansAsDescribed() throws {
        let doc = try String(
            contentsOf: Fixtures.specsDirectory.deletingLastPathComponent().appendingPathComponent("docs/templates.md"), encoding: .utf8)
        let section = try #require(doc.components(separatedBy: "## A complete example").last)
        let yaml = try #require(section.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        let t = try TemplateParser.parse(yaml: yaml, file: "templates.md")
        let p = try plan(t, PlanInputs(images: threeImages, fields: ["price": "$19.99", "old_price": "$39.99"], duration: 12))
        let texts = texts(p)
        #expect(Set(texts.filter { ["FLASH", "SALE", "TODAY"].contains($0.0) }.map(\.0)).count == 3)
        #expect(texts.contains { $0.0 == "$19.99" } && texts.contains { $0.0 == "ends in 0:10" } && texts.contains { $0.0 == "ends in 0:00" })
        #expect(p.layers.filter { $0.kind == "media" }.map { $0.visible.first?.start } == [0, 9], "the second card 0.3 s after the first")
    }
}

extension LayerPlan {
    var kind: String { content.kind }
}
