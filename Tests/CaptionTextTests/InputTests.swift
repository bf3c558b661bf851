import Foundation
import RendcTestSupport
import RasterImage
import SpecLang
import Testing
@testable import CaptionText

/// A string of one scalar that Swift literals refuse (noncharacters).
private func scalar(_ v: UInt32) -> String { Unicode.Scalar(v).map { String(Character($0)) } ?? "" }

@Suite struct InputTests {
    /// Strings that broke (or could break) FFmpeg drawtext filter strings and shells; here they are just text.
    static let injections: [String] = [
        "It's \"quoted\" and 'single'", "colon: semi; comma, equals=", "back\\slash \\\\ \\n \\t", "%{pts} %{localtime} %{eif\\:n\\:d}",
        "[0:v][1:v]overlay=10:10[out]", "drawtext=text='x':fontfile=/etc/passwd:fontsize=999", "$(rm -rf /) `id` && echo; |cat",
        "<script>alert(1)</script> &amp;", "{}[]()<>", "line one\nline two\r\nline three\rline four", "tab\tseparated\tvalues",
        "bell\u{07} nul\u{00} esc\u{1B}[31m del\u{7F} c1\u{85}\u{9B}", "\u{202E}override\u{202C} \u{2066}isolate\u{2069}",
        "🎉🔥💯👩‍👩‍👧‍👦🏳️‍🌈🇺🇦", "zalgo z̷̢̛̛̯̺̞a̶̧͕̗̓l̵̢̛̘g̷̛̱ő̶̬", "\u{FEFF}bom " + scalar(0xFFFF) + " " + scalar(0xFDD0) + " noncharacters", "\u{E000}\u{F8FF} private use \u{10FFFD}",
        "'; DROP TABLE video_processing_jobs; --", "%s%s%s%n %x", "\u{0000}", " \u{0007} x",
    ]

    @Test(arguments: injections)
    func injectionStringsRenderAsText(_ text: String) throws {
        let image = try renderer.render(text, style: Styles.template, width: 1080, height: 200)
        #expect(image.width == 1080 && image.height == 200)
        if text == "\u{0000}" {
            #expect(image.isFullyTransparent)  // only a control character: nothing to draw
        } else {
            #expect(!image.isFullyTransparent, "\(text.debugDescription) drew nothing")
        }
    }

    @Test(arguments: ["", " ", "     ", "\t\t", "\n\n \n", "\u{3000}\u{00A0}", " \u{0007}\u{0008} "])
    func blankTextGivesATransparentImage(_ text: String) throws {
        var style = Styles.template
        style.background = CaptionBackground(color: .black, padding: 10, radius: 4)
        let image = try renderer.render(text, style: style, width: 400, height: 100)
        #expect(image.isFullyTransparent)
        #expect(image.width == 400 && image.height == 100)
    }

    @Test func onlyEmojiRendersInColour() throws {
        let image = try renderer.render("🎉🔥💯", style: Styles.template, width: 1080, height: 200)
        #expect(image.count { $0.a > 200 && $0.saturation > 0.5 } > 2000)
    }

    @Test func controlCharactersAreDroppedAndTabsAreSpaces() throws {
        let clean = try renderer.render("AB CD", style: Styles.template, width: 600, height: 200)
        #expect(try renderer.render("A\u{07}B\u{1B}\tCD\u{7F}", style: Styles.template, width: 600, height: 200) == clean)
        #expect(try renderer.render("  AB CD \n\n", style: Styles.template, width: 600, height: 200) == clean)
        let paragraphs = TextInput.paragraphs("a\u{07}\tb\r\nc\u{2028}d\n\n\ne  ")
        #expect(paragraphs.map { String(String.UnicodeScalarView($0)) } == ["a b", "c", "d", "", "", "e"])
    }

    @Test func fiveHundredCharacterCaptionRenders() throws {
        let text = CaptionBenchmark.mixedScriptCaption
        #expect(text.count == 500)
        let d = try renderer.renderDetailed(text, style: Styles.template, width: 1080, height: 200)
        #expect(!d.image.isFullyTransparent)
        #expect(d.truncated && d.lines.count == 3 && d.fontSize == 36)
        let ink = try #require(d.image.alphaBounds(threshold: 8))
        #expect(ink.minX >= 0 && ink.maxX < 1080 && ink.minY >= 0 && ink.maxY < 200)
        // 500 characters fit without truncation in a box big enough for them.
        var roomy = Styles.template
        roomy.maxLines = 40
        let big = try renderer.renderDetailed(text, style: roomy, width: 1080, height: 1920)
        #expect(!big.truncated)
        #expect(big.fontFiles.count >= 6, "fonts: \(big.fontFiles)")
    }

    @Test func overLongTextIsRejected() throws {
        let text = String(repeating: "a", count: 501)
        #expect(throws: CaptionError.tooLong(characters: 501, limit: 500)) {
            try renderer.render(text, style: Styles.template, width: 1080, height: 200)
        }
        #expect(CaptionError.tooLong(characters: 501, limit: 500).description == "caption text is too long: 501 characters, at most 500 are allowed")
        // 500 characters that are emoji ZWJ sequences are fine; 4000 combining marks on one letter are not.
        #expect(throws: CaptionError.tooManyScalars(scalars: 4001, limit: 4000)) {
            try renderer.render("a" + String(repeating: "\u{301}", count: 4000), style: Styles.template, width: 1080, height: 200)
        }
    }

    @Test func invalidUTF8IsRejectedWithItsOffset() throws {
        let cases: [([UInt8], Int)] = [
            ([0x41, 0xC3, 0x28], 1),  // bad continuation
            ([0x41, 0x42, 0xE2, 0x82], 2),  // truncated
            ([0xC0, 0xAF], 0),  // overlong "/"
            ([0xE0, 0x80, 0xAF], 0),  // overlong 3-byte
            ([0x61, 0xED, 0xA0, 0x80], 1),  // UTF-16 surrogate
            ([0xF4, 0x90, 0x80, 0x80], 0),  // above U+10FFFF
            ([0xF5, 0x80, 0x80, 0x80], 0),  // invalid lead byte
            ([0x80], 0),  // stray continuation
            ([0x68, 0x69, 0xFF], 2),
        ]
        for (bytes, offset) in cases {
            #expect(throws: CaptionError.invalidUTF8(byteOffset: offset, bytes: bytes)) {
                try CaptionRenderer.decodeCaption(bytes)
            }
        }
        let e = CaptionError.invalidUTF8(byteOffset: 1, bytes: [0x41, 0xC3, 0x28])
        #expect(e.description == "caption text is not valid UTF-8: bad byte sequence at byte 1 of 3 (bytes around it: 41 C3 28)")
        let good = Array("✨ Test Video 👩‍💻 مرحبا".utf8)
        #expect(try CaptionRenderer.decodeCaption(good) == "✨ Test Video 👩‍💻 مرحبا")
        #expect(try CaptionRenderer.decodeCaption([]) == "")
        #expect(throws: CaptionError.tooLong(characters: 501, limit: 500)) {
            try CaptionRenderer.decodeCaption(Array(String(repeating: "é", count: 501).utf8))
        }
    }

    @Test func invalidBoxAndStyleAreClearErrors() throws {
        #expect(throws: CaptionError.invalidBoxSize(width: 0, height: 200)) {
            try renderer.render("x", style: Styles.template, width: 0, height: 200)
        }
        var style = Styles.template
        style.size = .nan
        #expect(throws: CaptionError.invalidStyle(field: "size", message: "must be 1...2000 px, got nan")) {
            try renderer.render("x", style: style, width: 100, height: 100)
        }
        style = Styles.template
        style.maxLines = 0
        #expect(throws: CaptionError.self) { try renderer.render("x", style: style, width: 100, height: 100) }
    }

    @Test func templateFontFileResolvesAgainstTheBaseDirectory() throws {
        var style = Styles.template
        style.font = FontSpec(family: "sans", weight: .regular, file: "DejaVuSans.ttf")
        let d = try renderer.renderDetailed("Custom font ✨", style: style, width: 800, height: 200, baseDirectory: "/usr/share/fonts/truetype/dejavu")
        #expect(d.fontFiles.contains("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), "fonts: \(d.fontFiles)")
        #expect(d.fontFiles.contains { $0.hasSuffix("NotoColorEmoji.ttf") })

        style.font.file = "missing/Nope.ttf"
        #expect(throws: CaptionError.fontFileNotFound(path: "/tmp/missing/Nope.ttf")) {
            try renderer.render("x", style: style, width: 100, height: 100, baseDirectory: "/tmp")
        }
        let notAFont = try Fixtures.temporaryDirectory("caption-font")
        defer { try? FileManager.default.removeItem(at: notAFont) }
        let fake = notAFont.appendingPathComponent("fake.ttf")
        try Data("not a font".utf8).write(to: fake)
        style.font.file = fake.path
        #expect(throws: CaptionError.self) { try renderer.render("x", style: style, width: 100, height: 100) }
        do {
            _ = try renderer.render("x", style: style, width: 100, height: 100)
            Issue.record("a file that is not a font was accepted")
        } catch let e as CaptionError {
            #expect(e.description.contains("fake.ttf") && e.description.contains("cannot be opened"))
        }
    }

    @Test func familyNamesResolveToFiles() throws {
        var style = Styles.template
        style.font = FontSpec(family: "serif", weight: .bold)
        let serif = try renderer.renderDetailed("Serif", style: style, width: 800, height: 200)
        #expect(serif.fontFiles == ["/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf"])
        style.font = FontSpec(family: "DejaVu Sans Mono", weight: .regular)
        let mono = try renderer.renderDetailed("Mono", style: style, width: 800, height: 200)
        #expect(mono.fontFiles == ["/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"])
        style.font = FontSpec(family: "Noto Sans CJK KR", weight: .bold)
        let kr = try renderer.renderDetailed("한국어 中文", style: style, width: 800, height: 200)
        #expect(kr.fontFiles == ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc#1"])
        style.font = FontSpec(family: "Comic Sans MS", weight: .bold)
        #expect(throws: CaptionError.self) { try renderer.render("x", style: style, width: 100, height: 100) }
    }

    @Test func concurrentRendersAreSafe() async throws {
        let expected = try renderer.render("Parallel ✨ مرحبا", style: Styles.template, width: 600, height: 200)
        try await withThrowingTaskGroup(of: RGBAImage.self) { group in
            for _ in 0..<6 {
                group.addTask { try renderer.render("Parallel ✨ مرحبا", style: Styles.template, width: 600, height: 200) }
            }
            for try await image in group { #expect(image == expected) }
        }
    }

    @Test func randomMixturesOfHardCharactersRender() throws {
        // Deterministic pseudo-random strings from a pool of troublesome code points: lone marks and joiners,
        // modifiers and regional indicators out of sequence, RTL and LTR mixed with brackets and numbers,
        // unassigned and private-use code points, controls, CJK punctuation, Indic and Thai clusters.
        let pool: [UInt32] = [
            0x41, 0x20, 0x20, 0x301, 0x200D, 0x200C, 0xFE0F, 0xFE0E, 0x1F3FD, 0x1F1EB, 0x1F1F7, 0x1F469, 0x1F4BB,
            0x2728, 0x5D0, 0x5D1, 0x627, 0x644, 0x661, 0x31, 0x28, 0x29, 0x5B, 0x2E, 0x2C, 0x3002, 0x3001, 0x65B0,
            0x30FC, 0xAC00, 0x915, 0x94D, 0x937, 0xE01, 0xE34, 0x0A, 0x09, 0x07, 0x200F, 0x200E, 0x202E, 0x2066,
            0xE000, 0x10FFFD, 0x0378, 0xE0067, 0xE007F, 0x20E3, 0x23, 0x2026, 0xFF01, 0x2028, 0x5C, 0x25, 0x7B,
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var wrap = Styles.template
        for round in 0..<24 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<(1 + next() % 300) {
                if let s = Unicode.Scalar(pool[next() % pool.count]) { scalars.append(s) }
            }
            let text = String(String(scalars).prefix(500))
            wrap.wrap = [WrapMode.word, .anywhere, .none][round % 3]
            wrap.align = [TextAlign.left, .center, .right][round % 3]
            let d = try renderer.renderDetailed(text, style: wrap, width: 1080, height: 200)
            #expect(d.image.width == 1080 && d.image.height == 200)
            #expect(d.lines.count <= wrap.maxLines, "round \(round): \(d.lines.count) lines")
        }
    }

    @Test func benchmarkReportsMedians() throws {
        let report = try CaptionBenchmark.run(iterations: 1)
        let lines = report.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.filter { $0.contains("median") && $0.contains("ms") }.count == 3)
    }
}
