import Foundation
import Planner
import SpecLang
import Testing

/// Highlight, loop, ducking and loudness decisions, without FFmpeg: synthetic beats and level profiles.
@Suite struct AudioPlanTests {
    let template = try! TemplateParser.parse(
        yaml: """
            name: t
            canvas: { width: 160, height: 288 }
            layers:
              - type: media
            """)
    /// Beats every 0.5 s from `from` to `to` (120 BPM).
    func beats(_ from: Double, _ to: Double) -> BeatTimes {
        BeatTimes(times: Array(stride(from: from, to: to, by: 0.5)), tempo: 120, confidence: 0.9)
    }
    /// A level profile: a quiet pad until `drumsAt`, then loud hits every 0.5 s.
    func profile(length: Double, drumsAt: Double) -> AudioProfile {
        let rate = 50.0
        var level = [Float](repeating: -30, count: Int(length * rate))
        var onset = [Float](repeating: 0, count: level.count)
        for i in level.indices where Double(i) / rate >= drumsAt {
            let phase = (Double(i) / rate).truncatingRemainder(dividingBy: 0.5)
            level[i] = phase < 0.1 ? -8 : -20
            if phase < 0.02 { onset[i] = 12 }
        }
        return AudioProfile(frameRate: rate, level: level, onset: onset)
    }

    @Test func autoStartsOnABarInTheDrumsAndFadesIn() throws {
        let track = AudioInput(path: "/in/song.wav", duration: 40, profile: profile(length: 40, drumsAt: 20))
        let p = try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 8, beats: beats(0, 40)))
        let a = try #require(p.audio)
        #expect(a.start >= 20 && a.start + 8 <= 40, "start \(a.start)")
        #expect(Int((a.start * 2).rounded()) % 4 == 0, "start \(a.start) is not on a bar line")
        #expect(a.fadeIn > 0 && a.startReason.hasPrefix("auto, on bar"))
        #expect(p.summary.contains(String(format: "audio: song.wav from %.3f s (auto, on bar", a.start)))
        // The beat grid follows the window: cuts land on beats of the window, moved to video time.
        let cutBeats = p.images!.shots.compactMap(\.beat)
        #expect(!cutBeats.isEmpty && cutBeats.allSatisfy { abs(($0 * 2).rounded() / 2 - $0) < 1e-6 })
        // A fixed start is kept, and a track no longer than the video starts at 0 s.
        var fixed = template
        fixed.timing.audio.start = .seconds(5)
        #expect(try plan(fixed, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 8, beats: beats(0, 40))).audio?.start == 5)
        #expect(try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 40, beats: beats(0, 40))).audio?.start == 0)
    }

    @Test func aShortTrackLoopsOnTheBarAndTheGridRunsOn() throws {
        let track = AudioInput(path: "/in/loop.wav", duration: 4.2)
        let p = try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 12, beats: beats(0.25, 4.2)))
        let a = try #require(p.audio)
        #expect(a.segments.count >= 3)
        for (x, y) in zip(a.segments, a.segments.dropFirst()) {
            #expect(abs(y.outputStart - (x.outputStart + x.length)) < 1e-9)
            #expect(abs(y.length.truncatingRemainder(dividingBy: 2)) < 1e-6, "loop of \(y.length) s is not whole bars")
        }
        // Every cut on a beat lands on the continued 120 BPM grid (0.25 + k/2), seams included.
        let cuts = p.images!.shots.compactMap(\.beat)
        #expect(cuts.contains { $0 > a.segments[1].outputStart })
        for c in cuts { #expect(abs(((c - 0.25) * 2).rounded() / 2 + 0.25 - c) < 0.001, "cut on \(c) is off the grid") }
        // The graph reads, trims and crossfades the pieces (≤ 100 ms), and says so.
        let g = p.audioGraph.text
        #expect(!g.contains("asplit") && g.contains("acrossfade=d=0.080"))
        // One input per loop piece (an asplit would buffer a decoded copy of the track until the crossfade reads it).
        #expect(p.audioGraphInputs(firstIndex: 0).count == a.segments.count && p.audioGraph.inputs.count == a.segments.count)
        #expect(p.notes.contains { $0.hasPrefix("the track loops on the bar") })
        // loop: false pads with silence instead.
        var once = template
        once.timing.audio.loop = false
        let q = try plan(once, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 12, beats: beats(0.25, 4.2)))
        #expect(q.audio?.segments.count == 1 && !q.audioGraph.text.contains("acrossfade"))
        #expect(q.notes.contains { $0.contains("silence fills the last") })
    }

    @Test func voiceDucksTheMusicInTheSameGraph() throws {
        let voice = VoiceInput(path: "/in/voice.wav", duration: 5, speech: [1...3])
        var t = template
        t.timing.audio.voice = VoiceRule(start: 0.5, volume: 1, duckDB: 10)
        let p = try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: AudioInput(path: "/in/m.wav", duration: 30), duration: 8, voice: voice))
        let v = try #require(p.audio?.voice)
        #expect(v.speech == [1.5...3.5])
        let g = p.audioGraph
        #expect(g.inputs.map(\.path) == ["/in/m.wav", "/in/voice.wav"])
        #expect(g.text.contains("adelay=delays=500:all=1") && g.text.contains("amix=inputs=2:duration=first:normalize=0"))
        // The envelope: down 10 dB (gain 0.316) from 0.1 s before speech, back up over 0.3 s after it.
        #expect(g.text.contains("volume=volume=1-0.6838*min(1\\,clip((t-1.400)/0.100\\,0\\,1)*clip((3.800-t)/0.300\\,0\\,1)):eval=frame"))
        #expect(p.summary.contains("voice-over: voice.wav from 0.50 s, volume 1.00; music 10 dB down under 1 speech span(s)"))
        // File names are inputs of the graph, never text in it.
        let hostile = VoiceInput(path: "/in/v o:i'c;e[0].wav", duration: 5, speech: [1...3])
        let h = try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: AudioInput(path: "/in/m,u[s]ic.wav", duration: 30), duration: 8, voice: hostile))
            .audioGraph
        #expect(!h.text.contains("/in/") && h.inputs.map(\.path) == ["/in/m,u[s]ic.wav", "/in/v o:i'c;e[0].wav"])
        // A voice without music still plays.
        let alone = try plan(t, PlanInputs(images: ["/in/a.jpg"], duration: 8, voice: voice))
        #expect(alone.audioGraph.inputs.map(\.path) == ["/in/voice.wav"] && alone.audioGraph.text.contains("anullsrc"))
    }

    /// audio13 L2: a 20 Hz high-pass on each piece and on the voice before any cut, and a 15 ms fade wherever the
    /// music starts or stops (the video's end with `fade_out: 0`, the track's end when silence fills the rest) or the
    /// video's end cuts the voice; none of it with `declick` off.
    @Test func cutsAreDeclickedAndTheDCIsRemoved() throws {
        var t = template
        t.timing.audio.fadeOut = 0
        t.timing.audio.voice = VoiceRule(start: 0.5, volume: 1, duckDB: 10)
        let voice = VoiceInput(path: "/in/voice.wav", duration: 10, speech: [1...3])
        var p = try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: AudioInput(path: "/in/m.wav", duration: 30), duration: 8, voice: voice))
        var g = p.audioGraph.text
        #expect(g.components(separatedBy: "highpass=f=20.000:p=2").count == 3, "\(g)")
        #expect(g.components(separatedBy: "afade=t=in:st=0:d=0.015").count == 3, "\(g)")
        #expect(g.components(separatedBy: "afade=t=out:st=7.985:d=0.015").count == 3, "\(g)")
        p.audio?.declick = false
        g = p.audioGraph.text
        #expect(!g.contains("highpass") && !g.contains("afade"), "\(g)")
        // A track that runs out before the video fades out at its own end; the video's end is silence.
        var once = template
        once.timing.audio.loop = false
        once.timing.audio.fadeOut = 0
        let q = try plan(once, PlanInputs(images: ["/in/a.jpg"], audio: AudioInput(path: "/in/short.wav", duration: 4.2), duration: 12))
        #expect(q.audioGraph.text.contains("afade=t=out:st=4.185:d=0.015"), "\(q.audioGraph.text)")
        // Each input's read span covers its trim: the loop's pieces, with a second before and half a second after.
        let loop = try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: AudioInput(path: "/in/loop.wav", duration: 4.2), duration: 12))
        let segments = try #require(loop.audio?.segments)
        let reads = loop.audioInputReads
        #expect(reads.count == segments.count && reads.count == loop.audioGraphInputs(firstIndex: 0).count)
        for (r, s) in zip(reads, segments) {
            let r = try #require(r)
            #expect(r.lowerBound <= max(0, s.trackStart - 1) + 1e-9 && r.upperBound >= s.trackEnd + 0.5, "\(r) for \(s)")
        }
    }

    @Test func loudnessGainAndLimiterOnlyOnceMeasured() throws {
        var p = try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: AudioInput(path: "/in/m.wav", duration: 30), duration: 8))
        #expect(p.audio?.loudness?.target == -14 && !p.audioGraph.text.contains("alimiter"))
        #expect(p.audioGraphText(stage: .measure).contains("ebur128=metadata=1:peak=true"))
        p.audio?.loudness?.input = LoudnessMeasurement(integrated: -30, truePeak: -12, range: 3)
        p.audio?.loudness?.gain = 16.4
        p.audio?.loudness?.predicted = LoudnessMeasurement(integrated: -14.1, truePeak: -2, range: 3)
        #expect(p.audioGraph.text.contains("volume=volume=16.40dB[a11];[a11]alimiter=limit=0.708:attack=1:release=50:level=false:latency=true"))
        #expect(
            p.summary.contains(
                "loudness: target -14.0 LUFS, true peak ≤ -1.0 dBTP; measured input -30.0 LUFS (true peak -12.0 dBTP, range 3.0 LU); gain +16.40 dB and a limiter at -3.0 dBFS: -14.1 LUFS (true peak -2.0 dBTP)"
            ))
        var off = template
        off.timing.audio.loudness = nil
        #expect(
            try plan(off, PlanInputs(images: ["/in/a.jpg"], audio: AudioInput(path: "/in/m.wav", duration: 30), duration: 8)).audio?.loudness == nil)
    }
}
