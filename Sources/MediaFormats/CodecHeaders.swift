import Foundation

/// Picture sizes stated inside a video codec's own headers (an H.264 or HEVC sequence parameter set), which are
/// what the decoder allocates frames by, whatever the container's track headers say. Read from the parameter sets
/// alone: nothing is decoded.
package enum CodecHeaders {
    /// The codecs whose headers are read: H.264 and HEVC (NAL units, sizes in parameter sets), VP8, VP9 and AV1
    /// (sizes in frame headers, or AV1's sequence header), MPEG-4 Part 2 (sizes in VOL headers),
    /// Motion JPEG (each frame's SOF), Motion JPEG B (each field's frame header, where its header points), PNG
    /// (each frame's IHDR), ProRes (each frame's header) and H.263 (each picture header).
    package enum Codec: Sendable, Equatable {
        case h264, hevc, vp8, vp9, av1, mpeg4, mjpeg, mjpegB, png, prores, h263

        /// The SPS NAL units and NAL length size of this codec's decoder configuration record (`avcC`, `hvcC`: the
        /// body of an MP4 sample entry's box, or Matroska's `CodecPrivate`); nil for the others or a malformed one.
        func configuration(_ record: [UInt8]) -> (lengthSize: Int, sps: [[UInt8]])? {
            switch self {
            case .h264: CodecHeaders.avcConfiguration(record)
            case .hevc: CodecHeaders.hevcConfiguration(record)
            case .vp8, .vp9, .av1, .mpeg4, .mjpeg, .mjpegB, .png, .prores, .h263: nil
            }
        }

        /// Whether a NAL unit (its first bytes) is a sequence parameter set of this codec.
        func isSPS(_ firstByte: UInt8) -> Bool {
            switch self {
            case .h264: firstByte & 0x1F == 7
            case .hevc: (firstByte >> 1) & 0x3F == 33
            case .vp8, .vp9, .av1, .mpeg4, .mjpeg, .mjpegB, .png, .prores, .h263: false
            }
        }

        /// The size an SPS NAL unit (header included) states, or nil when it cannot be read.
        func spsSize(_ nal: [UInt8]) -> (width: Int, height: Int)? {
            switch self {
            case .h264: CodecHeaders.h264SPSSize(nal)
            case .hevc: CodecHeaders.hevcSPSSize(nal)
            case .vp8, .vp9, .av1, .mpeg4, .mjpeg, .mjpegB, .png, .prores, .h263: nil
            }
        }
    }

    /// A cropping window is honoured up to this many pixels a dimension: it makes the shown picture smaller, not
    /// the frames the decoder allocates, so a huge coded size cannot hide behind a huge crop.
    static let largestCrop = 32

    /// Width and height an H.264 SPS states (the coded size less its cropping), from the NAL unit with its header.
    package static func h264SPSSize(_ nal: [UInt8]) -> (width: Int, height: Int)? {
        guard nal.count > 4, nal[0] & 0x1F == 7 else { return nil }
        var b = BitReader(rbspOf: nal, headerBytes: 1)
        guard let profile = b.bits(8), b.bits(16) != nil, b.ue() != nil else { return nil }
        var chromaFormat = 1
        if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profile) {
            guard let format = b.ue(), format <= 3 else { return nil }
            chromaFormat = format
            if format == 3, b.bits(1) == nil { return nil }
            guard b.ue() != nil, b.ue() != nil, b.bits(1) != nil, let matrices = b.bits(1) else { return nil }
            if matrices == 1 {
                for i in 0..<(format != 3 ? 8 : 12) {
                    guard let present = b.bits(1) else { return nil }
                    guard present == 1 else { continue }
                    var last = 8, next = 8
                    for _ in 0..<(i < 6 ? 16 : 64) {
                        if next != 0 {
                            guard let delta = b.se() else { return nil }
                            next = ((last + delta) % 256 + 256) % 256
                        }
                        last = next == 0 ? last : next
                    }
                }
            }
        }
        guard b.ue() != nil, let pocType = b.ue() else { return nil }
        if pocType == 0 {
            guard b.ue() != nil else { return nil }
        } else if pocType == 1 {
            guard b.bits(1) != nil, b.se() != nil, b.se() != nil, let cycle = b.ue(), cycle <= 255 else { return nil }
            for _ in 0..<cycle { guard b.se() != nil else { return nil } }
        } else if pocType != 2 {
            return nil
        }
        guard b.ue() != nil, b.bits(1) != nil, let mbWidth = b.ue(), let mapHeight = b.ue(), let frameOnly = b.bits(1) else { return nil }
        guard mbWidth < 1 << 16, mapHeight < 1 << 16 else { return nil }
        var width = (mbWidth + 1) * 16
        var height = (mapHeight + 1) * 16 * (2 - frameOnly)
        if frameOnly == 0, b.bits(1) == nil { return nil }  // mb_adaptive_frame_field_flag
        guard b.bits(1) != nil, let cropped = b.bits(1) else { return (width, height) }
        if cropped == 1 {
            guard let left = b.ue(), let right = b.ue(), let top = b.ue(), let bottom = b.ue() else { return (width, height) }
            let unitX = chromaFormat == 1 || chromaFormat == 2 ? 2 : 1
            let unitY = (chromaFormat == 1 ? 2 : 1) * (2 - frameOnly)
            width -= min(largestCrop, (left + right) * unitX)
            height -= min(largestCrop, (top + bottom) * unitY)
        }
        return (max(width, 1), max(height, 1))
    }

    /// Width and height an HEVC SPS states (`pic_width/height_in_luma_samples` less the conformance window), from the
    /// NAL unit with its two-byte header.
    package static func hevcSPSSize(_ nal: [UInt8]) -> (width: Int, height: Int)? {
        guard nal.count > 4, (nal[0] >> 1) & 0x3F == 33 else { return nil }
        var b = BitReader(rbspOf: nal, headerBytes: 2)
        guard b.bits(4) != nil, let subLayers = b.bits(3), b.bits(1) != nil else { return nil }
        // profile_tier_level: the general profile (88 bits) and level (8), then what each sub-layer carries.
        guard b.skip(96) else { return nil }
        var present: [(profile: Int, level: Int)] = []
        for _ in 0..<subLayers {
            guard let p = b.bits(1), let l = b.bits(1) else { return nil }
            present.append((p, l))
        }
        if subLayers > 0 { guard b.skip(2 * (8 - subLayers)) else { return nil } }
        for layer in present {
            guard b.skip(layer.profile * 88 + layer.level * 8) else { return nil }
        }
        guard b.ue() != nil, let chromaFormat = b.ue(), chromaFormat <= 3 else { return nil }
        if chromaFormat == 3, b.bits(1) == nil { return nil }
        guard var width = b.ue(), var height = b.ue(), width < 1 << 20, height < 1 << 20 else { return nil }
        if let window = b.bits(1), window == 1, let left = b.ue(), let right = b.ue(), let top = b.ue(), let bottom = b.ue() {
            let unitX = chromaFormat == 1 || chromaFormat == 2 ? 2 : 1
            let unitY = chromaFormat == 1 ? 2 : 1
            width -= min(largestCrop, (left + right) * unitX)
            height -= min(largestCrop, (top + bottom) * unitY)
        }
        return (max(width, 1), max(height, 1))
    }

    /// The SPS NAL units of an `avcC` box's body (AVCDecoderConfigurationRecord) and its NAL length size.
    package static func avcConfiguration(_ body: [UInt8]) -> (lengthSize: Int, sps: [[UInt8]])? {
        guard body.count >= 6, body[0] == 1 else { return nil }
        var sps: [[UInt8]] = []
        var pos = 6
        for _ in 0..<Int(body[5] & 0x1F) {
            let n = body.be16(pos)
            guard pos + 2 + n <= body.count else { break }
            sps.append(Array(body[(pos + 2)..<(pos + 2 + n)]))
            pos += 2 + n
        }
        return (Int(body[4] & 3) + 1, sps)
    }

    /// The SPS NAL units of an `hvcC` box's body (HEVCDecoderConfigurationRecord) and its NAL length size.
    package static func hevcConfiguration(_ body: [UInt8]) -> (lengthSize: Int, sps: [[UInt8]])? {
        guard body.count >= 23, body[0] == 1 else { return nil }
        var sps: [[UInt8]] = []
        var pos = 23
        for _ in 0..<Int(body[22]) {
            guard pos + 3 <= body.count else { break }
            let type = body[pos] & 0x3F, count = body.be16(pos + 1)
            pos += 3
            for _ in 0..<count {
                let n = body.be16(pos)
                guard pos + 2 + n <= body.count else { return (Int(body[21] & 3) + 1, sps) }
                if type == 33 { sps.append(Array(body[(pos + 2)..<(pos + 2 + n)])) }
                pos += 2 + n
            }
        }
        return (Int(body[21] & 3) + 1, sps)
    }
}

/// Reads bits from a NAL unit's payload with the emulation prevention bytes (`00 00 03`) removed.
struct BitReader {
    private var bytes: [UInt8] = []
    private var bit = 0

    /// Reads `bytes` as they are (VP9 and AV1 headers have no emulation prevention).
    init(raw bytes: [UInt8]) { self.bytes = bytes }

    init(rbspOf nal: [UInt8], headerBytes: Int) {
        var zeros = 0
        bytes.reserveCapacity(nal.count)
        for byte in nal.dropFirst(headerBytes) {
            if zeros >= 2 && byte == 3 {
                zeros = 0
                continue
            }
            zeros = byte == 0 ? zeros + 1 : 0
            bytes.append(byte)
        }
    }

    /// The next `n` bits (at most 32), or nil past the end.
    mutating func bits(_ n: Int) -> Int? {
        guard n <= 32, bit + n <= bytes.count * 8 else { return nil }
        var value = 0
        for _ in 0..<n {
            value = value << 1 | Int(bytes[bit >> 3] >> (7 - UInt8(bit & 7)) & 1)
            bit += 1
        }
        return value
    }

    mutating func skip(_ n: Int) -> Bool {
        guard bit + n <= bytes.count * 8 else { return false }
        bit += n
        return true
    }

    /// An unsigned Exp-Golomb number (at most 31 leading zeros), or nil.
    mutating func ue() -> Int? {
        var zeros = 0
        while true {
            guard let b = bits(1) else { return nil }
            if b == 1 { break }
            zeros += 1
            guard zeros < 32 else { return nil }
        }
        guard let rest = bits(zeros) else { return nil }
        return (1 << zeros) - 1 + rest
    }

    /// A signed Exp-Golomb number, or nil.
    mutating func se() -> Int? {
        guard let k = ue() else { return nil }
        return k & 1 == 1 ? (k + 1) / 2 : -(k / 2)
    }
}
