internal import CFFmpeg
import Foundation
import RasterImage

/// Still images in and out: decode JPEG, PNG, WebP, BMP, TIFF, GIF (first frame) to RGBA with EXIF orientation
/// applied; write PNG and JPEG. All through libavformat/libavcodec/libswscale.
public enum ImageFile {
    /// Largest image accepted, in pixels (about 100 megapixels): bigger files are refused before decoding.
    public static let maximumPixels = 100_000_000

    /// Decodes an image file into RGBA. `minimumSize` lets big JPEGs decode at a reduced scale when the caller
    /// needs no more than that many pixels.
    public static func decode(path: String, minimumSize: (width: Int, height: Int)? = nil) throws -> RGBAImage {
        let input = try MediaInputFile(path: path, mediaType: AVMEDIA_TYPE_VIDEO, lowresFor: minimumSize)
        let par = input.stream.pointee.codecpar.pointee
        if Int(par.width) * Int(par.height) > maximumPixels {
            throw BackendError(.decode, path: path, "image is \(par.width)x\(par.height), larger than \(maximumPixels / 1_000_000) megapixels")
        }
        let frame = try AVFrameBox()
        guard try input.decode(into: frame) else {
            throw BackendError(.decode, path: path, "no picture could be decoded (empty, truncated or corrupt file)")
        }
        let w = Int(frame.pointer.pointee.width), h = Int(frame.pointer.pointee.height)
        guard w > 0, h > 0 else { throw BackendError(.decode, path: path, "decoded an empty picture") }
        let pixels = try RGBAScaler().convert(frame.pointer, width: w, height: h, path: path)
        let image = RGBAImage(width: w, height: h, pixels: pixels)
        let orientation = (try? EXIFOrientation.read(path: path)) ?? 1
        return orientation == 1 ? image : EXIFOrientation.apply(orientation, to: image)
    }

    /// Writes a PNG (RGBA) atomically.
    public static func writePNG(_ image: RGBAImage, to path: String) throws {
        let data = try encode(image, codec: AV_CODEC_ID_PNG, pixelFormat: AV_PIX_FMT_RGBA, quality: nil, path: path)
        try writeAtomically(data, to: path)
    }

    /// Writes a JPEG (alpha dropped) atomically; `quality` is 2 (best) ... 31 (worst) on FFmpeg's qscale.
    public static func writeJPEG(_ image: RGBAImage, to path: String, quality: Int = 3) throws {
        let data = try encode(image, codec: AV_CODEC_ID_MJPEG, pixelFormat: AV_PIX_FMT_YUVJ420P, quality: quality, path: path)
        try writeAtomically(data, to: path)
    }

    static func encode(_ image: RGBAImage, codec id: AVCodecID, pixelFormat: AVPixelFormat, quality: Int?, path: String) throws -> Data {
        guard let codec = avcodec_find_encoder(id) else { throw BackendError(.encode, path: path, "encoder not available") }
        guard var ctx = Optional(avcodec_alloc_context3(codec)) ?? nil else { throw BackendError(.encode, path: path, "out of memory") }
        defer { var c: UnsafeMutablePointer<AVCodecContext>? = ctx; avcodec_free_context(&c) }
        let w = image.width - (pixelFormat == AV_PIX_FMT_YUVJ420P ? image.width % 2 : 0)
        let h = image.height - (pixelFormat == AV_PIX_FMT_YUVJ420P ? image.height % 2 : 0)
        guard w > 0, h > 0 else { throw BackendError(.encode, path: path, "image too small") }
        ctx.pointee.width = Int32(w)
        ctx.pointee.height = Int32(h)
        ctx.pointee.pix_fmt = pixelFormat
        ctx.pointee.time_base = AVRational(num: 1, den: 25)
        if let quality {
            ctx.pointee.flags |= AV_CODEC_FLAG_QSCALE
            ctx.pointee.global_quality = Int32(quality) * FF_QP2LAMBDA
            ctx.pointee.color_range = AVCOL_RANGE_JPEG
        }
        try check(avcodec_open2(ctx, codec, nil), .encode, path, "cannot open the encoder")
        let frame = try AVFrameBox()
        frame.pointer.pointee.width = Int32(w)
        frame.pointer.pointee.height = Int32(h)
        frame.pointer.pointee.format = pixelFormat.rawValue
        if let _ = quality { frame.pointer.pointee.quality = Int32(quality!) * FF_QP2LAMBDA }
        try check(av_frame_get_buffer(frame.pointer, 0), .encode, path, "out of memory")
        let f = frame.pointer.pointee
        image.pixels.withUnsafeBufferPointer { src in
            let base = src.baseAddress!
            if pixelFormat == AV_PIX_FMT_RGBA {
                for y in 0..<h {
                    memcpy(f.data.0! + y * Int(f.linesize.0), base + y * image.width * 4, w * 4)
                }
            } else {
                rk_rgba_to_yuvj420(base, w, h, image.width * 4, f.data.0, Int(f.linesize.0), f.data.1, Int(f.linesize.1), f.data.2, Int(f.linesize.2))
            }
        }
        try check(avcodec_send_frame(ctx, frame.pointer), .encode, path, "encoding failed")
        try check(avcodec_send_frame(ctx, nil), .encode, path, "encoding failed")
        let packet = try AVPacketBox()
        var data = Data()
        while avcodec_receive_packet(ctx, packet.pointer) == 0 {
            data.append(packet.pointer.pointee.data, count: Int(packet.pointer.pointee.size))
            av_packet_unref(packet.pointer)
        }
        guard !data.isEmpty else { throw BackendError(.encode, path: path, "the encoder produced no data") }
        return data
    }
}

/// Writes `data` to a temporary file beside `path`, then renames it into place.
func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
        try data.write(to: temp)
        try AtomicFile.replace(temp.path, with: path)
    } catch {
        try? FileManager.default.removeItem(at: temp)
        throw BackendError(.write, path: path, "cannot write (\(error.localizedDescription))")
    }
}

/// Moving finished files into place.
public enum AtomicFile {
    /// Renames `from` to `to`, replacing any file there in one step (rename(2)): readers see the old file or the
    /// new one, never a missing or partial one. Both must be on the same file system.
    public static func replace(_ from: String, with to: String) throws {
        guard rename(from, to) == 0 else {
            throw BackendError(.write, path: to, "cannot move into place (\(String(cString: strerror(errno))))")
        }
    }
}

/// Full-range (JPEG) YUV 4:2:0 from RGBA, BT.601 as JFIF specifies.
private func rk_rgba_to_yuvj420(_ rgba: UnsafePointer<UInt8>, _ w: Int, _ h: Int, _ rowStride: Int,
                                _ y: UnsafeMutablePointer<UInt8>?, _ ys: Int, _ u: UnsafeMutablePointer<UInt8>?, _ us: Int,
                                _ v: UnsafeMutablePointer<UInt8>?, _ vs: Int) {
    guard let y, let u, let v else { return }
    func c(_ x: Double) -> UInt8 { UInt8(max(0, min(255, x.rounded()))) }
    for row in 0..<h {
        for col in 0..<w {
            let p = rgba + row * rowStride + col * 4
            let r = Double(p[0]), g = Double(p[1]), b = Double(p[2])
            y[row * ys + col] = c(0.299 * r + 0.587 * g + 0.114 * b)
        }
    }
    for row in stride(from: 0, to: h, by: 2) {
        for col in stride(from: 0, to: w, by: 2) {
            var r = 0.0, g = 0.0, b = 0.0
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let p = rgba + (row + dy) * rowStride + (col + dx) * 4
                r += Double(p[0]); g += Double(p[1]); b += Double(p[2])
            }
            r /= 4; g /= 4; b /= 4
            u[(row / 2) * us + col / 2] = c(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)
            v[(row / 2) * vs + col / 2] = c(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)
        }
    }
}

/// EXIF orientation (tag 0x0112) of a JPEG, read from its APP1 segment, and applying it to pixels.
enum EXIFOrientation {
    static func read(path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 1 }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 128 * 1024))
        return parse(head)
    }

    static func parse(_ b: [UInt8]) -> Int {
        guard b.count > 4, b[0] == 0xFF, b[1] == 0xD8 else { return 1 }
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            let marker = b[i + 1]
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if marker == 0xDA || length < 2 { break }
            if marker == 0xE1, i + 4 + length - 2 <= b.count, length >= 16,
               Array(b[(i + 4)..<(i + 10)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                return parseTIFF(Array(b[(i + 10)..<(i + 2 + length)]))
            }
            i += 2 + length
        }
        return 1
    }

    static func parseTIFF(_ t: [UInt8]) -> Int {
        guard t.count >= 8 else { return 1 }
        let little = t[0] == 0x49
        func u16(_ o: Int) -> Int { guard o + 2 <= t.count else { return 0 }; return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1]) }
        func u32(_ o: Int) -> Int { guard o + 4 <= t.count else { return 0 }; return little ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2) }
        let ifd = u32(4)
        let count = u16(ifd)
        guard ifd > 0, count < 512 else { return 1 }
        for e in 0..<count {
            let o = ifd + 2 + e * 12
            if u16(o) == 0x0112 {
                let v = u16(o + 8)
                return (1...8).contains(v) ? v : 1
            }
        }
        return 1
    }

    /// Returns the image as it should be displayed.
    static func apply(_ orientation: Int, to image: RGBAImage) -> RGBAImage {
        let w = image.width, h = image.height
        let swap = orientation >= 5
        let ow = swap ? h : w, oh = swap ? w : h
        var out = [UInt8](repeating: 0, count: ow * oh * 4)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<oh {
                    for x in 0..<ow {
                        // Source pixel for display pixel (x, y).
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case 2: (sx, sy) = (w - 1 - x, y)
                        case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case 4: (sx, sy) = (x, h - 1 - y)
                        case 5: (sx, sy) = (y, x)
                        case 6: (sx, sy) = (y, h - 1 - x)
                        case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                        case 8: (sx, sy) = (w - 1 - y, x)
                        default: (sx, sy) = (x, y)
                        }
                        let s = (sy * w + sx) * 4, d = (y * ow + x) * 4
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]; dst[d + 3] = src[s + 3]
                    }
                }
            }
        }
        return RGBAImage(width: ow, height: oh, pixels: out)
    }
}

/// EXIF orientation parsing and application, exposed for tests and tools.
public enum EXIFOrientationProbe {
    public static func parse(_ jpegHead: [UInt8]) -> Int { EXIFOrientation.parse(jpegHead) }
    public static func apply(_ orientation: Int, to image: RGBAImage) -> RGBAImage { EXIFOrientation.apply(orientation, to: image) }
}
