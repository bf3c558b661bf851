import Foundation
import SpecLang

/// Which bytes of a frame the cached bottom keeps: per plane and row, the runs outside the rectangle the pictures
/// always cover. A loop frame is those runs one after another (`frameBytes` long), its "stream".
struct LoopLayout {
    struct Segment { var plane: Int; var row: Int; var x: Int; var length: Int }
    let segments: [Segment]
    /// Where each segment starts in the stream (one more entry: the stream's length).
    private let starts: [Int]
    var frameBytes: Int { starts.last ?? 0 }

    init(width: Int, height: Int, occluded: Rect?) {
        var result: [Segment] = []
        for plane in 0..<3 {
            let sub = plane == 0 ? 1 : 2
            let pw = width / sub, ph = height / sub
            for row in 0..<ph {
                if let o = occluded, row >= (o.y + sub - 1) / sub, row < (o.y + o.height) / sub {
                    let left = (o.x + sub - 1) / sub, right = (o.x + o.width) / sub
                    if left > 0 { result.append(Segment(plane: plane, row: row, x: 0, length: left)) }
                    if right < pw { result.append(Segment(plane: plane, row: row, x: right, length: pw - right)) }
                } else {
                    result.append(Segment(plane: plane, row: row, x: 0, length: pw))
                }
            }
        }
        segments = result
        var s = [0]
        s.reserveCapacity(result.count + 1)
        for seg in result { s.append(s.last! + seg.length) }
        starts = s
    }

    private func destination(_ s: Segment, _ dst: PlanesRef) -> UnsafeMutablePointer<UInt8> {
        s.plane == 0 ? dst.y + s.row * dst.yStride + s.x : (s.plane == 1 ? dst.u : dst.v) + s.row * dst.cStride + s.x
    }

    /// Copies the kept runs of `p` into `stream` (`frameBytes` bytes).
    func extract(_ p: PlaneBuffer, into stream: UnsafeMutablePointer<UInt8>) {
        var offset = 0
        for s in segments {
            let (plane, stride) = s.plane == 0 ? (p.y, p.width) : (s.plane == 1 ? p.u : p.v, p.width / 2)
            memcpy(stream + offset, plane + s.row * stride + s.x, s.length)
            offset += s.length
        }
    }

    /// Writes a whole stream into the frame's runs.
    func copy(_ stream: UnsafePointer<UInt8>, into dst: PlanesRef) {
        var offset = 0
        for s in segments {
            memcpy(destination(s, dst), stream + offset, s.length)
            offset += s.length
        }
    }

    /// Writes loop frame `encoding` (made by `LoopCoding.encode` against `reference`, checked) into the frame's runs.
    func draw(reference: UnsafePointer<UInt8>, encoding: UnsafePointer<UInt8>, count: Int, into dst: PlanesRef) {
        if encoding[0] == LoopCoding.whole {
            copy(encoding + 1, into: dst)
            return
        }
        copy(reference, into: dst)
        var at = 1, seg = 0
        while at < count {
            var offset = LoopCoding.load32(encoding + at), length = LoopCoding.load32(encoding + at + 4)
            var bytes = encoding + at + 8
            at += 8 + length
            // Runs come in stream order; one may cross from a segment into the next ones.
            while starts[seg + 1] <= offset { seg += 1 }
            while length > 0 {
                let inside = offset - starts[seg], n = min(length, starts[seg + 1] - offset)
                memcpy(destination(segments[seg], dst) + inside, bytes, n)
                offset += n
                bytes += n
                length -= n
                if length > 0 { seg += 1 }
            }
        }
    }
}

/// The blended overlay loop kept compactly. golden-frame's glitter is sparse sparkles over a still background, so
/// a frame differs from the loop's first frame in a few percent of its bytes: the first frame is kept whole (the
/// reference) and every frame as the runs of bytes in which it differs from it (57 MB of whole frames for the
/// 2 s loop at 1080x1920, about 7 MB so). A frame whose runs would not be smaller is kept whole.
///
/// The payload (the layer-cache entry as it is; Int64 little-endian unless said otherwise):
/// - the header: version (2), the video's rate (a Double), the frame count, `frameBytes`, hold-last (0 or 1), the
///   data's length;
/// - the reference: the first frame's stream (`frameBytes`);
/// - the data: every frame's encoding, one after another;
/// - the table: count + 1 offsets into the data (the first 0, the last the data's length).
///
/// An encoding is a kind byte, then either the whole stream (`whole`) or its runs (`runs`): each a UInt32 offset
/// and a UInt32 length (little-endian), then that many bytes; in stream order, not overlapping, inside the stream.
package enum LoopCoding {
    static let version = 2
    package static let header = 48
    package static let whole: UInt8 = 0, runs: UInt8 = 1
    /// Differing bytes at most this far apart share a run (copying the equal bytes between them costs no more
    /// than the 8 bytes of another run's offset and length).
    static let gap = 8

    /// The most bytes an encoding takes: the kind byte and the whole stream.
    package static func maxEncoded(_ frameBytes: Int) -> Int { 1 + frameBytes }

    static func load32(_ p: UnsafePointer<UInt8>) -> Int { Int(UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt32.self))) }

    static func store32(_ v: Int, _ p: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(p).storeBytes(of: UInt32(v).littleEndian, as: UInt32.self)
    }

    /// Writes the encoding of `frame` against `reference` (both `count` bytes) at `out`, which has room for
    /// `maxEncoded(count)` bytes, and returns its length.
    package static func encode(
        _ frame: UnsafePointer<UInt8>, reference: UnsafePointer<UInt8>, count: Int, into out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        var used = 1, i = 0
        let f = UnsafeRawPointer(frame), r = UnsafeRawPointer(reference)
        while i < count {
            // Equal bytes are skipped 8 at a time.
            while i + 8 <= count, f.loadUnaligned(fromByteOffset: i, as: UInt64.self) == r.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                i += 8
            }
            while i < count, frame[i] == reference[i] { i += 1 }
            guard i < count else { break }
            let start = i
            var last = i
            i += 1
            while i < count, i - last <= gap {
                if frame[i] != reference[i] { last = i }
                i += 1
            }
            let length = last + 1 - start
            guard used + 8 + length < 1 + count else {
                out[0] = whole
                memcpy(out + 1, frame, count)
                return 1 + count
            }
            store32(start, out + used)
            store32(length, out + used + 4)
            memcpy(out + used + 8, frame + start, length)
            used += 8 + length
            i = last + 1
        }
        out[0] = runs
        return used
    }

    /// True when `encoding` is well formed for streams of `frameBytes` bytes (so `LoopLayout.draw` and `apply` stay
    /// inside their buffers).
    package static func isValid(_ encoding: UnsafeBufferPointer<UInt8>, frameBytes: Int) -> Bool {
        guard let p = encoding.baseAddress, encoding.count >= 1 else { return false }
        if p[0] == whole { return encoding.count == 1 + frameBytes }
        guard p[0] == runs else { return false }
        var at = 1, end = 0
        while at < encoding.count {
            guard at + 8 <= encoding.count else { return false }
            let offset = load32(p + at), length = load32(p + at + 4)
            guard offset >= end, length > 0, offset + length <= frameBytes, at + 8 + length <= encoding.count else { return false }
            end = offset + length
            at += 8 + length
        }
        return true
    }

    /// Applies a checked encoding to `stream`, which holds the reference (`frameBytes` bytes).
    package static func apply(_ encoding: UnsafeBufferPointer<UInt8>, to stream: UnsafeMutablePointer<UInt8>, frameBytes: Int) {
        let p = encoding.baseAddress!
        if p[0] == whole {
            memcpy(stream, p + 1, frameBytes)
            return
        }
        var at = 1
        while at < encoding.count {
            let offset = load32(p + at), length = load32(p + at + 4)
            memcpy(stream + offset, p + at + 8, length)
            at += 8 + length
        }
    }

    static func headerBytes(fps: Double, count: Int, frameBytes: Int, holdLast: Bool, dataLength: Int) -> [UInt8] {
        var w = LayerWriter()
        w.int(version); w.double(fps); w.int(count); w.int(frameBytes); w.int(holdLast ? 1 : 0); w.int(dataLength)
        return w.bytes
    }

    struct Header { var fps: Double; var count: Int; var holdLast: Bool; var dataLength: Int }

    /// The header of a payload, if it is this version's for streams of `frameBytes` bytes.
    static func header(_ bytes: [UInt8], frameBytes: Int) -> Header? {
        var r = LayerReader(bytes)
        guard let v = try? r.int(), v == version, let fps = try? r.double(), fps.isFinite, fps > 0, let count = try? r.int(),
            count > 0, count < 1 << 24, let fb = try? r.int(), fb == frameBytes, let hold = try? r.int(), hold == 0 || hold == 1,
            let data = try? r.int(), data >= count, data <= count * maxEncoded(frameBytes)
        else { return nil }
        return Header(fps: fps, count: count, holdLast: hold == 1, dataLength: data)
    }
}

/// A loop's payload, checked whole: every offset and every encoding (see `LoopCoding`).
package struct CompactLoop {
    package let payload: [UInt8]
    package let fps: Double, count: Int, holdLast: Bool
    /// Where each frame's encoding starts in `payload` (one more entry: where the last ends).
    package let offsets: [Int]

    package init?(payload: [UInt8], frameBytes: Int) {
        guard payload.count >= LoopCoding.header, let h = LoopCoding.header(Array(payload[0..<LoopCoding.header]), frameBytes: frameBytes)
        else { return nil }
        let data = LoopCoding.header + frameBytes, table = data + h.dataLength
        guard payload.count == table + 8 * (h.count + 1) else { return nil }
        var r = LayerReader(payload)
        r.at = table
        var offsets: [Int] = []
        offsets.reserveCapacity(h.count + 1)
        for _ in 0...h.count {
            guard let o = try? r.int(), data + o >= (offsets.last ?? data), o <= h.dataLength else { return nil }
            offsets.append(data + o)
        }
        guard offsets.first == data, offsets.last == table else { return nil }
        let valid = payload.withUnsafeBufferPointer { p in
            (0..<h.count).allSatisfy { k in
                LoopCoding.isValid(UnsafeBufferPointer(rebasing: p[offsets[k]..<offsets[k + 1]]), frameBytes: frameBytes)
            }
        }
        guard valid else { return nil }
        self.payload = payload
        fps = h.fps
        count = h.count
        holdLast = h.holdLast
        self.offsets = offsets
    }
}

/// Builds a loop's payload frame by frame (the first frame is the reference).
package struct CompactLoopBuilder {
    let frameBytes: Int
    private var bytes: [UInt8]
    private var offsets: [Int] = [0]
    /// An encoding being written, and a frame's stream.
    private final class Scratch {
        let encoding: UnsafeMutablePointer<UInt8>, stream: UnsafeMutablePointer<UInt8>
        init(_ frameBytes: Int) {
            encoding = .allocate(capacity: LoopCoding.maxEncoded(frameBytes))
            stream = .allocate(capacity: max(1, frameBytes))
        }
        deinit {
            encoding.deallocate()
            stream.deallocate()
        }
    }
    private let scratch: Scratch
    package var count: Int { offsets.count - 1 }

    /// `reserving`: frames to reserve address space for (pages never written are never resident).
    package init(frameBytes: Int, reserving frames: Int = 1) {
        self.frameBytes = frameBytes
        bytes = [UInt8](repeating: 0, count: LoopCoding.header)
        if frames > 1 { bytes.reserveCapacity(LoopCoding.header + frameBytes + frames * (LoopCoding.maxEncoded(frameBytes) + 8) + 8) }
        scratch = Scratch(frameBytes)
    }

    /// Appends the kept runs of `planes` as the next frame.
    mutating func append(_ planes: PlaneBuffer, layout: LoopLayout) {
        layout.extract(planes, into: scratch.stream)
        append(stream: scratch.stream)
    }

    /// Appends a frame given as its stream (`frameBytes` bytes).
    package mutating func append(stream frame: UnsafePointer<UInt8>) {
        if count == 0 { bytes.append(contentsOf: UnsafeBufferPointer(start: frame, count: frameBytes)) }
        let out = scratch.encoding
        let n = bytes.withUnsafeBufferPointer { p in
            LoopCoding.encode(frame, reference: p.baseAddress! + LoopCoding.header, count: frameBytes, into: out)
        }
        bytes.append(contentsOf: UnsafeBufferPointer(start: out, count: n))
        offsets.append(offsets.last! + n)
    }

    /// The payload, with its header and table (the builder is empty after it).
    package mutating func finish(fps: Double, holdLast: Bool) -> [UInt8] {
        var payload = bytes
        bytes = []
        let data = offsets.last!
        payload.replaceSubrange(
            0..<LoopCoding.header,
            with: LoopCoding.headerBytes(fps: fps, count: count, frameBytes: frameBytes, holdLast: holdLast, dataLength: data))
        var w = LayerWriter()
        for o in offsets { w.int(o) }
        payload += w.bytes
        return payload
    }
}
