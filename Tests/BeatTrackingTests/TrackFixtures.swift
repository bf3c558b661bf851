import Foundation
import RendcTestSupport

/// Music with known beats for the tests: a tiny Standard MIDI File writer, rendered with fluidsynth and the General
/// MIDI SoundFont (Debian: fluidsynth, fluid-soundfont-gm), encoded to other containers with the ffmpeg CLI (a tool
/// in tests only). Audio is generated into a cache folder under the temporary directory, never into git.
enum TrackFixtures {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Track {
        var wav: URL
        var beats: [Double]
        var bpm: Double
    }

    static let soundFont = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
    static let cacheDirectory: URL = FileManager.default.temporaryDirectory.appendingPathComponent("rendc-beat-fixtures")

    /// A 4/4 groove at `bpm`: piano chords on every beat, bass, and (with `drums`) kick/snare/hi-hats.
    /// With `offbeatChords`, the chords sit on the off-beats and only the bass marks the beat (no drums).
    /// `meter` is the number of beats a bar (3: a waltz, bass on the first beat, chords on every beat).
    static func midi(
        bpm: Double, bars: Int, drums: Bool, quietIntroBars: Int = 0, offbeatChords: Bool = false, meter: Int = 4
    ) -> (data: [UInt8], beats: [Double]) {
        let ticks = 480
        var events: [(tick: Int, order: Int, bytes: [UInt8])] = []
        func note(_ tick: Int, _ channel: UInt8, _ key: UInt8, _ velocity: UInt8, _ length: Int) {
            events.append((tick, 1, [0x90 | channel, key, velocity]))
            events.append((tick + length, 0, [0x80 | channel, key, 0]))
        }
        let microseconds = Int((60_000_000 / bpm).rounded())
        events.append((0, 0, [0xFF, 0x51, 0x03, UInt8(microseconds >> 16 & 0xFF), UInt8(microseconds >> 8 & 0xFF), UInt8(microseconds & 0xFF)]))
        events.append((0, 0, [0xC0, 0]))
        events.append((0, 0, [0xC1, 33]))
        let chords: [[UInt8]] = [[60, 64, 67], [55, 59, 62], [57, 60, 64], [53, 57, 60]]
        var beats: [Double] = []
        for b in 0..<(bars * meter) {
            let tick = b * ticks
            let (bar, beat) = b.quotientAndRemainder(dividingBy: meter)
            beats.append(Double(b) * 60 / bpm)
            let chord = chords[bar % chords.count]
            let quiet = bar < quietIntroBars
            if offbeatChords {
                note(tick, 1, chord[0] - 24 + (beat % 2 == 0 ? 0 : 7), beat % 2 == 0 ? 100 : 70, ticks * 7 / 10)
                for key in chord { note(tick + ticks / 2, 0, key, 80, ticks * 4 / 10) }
                continue
            }
            for key in chord { note(tick, 0, key, quiet ? 30 : (beat == 0 ? 88 : 72), ticks * 9 / 10) }
            if quiet { continue }
            if meter == 3 {
                if beat == 0 { note(tick, 1, chord[0] - 24, 100, ticks * 8 / 10) }
                if drums { note(tick, 9, beat == 0 ? 36 : 42, beat == 0 ? 110 : 70, ticks / 4) }
                continue
            }
            note(tick, 1, chord[0] - 24 + (beat % 2 == 0 ? 0 : 7), beat % 2 == 0 ? 95 : 75, ticks * 8 / 10)
            if drums {
                note(tick, 9, beat % 2 == 0 ? 36 : 38, beat % 2 == 0 ? 112 : 100, ticks / 4)
                note(tick, 9, 42, 70, ticks / 8)
                note(tick + ticks / 2, 9, 42, 50, ticks / 8)
            }
        }
        events.sort { ($0.tick, $0.order) < ($1.tick, $1.order) }
        var track: [UInt8] = []
        var last = 0
        for event in events {
            track += variableLength(event.tick - last) + event.bytes
            last = event.tick
        }
        track += [0x00, 0xFF, 0x2F, 0x00]
        var file: [UInt8] = Array("MThd".utf8) + be32(6) + [0, 0, 0, 1, UInt8(ticks >> 8), UInt8(ticks & 0xFF)]
        file += Array("MTrk".utf8) + be32(track.count) + track
        return (file, beats)
    }

    static func variableLength(_ value: Int) -> [UInt8] {
        var v = value
        var out: [UInt8] = [UInt8(v & 0x7F)]
        v >>= 7
        while v > 0 {
            out.insert(UInt8(v & 0x7F) | 0x80, at: 0)
            v >>= 7
        }
        return out
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// Renders (once, cached by name) a track to WAV at 44.1 kHz.
    static func track(bpm: Double, bars: Int, drums: Bool, quietIntroBars: Int = 0, offbeatChords: Bool = false, meter: Int = 4) throws -> Track {
        let (data, beats) = midi(bpm: bpm, bars: bars, drums: drums, quietIntroBars: quietIntroBars, offbeatChords: offbeatChords, meter: meter)
        let name =
            "groove-\(Int(bpm))-\(bars)-\(drums ? "drums" : "piano")-\(quietIntroBars)\(offbeatChords ? "-offbeat" : "")\(meter == 4 ? "" : "-\(meter)of4")-v1"
        try FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
        let wav = cacheDirectory.appendingPathComponent(name + ".wav")
        if !FileManager.default.fileExists(atPath: wav.path) {
            let mid = cacheDirectory.appendingPathComponent(name + "-\(UUID().uuidString).mid")
            let tmp = cacheDirectory.appendingPathComponent(name + "-\(UUID().uuidString).wav")
            try Data(data).write(to: mid)
            defer { try? FileManager.default.removeItem(at: mid) }
            try run("fluidsynth", ["-ni", "-q", "-g", "0.6", "-r", "44100", "-F", tmp.path, soundFont, mid.path])
            _ = try? FileManager.default.removeItem(at: wav)
            try FileManager.default.moveItem(at: tmp, to: wav)
        }
        return Track(wav: wav, beats: beats, bpm: bpm)
    }

    /// Encodes `source` with the ffmpeg CLI to `ext` (mp3, ogg, opus, flac, m4a), cached beside it.
    static func encode(_ source: URL, to ext: String, extraArguments: [String] = []) throws -> URL {
        let out = source.deletingPathExtension().appendingPathExtension(ext)
        if FileManager.default.fileExists(atPath: out.path) { return out }
        let tmp = cacheDirectory.appendingPathComponent("\(UUID().uuidString).\(ext)")
        try run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", source.path] + extraArguments + [tmp.path])
        _ = try? FileManager.default.removeItem(at: out)
        try FileManager.default.moveItem(at: tmp, to: out)
        return out
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run \(tool) (install it: scripts/apt.d/beats.txt): \(error)")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) failed (\(process.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
        }
    }

    /// Seeded noise for signal tests.
    typealias SeededGenerator = SplitMix64

    static func noise(seconds: Double, rate: Int = 22050, amplitude: Float = 0.3, seed: UInt64 = 1) -> [Float] {
        var generator = SeededGenerator(state: seed)
        return (0..<Int(seconds * Double(rate))).map { _ in Float.random(in: -amplitude...amplitude, using: &generator) }
    }

    /// Decaying noise bursts ("clicks") at the given beat times.
    static func clicks(at beats: [Double], seconds: Double, rate: Int = 22050) -> [Float] {
        var generator = SeededGenerator(state: 42)
        var out = [Float](repeating: 0, count: Int(seconds * Double(rate)))
        for beat in beats {
            let start = Int(beat * Double(rate))
            for k in 0..<Int(0.05 * Double(rate)) where start + k < out.count {
                let envelope = Float(exp(-Double(k) / (0.01 * Double(rate))))
                out[start + k] += envelope * Float.random(in: -0.5...0.5, using: &generator)
            }
        }
        return out
    }
}
