import Foundation
import Planner
import SpecLang
import Testing

/// design13 planned: a slide over a `distance` (pixels, or a percentage of the box along the slide, in output
/// pixels in eco) and entrance presets that repeat by a cycle (grids: Design13GridPlannerTests).
@Suite struct Design13PlannerTests {
    func layers(_ body: String, duration: Double = 4, quality: QualityMode = .normal, images: [String] = []) throws -> [LayerPlan] {
        let t = try TemplateParser.parse(yaml: "name: t\nlayers:\n\(body)")
        return try plan(t, PlanInputs(images: images, duration: duration, quality: quality)).layers
    }
    func shape(_ animate: String, rotation: Int = 0) throws -> LayerPlan {
        try layers(
            "  - type: shape\n    x: 100\n    y: 300\n    width: 400\n    height: 600\n    rotation: \(rotation)\n    start: 1\n    animate: [\(animate)]"
        )[0]
    }

    @Test func aSlideWithADistanceStartsThatFarAway() throws {
        let px = try shape("{ preset: slide_in, from: left, distance: 80, duration: 0.5 }")
        #expect(px.transform(frame: 30, time: 1).dx == -80)
        #expect(px.transform(frame: 45, time: 1.5).dx == 0)
        // A percentage is of the box's size along the slide: 20% of the height from the bottom, 25% of the width
        // from the right; turned or not, the box's own size.
        #expect(try shape("{ preset: slide_in, from: bottom, distance: \"20%\" }").transform(frame: 30, time: 1).dy == 120)
        #expect(try shape("{ preset: slide_in, from: right, distance: \"25%\" }", rotation: 30).transform(frame: 30, time: 1).dx == 100)
        // slide_out moves that far by the layer's end.
        let out = try shape("{ preset: slide_out, to: top, distance: 50, duration: 0.5 }")
        #expect(out.transform(frame: 119, time: 4).dy == -50 && out.transform(frame: 100, time: 3.3).dy == 0)
        // Without a distance: just off the canvas, as before (the box's right edge at 500).
        #expect(try shape("{ preset: slide_in, from: left }").transform(frame: 30, time: 1).dx == -500)
    }

    /// In eco the canvas is drawn smaller: a distance in pixels is of the template's canvas, scaled with it, and
    /// rounded to even pixels as the off-canvas slide is.
    @Test func aDistanceScalesWithTheCanvas() throws {
        let eco = try layers(
            "  - type: shape\n    width: 400\n    height: 600\n    animate: [{ preset: slide_in, from: left, distance: 81 }]", quality: .eco)[0]
        let dx = eco.transform(frame: 0, time: 0).dx
        #expect(dx == -54, "81 px at 720/1080 is 54: \(dx)")
    }

    @Test func aRepeatedPopPlaysAgainEveryDuration() throws {
        let l = try shape("{ preset: pop, duration: 0.5, repeat: 3 }")
        let track = try #require(l.animation.first)
        #expect(track.cycle == AnimationTrack.Cycle(start: 1, period: 0.5, count: 3, yoyo: false))
        #expect(track.source == "pop, repeated 3 times")
        // Nothing at each play's start, the same scale a period later, settled after the third.
        #expect(l.transform(frame: 45, time: 1.5).scale == 0 && l.transform(frame: 60, time: 2).scale == 0)
        let a = l.transform(frame: 34, time: 1.1).scale, b = l.transform(frame: 49, time: 1.6).scale
        #expect(a > 0.1 && abs(a - b) < 1e-9)
        #expect(l.transform(frame: 90, time: 3).scale == 1)
        // Without repeat it pops once.
        let once = try shape("{ preset: pop, duration: 0.5 }")
        #expect(once.animation.first?.cycle == nil && once.transform(frame: 45, time: 1.5).scale == 1)
    }

    @Test func aYoyoFadeBreathesAndAnEvenCountEndsFadedOut() throws {
        let l = try shape("{ preset: fade_in, duration: 0.5, delay: 0.5, repeat: 2, yoyo: true }")
        // In from 1.5 s to 2, out from 2 to 2.5, then held where that play ended.
        #expect(l.transform(frame: 45, time: 1.5).opacity == 0)
        #expect(abs(l.transform(frame: 54, time: 1.8).opacity - 0.6) < 1e-9)
        #expect(abs(l.transform(frame: 66, time: 2.2).opacity - 0.6) < 1e-9)
        #expect(l.transform(frame: 90, time: 3).opacity == 0)
        let forever = try shape("{ preset: slide_in, from: left, distance: 40, duration: 0.5, repeat: forever, yoyo: true }")
        #expect(forever.transform(frame: 90, time: 3).dx == -40 && forever.transform(frame: 105, time: 3.5).dx == 0)
    }

    /// A frame exactly on a play's end is the next play's start, however its time rounds: the cards of a 0.4 s pop
    /// repeated from 0.3 s at 30 fps (frame 21 is 0.7 s) showed whole in the fast engine and not at all in the graph.
    @Test func aFrameOnAPlaysEndStartsTheNextPlay() {
        let c = AnimationTrack.Cycle(start: 0.3, period: 0.4, count: 2, yoyo: false)
        #expect(abs(c.localTime(21.0 / 30) - 0.3) < 1e-9 && abs(c.localTime(0.3 + 0.4) - 0.3) < 1e-9)
        #expect(abs(c.localTime(20.0 / 30) - 20.0 / 30) < 1e-9, "a frame before, still in the first play")
        // After the second play it holds that play's end.
        #expect(c.localTime(33.0 / 30) == 0.7 && c.localTime(2) == 0.7)
        // The exported graph counts plays the same way.
        #expect(c.expression("t", num: { String(format: "%.5f", $0) }).contains("floor((max((t)-0.30000,0)+0.00001)/0.40000)"))
    }
}
