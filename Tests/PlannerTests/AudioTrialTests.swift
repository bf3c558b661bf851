import Foundation
import Planner
import SpecLang
import Testing

/// What an editor's trial of beat-synced promos found (trial15): a highlight in the track's silent tail, a drop's
/// hit faded away, a loop with the silent tail in it, a weak error for a start past the end, a garbled cut line.
@Suite struct AudioTrialTests {
    /// AudioPlanTests' one-media-layer template and its 120 BPM beats.
    let template = AudioPlanTests().template

    /// Drum hits every 0.5 s (level -8 dB on the hit, -20 between, onset 12 on the hit's frame) from 0 to `until`,
    /// then digital silence (-100 dB) to `length`.
    func drumsThenSilence(length: Double, until: Double) -> AudioProfile {
        let rate = 50.0
        var level = [Float](repeating: -100, count: Int(length * rate))
        var onset = [Float](repeating: 0, count: level.count)
        for i in level.indices where Double(i) / rate < until {
            let phase = (Double(i) / rate).truncatingRemainder(dividingBy: 0.5)
            level[i] = phase < 0.1 ? -8 : -20
            if phase < 0.02 { onset[i] = 12 }
        }
        return AudioProfile(frameRate: rate, level: level, onset: onset)
    }

    func beats(_ from: Double, _ to: Double) -> BeatTimes { AudioPlanTests().beats(from, to) }

    @Test func autoNeverPicksAWindowThatRunsIntoTheSilentTail() throws {
        // The silence after the last hit lowers a window's mean onset, so its on-beat contrast grows: scored on
        // level, contrast and steadiness alone, the window 30-40 s (8 s of it silent) won.
        let track = AudioInput(path: "/in/song.ogg", duration: 40, profile: drumsThenSilence(length: 40, until: 32))
        let p = try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 10, beats: beats(0, 32)))
        let a = try #require(p.audio)
        #expect(a.start + 10 <= 32 + 1, "the window \(a.start)-\(a.start + 10) s runs into the silence from 32 s")
        #expect(!a.startReason.contains("quiet"), "\(a.startReason)")
        // When every window is mostly quiet, one is still chosen and the reason says how quiet it is.
        let sparse = AudioInput(path: "/in/sparse.ogg", duration: 40, profile: drumsThenSilence(length: 40, until: 4))
        let q = try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: sparse, duration: 10, beats: beats(0, 4)))
        #expect(q.audio?.startReason.contains("% of it quiet") == true, "\(q.audio?.start ?? -1) \(q.audio?.startReason ?? "")")
    }

    @Test func aLoopLeavesTheTracksQuietTailOut() throws {
        // 10 s of track, the last 3 s silent, under a 20 s video: the seams would each bring a second of silence.
        let track = AudioInput(path: "/in/short.ogg", duration: 10, profile: drumsThenSilence(length: 10, until: 7))
        let p = try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 20, beats: beats(0, 7)))
        let a = try #require(p.audio)
        #expect(a.segments.count >= 3)
        for s in a.segments { #expect(s.trackEnd <= 7.1, "a loop piece plays the track to \(s.trackEnd) s, into its silent tail") }
        #expect(p.notes.contains { $0.hasPrefix("the track's last 2.9") && $0.contains("quiet: the loop leaves them out") }, "\(p.notes)")
        #expect(p.notes.contains { $0.contains("(3 bars)") }, "\(p.notes)")
        // A track whose profile does not reach its end keeps its whole length (nothing is known of its tail).
        let unmeasured = AudioInput(path: "/in/short.ogg", duration: 10, profile: drumsThenSilence(length: 6, until: 8))
        let u = try plan(template, PlanInputs(images: ["/in/a.jpg"], audio: unmeasured, duration: 20, beats: beats(0, 8)))
        #expect(!u.notes.contains { $0.contains("quiet: the loop leaves them out") })
    }

    @Test func aFadeInTheTemplateSetsIsKeptFromAStartInsideTheTrack() throws {
        let track = AudioInput(path: "/in/drop.ogg", duration: 60, profile: drumsThenSilence(length: 60, until: 60))
        func fadeIn(_ yaml: String) throws -> Double {
            let t = try TemplateParser.parse(
                yaml: "name: t\ncanvas: { width: 160, height: 288 }\ntiming:\n  audio: { start: 9.85\(yaml) }\nlayers:\n  - type: media\n")
            return try #require(try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 8, beats: beats(0, 60))).audio).fadeIn
        }
        #expect(try fadeIn("") == Planner.highlightFadeIn, "no fade_in: the 0.25 s fade from a start inside the track")
        #expect(try fadeIn(", fade_in: 0") == 0, "fade_in: 0 keeps the drop's first hit")
        #expect(try fadeIn(", fade_in: \"0.1s\"") == 0.1)
        // fade_in: 0 still gets the 15 ms declick in the graph.
        let t = try TemplateParser.parse(
            yaml: "name: t\ncanvas: { width: 160, height: 288 }\ntiming:\n  audio: { start: 9.85, fade_in: 0 }\nlayers:\n  - type: media\n")
        let p = try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 8, beats: beats(0, 60)))
        #expect(p.audioGraph.text.contains("afade=t=in:st=0:d=0.015"), "\(p.audioGraph.text)")
    }

    @Test func aStartPastTheEndSaysWhereInTheTemplateAndWhatFits() throws {
        let t = try TemplateParser.parse(
            yaml:
                "name: t\ncanvas: { width: 160, height: 288 }\ntiming:\n  default_duration: 8\n  audio:\n    start: 500\nlayers:\n  - type: media\n",
            file: "promo.yaml")
        let track = AudioInput(path: "/in/song.ogg", duration: 183.53)
        do {
            _ = try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 8, beats: nil))
            Issue.record("a start past the end planned")
        } catch let e as PlanError {
            #expect(e.field == "timing.audio.start" && e.line == 6, "\(e)")
            #expect(e.message.contains("500.00 s is past the end of the 183.53 s track"), "\(e.message)")
            #expect(e.message.contains("give a start under 183.4 s, or auto") && e.message.contains("up to 175.5 s"), "\(e.message)")
        }
    }

    @Test func aLayerThatNeverShowsSaysItsTimes() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                canvas: { width: 160, height: 288 }
                layers:
                  - type: media
                  - type: shape
                    start: 4 beats
                    end: 2
                  - type: shape
                    start: 12
                """)
        let slow = BeatTimes(times: Array(stride(from: 0, to: 30, by: 0.6)), tempo: 100, confidence: 0.9)
        let track = AudioInput(path: "/in/slow.ogg", duration: 30)
        let p = try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 10, beats: slow))
        #expect(
            p.notes.contains(
                "layers[1] (shape) is never shown: it starts at beat 4 (2.40 s with this music) and ends at 2.00 s, not after it (write both in seconds or both in beats to keep their order)"
            ), "\(p.notes)")
        #expect(p.notes.contains("layers[2] (shape) is never shown: it starts at 12.00 s, at or after the video's end (10.00 s)"), "\(p.notes)")
        // With a fast track the same layer shows (beat 4 at 1.41 s), so there is no note.
        let fast = BeatTimes(times: Array(stride(from: 0, to: 30, by: 0.353)), tempo: 170, confidence: 0.9)
        let q = try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 10, beats: fast))
        #expect(!q.notes.contains { $0.hasPrefix("layers[1]") }, "\(q.notes)")
    }

    @Test func afterTheMusicEndsTheCutsKeepTheFallbackInterval() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: t
                canvas: { width: 160, height: 288 }
                timing:
                  cut: { mode: beats, every_beats: 2, min_shot: 0.5, max_shot: 4, fallback_interval: 2 }
                  audio: { loop: false }
                layers:
                  - type: media
                """)
        let track = AudioInput(path: "/in/ten.ogg", duration: 10)
        let p = try plan(t, PlanInputs(images: ["/in/a.jpg", "/in/b.jpg"], audio: track, duration: 20, beats: beats(0.25, 10)))
        let cuts = p.images!.shots.map(\.start).dropFirst()
        #expect(cuts.contains { abs($0 - 9.25) < 0.05 }, "\(cuts)")
        let after = cuts.filter { $0 > 10 }
        #expect(after.count >= 4, "after the music: \(after)")
        for (a, b) in zip(after, after.dropFirst()) { #expect(abs(b - a - 2) < 0.05, "\(after)") }
    }

    @Test func reliableBeatsOutsideTheVideoAreSaidSoNotListedEmpty() throws {
        // The track's beats are reliable only at 50.9-73.3 s; a 10 s video from 0 s has none of them.
        let times = Array(stride(from: 50.9, to: 73.3, by: 0.62))
        let beats = BeatTimes(times: times, tempo: 96.3, confidence: 0.1, reliableSpans: [50.9...73.3])
        let track = AudioInput(path: "/in/space.ogg", duration: 200)
        var t = template
        t.timing.audio.start = .seconds(0)
        let p = try plan(t, PlanInputs(images: ["/in/a.jpg"], audio: track, duration: 10, beats: beats))
        #expect(
            p.cutSource == .fallback(interval: 2, reason: "the track's beats are reliable only from 50.9 s on, after this video ends"),
            "\(p.cutSource)")
        #expect(!p.summary.contains("in )"), "\(p.summary)")
    }
}
