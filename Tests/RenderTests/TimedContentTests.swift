import FilterGraphBackend
import Foundation
import Planner
import RasterImage
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// Text that changes over time and cells entering one after another, checked by their pixels: the frame before a
/// change shows the old text, the frame after the new one (each compared with the same text drawn on its own), a
/// staggered card is absent before its delay and present after; and the fast engine, the libavfilter engine and
/// the exported `run.sh` draw the same frames.
@Suite(.serialized, .ownThreads) struct TimedContentTests {
    static let dir: URL = try! Fixtures.temporaryDirectory("rendc-timed")

    static func template(_ name: String, _ yaml: String) throws -> String {
        let path = dir.appendingPathComponent("\(name).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func solid(_ name: String, _ c: RGBA) throws -> String {
        let path = dir.appendingPathComponent("\(name).png").path
        if !FileManager.default.fileExists(atPath: path) {
            var img = RGBAImage(width: 320, height: 480)
            for y in 0..<480 { for x in 0..<320 { img[x, y] = c } }
            try ImageFile.writePNG(img, to: path)
        }
        return path
    }

    static let colours = [
        RGBA(r: 230, g: 20, b: 20), RGBA(r: 20, g: 200, b: 40), RGBA(r: 20, g: 40, b: 230), RGBA(r: 240, g: 200, b: 20), RGBA(r: 200, g: 20, b: 200),
    ]
    static var pictures: [String] { get throws { try colours.enumerated().map { try solid("c\($0.offset)", $0.element) } } }

    func still(_ template: String, fields: [String: String] = [:], duration: Double = 4, at t: Double) throws -> RGBAImage {
        try RenderFixture.pipeline.still(
            RenderRequest(template: template, images: try Self.pictures, text: nil, fields: fields, duration: duration, output: "x.mp4"), at: t
        ).0
    }

    /// A text layer of the look every case uses, with `body` for its text keys.
    static func textTemplate(_ name: String, _ body: String, fields: String = "") throws -> String {
        try template(
            name,
            """
            name: \(name)
            \(fields)layers:
              - type: color
                color: "#202020"
              - type: text
                x: center
                y: 700
                width: 900
                height: 400
                size: 200
                stroke: false
            \(body)
            """)
    }

    func differing(_ a: RGBAImage, _ b: RGBAImage) -> Int { differingPixels(a, b) }

    @Test func theFrameBeforeAStepShowsTheOldTextAndTheFrameAfterTheNew() throws {
        let countdown = try Self.textTemplate("countdown", "    steps: [\"3\", \"2\", \"1\", \"GO\"]\n    every: 1")
        let three = try Self.textTemplate("three", "    text: \"3\""), two = try Self.textTemplate("two", "    text: \"2\"")
        let go = try Self.textTemplate("go", "    text: \"GO\"")
        let before = try still(countdown, at: 29.0 / 30), after = try still(countdown, at: 30.0 / 30)
        let ref3 = try still(three, at: 0.5), ref2 = try still(two, at: 0.5)
        #expect(differing(ref3, ref2) > 100, "the two digits look different")
        #expect(differing(before, ref3) == 0, "frame 29 shows \"3\"")
        #expect(differing(after, ref2) == 0, "frame 30 shows \"2\"")
        #expect(differing(try still(countdown, at: 3.9), try still(go, at: 0.5)) == 0, "the last text stays")
    }

    @Test func aCounterStartsAtFromAndEndsOnTheFieldsValue() throws {
        let fields = "fields:\n  price: { required: true }\n"
        let counter = try Self.textTemplate("counter", "    counter: { from: 0, to: \"{{price}}\", duration: 1 }", fields: fields)
        let start = try Self.textTemplate("start", "    text: \"$0.00\""), end = try Self.textTemplate("end", "    text: \"$29.99\"")
        let price = ["price": "$29.99"]
        #expect(differing(try still(counter, fields: price, at: 0), try still(start, at: 0)) == 0)
        #expect(differing(try still(counter, fields: price, at: 0.5), try still(end, at: 0)) > 100, "half way it is not there yet")
        #expect(differing(try still(counter, fields: price, at: 1.0), try still(end, at: 0)) == 0)
        #expect(differing(try still(counter, fields: price, at: 3.5), try still(end, at: 0)) == 0)
    }

    /// A still draws the one text its frame shows, not every text of the counter.
    @Test func aStillDrawsOnlyTheTextItsFrameShows() throws {
        let counter = try Self.textTemplate("counter-still", "    counter: { from: 0, to: 30, duration: 1 }")
        let plan = try RenderFixture.pipeline.plan(
            RenderRequest(template: counter, images: try Self.pictures, text: nil, duration: 2, output: "x.mp4"))
        #expect(plan.layers.filter { $0.content.kind == "text" }.count == 31)
        let one = try RenderFixture.pipeline.texts(for: plan, visibleAt: 15)
        #expect(one.count == 1)
        let shown = try #require(plan.layers.first { $0.isVisible(at: 15) && $0.content.kind == "text" })
        #expect(one.keys.first == shown.index)
        #expect(try RenderFixture.pipeline.texts(for: plan).count == 31)
    }

    /// A 2x2 grid on black, one colour a card (five pictures, so each card changes picture at a cut), cards 0.5 s
    /// apart with a cut every 2 s.
    static func carousel(_ name: String, animate: String = "") throws -> String {
        try template(
            name,
            """
            name: \(name)
            timing: { cut: { mode: interval, fallback_interval: 2 } }
            layers:
              - type: color
                color: "#000000"
              - type: media
                layout: grid
                gap: 40
                x: 60
                y: 240
                width: 960
                height: 1440
                cell_radius: 30
                ken_burns: false
                stagger: 0.5
            \(animate)
            """)
    }

    @Test func theThirdCardIsAbsentBeforeTwoStaggersAndPresentAfter() throws {
        let t = try Self.carousel("carousel")
        // The third card (bottom left) is centred at (60 + 230, 240 + 1080).
        let third = (x: 290, y: 1320), first = (x: 290, y: 600)
        let early = try still(t, at: 0.95), late = try still(t, at: 1.05)
        #expect(close(early[third.x, third.y], RGBA(r: 0, g: 0, b: 0), 8), "at 0.95 s the third card is not there: \(early[third.x, third.y])")
        #expect(close(early[first.x, first.y], Self.colours[0], 12), "the first card is: \(early[first.x, first.y])")
        #expect(close(late[third.x, third.y], Self.colours[2], 12), "at 1.05 s it is: \(late[third.x, third.y])")
        // At the cut (2 s) the first card changes picture at once, the third one second later.
        let afterCut = try still(t, at: 2.5), afterThirdCut = try still(t, at: 3.05)
        #expect(close(afterCut[first.x, first.y], Self.colours[0], 12) == false, "the first card changed at 2 s: \(afterCut[first.x, first.y])")
        #expect(close(afterCut[third.x, third.y], Self.colours[2], 12), "the third still shows its picture at 2.5 s: \(afterCut[third.x, third.y])")
        #expect(!close(afterThirdCut[third.x, third.y], Self.colours[2], 12), "and changes at 3 s: \(afterThirdCut[third.x, third.y])")
    }

    @Test func eachCardFadesInOnItsOwn() throws {
        let t = try Self.carousel("carousel-fade", animate: "    animate: [{ preset: fade_in, duration: 0.4 }]")
        let second = (x: 60 + 480 + 20 + 230, y: 600)
        let midFade = try still(t, at: 0.7)  // the second card's fade runs from 0.5 s to 0.9 s
        let r = Int(midFade[second.x, second.y].g)
        #expect(r > 40 && r < 160, "half faded in: \(midFade[second.x, second.y])")
        #expect(close(try still(t, at: 1.0)[second.x, second.y], Self.colours[1], 12))
    }

    /// The three engines agree, frame by frame, on a short video with a countdown, a counter and a staggered grid
    /// that slides in card by card.
    @Test func enginesAgreeOnChangingTextAndStaggeredCards() throws {
        let path = try Self.template(
            "timed-eq",
            """
            name: timed-eq
            fields:
              price: { default: "$49.90" }
            timing: { cut: { mode: interval, fallback_interval: 1.5 } }
            layers:
              - type: color
                color: "#F2F2F2"
              - type: media
                layout: grid
                gap: 24
                x: 60
                y: 360
                width: 960
                height: 1200
                cell_radius: 28
                ken_burns: false
                stagger: 0.3
                transition: { type: crossfade, duration: 0.3 }
                animate: [{ preset: slide_in, from: right, duration: 0.4 }]
              - type: text
                y: 80
                height: 240
                size: 160
                color: "#111111"
                stroke: false
                steps: ["3", "2", "1", "GO"]
                every: 0.5
                per_step: true
                animate: [pop]
              - type: text
                y: 1600
                height: 240
                size: 140
                color: "#E63946"
                stroke: false
                counter: { from: 0, to: "{{price}}", duration: 1, easing: ease_out }
                every: 0.1
            """)
        let fast = RenderFixture.out("timed-eq-fast.mp4"), lav = RenderFixture.out("timed-eq-lavfi.mp4")
        let pipeline = RenderFixture.pipeline
        var plan = try pipeline.plan(
            RenderRequest(template: path, images: try Self.pictures, audio: RenderFixture.track, text: nil, duration: 3, quality: .eco, output: fast))
        plan.encoder.preset = "ultrafast"
        #expect(plan.layers.filter { $0.content.kind == "media" }.count == 4)
        #expect(plan.layers.filter { $0.content.kind == "text" }.count == 4 + 11, "4 steps and $0.00 ... $49.90 in 11 ticks")
        let cli = try EngineEquivalenceTests.renderThree(
            plan, fast: fast, lavfi: lav, export: Self.dir.appendingPathComponent("timed-eq-export").path)
        // The frames around each change too: the step at 0.5 s, the third card entering at 0.6 s, the counter's last tick.
        try EngineEquivalenceTests.expectAgreement(fast, [lav, cli], plan: plan, frames: [14, 15, 16, 17, 18, 19, 29, 30, 31])
    }
}
