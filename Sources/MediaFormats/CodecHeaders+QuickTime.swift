import Foundation

/// Picture sizes in the headers of the intra-frame and MPEG-4 Part 2 codecs an MP4/MOV file may hold, where
/// libavcodec 5.1's decoder takes each frame's size from the frame itself (`ff_set_dimensions` after parsing it),
/// not from the container: an MPEG-4 VOL header, a JPEG SOF, a ProRes frame header. PNG's IHDR is read by the
/// container walk (it is a chunk among others). Only header bytes are read, nothing is decoded.
extension CodecHeaders {
    /// An MPEG-4 Part 2 video object layer header's size, from the bytes after its start code (`00 00 01 2x`), as
    /// libavcodec's `decode_vol_header` reads it (`mpeg4videodec.c`): 13-bit width and height for a rectangular
    /// layer, or 14-bit ones in a studio-profile layer (`decode_studio_vol_header`). Marker bits are skipped, not
    /// checked, as libavcodec only warns about them. Nil when the layer states no size (another shape, a zero
    /// size, a time resolution of 0, too few bytes).
    package static func mpeg4VOLSize(_ vol: [UInt8]) -> (width: Int, height: Int)? {
        var b = BitReader(raw: vol)
        guard b.skip(1), let objectType = b.bits(8) else { return nil }
        if objectType == 14 || objectType == 15 {  // simple and core studio: another layout
            // verid, shape, shape extension, progressive; rgb, chroma format, bit depth; then the size.
            guard b.skip(4), let shape = b.bits(2), shape == 0, b.skip(4 + 1 + 1 + 2 + 4 + 1), let width = b.bits(14), b.skip(1),
                let height = b.bits(14), width > 0, height > 0
            else { return nil }
            return (width, height)
        }
        guard let identified = b.bits(1) else { return nil }
        var verid = 1
        if identified == 1 {
            guard let v = b.bits(4), b.skip(3) else { return nil }
            verid = v
        }
        guard let aspect = b.bits(4) else { return nil }
        if aspect == 15 { guard b.skip(16) else { return nil } }
        guard let control = b.bits(1) else { return nil }
        if control == 1 {
            guard b.skip(3), let vbv = b.bits(1) else { return nil }
            if vbv == 1 { guard b.skip(15 + 1 + 15 + 1 + 15 + 1 + 3 + 11 + 1 + 15 + 1) else { return nil } }
        }
        guard let shape = b.bits(2) else { return nil }
        if shape == 3 && verid != 1 { guard b.skip(4) else { return nil } }
        guard b.skip(1), let resolution = b.bits(16), resolution > 0, b.skip(1), let fixedRate = b.bits(1) else { return nil }
        if fixedRate == 1 {
            // As many bits as libavcodec's av_log2(resolution - 1) + 1.
            let bits = resolution > 1 ? Int.bitWidth - (resolution - 1).leadingZeroBitCount : 1
            guard b.skip(bits) else { return nil }
        }
        guard shape == 0, b.skip(1), let width = b.bits(13), b.skip(1), let height = b.bits(13), width > 0, height > 0 else {
            return nil
        }
        return (width, height)
    }

    /// A JPEG frame header's size, from its bytes after the marker: length, precision, height, width
    /// (`ff_mjpeg_decode_sof`).
    package static func jpegFrameHeaderSize(_ sof: [UInt8]) -> (width: Int, height: Int)? {
        guard sof.count >= 7 else { return nil }
        return (sof.be16(5), sof.be16(3))
    }

    /// The JPEG markers whose segment libavcodec's MJPEG decoder reads a size from: SOF0 to SOF3 and JPEG-LS's
    /// SOF55 (`mjpegdec.c`; the other SOF markers are refused as unsupported coding types).
    static func isDecodedFrameHeader(_ marker: UInt8) -> Bool { (0xC0...0xC3).contains(marker) || marker == 0xF7 }

    /// An H.263 picture header's size, from its picture start code (22 bits, byte-aligned: `00 00 8x`), as
    /// libavcodec's `ff_h263_decode_picture_header` reads it (`ituh263dec.c`): a source format of the five
    /// standard sizes, or (PLUSPTYPE, with its optional part present) one of them or a custom size up to
    /// 2048x2044. Nil when the header states no size (PLUSPTYPE without its optional part keeps the last size)
    /// or is one the decoder refuses before taking a size.
    package static func h263PictureSize(_ picture: [UInt8]) -> (width: Int, height: Int)? {
        let standard = [(0, 0), (128, 96), (176, 144), (352, 288), (704, 576), (1408, 1152), (0, 0), (0, 0)]
        var b = BitReader(raw: picture)
        guard b.bits(22) == 0x20, b.skip(8), b.bits(1) == 1, b.bits(1) == 0, b.skip(3), var format = b.bits(3) else { return nil }
        guard format == 6 || format == 7 else { return standard[format].0 > 0 ? standard[format] : nil }
        guard let update = b.bits(3), update <= 1 else { return nil }
        guard update == 1 else { return nil }
        guard let extended = b.bits(3), b.skip(15), let type = b.bits(3), [0, 1, 2, 3, 7].contains(type), b.skip(7) else { return nil }
        format = extended
        guard format == 6 else { return standard[format].0 > 0 ? standard[format] : nil }
        guard b.skip(4), let width = b.bits(9), b.skip(1), let height = b.bits(9), height > 0 else { return nil }
        return ((width + 1) * 4, height * 4)
    }

    /// A ProRes frame's size: a 4-byte frame size, `icpf`, then the frame header, whose width and height are at
    /// its bytes 8 and 10 (`proresdec2.c`: `decode_frame` skips 8 bytes, `decode_frame_header` reads
    /// `AV_RB16(buf + 8)` and `AV_RB16(buf + 10)` and calls `ff_set_dimensions` when they differ from the
    /// context's). Nil for a frame the decoder refuses before that (under 28 bytes, no `icpf`).
    package static func proresFrameSize(_ frame: [UInt8]) -> (width: Int, height: Int)? {
        guard frame.count >= 28, frame.ascii(4, 4) == "icpf" else { return nil }
        return (frame.be16(16), frame.be16(18))
    }
}
