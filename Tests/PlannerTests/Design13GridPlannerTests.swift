import Foundation
import Planner
import RendcTestSupport
import SpecLang
import Testing

/// design13's grids planned: up to 4x4 even cells in reading order (2x2 as before), and a layer placed in a card and
/// waiting for it.
@Suite struct Design13GridPlannerTests {
    func layers(_ body: String, images: [String]) throws -> [LayerPlan] {
        try plan(try TemplateParser.parse(yaml: "name: t\nlayers:\n\(body)"), PlanInputs(images: images, duration: 4)).layers
    }
    func media(_ l: LayerPlan) -> MediaPlan? {
        guard case .media(let m) = l.content else { return nil }
        return m
    }

    @Test func aGridOfThreeByTwoHasSixEvenCellsInReadingOrder() throws {
        let m = try #require(
            media(
                try layers(
                    "  - type: media\n    x: 40\n    y: 100\n    width: 1000\n    height: 900\n    gap: 20\n    grid: { columns: 3, rows: 2 }\n    ken_burns: false",
                    images: ["/in/a.jpg", "/in/b.jpg", "/in/c.jpg", "/in/d.jpg"])[0]))
        // (1000 - 2 x 20) / 3 = 320, (900 - 20) / 2 = 440; the last column and row flush with the far edges.
        #expect(
            m.cells.map(\.rect) == [
                Rect(x: 0, y: 0, width: 320, height: 440), Rect(x: 340, y: 0, width: 320, height: 440),
                Rect(x: 680, y: 0, width: 320, height: 440), Rect(x: 0, y: 460, width: 320, height: 440),
                Rect(x: 340, y: 460, width: 320, height: 440), Rect(x: 680, y: 460, width: 320, height: 440),
            ])
        // Six pictures a shot from four: the second shot goes on where the first stopped.
        #expect(m.shots[0].images == [0, 1, 2, 3, 0, 1] && m.shots[1].images == [2, 3, 0, 1, 2, 3])
    }

    @Test func aTwoByTwoGridIsPlannedAsBefore() throws {
        let body = "  - type: media\n    x: 40\n    y: 100\n    width: 1001\n    height: 901\n    gap: 30\n    cell_radius: 20\n"
        let implicit = try layers(body + "    layout: grid", images: threeImages)[0]
        let explicit = try layers(body + "    grid: { columns: 2, rows: 2 }", images: threeImages)[0]
        #expect(implicit == explicit)
        #expect(
            try #require(media(implicit)).cells.map(\.rect) == [
                Rect(x: 0, y: 0, width: 484, height: 434), Rect(x: 516, y: 0, width: 484, height: 434),
                Rect(x: 0, y: 466, width: 484, height: 434), Rect(x: 516, y: 466, width: 484, height: 434),
            ])
    }

    @Test func aStaggeredFourByFourGridPlansSixteenCards() throws {
        let parts = try layers(
            "  - type: media\n    grid: { columns: 4, rows: 4 }\n    stagger: 0.1\n    cells: [{ delay: 0 }]\n    animate: [{ preset: pop, repeat: 2 }]",
            images: threeImages)
        #expect(parts.count == 16)
        #expect(parts.map(\.part) == (1...16).map { "cell \($0) of 16" as String? })
        // The 16th card waits 15 staggers and pops twice from its own start.
        #expect(parts[15].visible.first?.start == 45)
        #expect(parts[15].animation.first?.cycle?.start == 1.5)
    }
    /// A price under each card: the text's box is measured in its card (`y: "100%"` is the card's bottom) and it
    /// shows from the card's delay, so it enters with its card.
    @Test func aLayerInACardIsPlacedInItAndWaitsForIt() throws {
        let l = try layers(
            """
              - type: media
                x: 40
                y: 100
                width: 1000
                height: 900
                gap: 20
                grid: { columns: 3, rows: 2 }
                stagger: 0.2
              - type: text
                text: "$9.99"
                cell: 6
                y: "100%"
                height: 60
                animate: [fade_in]
              - type: shape
                cell: 2
                x: center
                y: center
                width: "50%"
                height: 40
            """, images: threeImages)
        #expect(l.count == 8, "six cards, the price, the badge")
        let price = l[6], badge = l[7]
        // Card 6 is at (40 + 680, 100 + 460), 320 x 440; the price sits under it, as wide.
        #expect(price.box == Rect(x: 720, y: 1000, width: 320, height: 60))
        #expect(price.visible.first?.start == 30, "card 6 waits 5 x 0.2 s")
        #expect(price.animation.first?.keys.first?.time == 1, "and fades in from then")
        // Card 2 at (380, 100): the badge half its width, centred in it.
        #expect(badge.box == Rect(x: 460, y: 300, width: 160, height: 40))
        #expect(badge.visible.first?.start == 6)
    }

    /// review13 finding 3: a card's layer counts from its card's entrance, the media layer's own `start` plus the
    /// card's delay, and shows only while the media layer does (before: from 0.5 s to the video's end).
    @Test func aLayerInACardFollowsTheMediaLayersStartAndEnd() throws {
        let template = try TemplateParser.parse(
            yaml: """
                name: t
                layers:
                  - type: media
                    grid: { columns: 2, rows: 1 }
                    stagger: 0.5
                    start: 3
                    end: 4.5
                  - type: text
                    cell: 2
                    text: "PRICE"
                    y: "78%"
                    height: "22%"
                    animate: [fade_in]
                  - type: text
                    cell: 1
                    text: "NOW"
                    start: 0.5
                    duration: 0.5
                """)
        let l = try plan(template, PlanInputs(images: threeImages, duration: 6)).layers
        #expect(l.count == 4, "two cards, the price, the label")
        // Card 2 enters at 3 + 0.5 s (frame 105) and goes with the media layer at 4.5 s (frame 135).
        #expect(l[1].visible == [FrameSpan(105, 135)])
        #expect(l[2].visible == [FrameSpan(105, 135)], "the price shows with its card only")
        #expect(l[2].animation.first?.keys.first?.time == 3.5, "and fades in as it enters")
        // Card 1 enters at 3 s: the label's start and duration count from then.
        #expect(l[3].visible == [FrameSpan(105, 120)])
    }

    /// review13 finding 4: a gap too large for the box is cut per axis to `(length - 2k) / (k - 1)`, so every cell
    /// stays inside the box, at least 2 px, in reading order, apart (overlapping in order in a box under 2 px a cell;
    /// before: 4 columns in an 8 px box overflowed it, the last left of the third).
    @Test func aLargeGapKeepsEveryCellInItsBoxInReadingOrder() throws {
        for columns in 1...4 {
            for rows in 1...4 {
                for (w, h) in [(2, 6), (4, 2), (6, 7), (8, 8), (10, 14), (30, 9), (100, 40), (1000, 900)] {
                    let l = try layers(
                        "  - type: media\n    x: 100\n    y: 100\n    width: \(w)\n    height: \(h)\n    gap: 2000\n"
                            + "    grid: { columns: \(columns), rows: \(rows) }\n    ken_burns: false",
                        images: threeImages)
                    let m = try #require(media(l[0]))
                    let what = "\(columns)x\(rows) in \(m.window.width)x\(m.window.height)"
                    let cells = m.cells.map(\.rect)
                    #expect(cells.count == columns * rows)
                    for c in cells {
                        #expect(
                            c.x >= 0 && c.y >= 0 && c.width >= 2 && c.height >= 2 && c.x + c.width <= m.window.width
                                && c.y + c.height <= m.window.height, "\(what): \(c) outside the box")
                    }
                    for r in 0..<rows {
                        let xs = (0..<columns).map { cells[r * columns + $0].x }
                        let step = m.window.width >= 2 * columns ? cells[0].width : 0
                        #expect(zip(xs, xs.dropFirst()).allSatisfy { $0 + step <= $1 }, "\(what): columns \(xs)")
                    }
                    for c in 0..<columns {
                        let ys = (0..<rows).map { cells[$0 * columns + c].y }
                        let step = m.window.height >= 2 * rows ? cells[0].height : 0
                        #expect(zip(ys, ys.dropFirst()).allSatisfy { $0 + step <= $1 }, "\(what): rows \(ys)")
                    }
                }
            }
        }
    }
}

extension Design13GridPlannerTests {
    /// docs/templates.md's price per card says the price slides in with its card: its slide starts as far away as the
    /// card's. (With `distance: "15%"` on both, the price, a fifth of the card's height, started 64 px away and the
    /// card 288 px: they parted.) Since design14 the example uses `follow: card`: the price carries the card's own
    /// slide and pop, about the card's pivot.
    @Test func theDocsCardExamplesPriceSlidesAsFarAsItsCard() throws {
        let doc = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("docs/templates.md"), encoding: .utf8)
        let section = try #require(doc.components(separatedBy: "**A layer per card**").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        let yaml = "name: t\n" + block.split(separator: "\n").map { String($0.dropFirst(2)) }.joined(separator: "\n")
        let p = try plan(try TemplateParser.parse(yaml: yaml), PlanInputs(images: threeImages, fields: ["price_1": "$9", "price_2": "$8"]))
        let card = try #require(p.layers.first { $0.kind == "media" }), price = try #require(p.layers.first { $0.kind == "text" })
        let start = { (l: LayerPlan, prefix: String) in l.animation.first { $0.source.hasPrefix(prefix) }?.keys.first?.value }
        #expect(
            start(card, "slide_in") != nil && start(card, "slide_in") == start(price, "card's slide_in"),
            "card \(String(describing: start(card, "slide_in"))), price \(String(describing: start(price, "card's slide_in")))")
        #expect(price.animation.allSatisfy(\.onCard) && price.animation.contains { $0.source == "card's pop" } && price.cardPivot == card.pivot)
    }
}
