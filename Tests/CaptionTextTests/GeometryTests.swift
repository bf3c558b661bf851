import RasterImage
import SpecLang
import Testing
@testable import CaptionText

@Suite struct GeometryTests {
    @Test(arguments: [(1080, 200), (333, 77), (720, 133), (1, 1), (2000, 40)])
    func imageIsExactlyTheBoxSize(width: Int, height: Int) throws {
        let image = try renderer.render("✨ Test Video", style: Styles.template, width: width, height: height)
        #expect(image.width == width)
        #expect(image.height == height)
        #expect(image.pixels.count == width * height * 4)
    }

    @Test func centeredTextIsCentered() throws {
        let image = try renderer.render("Test Video", style: Styles.plain(), width: 1000, height: 200)
        let b = try #require(image.alphaBounds())
        #expect(abs(b.centerX - 500) <= 4, "ink \(b)")
        #expect(abs(b.centerY - 100) <= 6, "ink \(b)")
        #expect(b.width > 250 && b.width < 400, "60 px 'Test Video' is about 320 px wide, got \(b)")
    }

    @Test func leftAndRightAlignmentHugTheEdges() throws {
        let left = try #require(try renderer.render("Test", style: Styles.plain(align: .left), width: 1000, height: 200).alphaBounds())
        let right = try #require(try renderer.render("Test", style: Styles.plain(align: .right), width: 1000, height: 200).alphaBounds())
        #expect(left.minX <= 8, "left-aligned ink starts at \(left.minX)")
        #expect(right.maxX >= 1000 - 10, "right-aligned ink ends at \(right.maxX)")
        #expect(abs(left.width - right.width) <= 1)
        #expect(abs(left.minY - right.minY) <= 1)
    }

    @Test func verticalAlignment() throws {
        let top = try #require(try renderer.render("Hello", style: Styles.plain(vertical: .top), width: 600, height: 300).alphaBounds())
        let middle = try #require(try renderer.render("Hello", style: Styles.plain(vertical: .middle), width: 600, height: 300).alphaBounds())
        let bottom = try #require(try renderer.render("Hello", style: Styles.plain(vertical: .bottom), width: 600, height: 300).alphaBounds())
        #expect(top.minY < 30, "top: \(top)")
        #expect(bottom.maxY > 270, "bottom: \(bottom)")
        #expect(abs(middle.centerY - 150) <= 8, "middle: \(middle)")
        #expect(top.minY < middle.minY && middle.minY < bottom.minY)
    }

    @Test func strokeOutlinesTheFill() throws {
        var style = Styles.plain(size: 80)
        style.stroke = Stroke(color: .black, width: 4)
        let stroked = try renderer.render("HOI", style: style, width: 800, height: 200)
        let plain = try renderer.render("HOI", style: Styles.plain(size: 80), width: 800, height: 200)
        let sb = try #require(stroked.alphaBounds(threshold: 128)), pb = try #require(plain.alphaBounds(threshold: 128))
        // The outline grows the ink by about the stroke width on every side.
        #expect(sb.width - pb.width >= 6 && sb.width - pb.width <= 10, "stroked \(sb) vs plain \(pb)")
        #expect(sb.height - pb.height >= 6 && sb.height - pb.height <= 10, "stroked \(sb) vs plain \(pb)")
        // White inside, black around: scanning each row, the first opaque pixel is dark, and white follows.
        var rowsChecked = 0
        for y in stride(from: sb.minY + 8, to: sb.maxY - 8, by: 4) {
            guard let first = (0..<800).first(where: { stroked[$0, y].a > 200 }) else { continue }
            #expect(stroked[first, y].r < 60, "row \(y): first opaque pixel \(stroked[first, y]) is not dark")
            let white = (first..<min(800, first + 12)).contains { stroked[$0, y].r > 230 && stroked[$0, y].a > 250 }
            #expect(white, "row \(y): no white fill right after the outline")
            rowsChecked += 1
        }
        #expect(rowsChecked > 5)
        let dark = stroked.count { $0.a > 200 && $0.r < 40 }
        let light = stroked.count { $0.a > 200 && $0.r > 230 }
        #expect(dark > 1000 && light > 1000, "dark \(dark), light \(light)")
    }

    @Test func strokeIsDrawnUnderNeighbouringFill() throws {
        // A thick stroke must not paint over the next glyph's white fill: tightly kerned "AV" keeps white
        // pixels where the letters come close.
        var style = Styles.plain(size: 120)
        style.stroke = Stroke(color: .black, width: 10)
        let image = try renderer.render("AVAV", style: style, width: 800, height: 220)
        let white = image.count { $0.a > 250 && $0.r > 240 }
        var thin = Styles.plain(size: 120)
        thin.stroke = Stroke(color: .black, width: 1)
        let thinWhite = try renderer.render("AVAV", style: thin, width: 800, height: 220).count { $0.a > 250 && $0.r > 240 }
        #expect(Double(white) > Double(thinWhite) * 0.9, "fill lost under a thick stroke: \(white) vs \(thinWhite)")
    }

    @Test func backgroundBoxHasPaddingAndRoundedCorners() throws {
        var style = Styles.plain(size: 50)
        style.background = CaptionBackground(color: Color(r: 0, g: 0, b: 255, a: 255), padding: 20, radius: 24)
        let image = try renderer.render("Box", style: style, width: 600, height: 200)
        let box = try #require(image.alphaBounds(threshold: 128))
        let text = try #require(try renderer.render("Box", style: Styles.plain(size: 50), width: 600, height: 200).alphaBounds(threshold: 128))
        #expect(box.minX <= text.minX - 20 && box.maxX >= text.maxX + 20, "box \(box) around text \(text)")
        #expect(box.minY <= text.minY - 10 && box.maxY >= text.maxY + 10, "box \(box) around text \(text)")
        // Inside the padding: opaque blue. At the very corner: transparent (radius 24).
        let inside = image[box.minX + 5, box.minY + 30]
        #expect(inside.b == 255 && inside.a == 255 && inside.r == 0, "padding pixel \(inside)")
        #expect(image[box.minX, box.minY].a < 40, "corner pixel \(image[box.minX, box.minY]) is not rounded off")
        // Anti-aliased: some corner pixels are partially covered.
        let partial = image.count { $0.a > 20 && $0.a < 235 && $0.b == 255 && $0.r == 0 }
        #expect(partial > 20)
        // The box is vertically centred like the text.
        #expect(abs(box.centerY - 100) <= 6)
    }

    @Test func shadowFallsBelowTheText() throws {
        var style = Styles.plain(size: 60)
        style.shadow = Shadow(color: Color(r: 255, g: 0, b: 0, a: 255), offsetX: 0, offsetY: 8, blur: 2)
        let image = try renderer.render("Shadow", style: style, width: 600, height: 200)
        let plain = try #require(try renderer.render("Shadow", style: Styles.plain(size: 60), width: 600, height: 200).alphaBounds(threshold: 128))
        let shadowed = try #require(image.alphaBounds(threshold: 128))
        #expect(shadowed.maxY >= plain.maxY + 5, "shadow does not extend below: \(shadowed) vs \(plain)")
        let red = image.count { $0.a > 128 && $0.r > 200 && $0.g < 80 }
        #expect(red > 500)
    }

    @Test func fillColourAndAlphaAreHonoured() throws {
        var style = Styles.plain(size: 80)
        style.color = Color(r: 255, g: 128, b: 0, a: 128)
        let image = try renderer.render("IIII", style: style, width: 400, height: 200)
        let core = image.count { $0.a >= 120 && $0.a <= 136 && $0.r == 255 && abs(Int($0.g) - 128) <= 2 && $0.b == 0 }
        #expect(core > 500, "half-transparent orange core pixels: \(core)")
        #expect(image.count { $0.a > 140 } == 0, "nothing may be more opaque than the fill alpha")
    }
}
