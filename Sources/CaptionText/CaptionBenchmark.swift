import Foundation
import SpecLang

/// Times caption renders (the text layer is drawn once per video). `rendc bench` prints `run()`'s lines. Package
/// access: a measurement for this package's bench, not part of the library's API.
package enum CaptionBenchmark {
    /// A 500-character caption mixing Latin, accents, emoji (ZWJ, skin tones, flags), Arabic, Hebrew, CJK,
    /// Cyrillic, Greek and Devanagari.
    package static let mixedScriptCaption: String = {
        let pieces = [
            "✨ Nouvelle collection été 2026 — livraison offerte ! ", "👩‍💻👍🏽🇫🇷🇯🇵 ",
            "مرحبا بكم في متجرنا ", "שלום וברוכים הבאים ", "新品上市，限时优惠！", "今日だけの特別セール ",
            "Скидки до 50% ", "Καλώς ήρθατε ", "नमस्ते दुनिया ", "“Quotes”, colons: back\\slashes %{x} [brackets]; ",
        ]
        var s = ""
        var i = 0
        while s.count < CaptionRenderer.maximumCharacters {
            s += pieces[i % pieces.count]
            i += 1
        }
        return String(s.prefix(CaptionRenderer.maximumCharacters))
    }()

    /// Renders each case `iterations` times after one warm-up (fonts loaded) and returns one printable line per
    /// case with the median and the fastest time: the 500-character caption in the templates' 1080x200 box
    /// (shrunk to 36 px and cut after 3 lines), the same text with room for all of it, and a short caption.
    package static func run(iterations: Int = 9) throws -> String {
        let renderer = CaptionRenderer()
        let style = TextStyle()
        var roomy = style
        roomy.maxLines = 40
        let cases: [(name: String, text: String, style: TextStyle, height: Int)] = [
            ("caption 500-char mixed scripts 1080x200", mixedScriptCaption, style, 200),
            ("caption 500-char all drawn 1080x1920", mixedScriptCaption, roomy, 1920),
            ("caption short \"✨ Test Video\" 1080x200", "✨ Test Video", style, 200),
        ]
        var lines: [String] = []
        // The first render of a process opens the fonts; report it separately.
        let cold = try time { _ = try renderer.render(mixedScriptCaption, style: style, width: 1080, height: 200) }
        lines.append(String(format: "%-44@ first render (fonts opened): %8.2f ms", "caption" as NSString, cold))
        for c in cases {
            var samples: [Double] = []
            for _ in 0..<max(1, iterations) {
                samples.append(try time { _ = try renderer.render(c.text, style: c.style, width: 1080, height: c.height) })
            }
            samples.sort()
            let median = samples[samples.count / 2]
            lines.append(
                String(
                    format: "%-44@ median %8.2f ms  min %8.2f ms  (%d runs)", c.name as NSString, median, samples[0], samples.count))
        }
        return lines.joined(separator: "\n")
    }

    private static func time(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }
}
