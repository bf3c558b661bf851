import FilterGraphBackend
import Foundation
import RendcTestSupport
import Testing

/// The overlay loop kept as its first frame and every frame's runs of differing bytes (`LoopCoding`): exact round
/// trips, small for sparse changes, whole for noise, and a damaged payload refused rather than read out of bounds.
@Suite struct LoopCodingTests {
    static let frameBytes = 6000

    /// A reference of noise; frames that differ from it in single bytes, short runs, runs a few equal bytes apart,
    /// the first and last byte, nothing at all; one frame of new noise.
    static func frames() -> [[UInt8]] {
        var rng = SplitMix64(state: 13)
        let n = frameBytes
        let reference = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var frames = [reference, reference]
        for _ in 0..<4 {
            var f = reference
            for _ in 0..<40 {
                let at = Int.random(in: 0..<n, using: &rng), length = Int.random(in: 1...12, using: &rng)
                for i in at..<min(n, at + length) where Bool.random(using: &rng) || i == at { f[i] &+= UInt8.random(in: 1...255, using: &rng) }
            }
            f[0] &+= 1
            f[n - 1] &+= 1
            frames.append(f)
        }
        frames.append((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
        return frames
    }

    static func payload(_ frames: [[UInt8]], holdLast: Bool = false) -> [UInt8] {
        var b = CompactLoopBuilder(frameBytes: frameBytes)
        for f in frames { f.withUnsafeBufferPointer { b.append(stream: $0.baseAddress!) } }
        return b.finish(fps: 25, holdLast: holdLast)
    }

    /// Frame `k` of a checked loop, rebuilt from the reference and its encoding.
    static func frame(_ loop: CompactLoop, _ k: Int) -> [UInt8] {
        var stream = Array(loop.payload[LoopCoding.header..<(LoopCoding.header + frameBytes)])
        loop.payload.withUnsafeBufferPointer { p in
            let encoding = UnsafeBufferPointer(rebasing: p[loop.offsets[k]..<loop.offsets[k + 1]])
            stream.withUnsafeMutableBufferPointer { LoopCoding.apply(encoding, to: $0.baseAddress!, frameBytes: frameBytes) }
        }
        return stream
    }

    @Test func everyFrameComesBackExactlyAndOnlyNoiseIsKeptWhole() throws {
        let frames = Self.frames()
        let payload = Self.payload(frames, holdLast: true)
        let loop = try #require(CompactLoop(payload: payload, frameBytes: Self.frameBytes))
        #expect(loop.count == frames.count && loop.fps == 25 && loop.holdLast)
        for k in frames.indices { #expect(Self.frame(loop, k) == frames[k], "frame \(k)") }
        func encoded(_ k: Int) -> ArraySlice<UInt8> { payload[loop.offsets[k]..<loop.offsets[k + 1]] }
        // The first frame and an unchanged one: a kind byte and no runs.
        #expect(encoded(0) == [LoopCoding.runs] && encoded(1) == [LoopCoding.runs])
        // Sparse changes: runs, a small part of the frame.
        for k in 2..<6 {
            #expect(encoded(k).first == LoopCoding.runs)
            #expect(encoded(k).count < Self.frameBytes / 4, "frame \(k): \(encoded(k).count) bytes")
        }
        // Noise: the whole frame, no bigger than that.
        #expect(encoded(6).first == LoopCoding.whole && encoded(6).count == LoopCoding.maxEncoded(Self.frameBytes))
    }

    @Test func aDamagedPayloadIsRefused() throws {
        let payload = Self.payload(Self.frames())
        let good = try #require(CompactLoop(payload: payload, frameBytes: Self.frameBytes))
        var cases: [(String, [UInt8])] = []
        cases.append(("truncated", Array(payload.dropLast())))
        cases.append(("a byte more", payload + [0]))
        var version = payload
        version[0] = 1
        cases.append(("another version", version))
        // The first run of frame 2 points past the stream.
        var offset = payload
        let run = good.offsets[2] + 1
        offset.replaceSubrange(run..<(run + 4), with: [0xFF, 0xFF, 0, 0])
        cases.append(("a run past the stream", offset))
        // A run's length longer than what is left of its encoding.
        var length = payload
        length.replaceSubrange((run + 4)..<(run + 8), with: [0xFF, 0x0F, 0, 0])
        cases.append(("a run longer than its encoding", length))
        // An unknown kind of encoding.
        var kind = payload
        kind[good.offsets[3]] = 7
        cases.append(("an unknown kind", kind))
        // The table going backwards: frame 3 said to start before frame 2.
        var table = payload
        let entry = payload.count - 8 * (good.count + 1) + 8 * 3
        table.replaceSubrange(entry..<(entry + 8), with: [0, 0, 0, 0, 0, 0, 0, 0])
        cases.append(("a table going backwards", table))
        for (name, bytes) in cases { #expect(CompactLoop(payload: bytes, frameBytes: Self.frameBytes) == nil, "\(name)") }
        // The same payload read for another frame layout.
        #expect(CompactLoop(payload: payload, frameBytes: Self.frameBytes + 2) == nil)
    }
}
