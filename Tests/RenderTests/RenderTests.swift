import FilterGraphBackend
import Foundation
import RasterImage
import Logging
import Planner
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// Shared fixtures: a pipeline over the built-in specs and generated assets in a temporary folder.
enum RenderFixture {
    static let root: URL = try! Fixtures.temporaryDirectory("rendc-render")
    static let pipeline = RenderPipeline(
        configuration: PipelineConfiguration(
            templateDirectories: [Fixtures.packageRoot.appendingPathComponent("Tests/RenderTests/Templates").path, Fixtures.specsDirectory.path],
            assetsDirectory: root.appendingPathComponent("assets").path, temporaryDirectory: root.path, maxDuration: 60
        ), logger: Logger(label: "test"))
    static let images: [String] = try! pipeline.assets.demoImages()
    static let track: String = try! pipeline.assets.path(for: "demo-track")!
    static func out(_ name: String) -> String { root.appendingPathComponent(name).path }
}

@Suite(.serialized, .ownThreads) struct RenderTests {
    @Test func goldenFrameRendersAPlayableVideoAndThumbnail() throws {
        // Its own folder: other suites render beside RenderFixture.root at the same time, and their partial files are theirs.
        let dir = try Fixtures.temporaryDirectory("rendc-golden")
        let out = dir.appendingPathComponent("golden.mp4").path, thumb = dir.appendingPathComponent("golden.jpg").path
        let result = try RenderFixture.pipeline.render(
            RenderRequest(
                template: "golden-frame", images: RenderFixture.images, audio: RenderFixture.track, duration: 2.5, output: out, thumbnail: thumb))
        #expect(result.frameCount == 75)
        let info = try FFprobe.probe(out)
        let v = try #require(info.video), a = try #require(info.audio)
        #expect(v.codecName == "h264" && v.width == 1080 && v.height == 1920 && v.pixelFormat == "yuv420p" && v.frameRate == "30/1")
        #expect(a.codecName == "aac" && a.sampleRate == 48000 && a.channels == 2)
        #expect(abs(info.duration - 2.5) < 0.1)
        #expect(try FFprobe.frameCount(out) == 75)
        #expect(try FFprobe.isFaststart(out))
        let t = try ImageFile.decode(path: thumb)
        #expect(t.width == 1080 && t.height == 1920)
        // Gold border on every edge.
        for (x, y) in [(4, 960), (1075, 960), (540, 4), (540, 1915)] {
            #expect(close(t[x, y], RGBA(r: 0xD4, g: 0xAF, b: 0x37), 24), "pixel \(x),\(y) is \(t[x, y])")
        }
        // Left-over temporaries: none.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter {
            $0.contains("partial") || $0.hasSuffix(".tmp")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func templatesDifferWhereTheySay() throws {
        func edge(_ template: String) throws -> RGBA {
            let (img, _) = try RenderFixture.pipeline.still(
                RenderRequest(template: template, images: RenderFixture.images, duration: 2, output: "x.mp4"), at: 0.5)
            return img[4, 960]
        }
        #expect(close(try edge("silver-frame"), RGBA(r: 0xC0, g: 0xC0, b: 0xC0), 24))
        let bare = try edge("no-frame")
        #expect(Int(bare.r) + Int(bare.g) + Int(bare.b) < 200, "no-frame edge is \(bare)")
    }

    @Test func imagesAreNeverStretched() throws {
        // A circle in a wide picture must stay a circle in the tall window (cover crops, never distorts).
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("circle.png").path
        var img = RGBAImage(width: 1600, height: 900)
        for y in 0..<900 {
            for x in 0..<1600 {
                let d = Double((x - 800) * (x - 800) + (y - 450) * (y - 450)).squareRoot()
                img[x, y] = d < 150 ? RGBA(r: 255, g: 0, b: 0) : RGBA(r: 255, g: 255, b: 255)
            }
        }
        try ImageFile.writePNG(img, to: path)
        let req = RenderRequest(template: "no-frame", images: [path], duration: 1, quality: .freeze, output: "x.mp4")
        let (frame, plan) = try RenderFixture.pipeline.still(req, at: 0.5)
        let window = try #require(plan.images?.window)
        var minX = Int.max, maxX = 0, minY = Int.max, maxY = 0
        for y in window.y..<(window.y + window.height) {
            for x in window.x..<(window.x + window.width) {
                let p = frame[x, y]
                if p.r > 180 && p.g < 90 && p.b < 90 { minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y) }
            }
        }
        let w = Double(maxX - minX + 1), h = Double(maxY - minY + 1)
        #expect(abs(w / h - 1) < 0.03, "circle is \(w)x\(h)")
        // Cover: scale = 1600/900 (window height / picture height) -> diameter 300 * 1600/900.
        #expect(abs(h - 300 * 1600.0 / 900) < 8)
    }

    @Test func ecoAndFreezeModes() throws {
        let out = RenderFixture.out("eco.mp4")
        _ = try RenderFixture.pipeline.render(
            RenderRequest(template: "golden-frame", images: RenderFixture.images, duration: 1, quality: .eco, output: out))
        let v = try #require(try FFprobe.probe(out).video)
        #expect(v.width == 720 && v.height == 1280)
        // Freeze: consecutive frames inside a shot are identical.
        let req = RenderRequest(template: "golden-frame", images: RenderFixture.images, duration: 2, quality: .freeze, output: "x.mp4")
        let plan = try RenderFixture.pipeline.plan(req)
        let r = try RenderFixture.pipeline.prepare(plan)
        #expect(try r.still(frame: 3) == r.still(frame: 40))
        let moving = try RenderFixture.pipeline.prepare(
            try RenderFixture.pipeline.plan(RenderRequest(template: "golden-frame", images: RenderFixture.images, duration: 2, output: "x.mp4")))
        #expect(try moving.still(frame: 3) != moving.still(frame: 40))
    }

    /// The template list (GET /api/v1/templates, `rendc templates`) parses as loading does: a template naming a font
    /// family that is not installed (refused at load, at its line) is not listed; the same file with an installed
    /// family is.
    @Test func theTemplateListLeavesOutWhatNoJobCouldLoad() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-template-list")
        let yaml = { (family: String) in
            "version: 2\nname: NAME\nlayers:\n  - type: text\n    text: Hi\n    font: { family: \"\(family)\" }\n"
        }
        try yaml("Noto Serif Display").replacingOccurrences(of: "NAME", with: "installed-font").write(
            to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try yaml("Helvetica Neue").replacingOccurrences(of: "NAME", with: "missing-font").write(
            to: dir.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let pipeline = RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [dir.path], assetsDirectory: RenderFixture.root.appendingPathComponent("assets").path,
                temporaryDirectory: dir.path, maxDuration: 60), logger: Logger(label: "test"))
        #expect(try pipeline.templates().map(\.name) == ["installed-font"])
        #expect(throws: (any Error).self) { try pipeline.loadTemplate("missing-font") }
        #expect(throws: PipelineError(.template, "no template named 'story' (installed: installed-font)")) { try pipeline.loadTemplate("story") }
        // With no templates at all (a binary copied away from its checkout), the message says how to give some, and
        // names no folder (a job's error reaches its tenant).
        let empty = RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [dir.appendingPathComponent("none").path],
                assetsDirectory: RenderFixture.root.appendingPathComponent("assets").path,
                temporaryDirectory: dir.path, maxDuration: 60), logger: Logger(label: "test"))
        do {
            _ = try empty.loadTemplate("story")
            Issue.record("a missing template loaded")
        } catch let e as PipelineError {
            #expect(e.description.contains("no templates are installed (set RENDC_SPECS_DIR") && !e.description.contains(dir.path), "\(e)")
        }
    }

    @Test func aFourthTemplateIsOnlyAYAMLFile() throws {
        // Tests/RenderTests/Templates/png-frame-bottom.yaml: a PNG frame and the caption at the bottom.
        let names = try RenderFixture.pipeline.templates().map(\.name)
        #expect(names.contains("png-frame-bottom") && names.contains("golden-frame"))
        let (img, plan) = try RenderFixture.pipeline.still(
            RenderRequest(template: "png-frame-bottom", images: RenderFixture.images, duration: 2, output: "x.mp4"), at: 0.5)
        #expect(
            plan.layers.contains {
                $0.content
                    == .image(
                        PicturePlan(
                            source: MediaInput(
                                path: Fixtures.packageRoot.appendingPathComponent("Tests/RenderTests/Templates/frame-magenta.png").path), fit: .cover)
                    )
            })
        #expect(close(img[20, 20], RGBA(r: 255, g: 0, b: 255), 30), "corner is \(img[20, 20])")
        #expect(!close(img[540, 960], RGBA(r: 255, g: 0, b: 255), 60))
    }

    @Test func cutsLandWithinOneFrameOfTheTrackedBeats() throws {
        // The demo track is a synthesised 120 BPM groove: beats every 0.5 s from 0.
        let plan = try RenderFixture.pipeline.plan(
            RenderRequest(template: "golden-frame", images: RenderFixture.images, audio: RenderFixture.track, duration: 20, output: "x.mp4"))
        guard case .beats(let tempo, _) = plan.cutSource else { Issue.record("expected beat cuts, got \(plan.cutSource)"); return }
        #expect(abs(tempo - 120) < 1)
        let shots = try #require(plan.images?.shots)
        #expect(shots.count >= 5)
        for shot in shots.dropFirst() {
            let beat = try #require(shot.beat, "shot \(shot.index) is not on a beat")
            #expect(abs(Double(shot.startFrame) / 30 - beat) <= 1.0 / 30 + 1e-9)
            // And the tracked beat is within one frame of the true one.
            #expect(abs(beat - (beat * 2).rounded() / 2) <= 1.0 / 30, "beat \(beat) is off the 0.5 s grid")
        }
    }

    @Test func corruptInputsFailClearlyAndLeaveNothing() throws {
        let dir = try Fixtures.temporaryDirectory()
        let badImage = dir.appendingPathComponent("broken.jpg").path
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16] + Array(repeating: 0x41, count: 200)).write(to: URL(fileURLWithPath: badImage))
        let badAudio = dir.appendingPathComponent("noise.mp3").path
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: badAudio))
        let out = dir.appendingPathComponent("out.mp4").path
        for (images, audio, needle) in [
            ([badImage], nil as String?, "broken.jpg"), (RenderFixture.images, badAudio, "noise.mp3"),
            ([dir.appendingPathComponent("missing.png").path], nil, "missing.png"),
        ] {
            do {
                _ = try RenderFixture.pipeline.render(
                    RenderRequest(template: "golden-frame", images: images, audio: audio, duration: 1, output: out, thumbnail: out + ".jpg"))
                Issue.record("rendering \(needle) should fail")
            } catch let e as PipelineError {
                #expect(e.kind == .input, "\(e)")
                #expect(e.description.contains(needle), "\(e)")
            }
            #expect(!FileManager.default.fileExists(atPath: out))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains("partial") })
        }
    }

    @Test func cancellationLeavesNoOutput() throws {
        let out = RenderFixture.out("cancelled.mp4")
        let count = LockedBox(0)
        #expect(throws: PipelineError.cancelled) {
            try RenderFixture.pipeline.render(
                RenderRequest(template: "golden-frame", images: RenderFixture.images, duration: 5, output: out),
                shouldCancel: {
                    count.withLock {
                        $0 += 1; return $0
                    } > 10
                })
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test(arguments: ["webp", "bmp", "tiff", "gif"])
    func otherImageFormatsDecode(_ ext: String) throws {
        // Debian's ffmpeg CLI makes the fixture (a tool here, never the renderer).
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("picture.\(ext)").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-v", "error", "-y", "-i", RenderFixture.images[2], path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let img = try ImageFile.decode(path: path)
        let original = try ImageFile.decode(path: RenderFixture.images[2])
        #expect(img.width == original.width && img.height == original.height)
        // The middle pixel survives the round trip (GIF's palette and WebP's loss allow some drift).
        #expect(close(img[img.width / 2, img.height / 2], original[original.width / 2, original.height / 2], 40))
    }

    @Test func exifOrientationIsApplied() throws {
        // A minimal JPEG APP1/Exif header with orientation 6 (rotate 90° clockwise for display).
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]
        let app1: [UInt8] = [0xFF, 0xE1, 0, UInt8(2 + 6 + tiff.count)] + Array("Exif".utf8) + [0, 0] + tiff
        #expect(EXIFOrientation.parse([0xFF, 0xD8] + app1 + [0xFF, 0xDA, 0, 2]) == 6)
        let img = RGBAImage(width: 2, height: 1, pixels: [255, 0, 0, 255, 0, 0, 255, 255])
        let rotated = EXIFOrientation.apply(6, to: img)
        #expect(rotated.width == 1 && rotated.height == 2)
        #expect(rotated[0, 0] == RGBA(r: 255, g: 0, b: 0) && rotated[0, 1] == RGBA(r: 0, g: 0, b: 255))
    }
}

func close(_ a: RGBA, _ b: RGBA, _ tolerance: Int) -> Bool {
    abs(Int(a.r) - Int(b.r)) <= tolerance && abs(Int(a.g) - Int(b.g)) <= tolerance && abs(Int(a.b) - Int(b.b)) <= tolerance
}
