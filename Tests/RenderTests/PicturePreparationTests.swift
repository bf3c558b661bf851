import FilterGraphBackend
import Foundation
import Planner
import RasterImage
import RendcTestSupport
import SpecLang
import Testing

/// Pictures are converted straight from the decoder's pixels to their pre-scaled crop (no full-size RGBA copy of a
/// big photo): the same picture as converting the whole of it first, for every EXIF orientation, with a panned cover
/// crop and a contained picture.
@Suite struct PicturePreparationTests {
    /// 320x240, every region different: quadrant colours and gradients, so a wrong flip or turn shows.
    static func pattern() -> RGBAImage {
        var img = RGBAImage(width: 320, height: 240)
        for y in 0..<240 {
            for x in 0..<320 {
                let i = (y * 320 + x) * 4
                img.pixels[i] = UInt8(x < 160 ? 40 + x / 2 : 230)
                img.pixels[i + 1] = UInt8(y < 120 ? 30 + y : 210 - y / 4)
                img.pixels[i + 2] = UInt8((x + 2 * y) % 256)
                img.pixels[i + 3] = 255
            }
        }
        return img
    }

    /// The JPEG with an APP1/Exif segment carrying `orientation`, right after its SOI.
    static func jpeg(orientation: Int, at path: String) throws {
        try ImageFile.writeJPEG(pattern(), to: path, quality: 2)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, UInt8(orientation), 0, 0, 0, 0, 0, 0, 0, 0]
        let app1: [UInt8] = [0xFF, 0xE1, 0, UInt8(2 + 6 + tiff.count)] + Array("Exif".utf8) + [0, 0] + tiff
        bytes.insert(contentsOf: app1, at: 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// PSNR of `a` against `b`, both mapped to the original picture through their crops (nearest sample).
    static func psnr(_ a: PreparedImage.RGBA, _ b: PreparedImage.RGBA) -> Double {
        var se = 0.0, n = 0
        for y in 0..<a.picture.height {
            for x in 0..<a.picture.width {
                let ox = a.crop.x + (Double(x) + 0.5) * a.crop.w / Double(a.picture.width)
                let oy = a.crop.y + (Double(y) + 0.5) * a.crop.h / Double(a.picture.height)
                let bx = Int(((ox - b.crop.x) * Double(b.picture.width) / b.crop.w).rounded(.down))
                let by = Int(((oy - b.crop.y) * Double(b.picture.height) / b.crop.h).rounded(.down))
                // Away from the edges, where both resamplers see the whole kernel.
                guard bx >= 2, by >= 2, bx < b.picture.width - 2, by < b.picture.height - 2, x >= 2, y >= 2, x < a.picture.width - 2,
                    y < a.picture.height - 2
                else { continue }
                let p = a.picture[x, y], q = b.picture[bx, by]
                for (u, v) in [(p.r, q.r), (p.g, q.g), (p.b, q.b)] { se += pow(Double(u) - Double(v), 2) }
                n += 3
            }
        }
        return n == 0 ? 0 : 10 * log10(255 * 255 / max(se / Double(n), 1e-9))
    }

    @Test(arguments: 1...8) func theDirectConversionShowsWhatTheFullSizeOneShows(orientation: Int) throws {
        let dir = try Fixtures.temporaryDirectory("rendc-pictures")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("photo.jpg").path
        try Self.jpeg(orientation: orientation, at: path)
        let pan = Motion(zoomFrom: 1, zoomTo: 1.05, panFrom: UnitPoint(x: 0.2, y: 0.3), panTo: UnitPoint(x: 0.7, y: 0.6), easing: .linear)
        let cases: [(Fit, Rect, [Motion])] = [
            (.cover, Rect(x: 0, y: 0, width: 90, height: 160), [pan]), (.contain, Rect(x: 0, y: 0, width: 150, height: 100), [.still]),
        ]
        for (fit, window, motions) in cases {
            let direct = try PreparedImage.prepareRGBA(path: path, window: window, fit: fit, motions: motions, adjust: Adjustments(), blurFill: false)
            let whole = try PreparedImage.prepareRGBA(
                path: path, window: window, fit: fit, motions: motions, adjust: Adjustments(), blurFill: false, direct: false)
            // As displayed: turned pictures (5 to 8) are portrait.
            let portrait = orientation >= 5
            #expect(direct.originalSize.w == whole.originalSize.w && direct.originalSize.h == whole.originalSize.h)
            #expect((direct.originalSize.w < direct.originalSize.h) == portrait)
            // The crops agree to the chroma alignment (a pixel or two) and the pictures to their scale.
            #expect(abs(direct.crop.x - whole.crop.x) <= 2 && abs(direct.crop.y - whole.crop.y) <= 2)
            #expect(abs(direct.crop.w - whole.crop.w) <= 2 && abs(direct.crop.h - whole.crop.h) <= 2)
            #expect(abs(direct.picture.width - whole.picture.width) <= 2 && abs(direct.picture.height - whole.picture.height) <= 2)
            // A wrong turn or flip scores about 10-15 dB here.
            let score = Self.psnr(direct, whole)
            #expect(score > 30, "orientation \(orientation), \(fit): \(score) dB")
        }
    }
}
