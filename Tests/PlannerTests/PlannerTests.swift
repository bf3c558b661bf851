import Foundation
import Planner
import RendcTestSupport
import SpecLang
import Testing

func builtin(_ name: String) throws -> Template {
    try TemplateParser.parse(file: Fixtures.specsDirectory.appendingPathComponent("\(name).yaml").path)
}

func plan(_ template: Template, _ inputs: PlanInputs) throws -> RenderPlan {
    try Planner.plan(template: template, inputs: inputs) { ref in "/assets/\(ref)" }
}

let threeImages = ["/in/a.jpg", "/in/b.png", "/in/c.webp"]

@Suite struct PlannerTests {
    @Test(arguments: ["golden-frame", "silver-frame", "no-frame"], QualityMode.allCases)
    func shotsCoverEveryFrameExactlyOnce(_ name: String, _ mode: QualityMode) throws {
        let p = try plan(try builtin(name), PlanInputs(images: threeImages, quality: mode))
        let shots = try #require(p.images?.shots)
        #expect(shots.first?.startFrame == 0)
        #expect(shots.last?.endFrame == p.frameCount)
        for (a, b) in zip(shots, shots.dropFirst()) { #expect(a.endFrame == b.startFrame) }
        #expect(shots.allSatisfy { $0.frameCount > 0 })
        #expect(shots.enumerated().allSatisfy { $0.element.image == $0.offset % 3 })
    }

    @Test func noAudioMeansThirtySecondsAndCutsEveryTwo() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages))
        #expect(p.duration == 30 && p.frameCount == 900)
        #expect(p.audio == nil)
        #expect(p.cutSource == .fallback(interval: 2, reason: "no audio"))
        #expect(p.images?.shots.map(\.startFrame) == Array(stride(from: 0, to: 900, by: 60)))
        #expect(p.thumbnailFrame == 30)
    }

    @Test func cutsLandOnBeatsWithinOneFrameAndHonourShotLimits() throws {
        let t = try builtin("golden-frame")
        let beats = (1..<80).map { Double($0) * 0.5 + 0.013 }  // 120 BPM, slightly off the frame grid
        let p = try plan(t, PlanInputs(images: threeImages, audio: AudioInput(path: "/in/song.mp3", duration: 40), duration: 20,
                                       beats: BeatTimes(times: beats, tempo: 120, confidence: 0.9)))
        guard case .beats(let tempo, _) = p.cutSource else { Issue.record("expected beat cuts, got \(p.cutSource)"); return }
        #expect(tempo == 120)
        let shots = try #require(p.images?.shots)
        for s in shots.dropFirst() {
            let beat = try #require(s.beat, "shot \(s.index) is not on a beat")
            #expect(abs(Double(s.startFrame) / 30 - beat) <= 1.0 / 30 + 1e-9)
        }
        for s in shots.dropLast() { #expect(s.duration >= t.timing.cut.minShot - 1.0 / 30 && s.duration <= t.timing.cut.maxShot + 1.0 / 30) }
        #expect(shots.last!.duration >= t.timing.cut.minShot - 1.0 / 30)
        #expect(shots.first!.duration >= t.timing.cut.minShot - 1.0 / 30)
    }

    @Test func longGapsBetweenBeatsGetAnExtraCut() {
        let rule = CutRule(minShot: 1.5, maxShot: 4, fallbackInterval: 2)
        let (cuts, _) = Planner.cutTimes(rule: rule, duration: 20, fps: 30, beats: BeatTimes(times: [2, 12, 14], tempo: 60, confidence: 0.8), hasAudio: true)
        #expect(cuts.map(\.time) == [2, 6, 10, 12, 14, 18])
        #expect(cuts.map { $0.beat != nil } == [true, false, false, true, true, false])
    }

    @Test func lowConfidenceBeatsFallBackAndSaySo() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, audio: AudioInput(path: "/s.mp3", duration: 60),
                                                                    beats: BeatTimes(times: [1, 2, 3], tempo: 60, confidence: 0.1)))
        guard case .fallback(let interval, let reason) = p.cutSource else { Issue.record("expected fallback"); return }
        #expect(interval == 2)
        #expect(reason.contains("confidence"))
    }

    @Test func audioShorterThanTheDefaultSetsTheLength() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, audio: AudioInput(path: "/s.mp3", duration: 12.5)))
        #expect(p.duration == 12.5 && p.frameCount == 375)
        #expect(p.audio?.fadeOut == 1.5)
    }

    @Test func ecoScalesEverythingByTwoThirds() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, text: "Hi", quality: .eco))
        #expect(p.width == 720 && p.height == 1280)
        #expect(p.images?.window == Rect(x: 60, y: 107, width: 600, height: 1066))
        #expect(p.caption?.box == Rect(x: 0, y: 67, width: 720, height: 134))
        #expect(p.caption?.style.size == 40)
        #expect(p.frame == .border(color: Color(hex: "#D4AF37")!, width: 7))
        #expect(p.encoder.preset == "veryfast")
    }

    @Test func freezeHasNoMotionAndAStillOverlay() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, quality: .freeze))
        #expect(p.images?.shots.allSatisfy { $0.motion.isStill } == true)
        #expect(p.overlay?.animated == false)
        let normal = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages))
        #expect(normal.images?.shots.allSatisfy { $0.motion.zoomFrom == 1 && $0.motion.zoomTo == 1.05 } == true)
        #expect(normal.overlay?.animated == true)
    }

    @Test func templateQualityOverridesWinOverTheBuiltInProfile() throws {
        var t = try builtin("golden-frame")
        let freeze = try plan(t, PlanInputs(images: threeImages, quality: .freeze))
        #expect(freeze.encoder.preset == "ultrafast" && freeze.encoder.gop == 300)
        #expect(try plan(t, PlanInputs(images: threeImages)).encoder.gop == 60)
        t.quality[.eco] = QualityOverride(scale: 0.5, preset: "superfast", crf: 30, overlay: false)
        let eco = try plan(t, PlanInputs(images: threeImages, quality: .eco))
        #expect(eco.width == 540 && eco.height == 960 && eco.encoder.preset == "superfast" && eco.encoder.crf == 30)
        #expect(eco.overlay == nil && eco.notes.contains("overlay video left out in eco mode"))
    }

    @Test func noFrameAlternatesZoomDirection() throws {
        let p = try plan(try builtin("no-frame"), PlanInputs(images: threeImages))
        let zooms = try #require(p.images?.shots.prefix(2).map { ($0.motion.zoomFrom, $0.motion.zoomTo) })
        #expect(zooms.map(\.0) == [1.0, 1.05] && zooms.map(\.1) == [1.05, 1.0])
        #expect(p.frame == nil)
    }

    @Test func inputLimits() throws {
        let t = try builtin("golden-frame")
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: [])) }
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: Array(repeating: "/a.jpg", count: 11))) }
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: threeImages, duration: 61)) }
        #expect(throws: PlanError.self) { try plan(t, PlanInputs(images: threeImages, text: String(repeating: "é", count: 501))) }
        #expect(throws: Never.self) { try plan(t, PlanInputs(images: threeImages, text: String(repeating: "👍🏽", count: 500))) }
    }

    @Test func userTextNeverEntersTheGraph() throws {
        let hostile = "'; drawtext=text=%{pts}:fontfile=/etc/passwd [out] \\ , ; \n 🎉"
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, audio: AudioInput(path: "/in/a b:c'd.mp3", duration: 30), text: hostile))
        let graph = p.filterGraph.description
        #expect(!graph.contains("passwd") && !graph.contains("%{pts}") && !graph.contains("🎉"))
        #expect(p.caption?.text == hostile)
        #expect(graph.contains("caption.rgba"))
        #expect(!p.audioFilterChain.contains("/in/"))
    }

    @Test func graphDescribesEveryLayer() throws {
        let p = try plan(try builtin("golden-frame"), PlanInputs(images: threeImages, text: "x"))
        let filters = p.filterGraph.video.map(\.filter)
        #expect(filters.first == "color" && filters.last == "format")
        #expect(filters.contains("rendc_kenburns") && filters.contains("drawbox") && filters.filter { $0 == "overlay" }.count == 2)
        #expect(p.filterGraph.description.contains("color=c=0x050505:s=1080x1920:r=30:d=30.000[bg]"))
        #expect(p.audioFilterChain == "anullsrc=r=48000:cl=stereo:d=30.000,aformat=sample_fmts=fltp:channel_layouts=stereo")
    }

    @Test func filterOptionEscaping() {
        #expect(FilterGraph.escape("plain") == "plain")
        #expect(FilterGraph.escape("a:b") == "a\\\\:b")
        #expect(FilterGraph.escape("it's") == "it\\\\\\'s")
        #expect(FilterGraph.escape("[x],y;") == "\\[x\\]\\,y\\;")
    }

    @Test func kenBurnsNeverExceedsItsRange() {
        let m = Motion(zoomFrom: 1, zoomTo: 1.05, panFrom: .center, panTo: UnitPoint(x: 0.4, y: 0.6), easing: .easeInOut)
        let zooms = stride(from: -0.5, through: 1.5, by: 0.05).map(m.zoom(at:))
        #expect(zooms.allSatisfy { $0 >= 1 && $0 <= 1.05 })
        #expect(zip(zooms, zooms.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(m.zoom(at: 0) == 1 && m.zoom(at: 1) == 1.05)
    }
}
