import Foundation
import RendcTestSupport
import Testing
@testable import BeatTracking

/// Tracks rendered from MIDI with fluidsynth (known beats), decoded through libav*.
@Suite(.serialized, .ownThreads) struct RenderedTrackTests {
    @Test(arguments: [(100.0, true), (140.0, false), (172.0, true)])
    func renderedTrackBeatsMatchTheScore(bpm: Double, drums: Bool) throws {
        let track = try TrackFixtures.track(bpm: bpm, bars: bpm > 150 ? 10 : 6, drums: drums)
        let analysis = try BeatTracker().analyze(file: track.wav.path, maxDuration: nil)
        let reference = track.beats.filter { $0 <= analysis.analysedDuration }
        let score = BeatEvaluation.score(estimated: analysis.beats, reference: reference)
        #expect(score.fMeasure >= 0.9, "\(bpm) BPM \(drums ? "drums" : "piano"): F \(score.fMeasure), beats \(analysis.beats.prefix(6))")
        #expect(BeatEvaluation.tempoError(estimated: analysis.tempo, reference: bpm) < 0.02, "tempo \(analysis.tempo)")
        #expect(analysis.confidence >= 0.5)
        // The first beat (at 0 s) is found.
        #expect(analysis.beats.first.map { $0 < 0.07 } ?? false, "first beat \(String(describing: analysis.beats.first))")
    }

    @Test func bassDecidesThePhaseWhenChordsSitOnTheOffBeats() throws {
        let track = try TrackFixtures.track(bpm: 92, bars: 6, drums: false, offbeatChords: true)
        let analysis = try BeatTracker().analyze(file: track.wav.path, maxDuration: nil)
        let score = BeatEvaluation.score(estimated: analysis.beats, reference: track.beats)
        #expect(score.fMeasure >= 0.9, "F \(score.fMeasure): \(analysis.beats.prefix(6))")
        #expect(BeatEvaluation.tempoError(estimated: analysis.tempo, reference: 92) < 0.02, "tempo \(analysis.tempo)")
    }

    @Test func quietIntroBeatsAreFound() throws {
        let track = try TrackFixtures.track(bpm: 110, bars: 6, drums: true, quietIntroBars: 2)
        let analysis = try BeatTracker().analyze(file: track.wav.path, maxDuration: nil)
        let intro = track.beats.filter { $0 < 8 * 60 / 110 }
        let introScore = BeatEvaluation.score(estimated: analysis.beats.filter { $0 < 8 * 60 / 110 - 0.1 }, reference: intro)
        #expect(introScore.recall >= 0.75, "intro recall \(introScore.recall): \(analysis.beats.prefix(8))")
        #expect(BeatEvaluation.score(estimated: analysis.beats, reference: track.beats).fMeasure >= 0.9)
    }

    @Test(arguments: ["mp3", "ogg", "opus", "flac", "m4a"])
    func everyContainerDecodes(ext: String) throws {
        let track = try TrackFixtures.track(bpm: 100, bars: 6, drums: true)
        let file = try TrackFixtures.encode(track.wav, to: ext)
        let wavDuration = try BeatTracker.trackDuration(file: track.wav.path)
        let analysis = try BeatTracker().analyze(file: file.path, maxDuration: nil)
        // Encoders add a little padding; the length stays within 0.1 s.
        #expect(abs(analysis.trackDuration - wavDuration) < 0.1, "\(ext): \(analysis.trackDuration) vs \(wavDuration)")
        #expect(abs(analysis.analysedDuration - wavDuration) < 0.1)
        #expect(abs(try BeatTracker.trackDuration(file: file.path) - wavDuration) < 0.1)
        let score = BeatEvaluation.score(estimated: analysis.beats, reference: track.beats)
        #expect(score.fMeasure >= 0.9, "\(ext): F \(score.fMeasure)")
    }

    @Test func audioTrackOfAVideoFileIsAnalysed() throws {
        let track = try TrackFixtures.track(bpm: 100, bars: 6, drums: true)
        let video = try TrackFixtures.encode(track.wav, to: "mp4", extraArguments: [])
        // Re-mux with a video stream first, so the audio is not stream 0.
        let muxed = TrackFixtures.cacheDirectory.appendingPathComponent("with-video-\(UUID().uuidString).mp4")
        defer { try? FileManager.default.removeItem(at: muxed) }
        try TrackFixtures.run(
            "ffmpeg",
            [
                "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=64x64:r=10",
                "-i", video.path, "-map", "0:v", "-map", "1:a", "-c:a", "copy", "-shortest", muxed.path,
            ])
        let analysis = try BeatTracker().analyze(file: muxed.path, maxDuration: 8)
        #expect(BeatEvaluation.score(estimated: analysis.beats, reference: track.beats.filter { $0 <= 8 }).fMeasure >= 0.9)
    }

    @Test func maxDurationLimitsTheAnalysedPart() throws {
        let track = try TrackFixtures.track(bpm: 100, bars: 6, drums: true)
        let full = try BeatTracker.trackDuration(file: track.wav.path)
        for file in [track.wav, try TrackFixtures.encode(track.wav, to: "mp3")] {
            let analysis = try BeatTracker().analyze(file: file.path, maxDuration: 5)
            #expect(abs(analysis.analysedDuration - 5) < 0.01)
            #expect(abs(analysis.trackDuration - full) < 0.1, "track duration \(analysis.trackDuration) vs \(full)")
            #expect(analysis.beats.allSatisfy { $0 <= 5 })
            let reference = track.beats.filter { $0 <= 5 }
            #expect(BeatEvaluation.score(estimated: analysis.beats, reference: reference).fMeasure >= 0.9)
        }
        #expect(throws: BeatTrackingError.self) { try BeatTracker().analyze(file: track.wav.path, maxDuration: 0) }
        #expect(throws: BeatTrackingError.self) { try BeatTracker().analyze(file: track.wav.path, maxDuration: .nan) }
        #expect(throws: BeatTrackingError.self) { try BeatTracker().analyze(file: track.wav.path, maxDuration: .infinity) }
        // A huge limit is the whole track.
        let whole = try BeatTracker().analyze(file: track.wav.path, maxDuration: 1e300)
        #expect(abs(whole.analysedDuration - full) < 0.1)
    }

    @Test func cacheReturnsTheSameAnalysisWithoutAnalysingAgain() throws {
        let track = try TrackFixtures.track(bpm: 100, bars: 6, drums: true)
        let directory = try Fixtures.temporaryDirectory("beat-cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = BeatCache(directory: directory.path)
        let tracker = BeatTracker()
        let first = try cache.lookup(forFile: track.wav.path, maxDuration: 10, tracker: tracker)
        #expect(!first.fromCache && first.writeError == nil)
        let second = try cache.lookup(forFile: track.wav.path, maxDuration: 10, tracker: tracker)
        #expect(second.fromCache)
        #expect(second.analysis == first.analysis)
        #expect(try cache.analysis(forFile: track.wav.path, maxDuration: 10, tracker: tracker) == first.analysis)
        // Another maximum duration is another entry.
        #expect(!(try cache.lookup(forFile: track.wav.path, maxDuration: 5, tracker: tracker).fromCache))
        // The key follows the bytes, not the name: a copy hits, a changed file misses.
        let copy = directory.appendingPathComponent("copy.wav")
        try FileManager.default.copyItem(at: track.wav, to: copy)
        #expect(try cache.lookup(forFile: copy.path, maxDuration: 10, tracker: tracker).fromCache)
        var bytes = try Data(contentsOf: copy)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: copy)
        #expect(!(try cache.lookup(forFile: copy.path, maxDuration: 10, tracker: tracker).fromCache))
        // An unwritable cache still answers.
        let blocked = BeatCache(directory: "/proc/rendc-beat-cache-cannot-exist")
        let uncached = try blocked.lookup(forFile: track.wav.path, maxDuration: 10, tracker: tracker)
        #expect(uncached.writeError != nil && uncached.analysis == first.analysis)
    }

    @Test func truncatedFilesAreReported() throws {
        let track = try TrackFixtures.track(bpm: 100, bars: 6, drums: true)
        let directory = try Fixtures.temporaryDirectory("beat-truncated")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Containers that declare their length: cut in half, the file is reported as truncated (or unreadable when
        // the index is lost with the tail, as in MP4).
        for ext in ["flac", "m4a", "mp3"] {
            let source = try TrackFixtures.encode(track.wav, to: ext)
            let bytes = try Data(contentsOf: source)
            let cut = directory.appendingPathComponent("cut.\(ext)")
            try bytes.prefix(bytes.count / 2).write(to: cut)
            let error = try #require(throws: BeatTrackingError.self, "\(ext)") {
                try BeatTracker().analyze(file: cut.path, maxDuration: nil)
            }
            #expect(error.description.contains(cut.path))
            #expect([BeatTrackingError.Code.truncated, .unreadable].contains(error.code), "\(ext): \(error)")
        }
        // A WAV header that overstates its data: libavformat trusts the file size, so the part that is there is
        // analysed as a shorter track (a sound fallback), never a crash.
        let bytes = try Data(contentsOf: track.wav)
        let cut = directory.appendingPathComponent("cut.wav")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let analysis = try BeatTracker().analyze(file: cut.path, maxDuration: nil)
        let full = try BeatTracker.trackDuration(file: track.wav.path)
        #expect(abs(analysis.analysedDuration - full / 2) < 0.1)
        #expect(BeatEvaluation.score(estimated: analysis.beats, reference: track.beats.filter { $0 < full / 2 }).fMeasure >= 0.9)
        // A header cut short is unreadable.
        let stub = directory.appendingPathComponent("stub.wav")
        try bytes.prefix(20).write(to: stub)
        #expect(throws: BeatTrackingError.self) { try BeatTracker().analyze(file: stub.path, maxDuration: nil) }
    }
}

// MARK: - Bad files

@Suite(.ownThreads) struct BadFileTests {
    func expectError(_ path: String, _ codes: [BeatTrackingError.Code], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let analysis = try BeatTracker().analyze(file: path, maxDuration: nil)
            Issue.record("expected an error for \(path), got \(analysis.beats.count) beats", sourceLocation: sourceLocation)
        } catch let error as BeatTrackingError {
            #expect(codes.contains(error.code), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix(path + ": "), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func missingFile() {
        expectError("/nonexistent/song.mp3", [.fileNotFound])
        #expect(throws: BeatTrackingError.self) { try BeatTracker.trackDuration(file: "/nonexistent/song.mp3") }
        #expect(throws: BeatTrackingError.self) {
            try BeatCache(directory: "/tmp").analysis(forFile: "/nonexistent/song.mp3", maxDuration: nil, tracker: BeatTracker())
        }
    }

    @Test func emptyTextDirectoryAndGarbageFiles() throws {
        let directory = try Fixtures.temporaryDirectory("beat-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.mp3")
        try Data().write(to: empty)
        expectError(empty.path, [.unreadable])
        let text = directory.appendingPathComponent("notes.mp3")
        try Data("These are not the beats you are looking for.\n".utf8).write(to: text)
        expectError(text.path, [.unreadable, .noAudioStream])
        var generator = TrackFixtures.SeededGenerator(state: 5)
        let garbage = directory.appendingPathComponent("garbage.ogg")
        try Data((0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: garbage)
        expectError(garbage.path, [.unreadable, .noAudioStream, .decodeFailed, .noAudio])
        expectError(directory.path, [.unreadable])
    }

    @Test func corruptAudioDataAfterAValidHeader() throws {
        let track = try TrackFixtures.track(bpm: 100, bars: 6, drums: true)
        let directory = try Fixtures.temporaryDirectory("beat-corrupt")
        defer { try? FileManager.default.removeItem(at: directory) }
        let flac = try TrackFixtures.encode(track.wav, to: "flac")
        var bytes = try Data(contentsOf: flac)
        var generator = TrackFixtures.SeededGenerator(state: 11)
        // Keep the header (first 8 kB), scramble the frames.
        for i in 8192..<bytes.count { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        let corrupt = directory.appendingPathComponent("corrupt.flac")
        try bytes.write(to: corrupt)
        do {
            let analysis = try BeatTracker().analyze(file: corrupt.path, maxDuration: nil)
            // If anything decodes, it is not music: no beats.
            #expect(analysis.beats.isEmpty)
        } catch let error as BeatTrackingError {
            #expect(error.description.contains(corrupt.path))
        }
    }

    @Test func fileWithoutAudio() throws {
        let directory = try Fixtures.temporaryDirectory("beat-video")
        defer { try? FileManager.default.removeItem(at: directory) }
        let png = directory.appendingPathComponent("frame.png")
        try TrackFixtures.run("ffmpeg", ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", png.path])
        expectError(png.path, [.noAudioStream])
    }
}

// MARK: - Files without a pulse

@Suite(.ownThreads) struct NoPulseFileTests {
    @Test func speechHasNoBeats() throws {
        let directory = try Fixtures.temporaryDirectory("beat-speech")
        defer { try? FileManager.default.removeItem(at: directory) }
        let texts = [
            "Welcome to our store. Today we are showing you the new collection of summer shoes, with bright colours and soft leather. Each pair is made by hand in a small workshop, and every detail is checked twice.",
            "One, two, three, four, five, six, seven, eight, nine, ten. The quick brown fox jumps over the lazy dog, and she sells sea shells by the sea shore.",
        ]
        for (index, text) in texts.enumerated() {
            let wav = directory.appendingPathComponent("speech-\(index).wav")
            try TrackFixtures.run("espeak-ng", ["-w", wav.path, "-s", index == 0 ? "150" : "175", text])
            let analysis = try BeatTracker().analyze(file: wav.path, maxDuration: nil)
            #expect(analysis.beats.isEmpty, "speech \(index): \(analysis.beats.count) beats, confidence \(analysis.confidence)")
            #expect(analysis.tempo == 0 && analysis.confidence < 0.3)
            #expect(analysis.analysedDuration > 5)
        }
    }

    @Test func silentFileHasNoBeats() throws {
        let directory = try Fixtures.temporaryDirectory("beat-silence")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("silence.m4a")
        try TrackFixtures.run("ffmpeg", ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "8", file.path])
        let analysis = try BeatTracker().analyze(file: file.path, maxDuration: nil)
        #expect(analysis.beats.isEmpty && analysis.confidence == 0)
        #expect(abs(analysis.trackDuration - 8) < 0.1)
    }
}
