import FilterGraphBackend
import Foundation
import Planner
import RasterImage
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// design13 drawn: text set from its own start or end and a short slide, checked by their pixels against the same
/// picture written another way (grids, cards and the three engines: Design13GridRenderTests).
@Suite(.serialized, .ownThreads) struct Design13RenderTests {
    let motion = DesignerMotionTests()

    /// `text` on the one look DesignerMotionTests uses, aligned by `align`.
    func aligned(_ name: String, _ text: String, _ align: String) throws -> RGBAImage {
        try motion.still(try DesignerMotionTests.text(name, "    align: \(align)\n    text: \"\(text)\"", size: 110), at: 0, keep: name)
    }

    /// `align: start` is left for a Latin text and right for an Arabic one (and `end` the other way), the same
    /// pixels as writing that side; a mixed text sets each paragraph from its own start.
    @Test func startAndEndFollowTheTextsDirection() throws {
        let latinLeft = try aligned("latin-left", "Sale", "left"), latinRight = try aligned("latin-right", "Sale", "right")
        #expect(motion.differing(latinLeft, latinRight) > 50, "left and right differ")
        #expect(motion.differing(try aligned("latin-start", "Sale", "start"), latinLeft) == 0)
        #expect(motion.differing(try aligned("latin-end", "Sale", "end"), latinRight) == 0)
        let arabicLeft = try aligned("arabic-left", "تخفيضات", "left"), arabicRight = try aligned("arabic-right", "تخفيضات", "right")
        #expect(motion.differing(arabicLeft, arabicRight) > 50)
        #expect(motion.differing(try aligned("arabic-start", "تخفيضات", "start"), arabicRight) == 0)
        #expect(motion.differing(try aligned("arabic-end", "تخفيضات", "end"), arabicLeft) == 0)
        // Two paragraphs: the Latin one at the left edge, the Hebrew one at the right.
        let mixed = try aligned("mixed-start", "Sale\\nמבצע", "start")
        let columns = { (img: RGBAImage, rows: Range<Int>) -> [Int] in
            (0..<img.width).filter { x in rows.contains { y in img[x, y].r > 128 } }
        }
        let top = columns(mixed, 700..<820), bottom = columns(mixed, 820..<940)
        #expect(top.first.map { $0 < 200 } == true && top.last.map { $0 < 600 } == true, "Sale at the left: \(top.first ?? -1)...\(top.last ?? -1)")
        #expect(
            bottom.last.map { $0 > 900 } == true && bottom.first.map { $0 > 500 } == true,
            "מבצע at the right: \(bottom.first ?? -1)...\(bottom.last ?? -1)")
    }

    /// A slide of 80 px starts with the layer drawn 80 px from its place: the same frame as the layer put there.
    @Test func aShortSlideStartsThatFarFromItsPlace() throws {
        func bar(_ name: String, x: Int, animate: String) throws -> String {
            try DesignerMotionTests.template(
                name,
                """
                name: \(name)
                layers:
                  - type: color
                    color: "#000000"
                  - type: shape
                    x: \(x)
                    y: 600
                    width: 500
                    height: 300
                    fill: "#FFD60A"
                    shadow: { color: "#FFFFFF80", offset_y: 10, blur: 12 }
                \(animate)
                """)
        }
        let sliding = try bar("short-slide", x: 200, animate: "    animate: [{ preset: slide_in, from: left, distance: 80, duration: 0.5 }]")
        let there = try bar("short-slide-there", x: 120, animate: "")
        let home = try bar("short-slide-home", x: 200, animate: "")
        let first = try motion.still(sliding, at: 0, keep: "short-slide-0")
        #expect(motion.differing(first, try motion.still(there, at: 0)) == 0)
        #expect(motion.differing(first, try motion.still(home, at: 0)) > 50)
        #expect(motion.differing(try motion.still(sliding, at: 1, keep: "short-slide-1"), try motion.still(home, at: 0)) == 0)
    }
}
