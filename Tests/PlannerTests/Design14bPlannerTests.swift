import Foundation
import Planner
import RendcTestSupport
import SpecLang
import Testing

/// design14b (a designer's trial of `follow: card`): a tag hanging off its card's edge slid in ahead of the card.
@Suite struct Design14bPlannerTests {
    /// A 2x1 grid sliding in from the right, with a tag hanging 150 px off the left edge of card 1.
    static func grid(slide: String) -> String {
        Design14PlannerTests.twoCards + """

                stagger: 0.3
                animate: [{ preset: slide_in, from: right, \(slide)duration: 0.8 }]
              - type: shape
                cell: 1
                follow: card
                x: -150
                width: 150
                height: 150
                fill: "#FF0000"
            """
    }

    func layers(_ body: String) throws -> [LayerPlan] {
        try plan(try TemplateParser.parse(yaml: "name: t\nlayers:\n\(body)"), PlanInputs(images: threeImages, duration: 3, quality: .normal))
            .layers
    }

    /// Where the layer's drawing lies at `frame`, moved by its transform (scale is 1 in these slides).
    func drawnX(_ l: LayerPlan, frame: Int) -> ClosedRange<Double> {
        let x = l.transform(frame: frame, time: Double(frame) / 30)
        return (l.drawnBounds.minX + x.dx)...(l.drawnBounds.maxX + x.dx)
    }

    @Test func aTagOffItsCardLeavesTheCanvasWithItsCard() throws {
        let ls = try layers(Self.grid(slide: ""))
        let card = try #require(ls.first { $0.part == "cell 1 of 2" }), tag = try #require(ls.last)
        // On the first frame of the slide both are wholly off the canvas (the tag used to show alone at x 930-1080).
        #expect(drawnX(tag, frame: 0).lowerBound >= 1080)
        #expect(drawnX(card, frame: 0).lowerBound >= 1080)
        // And they move as one: the same offset on every frame of the slide.
        for f in 0..<30 {
            #expect(card.transform(frame: f, time: Double(f) / 30).dx == tag.transform(frame: f, time: Double(f) / 30).dx, "frame \(f)")
        }
        // The slide is lengthened by the tag's reach (150 px off the card, rounded to even), no more.
        let slide = try #require(card.animation.first { $0.source == "slide_in right" })
        #expect(slide.keys.first?.value == Double(1080 - 60 + 150))
    }

    /// The contrast: a slide with its own `distance` is the designer's and keeps it; the tag shows as the card does.
    @Test func aSlideWithADistanceKeepsIt() throws {
        let ls = try layers(Self.grid(slide: "distance: 80, "))
        let card = try #require(ls.first { $0.part == "cell 1 of 2" })
        #expect(card.animation.first { $0.source == "slide_in right" }?.keys.first?.value == 80)
    }

    /// F7: a turned media layer's labels stay upright (documented); the plan now says so where it happens.
    @Test func aTurnedGridsFollowersAreNoted() throws {
        func notes(_ body: String) throws -> [String] {
            try plan(try TemplateParser.parse(yaml: "name: t\nlayers:\n\(body)"), PlanInputs(images: threeImages, duration: 3)).notes
                .filter { $0.contains("follow") }
        }
        let turned = Self.grid(slide: "").replacingOccurrences(of: "    stagger: 0.3", with: "    stagger: 0.3\n    rotation: 8")
        #expect(
            try notes(turned) == [
                "layers[1] (shape): follow: card takes the card's motion, not the media layer's rotation (8 degrees): the layer stays upright where the card would be unturned"
            ])
        #expect(try notes(Self.grid(slide: "")) == [])
    }
}
