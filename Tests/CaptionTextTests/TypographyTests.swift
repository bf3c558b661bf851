import Foundation
import RasterImage
import SpecLang
import Testing
@testable import CaptionText

/// `decoration: strikethrough | underline`: one line in the text's colour across every line of text, through the
/// lowercase letters or just under the baseline, and across the spaces between words.
@Suite struct DecorationTests {
    /// The opaque columns of row `y`.
    func opaqueColumns(_ image: RGBAImage, _ y: Int) -> [Int] { (0..<image.width).filter { image[$0, y].a > 200 } }

    /// The rows where the decorated image has ink the plain one lacks: the decoration's own rows.
    func addedRows(_ decorated: RGBAImage, _ plain: RGBAImage) -> [Int] {
        (0..<plain.height).filter { y in (0..<plain.width).contains { decorated[$0, y].a > 200 && plain[$0, y].a < 30 } }
    }

    @Test func strikethroughCrossesTheLowercaseLettersAndTheGapsBetweenWords() throws {
        var style = Styles.plain(size: 80)
        let plain = try renderer.render("no no", style: style, width: 600, height: 160)
        style.decoration = .strikethrough
        let struck = try renderer.render("no no", style: style, width: 600, height: 160)
        let rows = addedRows(struck, plain)
        #expect(!rows.isEmpty)
        // About 0.06 em thick (4.8 px at 80 px), inside the lowercase letters' band, not below them.
        #expect(rows.count >= 4 && rows.count <= 7, "rows \(rows)")
        let ink = try #require(plain.alphaBounds(threshold: 200))
        let mid = rows[rows.count / 2]
        #expect(mid > ink.minY && mid < ink.maxY, "strike at \(mid), letters \(ink)")
        // One unbroken span from the first letter to the last, across the space.
        let span = opaqueColumns(struck, mid)
        #expect(span.count == (span.last ?? 0) - (span.first ?? 0) + 1, "the strike has gaps")
        // It runs along the characters' advances: from the pen position (the first letter's side bearing before
        // its ink) to the end of the last letter's advance.
        let (first, last) = (span.first ?? -1, span.last ?? -1)
        #expect(first <= ink.minX && first >= ink.minX - 10 && last >= ink.maxX && last <= ink.maxX + 10, "span \(first)...\(last), ink \(ink)")
        // The plain text has a gap in that row (between the words).
        let plainRow = opaqueColumns(plain, mid)
        #expect(plainRow.count < (plainRow.last ?? 0) - (plainRow.first ?? 0) + 1)
    }

    @Test func underlineLiesUnderTheBaselineAndKeepsTheStrokeAndColour() throws {
        var style = Styles.plain(size: 80)
        style.color = Color(hex: "#E63946")!
        let plain = try renderer.render("no no", style: style, width: 600, height: 160)
        style.decoration = .underline
        let under = try renderer.render("no no", style: style, width: 600, height: 160)
        let rows = addedRows(under, plain)
        let ink = try #require(plain.alphaBounds(threshold: 200))
        #expect(!rows.isEmpty && rows.allSatisfy { $0 > ink.maxY }, "underline rows \(rows), letters end at \(ink.maxY)")
        let p = under[300, rows[rows.count / 2]]
        #expect(p.r == 0xE6 && p.g == 0x39 && p.b == 0x46)
    }

    @Test func noDecorationByDefaultAndNoneDrawsNothing() throws {
        var style = Styles.plain(size: 80)
        let a = try renderer.render("no no", style: style, width: 600, height: 160)
        style.decoration = .none
        let b = try renderer.render("no no", style: style, width: 600, height: 160)
        #expect(a.pixels == b.pixels)
    }
}

/// `letter_spacing`: extra space after every character, in em, so the text widens by it between characters and
/// stays centred (the last character's spacing is not counted).
@Suite struct LetterSpacingTests {
    @Test func spacingWidensTheTextBetweenCharactersAndKeepsItCentred() throws {
        var style = Styles.plain(size: 60)
        let tight = try #require(try renderer.render("LUXE", style: style, width: 800, height: 120).alphaBounds(threshold: 100))
        style.letterSpacing = 0.5
        let d = try renderer.renderDetailed("LUXE", style: style, width: 800, height: 120)
        let wide = try #require(d.image.alphaBounds(threshold: 100))
        // Three gaps of 30 px each.
        #expect(abs((wide.width - tight.width) - 90) <= 3, "tight \(tight.width) px, spaced \(wide.width) px")
        #expect(abs(wide.centerX - 400) <= 3 && abs(tight.centerX - 400) <= 3, "centres \(tight.centerX), \(wide.centerX)")
        #expect(d.lines == ["LUXE"] && d.fontSize == 60)
    }

    @Test func spacingCountsWhenTheTextIsFitted() throws {
        // 0.5 em after each of 16 characters does not fit 700 px at 60 px: the text shrinks (or wraps) instead of
        // running past the box.
        var style = TextStyle(size: 60, minSize: 20, stroke: nil, maxLines: 1)
        style.letterSpacing = 0.5
        let d = try renderer.renderDetailed("AUTUMN COLLECTION", style: style, width: 700, height: 120)
        #expect(d.fontSize < 60 && !d.truncated, "size \(d.fontSize)")
        let ink = try #require(d.image.alphaBounds(threshold: 100))
        #expect(ink.minX >= 0 && ink.maxX <= 699)
    }

    /// A review found "fi" staying glued in spaced text: the font's ligature made one glyph of two letters, and only
    /// graphemes with a glyph of their own got the space. Spaced by 0.5 em, "fifi" widens by three gaps of 30 px
    /// (with the ligatures, by one); unspaced, the ligatures are kept (fewer glyphs than letters).
    @Test func spacedLettersAreNotJoinedByLigatures() throws {
        var style = Styles.plain(size: 60)
        style.font = FontSpec(family: "sans", weight: .regular)
        let tight = try #require(try renderer.render("fifi", style: style, width: 800, height: 120).alphaBounds(threshold: 100))
        style.letterSpacing = 0.5
        let wide = try #require(try renderer.render("fifi", style: style, width: 800, height: 120).alphaBounds(threshold: 100))
        #expect(abs((wide.width - tight.width) - 90) <= 8, "tight \(tight.width) px, spaced \(wide.width) px")
        let chain = try FontChain(
            cache: FontCache.shared(directories: CaptionRenderer.defaultFontDirectories), font: style.font, baseDirectory: nil, cjkFaceIndex: 0)
        let glyphs = try Shaper(chain: chain, buffer: try ShapingBuffer()).shape(Array("fifi".unicodeScalars)).runs.flatMap(\.glyphs)
        #expect(glyphs.count < 4, "Noto Sans ligates fi: \(glyphs.count) glyphs")
    }

    @Test func outOfRangeSpacingIsAStyleError() {
        var style = Styles.plain()
        style.letterSpacing = 3
        #expect(throws: CaptionError.self) { try renderer.render("x", style: style, width: 100, height: 100) }
    }
}

/// `font.style: italic`: the family's italic file at the weight, upright when it has none.
@Suite struct ItalicTests {
    @Test func italicTakesTheFamilysItalicFile() throws {
        func files(_ family: String, _ weight: FontWeight, italic: Bool, text: String = "Autumn") throws -> [String] {
            var style = Styles.plain()
            style.font = FontSpec(family: family, weight: weight, italic: italic)
            return try renderer.renderDetailed(text, style: style, width: 600, height: 120).fontFiles.map { ($0 as NSString).lastPathComponent }
        }
        #expect(try files("serif", .regular, italic: true) == ["NotoSerif-Italic.ttf"])
        #expect(try files("serif", .bold, italic: true) == ["NotoSerif-BoldItalic.ttf"])
        #expect(try files("serif", .regular, italic: false) == ["NotoSerif-Regular.ttf"])
        // Noto Serif Hebrew has no italic: upright, not an error.
        #expect(try files("Noto Serif Hebrew", .regular, italic: true, text: "שלום") == ["NotoSerifHebrew-Regular.ttf"])
    }
}
