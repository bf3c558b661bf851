import FilterGraphBackend
import Foundation
import Planner
import RasterImage
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// Where the stock graph used to part from the fast engine (docs/ffmpeg-export.md), each on a sharp test
/// pattern (4 px checks, 1 px lines, a gradient across) where a whole-pixel or clamped placement shows: a slow
/// Ken Burns zoom, a pan beyond the zoom-1 view, a media layer's scale animation. Every frame of the libavfilter
/// engine's render must be within 30 dB luma PSNR of the fast engine's. Small canvas (360x640, 2 s), for CI.
@Suite(.serialized, .ownThreads) struct ExportFidelityTests {
    /// Checks of 4 px, 1 px lines every 13 px, and a gradient across so that every part of the picture differs.
    static func pattern(_ name: String, width: Int, height: Int) throws -> String {
        let path = RenderFixture.out(name)
        var img = RGBAImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                var v = ((x / 4) + (y / 4)) % 2 == 0 ? 200.0 : 40.0
                if x % 13 == 0 || y % 13 == 0 { v = 255 - v }
                v = v * 0.6 + 100 * Double(x) / Double(width)
                img[x, y] = RGBA(r: UInt8(v), g: UInt8(v * 0.7 + 60 * Double(y) / Double(height)), b: UInt8(255 - v))
            }
        }
        try ImageFile.writePNG(img, to: path)
        return path
    }

    /// A template of a dark canvas and one media layer (`media`: its YAML keys, indented by four spaces).
    static func template(_ name: String, media: String) throws -> String {
        let path = RenderFixture.out("\(name).yaml")
        let yaml = """
            name: \(name)
            version: 2
            canvas: { width: 360, height: 640, fps: 30 }
            timing:
              cut: { mode: interval, fallback_interval: 4, min_shot: 1, max_shot: 4 }
            layers:
              - type: color
                color: "#101010"
              - type: media
            \(media)
            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Renders with both engines and checks every frame.
    static func expectSameEveryFrame(_ name: String, template: String, image: String) throws {
        let pipeline = RenderFixture.pipeline
        func request(_ out: String) -> RenderRequest {
            RenderRequest(template: template, images: [image], duration: 2, quality: .normal, output: out)
        }
        let fast = RenderFixture.out("\(name)-fast.mp4"), lav = RenderFixture.out("\(name)-lavfi.mp4")
        let plan = try pipeline.plan(request(fast))
        _ = try pipeline.render(request(fast))
        _ = try pipeline.render(request(lav), engine: .libavfilter)
        let psnr = try EngineEquivalenceTests.lumaPSNR(fast, lav)
        #expect(psnr.count == plan.frameCount, "compared \(psnr.count) of \(plan.frameCount) frames")
        for (i, p) in psnr.enumerated() {
            #expect(
                p >= 30,
                "libavfilter differs from fast at \(EngineEquivalenceTests.describe(plan, frame: i)): luma PSNR \(String(format: "%.1f", p)) dB")
        }
    }

    /// A slow zoom (1.0 -> 1.05 over 2 s: a third of a pixel a frame at the edges) on a picture prepared 1:1.
    @Test func slowKenBurnsIsSubPixel() throws {
        let image = try Self.pattern("fidelity-zoom.png", width: 378, height: 672)
        let template = try Self.template(
            "fidelity-zoom",
            media: """
                    fit: cover
                    ken_burns: { start_zoom: 1.0, end_zoom: 1.05, easing: linear }
                """)
        try Self.expectSameEveryFrame("fidelity-zoom", template: template, image: image)
    }

    /// A wide picture panned from its left tenth to its right tenth: far beyond the zoom-1 view of its middle.
    @Test func panBeyondTheMiddleView() throws {
        let image = try Self.pattern("fidelity-pan.png", width: 1200, height: 672)
        let template = try Self.template(
            "fidelity-pan",
            media: """
                    fit: cover
                    ken_burns: { start_zoom: 1.0, end_zoom: 1.1, pan_from: [0.1, 0.4], pan_to: [0.9, 0.6], easing: ease_in_out }
                """)
        try Self.expectSameEveryFrame("fidelity-pan", template: template, image: image)
    }

    /// A media window that grows from half its size to 1.3 times about its centre, moving right as it does.
    @Test func mediaLayerScaleAnimation() throws {
        let image = try Self.pattern("fidelity-scale.png", width: 240, height: 420)
        let template = try Self.template(
            "fidelity-scale",
            media: """
                    x: center
                    y: center
                    width: 240
                    height: 420
                    fit: cover
                    ken_burns: false
                    animate:
                      - keyframes: [{ t: 0, scale: 0.5, x: 0 }, { t: 1.5, scale: 1.3, x: 30, easing: ease_in_out }]
                """)
        try Self.expectSameEveryFrame("fidelity-scale", template: template, image: image)
    }
}
