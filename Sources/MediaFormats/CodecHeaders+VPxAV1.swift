import Foundation

/// Picture sizes in VP8 and VP9 frame headers and in AV1's sequence header: what the decoder allocates frames by.
extension CodecHeaders {
    /// A VP8 key frame's size: the 3-byte frame tag (bit 0 clear on a key frame), the start code `9d 01 2a`, then
    /// 14-bit width and height, little-endian (the 2 bits above them scale the display, not the frames). Nil for an
    /// inter frame, which keeps the size of the key frame before it.
    package static func vp8FrameSize(_ frame: [UInt8]) -> (width: Int, height: Int)? {
        guard frame.count >= 10, frame[0] & 1 == 0, frame[3] == 0x9D, frame[4] == 0x01, frame[5] == 0x2A else { return nil }
        let width = (Int(frame[6]) | Int(frame[7]) << 8) & 0x3FFF, height = (Int(frame[8]) | Int(frame[9]) << 8) & 0x3FFF
        return (max(width, 1), max(height, 1))
    }

    /// One VP9 frame's uncompressed header, up to its `frame_size()` (VP9 bitstream specification, 6.2), or nil
    /// when the frame states no size (it shows an earlier frame, or takes a reference frame's size).
    package static func vp9FrameSize(_ frame: [UInt8]) -> (width: Int, height: Int)? {
        var b = BitReader(raw: frame)
        guard b.bits(2) == 2, let low = b.bits(1), let high = b.bits(1) else { return nil }
        let profile = high << 1 | low
        if profile == 3 { guard b.skip(1) else { return nil } }
        guard b.bits(1) == 0, let frameType = b.bits(1), let showFrame = b.bits(1), let errorResilient = b.bits(1) else { return nil }
        func syncCode(_ b: inout BitReader) -> Bool { b.bits(8) == 0x49 && b.bits(8) == 0x83 && b.bits(8) == 0x42 }
        func colorConfig(_ b: inout BitReader) -> Bool {
            if profile >= 2 { guard b.skip(1) else { return false } }
            guard let colorSpace = b.bits(3) else { return false }
            if colorSpace != 7 {  // not RGB: colour range, then subsampling in profiles 1 and 3
                return b.skip(1) && (profile == 1 || profile == 3 ? b.skip(3) : true)
            }
            return profile == 1 || profile == 3 ? b.skip(1) : true
        }
        func frameSize(_ b: inout BitReader) -> (width: Int, height: Int)? {
            guard let width = b.bits(16), let height = b.bits(16) else { return nil }
            return (width + 1, height + 1)
        }
        if frameType == 0 {  // a key frame
            guard syncCode(&b), colorConfig(&b) else { return nil }
            return frameSize(&b)
        }
        let intraOnly = showFrame == 0 ? b.bits(1) : 0
        guard let intraOnly else { return nil }
        if errorResilient == 0 { guard b.skip(2) else { return nil } }  // reset_frame_context
        if intraOnly == 1 {
            guard syncCode(&b), profile == 0 || colorConfig(&b), b.skip(8) else { return nil }  // refresh_frame_flags
            return frameSize(&b)
        }
        // An inter frame: refresh flags, three references, then either a reference's size or one of its own.
        guard b.skip(8 + 3 * 4) else { return nil }
        for _ in 0..<3 {
            guard let found = b.bits(1) else { return nil }
            if found == 1 { return nil }
        }
        return frameSize(&b)
    }

    /// The sequence headers among AV1 OBUs (low-overhead format: each OBU with its size field), e.g. an `av1C`
    /// record's configuration OBUs after its 4 bytes, or a sample's OBUs: the largest size each states.
    package static func av1SequenceHeaderSizes(_ obus: ArraySlice<UInt8>) -> [(width: Int, height: Int)] {
        var sizes: [(width: Int, height: Int)] = []
        var pos = obus.startIndex
        var count = 0
        while pos < obus.endIndex, count < 1024 {
            count += 1
            let header = obus[pos]
            let type = Int(header >> 3) & 0xF, hasExtension = header & 0x04 != 0, hasSize = header & 0x02 != 0
            var p = pos + 1 + (hasExtension ? 1 : 0)
            guard hasSize, p < obus.endIndex else { break }
            var size = 0
            for i in 0..<8 {  // leb128
                guard p < obus.endIndex else { return sizes }
                let byte = obus[p]
                p += 1
                size |= Int(byte & 0x7F) << (7 * i)
                if byte & 0x80 == 0 { break }
            }
            guard size >= 0, p + size <= obus.endIndex else { break }
            if type == 1, let s = av1SequenceHeaderSize(Array(obus[p..<(p + size)])) { sizes.append(s) }
            pos = p + size
        }
        return sizes
    }

    /// The largest frame an AV1 sequence header allows (`max_frame_width_minus_1 + 1` by the height alike), from
    /// the OBU's payload (AV1 specification, 5.5).
    package static func av1SequenceHeaderSize(_ payload: [UInt8]) -> (width: Int, height: Int)? {
        var b = BitReader(raw: payload)
        guard b.skip(4), let reduced = b.bits(1) else { return nil }  // seq_profile, still_picture
        if reduced == 1 {
            guard b.skip(5) else { return nil }  // seq_level_idx[0]
        } else {
            guard let timingInfo = b.bits(1) else { return nil }
            var decoderModel = 0, bufferDelayLength = 0
            if timingInfo == 1 {
                guard b.skip(64), let equalPictureInterval = b.bits(1) else { return nil }  // display tick, time scale
                if equalPictureInterval == 1 {  // num_ticks_per_picture_minus_1, uvlc
                    var zeros = 0
                    while b.bits(1) == 0 {
                        zeros += 1
                        guard zeros < 32 else { return nil }
                    }
                    guard b.skip(zeros) else { return nil }
                }
                guard let model = b.bits(1) else { return nil }
                decoderModel = model
                if model == 1 {
                    guard let length = b.bits(5), b.skip(32 + 5 + 5) else { return nil }
                    bufferDelayLength = length + 1
                }
            }
            guard let initialDisplayDelay = b.bits(1), let operatingPoints = b.bits(5) else { return nil }
            for _ in 0...operatingPoints {
                guard b.skip(12), let level = b.bits(5) else { return nil }  // operating_point_idc, seq_level_idx
                if level > 7 { guard b.skip(1) else { return nil } }  // seq_tier
                if decoderModel == 1 {
                    guard let present = b.bits(1) else { return nil }
                    if present == 1 { guard b.skip(2 * bufferDelayLength + 1) else { return nil } }
                }
                if initialDisplayDelay == 1 {
                    guard let present = b.bits(1) else { return nil }
                    if present == 1 { guard b.skip(4) else { return nil } }
                }
            }
        }
        guard let widthBits = b.bits(4), let heightBits = b.bits(4), let width = b.bits(widthBits + 1), let height = b.bits(heightBits + 1)
        else { return nil }
        return (width + 1, height + 1)
    }
}
