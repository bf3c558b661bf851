import Foundation
import Planner
import RenderPipeline
import RendcTestSupport
import Testing

/// Measured audio (issue 17): ffmpeg's CLI generates the inputs and checks the outputs (ebur128, volumedetect,
/// decoded samples); rendc renders through the same pipeline as `rendc render`, on a tiny canvas so the video
/// costs little.
@Suite(.serialized, .ownThreads) struct AudioTests {
    static let dir: URL = try! Fixtures.temporaryDirectory("rendc-audio")
    static func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// A 160x288 template with one picture layer and these `timing.audio` settings.
    static func template(_ name: String, audio: String = "") throws -> String {
        let p = path("\(name).yaml")
        let timing = audio.isEmpty ? "" : "timing:\n  audio: { \(audio) }\n"
        try
            "name: \(name)\ncanvas: { width: 160, height: 288, fps: 30 }\n\(timing)layers:\n  - type: color\n    color: \"#202020\"\n  - type: media\n"
            .write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }
    static let picture: String = {
        let p = path("red.png")
        try! ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", p])
        return p
    }()

    /// Audio from an `aevalsrc` expression.
    static func generate(_ name: String, _ expr: String, seconds: Double, rate: Int = 44100, channels: Int = 2) throws -> String {
        let p = path(name)
        try ffmpeg(["-f", "lavfi", "-i", "aevalsrc='\(expr)':d=\(seconds):s=\(rate)", "-ac", "\(channels)", p])
        return p
    }

    struct ToolError: Error, CustomStringConvertible { var description: String }

    @discardableResult
    static func ffmpeg(_ args: [String]) throws -> String {
        let result = try Subprocess.run("/usr/bin/ffmpeg", ["-hide_banner", "-nostats", "-y"] + args)
        let text = result.errors
        guard result.status == 0 else { throw ToolError(description: "ffmpeg \(args.joined(separator: " ")) failed: \(text.suffix(400))") }
        return text
    }

    /// ffmpeg's ebur128 summary of a file: integrated loudness (LUFS) and true peak (dBTP).
    static func ebur128(_ file: String) throws -> (integrated: Double, truePeak: Double) {
        let text = try ffmpeg(["-i", file, "-vn", "-af", "ebur128=peak=true", "-f", "null", "-"])
        let summary = try #require(text.components(separatedBy: "Summary:").last)
        func value(_ key: String) throws -> Double {
            let line = try #require(summary.components(separatedBy: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key) })
            return try #require(Double(line.components(separatedBy: ":")[1].trimmingCharacters(in: .whitespaces).components(separatedBy: " ")[0]))
        }
        return (try value("I:"), try value("Peak:"))
    }

    /// Mean level (dB) of `seconds` of a file from `start`, after an optional filter (volumedetect).
    static func meanVolume(_ file: String, from start: Double, seconds: Double, filter: String = "anull") throws -> Double {
        let text = try ffmpeg(["-ss", "\(start)", "-t", "\(seconds)", "-i", file, "-vn", "-af", "\(filter),volumedetect", "-f", "null", "-"])
        let line = try #require(text.components(separatedBy: "\n").first { $0.contains("mean_volume:") })
        return try #require(
            Double(line.components(separatedBy: "mean_volume:")[1].trimmingCharacters(in: .whitespaces).components(separatedBy: " ")[0]))
    }

    /// The audio of a file as mono 8 kHz samples.
    static func samples(_ file: String) throws -> [Float] {
        let raw = path("samples.f32")
        try ffmpeg(["-i", file, "-vn", "-ac", "1", "-ar", "8000", "-f", "f32le", raw])
        let data = try Data(contentsOf: URL(fileURLWithPath: raw))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func render(_ template: String, audio: String?, voice: String? = nil, seconds: Double, output: String) throws -> RenderResult {
        try RenderFixture.pipeline.render(
            RenderRequest(
                template: template, images: [Self.picture], audio: audio, duration: seconds, output: Self.path(output), voice: voice))
    }

    @Test func quietAndLoudInputsComeOutAtMinus14LUFS() throws {
        let t = try Self.template("loud")
        // A soft pad with light ticks 40 dB down, and a hard, nearly full-scale drum loop.
        let quiet = try Self.generate("quiet.wav", "0.01*sin(2*PI*220*t)+0.008*sin(2*PI*1000*t)*exp(-40*mod(t,0.5))", seconds: 5)
        let loud = try Self.generate("loud.wav", "0.9*sin(2*PI*110*t)*exp(-8*mod(t,0.5))+0.3*sin(2*PI*440*t)", seconds: 5)
        for (input, name) in [(quiet, "quiet.mp4"), (loud, "loud.mp4")] {
            let before = try Self.ebur128(input)
            let result = try render(t, audio: input, seconds: 4, output: name)
            let after = try Self.ebur128(Self.path(name))
            #expect(abs(after.integrated + 14) <= 1, "\(name): \(after.integrated) LUFS (input \(before.integrated) LUFS)")
            #expect(after.truePeak <= -1, "\(name): true peak \(after.truePeak) dBTP")
            // The measured figures are the result's: the input's (within 1 LU of ffmpeg's reading of the file; the
            // mix is 4 s of it with a fade) and the output's (within 1 LU of the file written).
            let i = try #require(result.loudnessIn), o = try #require(result.loudnessOut)
            #expect(abs(i.integrated - before.integrated) < 1.5, "\(name): measured in \(i.integrated), ffmpeg \(before.integrated)")
            #expect(abs(o.integrated - after.integrated) < 1, "\(name): measured out \(o.integrated), ffmpeg \(after.integrated)")
        }
        let q = try Self.ebur128(quiet).integrated, l = try Self.ebur128(loud).integrated
        #expect(q < -35 && l > -13, "inputs at \(q) and \(l) LUFS")
    }

    @Test func aShortTrackLoopsOnTheBeatToTheEnd() throws {
        // Clicks every 0.5 s (120 BPM) for 4 s; the video is 12 s.
        let track = try Self.generate("clicks.wav", "0.8*sin(2*PI*80*t)*exp(-25*mod(t,0.5))+0.05*sin(2*PI*330*t)", seconds: 4)
        let looped = try render(try Self.template("loop"), audio: track, seconds: 12, output: "loop.mp4")
        let once = try render(try Self.template("once", audio: "loop: false, fade_out: 0"), audio: track, seconds: 12, output: "once.mp4")
        #expect(looped.duration == 12 && once.duration == 12)
        // Music in the last 2 s with the loop; silence without it (the contrast shows the loop is what fills it).
        let lastWithLoop = try Self.meanVolume(Self.path("loop.mp4"), from: 10, seconds: 2)
        let lastWithout = try Self.meanVolume(Self.path("once.mp4"), from: 10, seconds: 2)
        #expect(lastWithLoop > -35 && lastWithout < -70, "last 2 s: \(lastWithLoop) dB looped, \(lastWithout) dB once")

        // Every click of the output sits on the grid the first 2 s set up, within 20 ms, across every seam.
        let plan = try RenderFixture.pipeline.plan(
            RenderRequest(template: try Self.template("loop"), images: [Self.picture], audio: track, duration: 12, output: "x.mp4"))
        let seams = try #require(plan.audio?.segments.dropFirst().map(\.outputStart))
        #expect(seams.count >= 3)
        let x = try Self.samples(Self.path("loop.mp4"))
        let peak = x.map(abs).max() ?? 0
        var clicks: [Double] = []
        var lastLoud = -10_000
        for (i, v) in x.enumerated() where abs(v) > 0.3 * peak {
            if i - lastLoud > 2000 { clicks.append(Double(i) / 8000) }
            lastLoud = i
        }
        let early = clicks.filter { $0 < seams[0] - 0.1 }
        #expect(early.count >= 3)
        let t0 = early.enumerated().map { $0.element - Double($0.offset) * 0.5 }.reduce(0, +) / Double(early.count)
        let slots = Set(clicks.map { Int((($0 - t0) / 0.5).rounded()) })
        #expect(slots.count == clicks.count, "two clicks on one beat: \(clicks)")
        #expect(clicks.filter { $0 > seams.last! }.count >= 1 && clicks.count >= 22, "clicks: \(clicks)")
        let worst = clicks.map { c in abs(c - (t0 + ((c - t0) / 0.5).rounded() * 0.5)) }.max() ?? 1
        #expect(worst <= 0.020, "a click is \(worst * 1000) ms off the continued grid; clicks \(clicks), seams \(seams)")
        // And the cuts after the first seam land on beats.
        let cuts = try #require(plan.images?.shots).compactMap { $0.beat }.filter { $0 > seams[0] }
        #expect(!cuts.isEmpty)
        for c in cuts { #expect(abs(c - (t0 + ((c - t0) / 0.5).rounded() * 0.5)) < 0.035, "cut on \(c) is off the beat") }
    }

    @Test func autoStartsInTheDrumsAfterADrumlessIntro() throws {
        // 20 s of a held chord, then the chord with a kick every 0.5 s for 12 s.
        let track = try Self.generate(
            "intro.wav", "0.15*sin(2*PI*220*t)+0.1*sin(2*PI*277*t)+if(gte(t,20),0.8*sin(2*PI*60*t)*exp(-20*mod(t,0.5)),0)", seconds: 32, rate: 22050,
            channels: 1)
        let plan = try RenderFixture.pipeline.plan(
            RenderRequest(template: try Self.template("auto"), images: [Self.picture], audio: track, duration: 8, output: "x.mp4"))
        let a = try #require(plan.audio)
        #expect(a.start >= 19.9 && a.start + 8 <= 32.01, "auto start \(a.start): \(a.startReason)")
        #expect(a.fadeIn > 0 && plan.summary.contains("audio: intro.wav from"))
        // The cuts follow the window: on the kicks (every 0.5 s from 20 s in the track, so on the half second here).
        let beats = try #require(plan.images?.shots).compactMap { $0.beat }
        #expect(!beats.isEmpty)
        for b in beats { #expect(abs((b + a.start - 20) * 2 - ((b + a.start - 20) * 2).rounded()) < 0.1, "cut on \(b) is not on a kick") }
    }

    @Test func musicDucksUnderTheVoiceAndComesBack() throws {
        // Music below 300 Hz; a "voice" of 1 kHz bursts at 1–3 s, so a low-pass hears only the music.
        let music = try Self.generate("bed.wav", "0.3*sin(2*PI*110*t)+0.2*sin(2*PI*165*t)", seconds: 12)
        let voice = try Self.generate(
            "voice.wav", "if(between(t,1,3),0.3*sin(2*PI*1000*t)*(0.6+0.4*sin(2*PI*5*t)),0)", seconds: 4, rate: 16000, channels: 1)
        let t = try Self.template("duck", audio: "loudness: off, fade_out: 0, voice: { start: 0.5, duck_db: 10 }")
        _ = try render(t, audio: music, voice: voice, seconds: 6, output: "voiced.mp4")
        _ = try render(t, audio: music, seconds: 6, output: "plain.mp4")
        let lowpass = "lowpass=f=300,lowpass=f=300"
        func level(_ f: String, _ from: Double, _ s: Double) throws -> Double {
            try Self.meanVolume(Self.path(f), from: from, seconds: s, filter: lowpass)
        }
        // Speech is at 1.5–3.5 s of the video.
        let under = try level("voiced.mp4", 2, 1), without = try level("plain.mp4", 2, 1)
        #expect(without - under >= 8, "music under the voice \(under) dB, without \(without) dB")
        // Back within 0.5 s after the speech ends.
        let after = try level("voiced.mp4", 4.0, 1), afterPlain = try level("plain.mp4", 4.0, 1)
        #expect(abs(after - afterPlain) < 1, "0.5 s after the voice: \(after) dB vs \(afterPlain) dB")
        // The voice is in the mix.
        let voiceBand = try Self.meanVolume(Self.path("voiced.mp4"), from: 2, seconds: 1, filter: "highpass=f=700,highpass=f=700")
        let noVoiceBand = try Self.meanVolume(Self.path("plain.mp4"), from: 2, seconds: 1, filter: "highpass=f=700,highpass=f=700")
        #expect(voiceBand - noVoiceBand > 20, "voice band \(voiceBand) dB vs \(noVoiceBand) dB")
    }
}
