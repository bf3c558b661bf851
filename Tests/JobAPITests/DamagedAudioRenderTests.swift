import Foundation
import RendcTestSupport
import Testing

@testable import LibAV

/// The render's audio graph and one damaged FLAC frame (review12 M3): the frame is dropped and its time filled with
/// silence, so the render goes on with the music in place; before, the first decoder error failed every render.
struct DamagedAudioRenderTests {
    static func flac(damaged: Bool) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rendc-damaged-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("clicks.flac").path
        let made = try Subprocess.run(
            "/usr/bin/ffmpeg",
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                "aevalsrc='0.8*sin(2*PI*1000*t)*exp(-60*mod(t,0.5))+0.1*sin(2*PI*110*t)':d=12:s=44100", "-ac", "2", path,
            ])
        try #require(made.status == 0, "\(made.errors)")
        if damaged {
            var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
            let middle = bytes.count / 2
            for i in 0..<64 { bytes[middle + i] = UInt8((i * 151 + 89) & 0xFF) }
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
        }
        return path
    }

    /// Samples out of a pass-through graph over the file.
    static func samples(_ path: String) throws -> Int64 {
        let graph = try AudioGraph(graph: "[in]anull[aout]", inputs: [("in", path)], sampleRate: 44100, frameSize: nil)
        while try graph.next() != nil {}
        return graph.samples
    }

    @Test func aDamagedFrameIsConcealedWithItsTimeKept() throws {
        let clean = try Self.samples(try Self.flac(damaged: false))
        let damaged = try Self.samples(try Self.flac(damaged: true))
        #expect(abs(clean - 12 * 44100) < 100, "clean: \(clean) samples")
        // The dropped frame (4608 samples) is back as silence: within a few samples of the clean length.
        #expect(abs(clean - damaged) < 50, "clean \(clean), damaged \(damaged) samples")
    }
}
