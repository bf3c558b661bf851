import Foundation
import RendcTestSupport
import Testing

@testable import BeatTracking

/// One damaged frame in the middle of a FLAC (review12 M3): the decoder drops it, and its time is filled with zeros
/// by timestamp, so what follows stays on the track's time axis (before, every beat after it came out 104 ms early).
/// The file is made at test time: ffmpeg's FLAC of a click every 0.5 s over a low tone, 64 bytes overwritten at its middle (which
/// libavcodec reports as an invalid residual).
struct DamagedAudioTests {
    static let files: (clean: String, damaged: String) = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rendc-damaged-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let clean = dir.appendingPathComponent("clicks.flac").path
        let made = try! Subprocess.run(
            "/usr/bin/ffmpeg",
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                "aevalsrc='0.8*sin(2*PI*1000*t)*exp(-60*mod(t,0.5))+0.1*sin(2*PI*110*t)':d=12:s=44100", "-ac", "2", clean,
            ])
        precondition(made.status == 0, made.errors)
        var bytes = [UInt8](FileManager.default.contents(atPath: clean)!)
        let middle = bytes.count / 2
        for i in 0..<64 { bytes[middle + i] = UInt8((i * 151 + 89) & 0xFF) }
        let damaged = dir.appendingPathComponent("damaged.flac").path
        FileManager.default.createFile(atPath: damaged, contents: Data(bytes))
        return (clean, damaged)
    }()

    /// The first sample at or after `from` seconds louder than half scale: the next click's onset.
    static func onset(_ audio: DecodedAudio, after from: Double) -> Double? {
        let start = Int(from * Double(audio.sampleRate))
        guard start < audio.samples.count, let i = audio.samples[start...].firstIndex(where: { abs($0) > 0.3 }) else { return nil }
        return Double(i) / Double(audio.sampleRate)
    }

    @Test func aDroppedFrameIsFilledSoLaterClicksKeepTheirTime() throws {
        let decoder = AudioDecoder(sampleRate: 22050)
        let clean = try decoder.decode(path: Self.files.clean, maxDuration: nil)
        let damaged = try decoder.decode(path: Self.files.damaged, maxDuration: nil)
        // The damage is near 6 s: the clicks at 10 and 11.5 s are where they are in the clean file.
        for t in [9.9, 11.4] {
            let a = try #require(Self.onset(clean, after: t)), b = try #require(Self.onset(damaged, after: t))
            #expect(abs(a - t - 0.1) < 0.01, "clean click at \(a) s")
            #expect(abs(a - b) < 0.002, "after \(t) s: clean \(a) s, damaged \(b) s")
        }
        #expect(abs(clean.analysedDuration - damaged.analysedDuration) < 0.01, "\(clean.analysedDuration) s against \(damaged.analysedDuration) s")
        // The contrast that shows the frame was damaged at all: the two decodes differ around it.
        #expect(zip(clean.samples, damaged.samples).contains { abs($0 - $1) > 0.05 })
    }
}
