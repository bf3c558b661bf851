import FilterGraphBackend
import Foundation
import Planner
import RasterImage
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// design13's grids drawn: a 3x3 grid in reading order, a badge that enters with its card, and the three engines
/// drawing the same frames of a grid with repeated pops, a short slide and a caption set from its start.
@Suite(.serialized, .ownThreads) struct Design13GridRenderTests {
    let motion = DesignerMotionTests()

    /// A 3x3 grid on black: cells of (960 - 60) / 3 = 300 by (1320 - 60) / 3 = 420, 330 and 450 apart from (60, 300);
    /// `more` continues the media layer's keys (and may add layers).
    static func grid(_ name: String, _ more: String) throws -> String {
        try DesignerMotionTests.template(
            name,
            """
            name: \(name)
            layers:
              - type: color
                color: "#000000"
              - type: media
                grid: { columns: 3, rows: 3 }
                gap: 30
                x: 60
                y: 300
                width: 960
                height: 1320
                ken_burns: false
            \(more)
            """)
    }

    /// The grid staggered by 0.2 s (with `timing`, more keys of the media layer) and a white 100x100 badge centred in
    /// card 5, centred at (60 + 330 + 150, 300 + 450 + 210) = (540, 960).
    static func badge(_ name: String, _ timing: String = "") throws -> String {
        try grid(
            name,
            "    stagger: 0.2\n" + timing
                + """
                  - type: shape
                    cell: 5
                    x: center
                    y: center
                    width: 100
                    height: 100
                    fill: "#FFFFFF"
                """)
    }

    /// A 3x3 grid shows nine pictures at once, in reading order, five pictures wrapping round.
    @Test func aThreeByThreeGridShowsNinePicturesInReadingOrder() throws {
        let grid = try Self.grid("grid-3x3", "    cell_radius: 20")
        let image = try motion.still(grid, at: 0.5, keep: "grid-3x3")
        for k in 0..<9 {
            let (x, y) = (60 + 330 * (k % 3) + 150, 300 + 450 * (k / 3) + 210)
            let want = TimedContentTests.colours[k % 5]
            #expect(close(image[x, y], want, 12), "cell \(k + 1) at (\(x), \(y)): \(image[x, y]), not \(want)")
        }
        #expect(close(image[60 + 315, 600], RGBA(r: 0, g: 0, b: 0), 8), "the gap between the first two columns is black")
    }
    /// A badge in card 5 of a staggered 3x3 grid sits at that card's centre and enters with it.
    @Test func aBadgeInACardEntersWithIt() throws {
        let grid = try Self.badge("grid-badge")
        // Card 5 (the middle one) is centred at (60 + 330 + 150, 300 + 450 + 210) and waits 4 x 0.2 s.
        let (x, y) = (540, 960)
        let before = try motion.still(grid, at: 0.7), after = try motion.still(grid, at: 0.9, keep: "grid-badge")
        #expect(close(before[x, y], RGBA(r: 0, g: 0, b: 0), 8), "neither card nor badge at 0.7 s: \(before[x, y])")
        #expect(close(after[x, y], RGBA(r: 255, g: 255, b: 255), 8), "the badge at 0.9 s: \(after[x, y])")
        #expect(close(after[x + 80, y], TimedContentTests.colours[4], 12), "on its card: \(after[x + 80, y])")
    }
    /// review13 finding 3, drawn: with the grid shown from 1 s to 2.5 s, the badge of card 5 waits for it (1.8 s) and
    /// goes with it (before: the badge showed from 0.8 s on black and stayed after the grid).
    @Test func aBadgeInACardKeepsToTheMediaLayersStartAndEnd() throws {
        let grid = try Self.badge("grid-badge-timed", "    start: 1\n    end: 2.5\n")
        let (x, y) = (540, 960)
        let early = try motion.still(grid, at: 0.9), shown = try motion.still(grid, at: 2.0, keep: "grid-badge-timed")
        let late = try motion.still(grid, at: 2.7)
        #expect(close(early[x, y], RGBA(r: 0, g: 0, b: 0), 8), "no badge before its card: \(early[x, y])")
        #expect(close(shown[x, y], RGBA(r: 255, g: 255, b: 255), 8), "the badge at 2.0 s: \(shown[x, y])")
        #expect(close(late[x, y], RGBA(r: 0, g: 0, b: 0), 8), "no badge after the grid: \(late[x, y])")
    }
    /// The fast engine, the libavfilter engine and the exported `run.sh` draw the same frames of a staggered 3x3 grid
    /// whose cards pop twice, a price fading in with the middle card, a bar sliding a fifth of its width back and
    /// forth forever and an Arabic caption set from its start.
    @Test func enginesAgreeOnShortSlidesRepeatsGridsAndStartAlignment() throws {
        let path = try DesignerMotionTests.template(
            "design13-eq",
            """
            name: design13-eq
            timing: { cut: { mode: interval, fallback_interval: 1.5 } }
            layers:
              - type: color
                color: "#F2F2F2"
              - type: media
                grid: { columns: 3, rows: 3 }
                gap: 24
                x: 60
                y: 420
                width: 960
                height: 1200
                cell_radius: 24
                ken_burns: false
                stagger: 0.1
                animate: [{ preset: pop, duration: 0.4, repeat: 2 }]
              - type: shape
                x: 400
                y: 1700
                width: 280
                height: 40
                fill: "#E63946"
                animate: [{ preset: slide_in, from: left, distance: "20%", duration: 0.5, repeat: forever, yoyo: true }]
              - type: text
                x: 80
                y: 120
                width: 920
                height: 220
                size: 120
                color: "#111111"
                stroke: false
                align: start
                text: "وصل حديثا"
              - type: text
                cell: 5
                y: "70%"
                height: "30%"
                size: 60
                text: "9,99 €"
                background: { color: "#111111CC", padding: 8 }
                animate: [fade_in]
            """)
        let (plan, fast, lav) = try EngineEquivalenceTests.shortEcoPlan(path, "design13-eq")
        #expect(plan.layers.filter { $0.content.kind == "media" }.count == 9, "nine cards, each its own layer")
        let cli = try EngineEquivalenceTests.renderThree(
            plan, fast: fast, lavfi: lav, export: DesignerMotionTests.dir.appendingPathComponent("design13-eq-export").path)
        // Every third frame: the cards' second pops start on frames 12 to 36, the bar turns back every 15.
        try EngineEquivalenceTests.expectAgreement(fast, [lav, cli], plan: plan, frames: Array(stride(from: 0, to: 90, by: 3)))
    }
}
