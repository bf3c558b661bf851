import FilterGraphBackend
import Foundation
import Logging
import Planner
import RasterImage
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// Templates v2 checked by their pixels: what a designer writes is what the frame shows.
@Suite(.serialized, .ownThreads) struct TemplatesV2Tests {
    static let dir: URL = try! Fixtures.temporaryDirectory("rendc-v2")

    /// A solid-colour picture written once.
    static func solid(_ name: String, _ c: RGBA, width: Int = 640, height: Int = 960) throws -> String {
        let path = dir.appendingPathComponent("\(name).png").path
        if !FileManager.default.fileExists(atPath: path) {
            var img = RGBAImage(width: width, height: height)
            for y in 0..<height { for x in 0..<width { img[x, y] = c } }
            try ImageFile.writePNG(img, to: path)
        }
        return path
    }

    static let red = RGBA(r: 230, g: 20, b: 20), blue = RGBA(r: 20, g: 40, b: 230), green = RGBA(r: 20, g: 200, b: 40)

    /// A template written to a file in the test folder (so relative paths and error positions are real).
    static func template(_ name: String, _ yaml: String) throws -> String {
        let path = dir.appendingPathComponent("\(name).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func still(
        _ template: String, images: [String], fields: [String: String] = [:], text: String? = nil, duration: Double = 4, at t: Double,
        quality: QualityMode = .normal
    ) throws -> (RGBAImage, RenderPlan) {
        try RenderFixture.pipeline.still(
            RenderRequest(template: template, images: images, text: text, fields: fields, duration: duration, quality: quality, output: "x.mp4"),
            at: t)
    }

    @Test func midCrossfadeFrameMixesBothPictures() throws {
        let t = try Self.template(
            "fade",
            """
            name: fade
            timing: { cut: { mode: interval, fallback_interval: 2 } }
            layers:
              - type: color
                color: "#000000"
              - type: media
                fit: cover
                ken_burns: false
                transition: { type: crossfade, duration: 1 }
            """)
        let images = [try Self.solid("red", Self.red), try Self.solid("blue", Self.blue)]
        let (before, plan) = try still(t, images: images, at: 1.2)
        let (middle, _) = try still(t, images: images, at: 2.0)
        let (after, _) = try still(t, images: images, at: 2.8)
        #expect(plan.images?.transitions.first?.frames == FrameSpan(45, 75))
        #expect(close(before[540, 960], Self.red, 12), "\(before[540, 960])")
        #expect(close(after[540, 960], Self.blue, 12), "\(after[540, 960])")
        let m = middle[540, 960]
        // Half way: about half of each.
        #expect(abs(Int(m.r) - 125) < 30 && abs(Int(m.b) - 125) < 30, "mid-crossfade pixel is \(m)")
    }

    @Test func splitScreenShowsTwoPicturesAtOnce() throws {
        let images = [try Self.solid("red", Self.red), try Self.solid("green", Self.green)]
        let (img, plan) = try still("split-screen", images: images, at: 0.5)
        let w = try #require(plan.images?.window)
        #expect(plan.images?.cells.count == 2)
        #expect(close(img[w.x + w.width / 4, w.y + w.height / 2], Self.red, 16), "left cell is \(img[w.x + w.width / 4, w.y + w.height / 2])")
        #expect(
            close(img[w.x + 3 * w.width / 4, w.y + w.height / 2], Self.green, 16), "right cell is \(img[w.x + 3 * w.width / 4, w.y + w.height / 2])")
        // The gap between the cells shows the background, not a picture.
        let gap = img[w.x + w.width / 2, w.y + w.height / 2]
        #expect(!close(gap, Self.red, 60) && !close(gap, Self.green, 60), "gap is \(gap)")
    }

    @Test func aLayerStartingAtTwoSecondsIsAbsentBeforeAndPresentAfter() throws {
        let t = try Self.template(
            "late",
            """
            name: late
            layers:
              - type: color
                color: "#000000"
              - type: shape
                shape: rectangle
                x: 340
                y: 760
                width: 400
                height: 400
                fill: "#FFFFFF"
                start: 2
            """)
        let (early, _) = try still(t, images: [], at: 1.9)
        let (late, _) = try still(t, images: [], at: 2.1)
        #expect(early[540, 960].r < 30)
        #expect(late[540, 960].r > 225)
    }

    @Test func aRotatedSquaresCornersLieWhereTheyShould() throws {
        let t = try Self.template(
            "diamond",
            """
            name: diamond
            layers:
              - type: color
                color: "#000000"
              - type: shape
                shape: rectangle
                x: center
                y: center
                width: 400
                height: 400
                fill: "#FFFFFF"
                rotation: 45
            """)
        let (img, _) = try still(t, images: [], at: 0.5)
        let half = 200 * 2.0.squareRoot()  // centre to corner
        // The corners now point up, down, left and right, ~283 px from the centre.
        for (x, y) in [(540, 960 - Int(half) + 12), (540, 960 + Int(half) - 12), (540 - Int(half) + 12, 960), (540 + Int(half) - 12, 960)] {
            #expect(img[x, y].r > 200, "inside a corner (\(x), \(y)): \(img[x, y])")
        }
        for (x, y) in [(540, 960 - Int(half) - 10), (540 + Int(half) + 10, 960)] {
            #expect(img[x, y].r < 40, "past a corner (\(x), \(y)): \(img[x, y])")
        }
        // Where the unrotated square's corners were is now background.
        #expect(img[345, 765].r < 40, "old corner: \(img[345, 765])")
    }

    @Test func changingThePriceChangesTheBadge() throws {
        let images = [try Self.solid("blue", Self.blue)]
        let (a, plan) = try still("price-tag", images: images, fields: ["price": "$10"], at: 3)
        let (b, _) = try still("price-tag", images: images, fields: ["price": "$99.99"], at: 3)
        let badge = try #require(plan.layers.first { if case .shape = $0.content { true } else { false } }?.box)
        var differing = 0
        for y in stride(from: badge.y, to: badge.y + badge.height, by: 2) {
            for x in stride(from: badge.x, to: badge.x + badge.width, by: 2) where !close(a[x, y], b[x, y], 8) { differing += 1 }
        }
        #expect(differing > 200, "only \(differing) badge pixels changed")
        // Away from the badge nothing changed.
        #expect(close(a[300, 1000], b[300, 1000], 2))
    }

    @Test func aRequiredFieldMissingOrAnUnknownFieldIsAnErrorNamingIt() throws {
        let images = [try Self.solid("blue", Self.blue)]
        do {
            _ = try still("price-tag", images: images, at: 1)
            Issue.record("price-tag without a price should fail")
        } catch let e as PipelineError {
            #expect(e.description.contains("fields.price") && e.description.contains("required"), "\(e)")
        }
        do {
            _ = try still("price-tag", images: images, fields: ["price": "$1", "prise": "x"], at: 1)
            Issue.record("an unknown field should fail")
        } catch let e as PipelineError {
            #expect(e.description.contains("fields.prise"), "\(e)")
        }
        do {
            _ = try still("price-tag", images: images, fields: ["price": String(repeating: "9", count: 13)], at: 1)
            Issue.record("a too long field should fail")
        } catch let e as PipelineError {
            #expect(e.description.contains("fields.price") && e.description.contains("12"), "\(e)")
        }
    }

    @Test func yamlOrderDecidesWhatIsOnTop() throws {
        func overlap(_ first: String, _ second: String) throws -> RGBA {
            let t = try Self.template(
                "order-\(first.dropFirst())",
                """
                name: order-\(first.dropFirst().lowercased())
                layers:
                  - type: color
                    color: "#000000"
                  - type: shape
                    x: 200
                    y: 600
                    width: 500
                    height: 500
                    fill: "\(first)"
                  - type: shape
                    x: 400
                    y: 800
                    width: 500
                    height: 500
                    fill: "\(second)"
                """)
            return try still(t, images: [], at: 0.5).0[550, 950]
        }
        #expect(close(try overlap("#FF0000", "#0000FF"), RGBA(r: 0, g: 0, b: 255), 16))
        #expect(close(try overlap("#0000FF", "#FF0000"), RGBA(r: 255, g: 0, b: 0), 16))
    }

    @Test func containWithBlurFillShowsTheBlurredCopyAroundThePicture() throws {
        // A wide red picture in a tall box: above and below it, the blurred (still red) copy, not black.
        let wide = try Self.solid("wide-red", Self.red, width: 1200, height: 600)
        let (img, _) = try still("price-tag", images: [wide], fields: ["price": "$1"], at: 0.3)
        let above = img[540, 300]
        #expect(above.r > 120 && above.g < 80, "the fill above the picture is \(above)")
    }

    @Test func slideInMovesTheCaptionInFromTheLeft() throws {
        let images = [try Self.solid("blue", Self.blue)]
        let text = "████████████"
        let (early, plan) = try still("story", images: images, text: text, at: 0.55)
        let (late, _) = try still("story", images: images, text: text, at: 2)
        let box = try #require(plan.caption?.box)
        func whiteColumns(_ img: RGBAImage) -> [Int] {
            (0..<img.width).filter { x in (box.y..<(box.y + box.height)).contains { y in img[x, y].r > 230 && img[x, y].g > 230 && img[x, y].b > 230 }
            }
        }
        let settled = whiteColumns(late), moving = whiteColumns(early)
        #expect(!settled.isEmpty)
        #expect((moving.max() ?? -1) < (settled.max() ?? 0) - 100, "the caption should still be coming in from the left")
    }

    /// Cards with a drop shadow sliding in from the right, one after the other: on each card's first frame nothing
    /// of it shows, not even its shadow, whose blur reaches 36 px past the card (the slide started with the card's
    /// box just off the canvas, and a line of its shadow showed at the right edge).
    @Test func aSlidingCardShowsNothingOfItselfOrItsShadowOnItsFirstFrame() throws {
        let path = try Self.template(
            "sliding-cards",
            """
            name: sliding-cards
            layers:
              - type: color
                color: "#FFD60A"
              - type: media
                layout: side_by_side
                stagger: 0.5
                gap: 30
                x: center
                y: 360
                width: 980
                height: 900
                cell_radius: 36
                shadow: { color: "#00000050", offset_y: 12, blur: 24 }
                ken_burns: false
                animate: [{ preset: slide_in, from: right, duration: 0.3 }]
            """)
        let images = [try Self.solid("blue", Self.blue), try Self.solid("green", Self.green)]
        // The first card's first frame: only the page.
        let (first, plan) = try still(path, images: images, duration: 2, at: 0)
        let page = first[0, 0]
        #expect(plan.layers.filter { $0.content.kind == "media" }.count == 2)
        let shown = (0..<first.width).filter { x in (0..<first.height).contains { first[x, $0] != page } }
        #expect(shown.isEmpty, "columns \(shown.first ?? 0)...\(shown.last ?? 0) show something of the first card")
        // The second card's first frame (0.5 s): the first card has settled at x 50...525 (its shadow to 561); right of
        // it, only the page.
        let (second, _) = try still(path, images: images, duration: 2, at: 0.5)
        #expect(second[300, 800] != page, "the first card is in place")
        let right = (600..<second.width).filter { x in (0..<second.height).contains { second[x, $0] != page } }
        #expect(right.isEmpty, "columns \(right.first ?? 0)...\(right.last ?? 0) show something of the second card")
    }

    @Test func gridCellsAreRoundedEachOnItsOwnAndSoIsTheStockGraphsMask() throws {
        // A 2x2 grid of 420x580 cards 40 px apart at (100, 200), over a red page.
        let path = try Self.template(
            "rounded-cards",
            """
            name: rounded-cards
            layers:
              - type: color
                color: "#E61414"
              - type: media
                layout: grid
                gap: 40
                x: 100
                y: 200
                width: 880
                height: 1200
                cell_radius: 80
                ken_burns: false
            """)
        let blue = try Self.solid("blue", Self.blue)
        let (img, plan) = try still(path, images: [blue, blue, blue, blue], at: 0.5)
        // Inside the first card's inner (bottom-right) corner and the last card's outer one: the page.
        #expect(close(img[516, 776], Self.red, 16), "\(img[516, 776])")
        #expect(close(img[976, 1396], Self.red, 16), "\(img[976, 1396])")
        // The card's middle and the middle of its edge: the picture; the gap: the page.
        #expect(close(img[310, 490], Self.blue, 16) && close(img[517, 490], Self.blue, 16))
        #expect(close(img[540, 490], Self.red, 16))
        // The stock FFmpeg graph masks the layer with art of the same shape.
        let dir = try Fixtures.temporaryDirectory("rendc-rounded-cards")
        _ = try RenderFixture.pipeline.exportFFmpeg(plan, to: dir.path)
        let mask = try ImageFile.decode(path: dir.appendingPathComponent("media1-mask.png").path)
        #expect(mask[416, 576].a < 30 && mask[210, 290].a == 255 && mask[440, 290].a == 0)
    }

    /// A review found the engines apart on a translucent media layer with a shadow: the fast engine left the shadow
    /// out under the layer (as CSS's box-shadow does), the stock graph's art did not, so through a half-opaque
    /// picture one showed the page and the other a dark shadow. Both now draw one shadow image, empty under the layer.
    @Test func aTranslucentMediaLayersShadowNeverShowsUnderItInEitherEngine() throws {
        let path = try Self.template(
            "translucent-card",
            """
            name: translucent-card
            layers:
              - type: color
                color: "#E61414"
              - type: media
                x: 140
                y: 300
                width: 800
                height: 1000
                radius: 40
                opacity: 0.5
                ken_burns: false
                shadow: { color: "#000000", blur: 30, offset_y: 20 }
            """)
        let (img, plan) = try still(path, images: [try Self.solid("blue", Self.blue)], at: 0.5)
        // The card's middle: half blue over the red page, nothing darker under it.
        let half = RGBA(r: 125, g: 30, b: 125)
        #expect(close(img[540, 800], half, 12), "\(img[540, 800])")
        // Just under the card: the shadow's rim, darker than the page.
        #expect(img[540, 1325].r < Self.red.r - 40, "\(img[540, 1325])")
        // The stock graph's shadow art: clear under the card, dark at the rim.
        let dir = try Fixtures.temporaryDirectory("rendc-translucent-card")
        _ = try RenderFixture.pipeline.exportFFmpeg(plan, to: dir.path)
        let art = try ImageFile.decode(path: dir.appendingPathComponent("media1-shadow.png").path)
        #expect(art[540, 800].a == 0 && art[540, 1325].a > 20, "\(art[540, 800]) \(art[540, 1325])")
    }

    @Test func editorialLinesFadeInOneAfterAnother() throws {
        let images = [try Self.solid("blue", Self.blue)]
        let (early, plan) = try still("editorial", images: images, text: "Autumn", at: 0.1)
        let (middle, _) = try still("editorial", images: images, text: "Autumn", at: 1.5)
        let (late, _) = try still("editorial", images: images, text: "Autumn", at: 3)
        let boxes = plan.layers.compactMap { l -> Rect? in if case .text = l.content { l.box } else { nil } }
        try #require(boxes.count == 3)
        // Pixels of a box darker than the cream page: the ink of its line.
        func ink(_ img: RGBAImage, _ box: Rect) -> Int {
            var n = 0
            for y in box.y..<(box.y + box.height) { for x in box.x..<(box.x + box.width) where img[x, y].r < 200 { n += 1 } }
            return n
        }
        #expect(boxes.allSatisfy { ink(early, $0) == 0 }, "nothing is written at 0.1 s")
        #expect(ink(middle, boxes[0]) > 500 && ink(middle, boxes[2]) == 0, "at 1.5 s the title is in and the house name not yet")
        #expect(boxes.allSatisfy { ink(late, $0) > 200 }, "at 3 s every line is in")
        // The picture fills its fine frame; the page around the frame stays cream.
        let centre = late[540, 760]
        #expect(centre.b > centre.r + 100, "the picture at the frame's centre is \(centre)")
        #expect(close(late[60, 760], RGBA(r: 0xF4, g: 0xEF, b: 0xE6), 4))
    }

    @Test func aPictureFieldShowsTheGivenPicture() throws {
        let images = [try Self.solid("blue", Self.blue)]
        let logo = try Self.solid("green-logo", Self.green, width: 300, height: 300)
        let (img, plan) = try still("story", images: images, fields: ["logo": logo], at: 2)
        let box = try #require(plan.layers.first { if case .image = $0.content { true } else { false } }?.box)
        #expect(close(img[box.x + box.width / 2, box.y + box.height / 2], Self.green, 20))
    }

    @Test func aProductClipPlaysInItsShotInsteadOfFreezing() throws {
        // A 2 s clip whose colour changes every half second: red, green, blue, white.
        let clip = Self.dir.appendingPathComponent("product-clip.mp4").path
        let colours = [Self.red, Self.green, Self.blue, RGBA(r: 240, g: 240, b: 240)]
        try ClipWriter.write(path: clip, width: 320, height: 568, fps: 30, frameCount: 60) { i, img in
            let c = colours[i / 15]
            for y in 0..<img.height { for x in 0..<img.width { img[x, y] = c } }
        }
        let t = try Self.template(
            "clip",
            """
            name: clip
            timing: { cut: { mode: interval, fallback_interval: 5 } }
            layers:
              - type: media
                fit: cover
                ken_burns: false
            """)
        for (time, expected) in [(0.2, Self.red), (0.7, Self.green), (1.2, Self.blue), (2.2, Self.red)] {
            let (img, plan) = try still(t, images: [clip], duration: 4, at: time)
            #expect(plan.images?.inputs.first?.kind == .clip)
            // 2.2 s: the clip is shorter than its shot, so it loops.
            #expect(close(img[540, 960], expected, 24), "at \(time) s the clip shows \(img[540, 960])")
        }
    }

    @Test func aStillPreparedForOneFrameEqualsThatFrameOfTheWholeRender() throws {
        // The still path decodes one overlay frame and one shot's pictures; it must draw exactly what the render does.
        for (template, time) in [("golden-frame", 2.9), ("story", 2.5), ("golden-frame", 9.5)] {
            let request = RenderRequest(template: template, images: RenderFixture.images, text: "Hi", duration: 10, output: "x.mp4")
            let (still, plan) = try RenderFixture.pipeline.still(request, at: time)
            let full = try RenderFixture.pipeline.prepare(plan)
            #expect(try full.still(frame: Int(time * 30)) == still, "\(template) at \(time) s")
        }
    }

    @Test func aTranslucentPictureShowsTheLayersBelowNotStalePixels() throws {
        // A cut-out: transparent except a red square in the middle. Around the square the window must show the
        // background, which the cache would skip if it wrongly assumed the picture covers its window.
        let path = Self.dir.appendingPathComponent("cutout.png").path
        var img = RGBAImage(width: 900, height: 1600)
        for y in 700..<900 { for x in 350..<550 { img[x, y] = Self.red } }
        try ImageFile.writePNG(img, to: path)
        for quality in [QualityMode.normal, .freeze] {
            let (frame, plan) = try still("no-frame", images: [path], duration: 2, at: 1, quality: quality)
            let w = try #require(plan.images?.window)
            let corner = frame[w.x + 40, w.y + 40]
            #expect(Int(corner.r) + Int(corner.g) + Int(corner.b) < 150 && abs(Int(corner.g) - Int(corner.r)) < 40, "\(quality): \(corner)")
            #expect(close(frame[540, 960], Self.red, 40), "\(quality): \(frame[540, 960])")
        }
    }

    @Test func stillPastTheEndIsAnError() {
        #expect(throws: PipelineError.self) {
            _ = try still("golden-frame", images: RenderFixture.images, duration: 2, at: 2.5)
        }
    }

    @Test func everyShippedTemplateRendersAShortVideo() throws {
        for name in ["polaroid", "price-tag", "split-screen", "story", "editorial"] {
            let out = RenderFixture.out("\(name).mp4")
            _ = try RenderFixture.pipeline.render(
                RenderRequest(
                    template: name, images: RenderFixture.images, text: "New in ✨", fields: name == "price-tag" ? ["price": "$29"] : [:],
                    duration: 1.5, quality: .eco, output: out))
            let info = try FFprobe.probe(out)
            #expect(info.video?.width == 720, "\(name)")
            #expect(try FFprobe.frameCount(out) == 45, "\(name)")
        }
    }
}

/// The three seed templates kept their look: stills match ones rendered before templates v2 (downscaled 4x,
/// compared with a tolerance for rounding in the new compositor).
@Suite(.ownThreads) struct SeedTemplatesKeepTheirLook {
    @Test(arguments: ["golden-frame", "silver-frame", "no-frame"])
    func stillMatchesTheV1Golden(_ name: String) throws {
        let golden = try ImageFile.decode(path: Fixtures.packageRoot.appendingPathComponent("Tests/RenderTests/Goldens/\(name)-v1.png").path)
        let (img, _) = try RenderFixture.pipeline.still(
            RenderRequest(template: name, images: RenderFixture.images, text: "✨ Test Video", duration: 4, output: "x.mp4"), at: 1.5)
        let small = downscale(img, by: 4)
        #expect(small.width == golden.width && small.height == golden.height)
        var total = 0, largest = 0
        for i in stride(from: 0, to: small.pixels.count, by: 4) {
            for k in 0..<3 {
                let d = abs(Int(small.pixels[i + k]) - Int(golden.pixels[i + k]))
                total += d
                largest = max(largest, d)
            }
        }
        let mean = Double(total) / Double(small.width * small.height * 3)
        #expect(mean < 1.5, "mean difference \(mean)")
        #expect(largest < 48, "largest channel difference \(largest)")
    }
}

/// Box-average downscale by an integer factor.
func downscale(_ img: RGBAImage, by f: Int) -> RGBAImage {
    let w = img.width / f, h = img.height / f
    var out = RGBAImage(width: w, height: h)
    for y in 0..<h {
        for x in 0..<w {
            var s = [0, 0, 0]
            for dy in 0..<f { for dx in 0..<f { let p = img[x * f + dx, y * f + dy]; s[0] += Int(p.r); s[1] += Int(p.g); s[2] += Int(p.b) } }
            out[x, y] = RGBA(r: UInt8(s[0] / (f * f)), g: UInt8(s[1] / (f * f)), b: UInt8(s[2] / (f * f)))
        }
    }
    return out
}
