import Foundation
import RasterImage
import SpecLang
import Testing
@testable import CaptionText

@Suite struct FitTests {
    static let longText = "Our summer collection is finally here with light fabrics, bright colours and free delivery on every order"

    /// Number of separate horizontal bands of ink (text lines) in the image.
    private func inkBands(_ image: RGBAImage) -> Int {
        var bands = 0, inBand = false
        for y in 0..<image.height {
            let has = (0..<image.width).contains { image[$0, y].a > 100 }
            if has && !inBand { bands += 1 }
            inBand = has
        }
        return bands
    }

    @Test func wrapsOnWordBoundariesWithinMaxLines() throws {
        var style = Styles.plain(size: 40)
        style.maxLines = 4
        style.lineSpacing = 1.6  // gaps between lines so bands can be counted
        let d = try renderer.renderDetailed(Self.longText, style: style, width: 700, height: 300)
        #expect(d.lines.count >= 3 && d.lines.count <= 4, "lines: \(d.lines)")
        #expect(!d.truncated)
        #expect(d.fontSize == 40)
        // Every line is made of whole words of the input, in order.
        #expect(d.lines.joined(separator: " ") == Self.longText)
        #expect(inkBands(d.image) == d.lines.count)
        for line in d.lines { #expect(!line.hasPrefix(" ") && !line.hasSuffix(" ")) }
    }

    @Test func explicitNewlinesStartNewLines() throws {
        let d = try renderer.renderDetailed("One\nTwo\r\nThree", style: Styles.plain(size: 40), width: 700, height: 300)
        #expect(d.lines == ["One", "Two", "Three"])
    }

    @Test func shrinkToFitReducesTheSizeForLongText() throws {
        let short = try renderer.renderDetailed("Short", style: Styles.template, width: 1080, height: 200)
        #expect(short.fontSize == 60)
        let long = try renderer.renderDetailed(Self.longText, style: Styles.template, width: 1080, height: 200)
        #expect(long.fontSize < 60 && long.fontSize >= 36, "size \(long.fontSize)")
        #expect(!long.truncated)
        #expect(long.lines.count <= 3)
        #expect(long.lines.joined(separator: " ") == Self.longText)
        // It shrank no more than needed: a quarter pixel larger no longer fits.
        var bigger = Styles.template
        bigger.size = long.fontSize + 0.5
        bigger.minSize = long.fontSize + 0.5
        bigger.ellipsis = false
        let b = try renderer.renderDetailed(Self.longText, style: bigger, width: 1080, height: 200)
        #expect(b.truncated, "\(bigger.size) px would have fitted too")
        // The ink stays inside the box.
        let ink = try #require(long.image.alphaBounds(threshold: 8))
        #expect(ink.minY >= 0 && ink.maxY <= 199 && ink.minX >= 0 && ink.maxX <= 1079)
    }

    @Test func ellipsisIsTheLastResortAtMinSize() throws {
        let text = String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 8)
        let d = try renderer.renderDetailed(text, style: Styles.template, width: 1080, height: 200)
        #expect(d.fontSize == 36)
        #expect(d.truncated)
        #expect(d.lines.count <= 3)
        #expect(d.lines.last?.hasSuffix("\u{2026}") == true, "lines: \(d.lines)")
        #expect(d.lines.dropLast().allSatisfy { !$0.contains("\u{2026}") })
        // Without ellipsis the text is cut at the line limit with no "…".
        var style = Styles.template
        style.ellipsis = false
        let plain = try renderer.renderDetailed(text, style: style, width: 1080, height: 200)
        #expect(plain.truncated && plain.lines.count == 3)
        #expect(!plain.lines.joined().contains("\u{2026}"))
    }

    @Test func noShrinkingMeansEllipsisAtTheNominalSize() throws {
        var style = Styles.template
        style.shrinkToFit = false
        style.maxLines = 1
        let d = try renderer.renderDetailed(Self.longText, style: style, width: 1080, height: 200)
        #expect(d.fontSize == 60 && d.lines.count == 1 && d.lines[0].hasSuffix("\u{2026}"))
        let ink = try #require(d.image.alphaBounds(threshold: 8))
        #expect(ink.minX >= 0 && ink.maxX <= 1079)
    }

    @Test func wrapNoneKeepsOneLinePerParagraph() throws {
        var style = Styles.template
        style.wrap = .none
        let d = try renderer.renderDetailed("A fairly long single line caption that cannot wrap at all", style: style, width: 600, height: 200)
        #expect(d.lines.count == 1)
        #expect(d.fontSize < 60)
    }

    @Test func wrapAnywhereFillsLinesToTheEdge() throws {
        var style = Styles.plain(size: 40)
        style.wrap = .anywhere
        style.maxLines = 6
        let text = "abcdefghij klmnopqrst uvwxyzabcd efghijklmn"
        let d = try renderer.renderDetailed(text, style: style, width: 400, height: 400)
        var word = style
        word.wrap = .word
        let w = try renderer.renderDetailed(text, style: word, width: 400, height: 400)
        let words = Set(text.split(separator: " ").map(String.init))
        // Word wrapping keeps whole words; "anywhere" splits some word across lines and needs fewer lines.
        #expect(w.lines.allSatisfy { $0.split(separator: " ").allSatisfy { words.contains(String($0)) } }, "\(w.lines)")
        #expect(d.lines.contains { $0.split(separator: " ").contains { !words.contains(String($0)) } }, "\(d.lines)")
        #expect(d.lines.count <= w.lines.count)
        #expect(d.lines.joined().replacingOccurrences(of: " ", with: "") == text.replacingOccurrences(of: " ", with: ""))
    }

    @Test func aLongWordIsBrokenOnlyAtMinSize() throws {
        let word = String(repeating: "x", count: 80)
        let d = try renderer.renderDetailed(word, style: Styles.template, width: 1080, height: 200)
        #expect(d.fontSize == 36)
        #expect(d.lines.count >= 2 && d.lines.count <= 3, "lines: \(d.lines)")
        #expect(!d.truncated)
        #expect(d.lines.joined() == word)
    }

    @Test func cjkWrapsBetweenCharactersButNotBeforeClosingPunctuation() throws {
        let text = String(repeating: "新品上市，限时优惠！", count: 6)
        var style = Styles.plain(size: 50)
        style.maxLines = 10
        let d = try renderer.renderDetailed(text, style: style, width: 600, height: 800)
        #expect(!d.truncated)
        #expect(d.lines.count > 1)
        #expect(d.lines.joined() == text)
        for line in d.lines {
            #expect(!line.hasPrefix("，") && !line.hasPrefix("！"), "line starts with closing punctuation: \(line)")
        }
    }

    @Test func lineBreakOpportunities() {
        func opportunities(_ s: String) -> [Int] {
            let scalars = Array(s.unicodeScalars)
            var gs = scalars.indices.map {
                Grapheme(scalars: $0..<($0 + 1), font: 0, level: 0, isSpace: scalars[$0] == " ", advance: 0.5, breakBefore: false)
            }
            LineBreaking.markBreakOpportunities(&gs, scalars: scalars)
            return gs.indices.filter { gs[$0].breakBefore }
        }
        #expect(opportunities("ab cd") == [3])
        #expect(opportunities("ab  cd") == [4])
        #expect(opportunities("a (b)") == [2])
        #expect(opportunities("a !") == [])  // no break before "!"
        #expect(opportunities("well-known") == [5])
        #expect(opportunities("中文字") == [1, 2])
        #expect(opportunities("中。文") == [2])
    }
}

extension FitTests {
    /// A typed text's part placed with the whole text's line count (`blockLines`) starts where the whole text's first
    /// line does, in the middle and at the bottom of the box, so typing on does not lift the lines already typed.
    @Test func aPartPlacedAsTheWholeBlockStartsWhereTheWholeDoes() throws {
        for vertical in [VerticalAlign.middle, .bottom] {
            let style = Styles.plain(size: 40, align: .left, vertical: vertical)
            let whole = try renderer.renderDetailed(Self.longText, style: style, width: 700, height: 400)
            #expect(whole.lines.count >= 3)
            // The whole text's first line, as typed so far (the same glyphs, so the same top of ink).
            let typed = whole.lines[0]
            let part = try renderer.renderDetailed(typed, style: style, width: 700, height: 400, blockLines: whole.fitted.lines)
            let alone = try renderer.renderDetailed(typed, style: style, width: 700, height: 400)
            let top = try #require(whole.image.alphaBounds()).minY
            let partTop = try #require(part.image.alphaBounds()).minY
            #expect(partTop == top, "\(vertical): part \(partTop), whole \(top)")
            #expect(try #require(alone.image.alphaBounds()).minY > top + 20, "alone, one line sits lower (\(vertical))")
        }
    }
}
