import Foundation
import Planner
import RendcTestSupport
import SpecLang
import Testing

/// Text typing on, keyframes repeating and a scale along one side, as planned: which prefix shows in which frames,
/// how a text longer than the limit is typed, and the transform a repeat gives at any time.
@Suite struct TypeOnPlannerTests {
    func template(_ layer: String, fields: String = "") throws -> Template {
        try TemplateParser.parse(
            yaml:
                "name: t\n\(fields)timing: { cut: { mode: interval, fallback_interval: 2 } }\nlayers:\n  - type: color\n    color: \"#000000\"\n\(layer)\n",
            file: "t.yaml")
    }
    func texts(_ p: RenderPlan) -> [(String, [FrameSpan])] {
        p.layers.compactMap { l in if case .text(let t) = l.content { (t.text, l.visible) } else { nil } }
    }

    @Test func eachStepTypesOneMoreCharacterThenTheCursorBlinksAndGoes() throws {
        let t = try template(
            "  - type: text\n    text: \"{{word}}\"\n    width: 900\n    height: 200\n    type_on: { per_char: 0.1, cursor: \"|\", blink: 0.4, blinks: 2 }",
            fields: "fields:\n  word: { default: NEW }\n")
        let p = try plan(t, PlanInputs(images: threeImages, duration: 3))
        let shown = texts(p)
        // 0.1 s a character is 3 frames; the cursor shows alone first, stays while typing, then blinks 6 frames on and
        // 6 off, twice, and goes.
        #expect(shown.map(\.0) == ["|", "N|", "NE|", "NEW|", "NEW"])
        #expect(
            shown.map(\.1) == [
                [FrameSpan(0, 3)], [FrameSpan(3, 6)], [FrameSpan(6, 9)], [FrameSpan(9, 15), FrameSpan(21, 27)],
                [FrameSpan(15, 21), FrameSpan(27, 90)],
            ])
        // The field's value is what types: another value types other texts.
        let other = try plan(t, PlanInputs(images: threeImages, fields: ["word": "Yo"], duration: 3))
        #expect(texts(other).map(\.0) == ["|", "Y|", "Yo|", "Yo"])
    }

    @Test func overADurationTheLastCharacterLandsOnItsEnd() throws {
        let t = try template("  - type: text\n    text: ABCD\n    width: 900\n    height: 200\n    start: 1\n    type_on: { duration: 1 }")
        let p = try plan(t, PlanInputs(images: threeImages, duration: 4))
        // Starting at 1 s, a character every 0.25 s (7.5 frames, rounded), the whole text at 2 s; nothing before the first.
        #expect(texts(p).map(\.0) == ["A", "AB", "ABC", "ABCD"])
        #expect(texts(p).map(\.1) == [[FrameSpan(38, 45)], [FrameSpan(45, 53)], [FrameSpan(53, 60)], [FrameSpan(60, 120)]])
    }

    @Test func charactersAreGraphemeClustersSoEmojiAndMarkedLettersStayWhole() throws {
        // A family emoji (five scalars joined by ZWJ), a flag (two), and Arabic with its vowel marks.
        let text = "👩‍👩‍👧🇸🇦 مَرْحَبًا"
        let t = try template("  - type: text\n    text: \"\(text)\"\n    width: 900\n    height: 200\n    type_on: { per_char: 0.1 }")
        let p = try plan(t, PlanInputs(images: threeImages, duration: 3))
        let shown = texts(p).map(\.0)
        #expect(shown.count == text.count && text.count == 8)
        #expect(shown.first == "👩‍👩‍👧" && shown[1] == "👩‍👩‍👧🇸🇦")
        #expect(shown.last == text)
        // Every prefix ends on a whole character: a letter with its marks, never a bare mark or half a flag.
        for (k, s) in shown.enumerated() { #expect(s == String(text.prefix(k + 1))) }
        #expect(shown.contains("👩‍👩‍👧🇸🇦 مَ") && !shown.contains("👩‍👩‍👧🇸🇦 م"))
    }

    @Test func typingOnTheBeatFollowsTheTrackedBeats() throws {
        let t = try template("  - type: text\n    text: GO!\n    width: 900\n    height: 200\n    type_on: { per_char: 1 beat }")
        let beats = (1..<40).map { Double($0) * 0.4 }
        let p = try plan(
            t,
            PlanInputs(
                images: threeImages, audio: AudioInput(path: "/s.mp3", duration: 30), duration: 3,
                beats: BeatTimes(times: beats, tempo: 150, confidence: 0.9)))
        #expect(texts(p).map(\.0) == ["G", "GO", "GO!"])
        #expect(texts(p).map(\.1) == [[FrameSpan(12, 24)], [FrameSpan(24, 36)], [FrameSpan(36, 90)]])
    }

    @Test func aTextLongerThanTheLimitTypesByWordsOrByRunsOfCharacters() throws {
        // No box: the whole canvas, which allows 11 texts.
        let words = "one two three four five six seven"
        let t = try template("  - type: text\n    text: \(words)\n    type_on: { per_char: 0.05 }")
        let p = try plan(t, PlanInputs(images: threeImages, duration: 3))
        #expect(
            texts(p).map(\.0) == [
                "one ", "one two ", "one two three ", "one two three four ", "one two three four five ", "one two three four five six ", words,
            ])
        #expect(
            p.notes.contains("layers[1].type_on: 33 characters are more than the layer's 11 typing steps, so it types a word at a time (7 words)"))
        let long = String(repeating: "abcdefghij", count: 4)
        let l = try template("  - type: text\n    text: \(long)\n    type_on: { per_char: 0.05, cursor: \"|\", blink: false }")
        let q = try plan(l, PlanInputs(images: threeImages, duration: 3))
        // The cursor alone takes one of the 11 (a blinking one two: the whole text without it too): 40 characters
        // in 10 runs of 4.
        #expect(texts(q).count == 11)
        #expect(texts(q).map(\.0).dropFirst().map { $0.count } == [5, 9, 13, 17, 21, 25, 29, 33, 37, 41])
        #expect(q.notes.contains("layers[1].type_on: 40 characters are more than the layer's 10 typing steps, so it types 4 characters at a time"))
        // Three long words would be three big jumps for 11 steps: runs of characters instead.
        let few = Array(repeating: "abcdefghijklmnopqrst", count: 3).joined(separator: " ")
        let f = try template("  - type: text\n    text: \(few)\n    type_on: { per_char: 0.05 }")
        let r = try plan(f, PlanInputs(images: threeImages, duration: 3))
        #expect(texts(r).map { $0.0.count } == [6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 62])
        #expect(r.notes.contains("layers[1].type_on: 62 characters are more than the layer's 11 typing steps, so it types 6 characters at a time"))
        // `by: word` asks for words even when the characters would fit.
        let w = try template("  - type: text\n    text: Hi there\n    width: 900\n    height: 200\n    type_on: { per_char: 0.1, by: word }")
        #expect(texts(try plan(w, PlanInputs(images: threeImages, duration: 3))).map(\.0) == ["Hi ", "Hi there"])
    }

    // MARK: Repeating keyframes

    func rotation(_ p: RenderPlan, _ t: Double) -> Double {
        let l = p.layers[1]
        let f = Int((t * 30).rounded())
        return l.transform(frame: f, time: Double(f) / 30).rotation
    }

    /// The swing design12 wrote out as nine keyframes for 10 s is two keyframes repeated forever, yoyo; it keeps
    /// swinging past 10 s, and its track holds two keys whatever the video's length.
    @Test func aSwingWrittenOnceMatchesTheSwingWrittenOutAndRunsTheWholeVideo() throws {
        let once = try template(
            "  - type: text\n    text: x\n    animate:\n      - keyframes: [{ t: 0, rotation: -8 }, { t: 1.2, rotation: 8, easing: ease_in_out }]\n        repeat: forever\n        yoyo: true"
        )
        let written = (0...8).map { "{ t: \(Double($0) * 1.2), rotation: \($0 % 2 == 0 ? -8 : 8)\($0 == 0 ? "" : ", easing: ease_in_out") }" }
        let out = try template("  - type: text\n    text: x\n    animate:\n      - keyframes: [\(written.joined(separator: ", "))]")
        let a = try plan(once, PlanInputs(images: threeImages, duration: 9.6)), b = try plan(out, PlanInputs(images: threeImages, duration: 9.6))
        for f in 0..<288 {
            let t = Double(f) / 30
            #expect(abs(rotation(a, t) - rotation(b, t)) < 1e-9, "at \(t) s")
        }
        #expect(a.layers[1].animation.count == 1 && a.layers[1].animation[0].keys.count == 2)
        #expect(a.layers[1].animation[0].source == "keyframes, repeated forever (yoyo)")
        // A minute long: the same two keys, still swinging at the end.
        let long = try plan(once, PlanInputs(images: threeImages, duration: 60))
        #expect(long.layers[1].animation[0].keys.count == 2)
        #expect(abs(rotation(long, 57.6) + 8) < 1e-6 && abs(rotation(long, 58.8) - 8) < 1e-6)
        #expect(abs(rotation(long, 58.2)) < 1e-6, "half way through a swing, ease_in_out is at 0")
    }

    @Test func aCountedRepeatHoldsWhereItsLastPlayEnds() throws {
        func layer(_ again: String) throws -> RenderPlan {
            try plan(
                try template(
                    "  - type: shape\n    start: 1\n    animate:\n      - keyframes: [{ t: 0.5, rotation: 0 }, { t: 1.5, rotation: 90 }]\n        \(again)"
                ),
                PlanInputs(images: threeImages, duration: 8))
        }
        let plain = try layer("repeat: 2"), yoyo = try layer("repeat: 2\n        yoyo: true"), three = try layer("repeat: 3\n        yoyo: true")
        // Keys from 1.5 s to 2.5 s on the video's clock: before them the first value holds.
        func near(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-6 }
        #expect(near(rotation(plain, 1.2), 0) && near(rotation(plain, 2.0), 45))
        #expect(near(rotation(plain, 3.0), 45), "the second play starts again from 0")
        #expect(near(rotation(plain, 3.5), 90) && near(rotation(plain, 6), 90), "after two plays it holds the end")
        #expect(near(rotation(yoyo, 3.0), 45) && near(rotation(yoyo, 3.2), 27), "the second play runs backwards")
        #expect(near(rotation(yoyo, 4), 0) && near(rotation(yoyo, 6), 0), "two plays, the last backwards, end at the start")
        #expect(near(rotation(three, 4.2), 63) && near(rotation(three, 6), 90), "a third play runs forwards again")
    }

    // MARK: Scale along one side

    @Test func scaleXGrowsTheWidthAloneAboutThePivot() throws {
        let t = try template(
            "  - type: shape\n    x: 100\n    y: 900\n    width: 400\n    height: 40\n    pivot: { x: 100, y: 920 }\n    animate:\n      - keyframes: [{ t: 0, scale_x: 0 }, { t: 1, scale_x: 1 }]\n      - keyframes: [{ t: 0, scale_y: 1 }, { t: 1, scale_y: 0.5 }]"
        )
        let p = try plan(t, PlanInputs(images: threeImages, duration: 3))
        let l = p.layers[1]
        #expect(l.pivot == Point(x: 100, y: 920))
        let half = l.transform(frame: 15, time: 0.5)
        #expect(half.scaleX == 0.5 && half.scaleY == 0.75 && half.scale == 1)
        #expect(half.widthScale == 0.5 && half.heightScale == 0.75 && !half.isIdentityGeometry)
        #expect(l.transform(frame: 60, time: 2).scaleX == 1)
        #expect(l.animation.map(\.property) == [.scaleX, .scaleY])
    }
}
