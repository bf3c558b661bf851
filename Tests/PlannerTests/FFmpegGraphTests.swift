import Foundation
import Planner
import RendcTestSupport
import SpecLang
import Testing

/// The plan as a stock FFmpeg graph, checked without FFmpeg (EngineEquivalenceTests runs it).
@Suite struct FFmpegGraphTests {
    /// FFmpeg's `av_get_token`: a backslash keeps the next character, quotes keep what is between them, unquoted
    /// leading and trailing whitespace is dropped, and the token stops at an unescaped `terminators` character.
    static func token(_ s: Substring, _ terminators: Set<Character>) -> (String, Substring) {
        var out = "", i = s.startIndex, trailing = 0
        while i < s.endIndex, s[i] == " " || s[i] == "\n" || s[i] == "\t" { i = s.index(after: i) }
        while i < s.endIndex, !terminators.contains(s[i]) {
            if s[i] == "\\" {
                i = s.index(after: i)
                if i < s.endIndex { out.append(s[i]); trailing = 0; i = s.index(after: i) }
            } else if s[i] == "'" {
                i = s.index(after: i)
                while i < s.endIndex, s[i] != "'" { out.append(s[i]); i = s.index(after: i) }
                if i < s.endIndex { i = s.index(after: i) }
                trailing = 0
            } else {
                out.append(s[i])
                trailing = s[i].isWhitespace ? trailing + 1 : 0
                i = s.index(after: i)
            }
        }
        return (String(out.dropLast(trailing)), s[i...])
    }

    @Test(arguments: ["/in/it's a \"track\"; [v]:1, final.m4a", " /lead and trail ", "/x\\y\n%z'", "/é/🎵:[a],b"])
    func fileNamesSurviveBothParsers(_ path: String) {
        let p = try! plan(try! builtin("story"), PlanInputs(images: threeImages, audio: AudioInput(path: path, duration: 30), quality: .eco))
        let script = p.ffmpegGraph().script
        let line = script.split(separator: ";\n").first { $0.hasPrefix("amovie=") }!
        // The graph parser reads the filter's arguments up to an unescaped [ ] , ; ...
        let (args, rest) = Self.token(line.dropFirst("amovie=".count), ["[", "]", ",", ";"])
        #expect(rest == "[ain0]", "the file name ended the filter early: \(rest.prefix(20))")
        // ... then the option parser reads `filename=` up to an unescaped ':'.
        #expect(args.hasPrefix("filename="))
        let (value, after) = Self.token(args.dropFirst("filename=".count)[...], [":"])
        #expect(value == path && after.isEmpty)
    }

    @Test(
        arguments: ["golden-frame", "silver-frame", "no-frame", "polaroid", "price-tag", "split-screen", "story", "editorial"], QualityMode.allCases)
    func everyTemplateIsStockFiltersWithItsOwnSources(_ name: String, _ mode: QualityMode) throws {
        let p = try plan(
            try builtin(name),
            PlanInputs(
                images: threeImages, audio: AudioInput(path: "/in/a.mp3", duration: 30), text: "hi",
                fields: name == "price-tag" ? ["price": "$1"] : [:], quality: mode))
        let g = p.ffmpegGraph(artDirectory: "/art/")
        #expect(!g.script.contains("rendc_"))
        #expect(g.script.contains("[vout]") && g.script.contains("[aout]"))
        // No chain starts from a stream the graph does not make itself (no -i inputs).
        #expect(!g.script.contains("[0:v]") && !g.script.contains("[0:a]"))
        // Every art file the graph reads is one it asks to be drawn.
        let names = Set(g.art.map { "/art/" + $0.name })
        for chain in g.script.split(separator: ";\n") where chain.hasPrefix("movie=filename=/art/") {
            let (args, _) = FFmpegGraphTests.token(chain.dropFirst("movie=".count), ["[", "]", ",", ";"])
            let (file, _) = FFmpegGraphTests.token(args.dropFirst("filename=".count)[...], [":"])
            #expect(names.contains(file.replacingOccurrences(of: "%%", with: "%")), "\(file) is read but not drawn")
        }
        // Text never enters the graph; text layers are art.
        #expect(!g.script.contains("drawtext"))
        for l in p.layers { if case .text = l.content { #expect(g.art.contains { $0.kind == .layer(l.index) }) } }
        // Every shot of the media layer has a per-frame perspective warp (or a clip) of its own, and nothing is
        // placed on whole pixels by zoompan.
        if let m = p.images {
            let warps = g.script.components(separatedBy: "perspective=").count - 1
            #expect(warps == m.shots.count * m.cells.count)
            #expect(!g.script.contains("zoompan"))
        }
    }

    /// design14b F9: a layer that pops in and stays is a PNG sequence only while it pops; the static picture draws it
    /// after (it was written a frame at a time for its whole life). A pop that repeats to the end keeps its sequence.
    @Test func aPoppedLayerIsASequenceOnlyWhileItPops() throws {
        func sequence(_ animate: String) throws -> FrameSpan? {
            let t = try TemplateParser.parse(
                yaml:
                    "name: t\nlayers:\n  - type: color\n    color: \"#202020\"\n  - type: shape\n    width: 200\n    height: 100\n    animate: \(animate)\n"
            )
            let p = try plan(t, PlanInputs(images: threeImages, duration: 3))
            return p.ffmpegGraph(artDirectory: "/art/").art.lazy.compactMap { a -> FrameSpan? in
                if case .sequence(_, let frames) = a.kind { frames } else { nil }
            }.first
        }
        // 0.6 s of pop at 30 fps: its frames (0 ..< 18, the last one at rest), not the video's 90.
        #expect(try sequence("[{ preset: pop, duration: 0.6 }]") == FrameSpan(0, 18))
        #expect(try sequence("[{ preset: pop, duration: 0.6, repeat: forever }]") == FrameSpan(0, 90))
    }
}
