import FilterGraphBackend
import Foundation
import Planner
import RasterImage
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// Type-on text, repeating keyframes and a scale along one side, checked by their pixels: a typed prefix is the
/// same picture as that prefix drawn on its own (Arabic shaped as typed so far), a bar grows along its length and
/// not its thickness, a repeat shows the same frame a period later; and the three engines draw the same frames.
@Suite(.serialized, .ownThreads) struct DesignerMotionTests {
    static let dir: URL = try! Fixtures.temporaryDirectory("rendc-design12b")
    /// Where the stills these tests compare are written, to be looked at.
    static let stills = dir.appendingPathComponent("stills")

    static func template(_ name: String, _ yaml: String) throws -> String {
        let path = dir.appendingPathComponent("\(name).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func still(_ template: String, duration: Double = 4, at t: Double, keep name: String? = nil) throws -> RGBAImage {
        let image = try RenderFixture.pipeline.still(
            RenderRequest(template: template, images: try TimedContentTests.pictures, text: nil, duration: duration, output: "x.mp4"), at: t
        ).0
        if let name {
            try FileManager.default.createDirectory(at: Self.stills, withIntermediateDirectories: true)
            try ImageFile.writePNG(image, to: Self.stills.appendingPathComponent("\(name).png").path)
        }
        return image
    }

    /// A text layer of one look, with `body` for its text keys.
    static func text(_ name: String, _ body: String, width: Int = 920, size: Int = 140) throws -> String {
        try template(
            name,
            """
            name: \(name)
            layers:
              - type: color
                color: "#202020"
              - type: text
                x: 80
                y: 700
                width: \(width)
                height: 240
                size: \(size)
                stroke: false
            \(body)
            """)
    }

    func differing(_ a: RGBAImage, _ b: RGBAImage) -> Int { differingPixels(a, b) }

    @Test func aTypedFrameIsThePrefixDrawnOnItsOwn() throws {
        let typing = try Self.text(
            "typing", "    align: left\n    text: NEW ARRIVAL\n    type_on: { per_char: 0.1, cursor: \"|\", blink: 0.4, blinks: 1 }", size: 110)
        // A character every 3 frames: frame 16 shows five characters and the cursor.
        let typed = try still(typing, at: 16.0 / 30, keep: "typing-16"),
            prefix = try still(try Self.text("prefix", "    align: left\n    text: NEW A|", size: 110), at: 0)
        #expect(differing(typed, prefix) == 0, "frame 16 shows \"NEW A|\"")
        let next = try still(try Self.text("prefix2", "    align: left\n    text: NEW AR|", size: 110), at: 0)
        #expect(differing(typed, next) > 50, "and not one more character")
        // Typed by 1.1 s; the cursor shows for 0.2 s, hides for 0.2 s, then is gone: at 1.4 s and 3 s the bare text.
        let bare = try still(try Self.text("bare", "    align: left\n    text: NEW ARRIVAL", size: 110), at: 0)
        let cursor = try still(try Self.text("cursor", "    align: left\n    text: NEW ARRIVAL|", size: 110), at: 0)
        #expect(differing(try still(typing, at: 1.2), cursor) == 0)
        #expect(differing(try still(typing, at: 1.4, keep: "typing-1.4"), bare) == 0)
        #expect(differing(try still(typing, at: 3), bare) == 0)
        #expect(differing(bare, cursor) > 20)
    }

    /// A typed text in a box it fills is drawn at the size its whole text and cursor fit at, so it does not grow
    /// when the cursor blinks off or shrink as it types (design12b saw "NEW ARRIVAL" jump in size with the cursor).
    @Test func aTypedTextKeepsOneSizeWhileTypingAndBlinking() throws {
        let typing = try Self.text(
            "typing-tight", "    align: left\n    text: NEW ARRIVAL\n    type_on: { per_char: 0.1, cursor: \"|\", blink: 0.4, blinks: 1 }", width: 760
        )
        // The letters "NEW" (the box's left part) look the same while typing, with the cursor, and with it off.
        func left(_ image: RGBAImage) -> RGBAImage {
            var out = RGBAImage(width: 320, height: 240)
            for y in 0..<240 { for x in 0..<320 { out[x, y] = image[80 + x, 700 + y] } }
            return out
        }
        let typingNow = left(try still(typing, at: 0.5, keep: "tight-typing")), cursorOn = left(try still(typing, at: 1.2, keep: "tight-on"))
        let cursorOff = left(try still(typing, at: 1.4, keep: "tight-off"))
        #expect(differing(typingNow, cursorOn) == 0 && differing(cursorOn, cursorOff) == 0)
        // The box is tight: the whole text alone fits larger than with its cursor, so one size was imposed.
        let bare = left(try still(try Self.text("tight-bare", "    align: left\n    text: NEW ARRIVAL", width: 760), at: 0))
        #expect(differing(bare, cursorOff) > 20)
    }

    /// Arabic typed so far is shaped as a word of its own: its last letter takes its final form, as on a keyboard,
    /// and joins the next one when that comes.
    @Test func typedArabicIsShapedAsTheWordTypedSoFar() throws {
        let font = "    font: { family: \"Noto Sans Arabic\", weight: bold }\n    align: right\n"
        let typing = try Self.text("typing-ar", font + "    text: \"عيد مبارك\"\n    type_on: { per_char: 0.1 }")
        // Frame 7: two characters, "عي".
        let typed = try still(typing, at: 7.0 / 30, keep: "typing-ar-7")
        let two = try still(try Self.text("ar-2", font + "    text: \"عي\""), at: 0, keep: "ar-2")
        #expect(differing(typed, two) == 0, "frame 7 shows \"عي\" shaped on its own")
        // The whole word's first two letters are not that picture: "ي" joins "د" in the word, and ends it when typed alone.
        let whole = try still(try Self.text("ar-all", font + "    text: \"عيد\""), at: 0, keep: "ar-3")
        #expect(differing(typed, whole) > 20)
        #expect(differing(try still(typing, at: 10.0 / 30), whole) == 0)
    }

    /// A bar grows in length from its left end (the pivot) and keeps its thickness.
    @Test func scaleXGrowsABarInLengthNotThickness() throws {
        let bar = try Self.template(
            "bar",
            """
            name: bar
            layers:
              - type: color
                color: "#000000"
              - type: shape
                x: 100
                y: 900
                width: 800
                height: 40
                fill: "#FFFFFF"
                pivot: { x: 100, y: 920 }
                animate:
                  - keyframes: [{ t: 0, scale_x: 0 }, { t: 1, scale_x: 1 }]
            """)
        let half = try still(bar, at: 0.5, keep: "bar-0.5")
        let white = RGBA(r: 255, g: 255, b: 255), black = RGBA(r: 0, g: 0, b: 0)
        // Half its length, from x 100 to 500; all of its 40 px thickness.
        #expect(close(half[110, 920], white, 12) && close(half[490, 920], white, 12))
        #expect(close(half[520, 920], black, 12) && close(half[90, 920], black, 12))
        #expect(close(half[300, 902], white, 12) && close(half[300, 937], white, 12))
        #expect(close(half[300, 896], black, 12) && close(half[300, 944], black, 12))
        let full = try still(bar, at: 1.5)
        #expect(close(full[890, 920], white, 12))
    }

    /// A swing repeated forever, yoyo: a frame one whole swing (there and back) later is the same frame; a frame
    /// in the way back mirrors the one in the way there.
    @Test func aRepeatShowsTheSameFrameAPeriodLater() throws {
        let swing = try Self.template(
            "swing",
            """
            name: swing
            layers:
              - type: color
                color: "#000000"
              - type: shape
                x: 440
                y: 700
                width: 200
                height: 500
                fill: "#FFD60A"
                pivot: { x: 540, y: 500 }
                animate:
                  - keyframes: [{ t: 0, rotation: -20 }, { t: 1, rotation: 20, easing: ease_in_out }]
                    repeat: forever
                    yoyo: true
            """)
        let a = try still(swing, duration: 8, at: 0.3, keep: "swing-0.3")
        #expect(differing(a, try still(swing, duration: 8, at: 6.3, keep: "swing-6.3")) == 0, "three swings later")
        #expect(differing(a, try still(swing, duration: 8, at: 1.7)) == 0, "on the way back")
        #expect(differing(a, try still(swing, duration: 8, at: 0.7)) > 100, "and elsewhere in the swing it has moved")
    }

    /// The fast engine, the libavfilter engine and the exported `run.sh` draw the same frames of a video with
    /// typing text, a swing repeated forever, a bar growing along its length and pictures squeezed in height and
    /// swaying four times (the export evaluates that repeat in its own expressions).
    @Test func enginesAgreeOnTypingRepeatsAndOneSidedScales() throws {
        let path = try Self.template(
            "motion-eq",
            """
            name: motion-eq
            timing: { cut: { mode: interval, fallback_interval: 1.5 } }
            layers:
              - type: color
                color: "#F2F2F2"
              - type: media
                layout: single
                x: 140
                y: 500
                width: 800
                height: 900
                ken_burns: false
                animate:
                  - keyframes: [{ t: 0, scale_y: 0.2 }, { t: 0.8, scale_y: 1, easing: ease_out }]
                  - keyframes: [{ t: 0.2, x: -30 }, { t: 0.6, x: 30, easing: ease_in_out }]
                    repeat: 4
                    yoyo: true
              - type: text
                x: 80
                y: 100
                width: 920
                height: 200
                size: 120
                color: "#111111"
                stroke: false
                align: left
                text: "NEW ✨ وصل"
                type_on: { per_char: 0.15, cursor: "|", blink: 0.5 }
              - type: shape
                x: 80
                y: 320
                width: 600
                height: 16
                fill: "#E63946"
                pivot: { x: 80, y: 328 }
                animate:
                  - keyframes: [{ t: 0.5, scale_x: 0 }, { t: 1.2, scale_x: 1, easing: ease_out }]
              - type: text
                text: "🌙"
                x: 800
                y: 1500
                width: 200
                height: 200
                size: 150
                stroke: false
                pivot: { x: 900, y: 1300 }
                animate:
                  - keyframes: [{ t: 0, rotation: -12 }, { t: 0.7, rotation: 12, easing: ease_in_out }]
                    repeat: forever
                    yoyo: true
            """)
        let (plan, fast, lav) = try EngineEquivalenceTests.shortEcoPlan(path, "motion-eq")
        #expect(
            plan.layers.filter { $0.content.kind == "text" }.count == 1 + 9 + 1 + 1,
            "the cursor alone, 9 prefixes with it, the whole text without it; the moon")
        let cli = try EngineEquivalenceTests.renderThree(
            plan, fast: fast, lavfi: lav, export: Self.dir.appendingPathComponent("motion-eq-export").path)
        // Every frame of the second and third swing, where only the repeat moves the moon, and of the squeeze.
        try EngineEquivalenceTests.expectAgreement(fast, [lav, cli], plan: plan, frames: Array(stride(from: 0, to: 90, by: 3)))
    }
}
