import Foundation
import Planner
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// design14: a merge field whose text is cut to fit its box gets a plan note naming the field and how it was cut,
/// quoting at most the start of the text, whole characters only.
@Suite struct Design14CutNoteTests {
    static func template() throws -> String {
        try DesignerMotionTests.template(
            "cut-price",
            """
            name: cut-price
            fields:
              price: { type: text, max_length: 500 }
            layers:
              - type: color
                color: "#202020"
              - type: text
                text: "{{price}}"
                x: 100
                y: 200
                width: 400
                height: 120
                size: 80
                min_size: 60
                max_lines: 1
            """)
    }

    func notes(_ price: String, quality: QualityMode = .normal) throws -> [String] {
        try RenderFixture.pipeline.plan(
            RenderRequest(
                template: try Self.template(), images: try TimedContentTests.pictures, text: nil, fields: ["price": price], duration: 2,
                quality: quality, output: "x.mp4"), measuringLoudness: false
        ).notes.filter { $0.contains("(text)") }
    }

    @Test func aCutPriceIsNoted() throws {
        let cut = try notes("$1,299,999.99 only today")
        #expect(
            cut == [
                "layers[1] (text): the field price did not fit the 400x120 box at the smallest size (60 px, 1 line) and was cut with \"…\": 11 of its 24 characters show, of \"$1,299,999.99 only today\"; to show more, widen the box, allow more lines (max_lines), lower min_size, or limit the field (max_length)"
            ])
        // design14b F5: in eco (drawn at 2/3) the box and size are still the template's, as in the file.
        let eco = try #require(try notes("$1,299,999.99 only today", quality: .eco).first)
        #expect(eco.contains("did not fit the 400x120 box at the smallest size (60 px, 1 line)"), "\(eco)")
        // The contrast: a price that fits has no note.
        #expect(try notes("$9.99") == [])
    }

    /// 500 characters of hostile text (line breaks, a right-to-left override, a family emoji at the cut): the note
    /// quotes 24 whole characters, shows the controls as spaces and stays short.
    @Test func aHostileCutValueIsQuotedShortAndWhole() throws {
        let family = "👨‍👩‍👧"
        let value =
            "ab\ncd\u{202E}ef" + String(repeating: "x", count: 15) + family + String(repeating: "é", count: 300) + String(repeating: "y", count: 176)
        #expect(value.count == 500)
        let note = try #require(try notes(value).first)
        let quoted = try #require(note.split(separator: "of \"", omittingEmptySubsequences: false).last?.split(separator: "; ").first)
        // The line break shows as a space; the right-to-left override draws nothing and is left out.
        #expect(quoted == "ab cdef" + String(repeating: "x", count: 15) + family + "…\"")
        #expect(note.count < 360 && !note.contains("\n") && !note.contains("\u{202E}") && note.contains("of its 500 characters"))
    }

    @Test func aQuotedPrefixKeepsWholeCharacters() {
        #expect(Planner.quotedPrefix("e\u{301}" + String(repeating: "z", count: 30), limit: 3) == "\"e\u{301}zz…\"")
        #expect(Planner.quotedPrefix("🇫🇷🇩🇪🇮🇹", limit: 2) == "\"🇫🇷🇩🇪…\"")
        #expect(Planner.quotedPrefix("a\tb\u{0}c", limit: 24) == "\"a b c\"")
        // design14b F4: what draws nothing is left out (a letter before a joiner was lost with it), line and paragraph
        // separators are spaces, quotes are escaped, and a family emoji keeps its joiners.
        #expect(Planner.quotedPrefix("A\u{200B}B\u{200D}C\u{FEFF}D") == "\"ABCD\"")
        #expect(Planner.quotedPrefix("x\u{2028}y\u{2029}z") == "\"x y z\"")
        #expect(Planner.quotedPrefix("He said \"$19\" \\o/") == "\"He said \\\"$19\\\" \\\\o/\"")
        #expect(Planner.quotedPrefix("👨‍👩‍👧‍👦 🏴󠁧󠁢󠁳󠁣󠁴󠁿") == "\"👨‍👩‍👧‍👦 🏴󠁧󠁢󠁳󠁣󠁴󠁿\"")
        #expect(Planner.fieldNames(in: "{{ price }} was {{old}}, now {{price}}") == ["price", "old"])
    }
}
