import Foundation
import Planner
import RendcTestSupport
import SpecLang
import Testing

/// design14 planned: a layer that follows its card takes the card's tracks (about the card's pivot), and a grid's
/// gutters are even in eco and normal mode.
@Suite struct Design14PlannerTests {
    /// Two cards side by side in a 960x900 box (shared with Design14bPlannerTests).
    static let twoCards = """
          - type: media
            grid: { columns: 2, rows: 1 }
            gap: 40
            x: 60
            y: 400
            width: 960
            height: 900
            ken_burns: false
        """

    static let grid =
        twoCards + """

                stagger: 0.2
                transition: { type: slide_left, duration: 0.4 }
                animate: [{ preset: slide_in, from: bottom, distance: 300, duration: 0.6 }, { preset: pop, duration: 0.5, repeat: 2 }]
              - type: shape
                cell: 2
                x: center
                y: "80%"
                width: 200
                height: 100
                animate: [fade_in]
            """

    func layers(_ body: String, quality: QualityMode = .normal) throws -> [LayerPlan] {
        try plan(try TemplateParser.parse(yaml: "name: t\nlayers:\n\(body)"), PlanInputs(images: threeImages, duration: 4, quality: quality))
            .layers
    }

    @Test func aLayerThatFollowsItsCardTakesTheCardsTracksAboutItsPivot() throws {
        let plain = try layers(Self.grid)
        let follows = try layers(Self.grid + "\n    follow: card")
        let card = try #require(plain.first { $0.part == "cell 2 of 2" })
        let label = try #require(follows.last), without = try #require(plain.last)
        // Without follow: the label's own fade only, as before.
        #expect(without.animation.map(\.source) == ["fade_in"] && without.cardPivot == nil)
        // With it: its own fade, then the card's slide and repeated pop, marked as the card's, about the card's centre.
        #expect(label.animation.filter { !$0.onCard } == without.animation)
        #expect(label.animation.filter(\.onCard).map(\.source) == card.animation.map { "card's " + $0.source })
        #expect(label.animation.filter(\.onCard).map(\.keys) == card.animation.map(\.keys))
        #expect(label.cardPivot == card.pivot && card.pivot == Point(x: 560 + 230, y: 400 + 450))
        // Nothing else changes: its box, frames and pivot are the plain layer's.
        #expect(label.box == without.box && label.visible == without.visible && label.pivot == without.pivot)
        // The media layer's transitions move pictures inside the card, not the card: the label takes none.
        #expect(!label.animation.contains { $0.source.contains("slide_left") })
    }

    /// On every frame the label's corners land where the card's transform puts them: it is drawn as if on the card.
    @Test func theLabelMovesAsAPointOfItsCard() throws {
        let follows = try layers(Self.grid + "\n    follow: card")
        let card = try #require(follows.first { $0.part == "cell 2 of 2" }), label = try #require(follows.last)
        let b = label.box
        let corners = [(b.x, b.y), (b.x + b.width, b.y), (b.x, b.y + b.height), (b.x + b.width, b.y + b.height)].map { (Double($0.0), Double($0.1)) }
        var moved = 0
        for f in stride(from: 6, to: 60, by: 2) {
            let t = Double(f) / 30, c = card.transform(frame: f, time: t), l = label.transform(frame: f, time: t)
            for (x, y) in corners {
                let want = (card.pivot.x + c.dx + c.scale * (x - card.pivot.x), card.pivot.y + c.dy + c.scale * (y - card.pivot.y))
                let got = (label.pivot.x + l.dx + l.scale * (x - label.pivot.x), label.pivot.y + l.dy + l.scale * (y - label.pivot.y))
                #expect(abs(want.0 - got.0) < 1e-6 && abs(want.1 - got.1) < 1e-6, "frame \(f) corner (\(x), \(y)): \(got), not \(want)")
            }
            #expect(abs(l.opacity - c.opacity * min(1, max(0, (t - 0.2) / 0.4))) < 1e-9, "frame \(f): opacities multiply")
            if c.scale != 1 && c.dy != 0 { moved += 1 }
        }
        #expect(moved > 5, "frames mid-slide and mid-pop were checked")
    }

    /// Without `stagger` the cards are one layer and move as one: the label takes the whole layer's pop, about the
    /// window's centre; per shot, the card's animation (and so the label's ride) runs again after each cut.
    @Test func inALayoutWithoutStaggerTheLabelMovesWithTheWholeLayer() throws {
        let body = Self.grid.replacingOccurrences(of: "    stagger: 0.2\n", with: "    per_shot: true\n") + "\n    follow: card"
        let l = try layers(body)
        let media = try #require(l.first { $0.content.kind == "media" }), label = try #require(l.last)
        #expect(media.part == nil && label.cardPivot == media.pivot && media.pivot == Point(x: 60 + 480, y: 400 + 450))
        #expect(label.animation.filter(\.onCard).map(\.span) == media.animation.map(\.span))
        #expect(Set(media.animation.map(\.span.start)).count == 2, "two shots in 4 s, the animation in each")
    }

    @Test func aFrozenCardCarriesNothing() throws {
        let frozen = try layers(Self.grid + "\n    follow: card", quality: .freeze)
        #expect(frozen.last?.animation.isEmpty == true && frozen.last?.cardPivot == nil)
    }

    /// Every grid from 1x1 to 4x4 in boxes of many sizes, eco and normal: the gutters along an axis differ by at
    /// most 1 px (they are the gap), the cells keep their order and the last one is flush with the box's far edge.
    @Test func gridGuttersAreEven() throws {
        var checked = 0
        for quality in [QualityMode.normal, .eco] {
            for (width, height, gap) in [(960, 1320, 30), (1000, 900, 20), (958, 1203, 24), (1001, 777, 36), (333, 1001, 10)] {
                for columns in 1...4 {
                    for rows in 1...4 {
                        let body =
                            "  - type: media\n    x: 40\n    y: 60\n    width: \(width)\n    height: \(height)\n    gap: \(gap)\n    grid: { columns: \(columns), rows: \(rows) }"
                        let l = try #require(try layers(body, quality: quality).first)
                        guard case .media(let m) = l.content else { Issue.record("not media"); continue }
                        let rects = m.cells.map(\.rect)
                        let xs = rects.prefix(columns).map { ($0.x, $0.x + $0.width) }
                        let ys = stride(from: 0, to: rects.count, by: columns).map { (rects[$0].y, rects[$0].y + rects[$0].height) }
                        for (axis, spans, length) in [("x", xs, m.window.width), ("y", ys, m.window.height)] {
                            let gutters = zip(spans, spans.dropFirst()).map { $1.0 - $0.1 }
                            let what = "\(quality) \(width)x\(height) gap \(gap) grid \(columns)x\(rows) along \(axis): \(spans)"
                            #expect((gutters.max() ?? 0) - (gutters.min() ?? 0) <= 1, "\(what): gutters \(gutters)")
                            let flush = spans.first?.0 == 0 && spans.last?.1 == length
                            #expect(gutters.allSatisfy { $0 >= 0 } && flush, "\(what)")
                            #expect(spans.allSatisfy { $0.0 % 2 == 0 && $0.1 % 2 == 0 }, "\(what): even edges for 4:2:0")
                        }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == 160)
    }

    /// The contrast: the rule before design14 (even cells, `i x (cell + gap)`, the last flush) left the last gutter of a
    /// 3x3 grid 960 wide with a gap of 24, in eco (640, gap 16), 2 px wider than the first; now both are 16.
    @Test func theLastGutterNoLongerTakesTheRounding() throws {
        let (length, k, gap) = (640, 3, 16)
        let side = ((length - (k - 1) * gap) / k) & ~1
        let before = [gap, (length - side) - (side + gap + side)]
        #expect(before == [16, 18])
        let body = "  - type: media\n    x: 60\n    y: 300\n    width: 960\n    height: 1320\n    gap: 24\n    grid: { columns: 3, rows: 3 }"
        guard case .media(let m) = try #require(try layers(body, quality: .eco).first).content else { return }
        let r = m.cells.prefix(3).map(\.rect)
        let gutters: [Int] = [r[1].x - (r[0].x + r[0].width), r[2].x - (r[1].x + r[1].width)]
        #expect(gutters == [16, 16])
        // The 2 px the rounding left go to the middle cell (each edge at its unrounded place, rounded to even).
        #expect(r.map(\.width) == [202, 204, 202])
    }
}
