import RasterImage
import SpecLang
import Testing
@testable import CaptionText

@Suite struct EmojiTests {
    /// Opaque pixels' mean saturation and the share of them that are clearly coloured.
    private func colourfulness(_ image: RGBAImage) -> (meanSaturation: Double, colouredShare: Double, opaque: Int) {
        var sum = 0.0, coloured = 0, n = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let p = image[x, y]
                guard p.a > 200 else { continue }
                n += 1
                sum += p.saturation
                if p.saturation > 0.4 { coloured += 1 }
            }
        }
        return (n == 0 ? 0 : sum / Double(n), n == 0 ? 0 : Double(coloured) / Double(n), n)
    }

    @Test func sparklesAreYellowNotABox() throws {
        let image = try renderer.render("✨", style: Styles.plain(size: 100), width: 300, height: 200)
        let c = colourfulness(image)
        #expect(c.opaque > 1500, "emoji drew \(c.opaque) opaque pixels")
        #expect(c.meanSaturation > 0.5, "mean saturation \(c.meanSaturation): grey or white, not a colour emoji")
        // Hue of saturated pixels: the sparkles are yellow/orange (30°...60°).
        var yellow = 0, saturated = 0
        for y in 0..<image.height {
            for x in 0..<image.width where image[x, y].a > 200 && image[x, y].saturation > 0.4 {
                saturated += 1
                if (25...65).contains(image[x, y].hue) { yellow += 1 }
            }
        }
        #expect(Double(yellow) > Double(saturated) * 0.8, "\(yellow) of \(saturated) saturated pixels are yellow")
        // A tofu box would be a hollow rectangle: the emoji's ink is not rectangular.
        let b = try #require(image.alphaBounds(threshold: 200))
        let fill = Double(c.opaque) / Double(b.width * b.height)
        #expect(fill < 0.8 && fill > 0.2, "ink fills \(fill) of its bounding box")
    }

    @Test func emojiIsScaledToTheTextSize() throws {
        let small = try #require(try renderer.render("😀", style: Styles.plain(size: 40), width: 400, height: 300).alphaBounds(threshold: 128))
        let big = try #require(try renderer.render("😀", style: Styles.plain(size: 120), width: 400, height: 300).alphaBounds(threshold: 128))
        // Noto's emoji are about 1.17 em tall; the ratio follows the text size.
        #expect(abs(Double(small.height) - 40 * 1.17) <= 6, "40 px emoji is \(small.height) px tall")
        #expect(abs(Double(big.height) / Double(small.height) - 3) < 0.2, "\(big.height) vs \(small.height)")
    }

    @Test func zwjSequenceIsOneGlyph() throws {
        let style = Styles.plain(size: 80)
        let joined = try #require(try renderer.render("👩\u{200D}💻", style: style, width: 600, height: 200).alphaBounds(threshold: 64))
        let woman = try #require(try renderer.render("👩", style: style, width: 600, height: 200).alphaBounds(threshold: 64))
        let unjoined = try #require(try renderer.render("👩💻", style: style, width: 600, height: 200).alphaBounds(threshold: 64))
        #expect(
            abs(joined.width - woman.width) <= Int(Double(woman.width) * 0.25) + 4,
            "👩‍💻 is \(joined.width) px wide, one emoji is \(woman.width) px")
        #expect(Double(unjoined.width) > Double(joined.width) * 1.7, "two emoji \(unjoined.width) vs ZWJ sequence \(joined.width)")
        let detailed = try renderer.renderDetailed("👩\u{200D}💻", style: style, width: 600, height: 200)
        #expect(detailed.fontFiles.count == 1 && detailed.fontFiles[0].hasSuffix("NotoColorEmoji.ttf"))
    }

    @Test func skinToneAndFlagAreSingleColouredGlyphs() throws {
        let style = Styles.plain(size: 80)
        let one = try #require(try renderer.render("👍", style: style, width: 600, height: 200).alphaBounds(threshold: 64))
        let toned = try renderer.render("👍🏽", style: style, width: 600, height: 200)
        let tb = try #require(toned.alphaBounds(threshold: 64))
        #expect(abs(tb.width - one.width) <= 6, "👍🏽 is \(tb.width) px, 👍 is \(one.width) px")
        // Medium skin tone is brown, not the default yellow: mean hue of opaque pixels is orange-brown with
        // lower value than the yellow default.
        let flag = try renderer.render("🇫🇷", style: style, width: 600, height: 200)
        let fb = try #require(flag.alphaBounds(threshold: 64))
        #expect(fb.width < one.width + 30, "🇫🇷 is \(fb.width) px wide: not two regional-indicator letters")
        let blue = flag.count { $0.a > 200 && $0.b > 120 && $0.r < 80 }
        let red = flag.count { $0.a > 200 && $0.r > 180 && $0.g < 80 && $0.b < 100 }
        let white = flag.count { $0.a > 200 && $0.r > 220 && $0.g > 220 && $0.b > 220 }
        #expect(blue > 300 && red > 300 && white > 300, "flag colours: blue \(blue), red \(red), white \(white)")
    }

    @Test func textPresentationSelectorAvoidsTheEmojiFont() throws {
        let d = try renderer.renderDetailed("#\u{FE0E} 1", style: Styles.plain(), width: 400, height: 200)
        #expect(!d.fontFiles.contains { $0.hasSuffix("NotoColorEmoji.ttf") }, "fonts: \(d.fontFiles)")
        let keycap = try renderer.renderDetailed("1\u{FE0F}\u{20E3}", style: Styles.plain(), width: 400, height: 200)
        #expect(keycap.fontFiles.contains { $0.hasSuffix("NotoColorEmoji.ttf") }, "fonts: \(keycap.fontFiles)")
    }
}

@Suite struct ScriptTests {
    @Test func fallbackFontsCoverEachScript() throws {
        let cases: [(String, String)] = [
            ("مرحبا", "NotoSansArabic-Bold.ttf"), ("שלום", "NotoSansHebrew-Bold.ttf"),
            ("新品上市", "NotoSansCJK-Bold.ttc#2"), ("セール", "NotoSansCJK-Bold.ttc"), ("한국어", "NotoSansCJK-Bold.ttc#1"),
            ("नमस्ते", "NotoSansDevanagari-Bold.ttf"), ("Скидки Καλώς", "NotoSans-Bold.ttf"), ("✨", "NotoColorEmoji.ttf"),
            ("ሰላም", "NotoSansEthiopic-Bold.ttf"), ("ᎣᏏᏲ", "NotoSansCherokee-Bold.ttf"),
        ]
        for (text, font) in cases {
            let d = try renderer.renderDetailed(text, style: Styles.plain(), width: 800, height: 200)
            #expect(d.fontFiles.contains { $0.hasSuffix(font) }, "\(text): drawn with \(d.fontFiles), expected \(font)")
            #expect(!d.image.isFullyTransparent)
        }
    }

    @Test func arabicIsJoinedAndShaped() throws {
        // Joined Arabic is narrower than the same letters in their isolated forms (separated by ZWNJ).
        let style = Styles.plain(size: 60)
        let joined = try #require(try renderer.render("سلسلة", style: style, width: 800, height: 200).alphaBounds())
        let isolated = try #require(try renderer.render("س\u{200C}ل\u{200C}س\u{200C}ل\u{200C}ة", style: style, width: 800, height: 200).alphaBounds())
        #expect(joined.width < isolated.width - 10, "joined \(joined.width) vs isolated \(isolated.width)")
    }

    @Test func combiningMarksStackOnTheirBase() throws {
        let style = Styles.plain(size: 80)
        let composed = try #require(try renderer.render("\u{E9}", style: style, width: 300, height: 200).alphaBounds())
        let decomposed = try #require(try renderer.render("e\u{301}", style: style, width: 300, height: 200).alphaBounds())
        #expect(
            abs(composed.width - decomposed.width) <= 2 && abs(composed.height - decomposed.height) <= 2,
            "é \(composed) vs e+◌́ \(decomposed)")
    }

    @Test func ligaturesAreApplied() throws {
        // Noto Sans has an "fi" ligature: the shaped text differs from f + ZWNJ + i.
        let style = Styles.plain(size: 100, align: .left)
        let lig = try renderer.render("fi", style: style, width: 300, height: 200)
        let noLig = try renderer.render("f\u{200C}i", style: style, width: 300, height: 200)
        #expect(lig.pixels != noLig.pixels)
    }

    /// The right-hand part of `a` (right-aligned) matches the right-hand part of `b` over `width` columns.
    private func rightEdgesMatch(_ a: RGBAImage, _ b: RGBAImage, width: Int) -> Double {
        a.alphaDifference(b, columns: (a.width - width)..<a.width, otherColumns: (b.width - width)..<b.width)
    }

    @Test func rightToLeftParagraphPutsTheFirstWordOnTheRight() throws {
        // RTL paragraph "שלום abc": the Hebrew word comes first, so it is drawn at the right end; "abc" is left.
        let style = Styles.plain(size: 60, align: .right)
        let mixed = try renderer.render("שלום abc", style: style, width: 800, height: 160)
        let hebrew = try renderer.render("שלום", style: style, width: 800, height: 160)
        let abc = try renderer.render("abc", style: style, width: 800, height: 160)
        let hw = try #require(hebrew.alphaBounds()).width + 8
        let sameRight = rightEdgesMatch(mixed, hebrew, width: hw)
        let wrongRight = rightEdgesMatch(mixed, abc, width: hw)
        #expect(sameRight < 6, "right end differs from שלום alone by \(sameRight)")
        #expect(wrongRight > sameRight * 3, "right end looks like abc: \(wrongRight) vs \(sameRight)")
        // Letter order inside the word: ש (the first letter) is the rightmost glyph.
        let shin = try renderer.render("ש", style: style, width: 800, height: 160)
        let mem = try renderer.render("ם", style: style, width: 800, height: 160)
        let sw = try #require(shin.alphaBounds()).width + 4
        #expect(rightEdgesMatch(hebrew, shin, width: sw) < rightEdgesMatch(hebrew, mem, width: sw))
    }

    @Test func leftToRightParagraphKeepsLogicalOrderOfAnRTLWord() throws {
        // LTR paragraph "abc שלום": "abc" on the left, the Hebrew word on the right, itself right-to-left.
        let style = Styles.plain(size: 60, align: .right)
        let mixed = try renderer.render("abc שלום", style: style, width: 800, height: 160)
        let hebrew = try renderer.render("שלום", style: style, width: 800, height: 160)
        let hw = try #require(hebrew.alphaBounds()).width + 8
        #expect(rightEdgesMatch(mixed, hebrew, width: hw) < 6)
    }

    @Test func bidiLevelsFollowUAX9() {
        func levels(_ s: String) -> [UInt8] { Bidi.resolve(Array(s.unicodeScalars)).levels }
        #expect(Bidi.resolve(Array("abc".unicodeScalars)).paragraphLevel == 0)
        #expect(Bidi.resolve(Array("שלום abc".unicodeScalars)).paragraphLevel == 1)
        #expect(Bidi.resolve(Array("123 שלום".unicodeScalars)).paragraphLevel == 1)
        #expect(levels("ab אב") == [0, 0, 0, 1, 1])
        #expect(levels("אב 12") == [1, 1, 1, 2, 2])
        // Arabic-Indic digits after Arabic letters are AN, European digits after Arabic letters become AN (W2).
        #expect(levels("ب 12") == [1, 1, 2, 2])
        // Brackets enclosing LTR text inside RTL text follow the RTL context (N0).
        #expect(levels("א (b) ג") == [1, 1, 1, 2, 1, 1, 1])
        // A separator between numbers joins them (W4): "1.5" in a Hebrew paragraph is one number.
        #expect(levels("א 1.5") == [1, 1, 2, 2, 2])
        #expect(Bidi.visualOrder(levels: [0, 1, 1, 0]) == [0, 2, 1, 3])
        #expect(Bidi.visualOrder(levels: [1, 2, 2, 1]) == [3, 1, 2, 0])
    }
}
