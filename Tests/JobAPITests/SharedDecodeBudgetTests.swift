import Foundation
import RendcTestSupport
import Testing

@testable import LibAV

/// A file several graph inputs read is decoded once for them only while what its inputs may hold for each other fits
/// `AudioGraph.sharedBudget` (audio13): a 32-channel 192 kHz WAV (12.3 MB a second as 16-bit) is shared over a
/// 1 s span and opened once per input over a 20 s one (258 MB).
struct SharedDecodeBudgetTests {
    @Test func aHugeDecodedSpanIsNotHeldForLaterInputs() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-shared-budget")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("wide.wav").path
        let made = try Subprocess.run(
            "/usr/bin/ffmpeg",
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                "aevalsrc=" + Array(repeating: "0.5*sin(2*PI*440*t)", count: 32).joined(separator: "|") + ":s=192000:d=1", "-c:a", "pcm_s16le",
                path,
            ])
        try #require(made.status == 0, "\(made.errors)")
        func files(_ window: ClosedRange<Double>) throws -> Int {
            let graph = try AudioGraph(
                graph: "[a]anullsink;[b]pan=mono|c0=c0[aout]", inputs: [("a", path), ("b", path)], reads: ["a": window, "b": window],
                sampleRate: 192_000,
                frameSize: nil)
            while try graph.next() != nil {}
            return graph.decodeCounts.files
        }
        #expect(try files(0...1) == 1)
        #expect(try files(0...20) == 2)
    }
}
