import FilterGraphBackend
import Foundation
import RasterImage
import RendcTestSupport
import SpecLang
import Testing
@testable import CaptionText

/// Rendered captions compared with reviewed PNGs in `Goldens/`, with a tolerance (FreeType or HarfBuzz
/// updates move anti-aliasing by a level or two; a wrong font, a tofu box or a lost stroke changes far more).
///
/// To regenerate after an intended change: `RENDC_UPDATE_GOLDENS=1 swift test --filter CaptionTextTests.GoldenTests`,
/// then look at every PNG before committing it.
@Suite struct GoldenTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var text: String
        var style: TextStyle
        var width: Int
        var height: Int
        var description: String { name }
    }

    static let cases: [Case] = {
        var boxed = TextStyle(minSize: 36)
        boxed.background = CaptionBackground(color: Color(r: 0, g: 0, b: 0, a: 160), padding: 20, radius: 24)
        var shadowed = TextStyle(
            size: 56, minSize: 30, color: Color(r: 255, g: 215, b: 0), stroke: Stroke(color: Color(r: 40, g: 20, b: 0), width: 3))
        shadowed.shadow = Shadow(color: Color(r: 0, g: 0, b: 0, a: 200), offsetX: 3, offsetY: 5, blur: 8)
        shadowed.align = .left
        return [
            Case(name: "test-video", text: "✨ Test Video", style: TextStyle(minSize: 36), width: 1080, height: 200),
            Case(name: "mixed-scripts-box", text: "Nouveautés 👩‍💻👍🏽🇫🇷 مرحبا بكم שלום\n新品上市，限时优惠！", style: boxed, width: 1000, height: 200),
            Case(
                name: "wrap-shadow-left", text: "Summer sale: 50% off every bag 👜 until Sunday (while stocks last)", style: shadowed, width: 720,
                height: 240),
            Case(
                name: "ellipsis", text: String(repeating: "Free delivery on all orders over 30 €! ", count: 12), style: TextStyle(minSize: 36),
                width: 1080, height: 200),
        ]
    }()

    static var goldenDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")
    }

    /// Pixels whose channels differ by more than 48 (of 255), and the mean absolute channel difference.
    static func compare(_ a: RGBAImage, _ b: RGBAImage) -> (differingShare: Double, meanDifference: Double) {
        var differing = 0, total = 0
        for i in stride(from: 0, to: a.pixels.count, by: 4) {
            var worst = 0
            for c in 0..<4 {
                let d = abs(Int(a.pixels[i + c]) - Int(b.pixels[i + c]))
                total += d
                worst = max(worst, d)
            }
            if worst > 48 { differing += 1 }
        }
        let n = Double(a.pixels.count / 4)
        return (Double(differing) / n, Double(total) / Double(a.pixels.count))
    }

    /// Straight-alpha pixels with zero alpha carry no colour; compare them as transparent black.
    static func normalized(_ image: RGBAImage) -> RGBAImage {
        var out = image
        for i in stride(from: 0, to: out.pixels.count, by: 4) where out.pixels[i + 3] == 0 {
            out.pixels[i] = 0; out.pixels[i + 1] = 0; out.pixels[i + 2] = 0
        }
        return out
    }

    @Test(arguments: cases)
    func matchesGolden(_ c: Case) throws {
        let image = Self.normalized(try renderer.render(c.text, style: c.style, width: c.width, height: c.height))
        let path = Self.goldenDirectory.appendingPathComponent("\(c.name).png").path
        if ProcessInfo.processInfo.environment["RENDC_UPDATE_GOLDENS"] == "1" {
            try FileManager.default.createDirectory(at: Self.goldenDirectory, withIntermediateDirectories: true)
            // (ImageFile.writePNG's replace-in-place fails on Linux Foundation; write a fresh file.)
            try? FileManager.default.removeItem(atPath: path)
            try ImageFile.writePNG(image, to: path)
            return
        }
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("golden \(path) is missing: run with RENDC_UPDATE_GOLDENS=1 and review it")
            return
        }
        let golden = Self.normalized(try ImageFile.decode(path: path))
        #expect(golden.width == image.width && golden.height == image.height)
        guard golden.width == image.width, golden.height == image.height else { return }
        let (share, mean) = Self.compare(image, golden)
        let ok = share <= 0.003 && mean <= 1.0
        if !ok {
            let actual = FileManager.default.temporaryDirectory.appendingPathComponent("caption-\(c.name)-actual.png").path
            try? FileManager.default.removeItem(atPath: actual)
            try? ImageFile.writePNG(image, to: actual)
            Issue.record(
                "\(c.name): \(String(format: "%.3f", share * 100))% of pixels differ, mean difference \(String(format: "%.2f", mean)); actual image written to \(actual)"
            )
        }
    }

    @Test func comparisonDetectsRealChanges() throws {
        // The tolerance must not hide a missing stroke or a shifted line.
        let c = Self.cases[0]
        let base = Self.normalized(try renderer.render(c.text, style: c.style, width: c.width, height: c.height))
        var noStroke = c.style
        noStroke.stroke = nil
        let changed = Self.normalized(try renderer.render(c.text, style: noStroke, width: c.width, height: c.height))
        let d1 = Self.compare(base, changed)
        #expect(d1.differingShare > 0.003 || d1.meanDifference > 1.0, "stroke removal not detected: \(d1)")
        var moved = c.style
        moved.verticalAlign = .top
        let d2 = Self.compare(base, Self.normalized(try renderer.render(c.text, style: moved, width: c.width, height: c.height)))
        #expect(d2.differingShare > 0.003, "moved text not detected: \(d2)")
        #expect(Self.compare(base, base).differingShare == 0)
    }
}
