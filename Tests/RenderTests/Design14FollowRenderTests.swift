import FilterGraphBackend
import Foundation
import Planner
import RasterImage
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// design14's `follow: card` drawn: mid-slide and mid-pop, a white label in a card sits where it would on the card,
/// measured by colour against the card's own picture in the same frame (not by the transform code); without `follow`
/// it does not; and the three engines draw the same frames.
@Suite(.serialized, .ownThreads) struct Design14FollowRenderTests {
    let motion = DesignerMotionTests()
    static let green = TimedContentTests.colours[1]
    static let white = RGBA(r: 255, g: 255, b: 255)

    /// Two cards on black, 460x900 from (60, 400) and (560, 400), the second entering 0.2 s after the first with
    /// `animate`; a white 200x100 label in card 2, 130 px from its left and 720 px from its top.
    static func cards(_ name: String, animate: String, follow: Bool) throws -> String {
        try DesignerMotionTests.template(
            name,
            twoCards(name, background: "#000000", animate: animate)
                + """
                  - type: shape
                    cell: 2
                    x: center
                    y: "80%"
                    width: 200
                    height: 100
                    fill: "#FFFFFF"
                \(follow ? "    follow: card" : "")
                """)
    }

    /// A template `name` on `background` with the two cards (more keys of the media layer in `more`), to which layers
    /// are added.
    static func twoCards(_ name: String, background: String, animate: String, more: String = "") -> String {
        """
        name: \(name)
        layers:
          - type: color
            color: "\(background)"
          - type: media
            grid: { columns: 2, rows: 1 }
            gap: 40
            x: 60
            y: 400
            width: 960
            height: 900
            ken_burns: false
            stagger: 0.2
            animate: \(animate)
        \(more.isEmpty ? "" : more + "\n")
        """
    }

    /// The bounding box (x0, y0, x1, y1) of the pixels within 40 of `colour` in `image`'s right half (card 2's side).
    static func box(_ image: RGBAImage, _ colour: RGBA) -> (Double, Double, Double, Double)? {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
        for y in 0..<image.height {
            for x in image.width / 2..<image.width where close(image[x, y], colour, 40) {
                x0 = min(x0, x); y0 = min(y0, y); x1 = max(x1, x); y1 = max(y1, y)
            }
        }
        return x1 < 0 ? nil : (Double(x0), Double(y0), Double(x1 + 1), Double(y1 + 1))
    }

    /// Whether the label lies on the card as drawn: the card's picture measured (its scale is its width over 460),
    /// the label where 130 x 720 px into it, 200 x 100 px, would be at that scale; within 3 px.
    static func onCard(_ image: RGBAImage) -> (Bool, String) {
        guard let card = box(image, green), let label = box(image, white) else { return (false, "no card or no label") }
        let s = (card.2 - card.0) / 460
        let want = (card.0 + 130 * s, card.1 + 720 * s, card.0 + 330 * s, card.1 + 820 * s)
        let ok = [abs(label.0 - want.0), abs(label.1 - want.1), abs(label.2 - want.2), abs(label.3 - want.3)].allSatisfy { $0 <= 3 }
        return (ok, "card \(card), scale \(s): label \(label), on the card it would be \(want)")
    }

    /// Mid-slide (card 2 half way up its 300 px) and mid-pop (a quarter into it): the label is where it would be on
    /// the card.
    @Test func aLabelThatFollowsItsCardSitsOnItMidSlideAndMidPop() throws {
        for (name, animate, t) in [
            ("follow-slide", "[{ preset: slide_in, from: bottom, distance: 300, duration: 1, easing: linear }]", 0.7),
            ("follow-pop", "[{ preset: pop, duration: 1 }]", 0.45),
        ] {
            let image = try motion.still(try Self.cards(name, animate: animate, follow: true), at: t, keep: name)
            let (ok, what) = Self.onCard(image)
            #expect(ok, "\(name) at \(t) s: \(what)")
            // The card really is moving: mid-slide 150 px below its place, mid-pop smaller than its 460 px.
            let card = try #require(Self.box(image, Self.green))
            #expect(name == "follow-slide" ? card.1 == 550 : card.2 - card.0 < 440, "\(name): card \(card)")
        }
    }

    /// The contrast: the same frames without `follow` leave the label at the card's resting place, off the moving card.
    @Test func withoutFollowTheLabelStaysBehind() throws {
        for (name, animate, t) in [
            ("still-slide", "[{ preset: slide_in, from: bottom, distance: 300, duration: 1, easing: linear }]", 0.7),
            ("still-pop", "[{ preset: pop, duration: 1 }]", 0.45),
        ] {
            let image = try motion.still(try Self.cards(name, animate: animate, follow: false), at: t, keep: name)
            let (ok, what) = Self.onCard(image)
            #expect(!ok, "\(name) at \(t) s: \(what)")
        }
    }

    /// The fast engine, the libavfilter engine and the exported `run.sh` draw the same frames of cards that slide
    /// and pop twice, with a price (text, fading in on its own) and a badge that follow card 2, in eco.
    @Test func enginesAgreeOnLayersThatFollowTheirCards() throws {
        let path = try DesignerMotionTests.template(
            "design14-eq",
            Self.twoCards(
                "design14-eq", background: "#F2F2F2",
                animate: "[{ preset: slide_in, from: bottom, distance: 300, duration: 0.6 }, { preset: pop, duration: 0.5, repeat: 2 }]",
                more: "    cell_radius: 24\n    transition: { type: slide_left, duration: 0.4 }")
                    + """
                      - type: text
                        cell: 2
                        follow: card
                        y: "75%"
                        height: "25%"
                        size: 70
                        text: "9,99 €"
                        background: { color: "#111111CC", padding: 8 }
                        animate: [fade_in]
                      - type: shape
                        cell: 1
                        follow: card
                        shape: ellipse
                        x: 20
                        y: 20
                        width: 120
                        height: 120
                        fill: "#E63946"
                    """)
        let (plan, fast, lav) = try EngineEquivalenceTests.shortEcoPlan(path, "design14-eq")
        #expect(plan.layers.filter { $0.animation.contains(where: \.onCard) }.count == 2)
        let cli = try EngineEquivalenceTests.renderThree(
            plan, fast: fast, lavfi: lav, export: DesignerMotionTests.dir.appendingPathComponent("design14-eq-export").path)
        try EngineEquivalenceTests.expectAgreement(fast, [lav, cli], plan: plan, frames: Array(stride(from: 0, to: 90, by: 3)))
    }
}
