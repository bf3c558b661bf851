internal import CFFmpeg
import Foundation
import MediaFormats

/// Still pictures: decode any allowed picture format to packed RGBA; encode RGBA as PNG or JPEG.
package enum ImageCodec {
    /// Decodes the first picture of an image file into packed RGBA. `minimumSize` lets big JPEGs decode at a
    /// reduced scale when the caller needs no more than that many pixels.
    package static func decodeRGBA(path: String, minimumSize: (width: Int, height: Int)? = nil) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let input = try MediaInput(path: path, mediaType: .image, lowresFor: { _ in minimumSize })
        let frame = try Frame()
        guard try input.decode(into: frame) else {
            throw MediaError(.decode, code: .corrupt, path: path, "no picture could be decoded (empty, truncated or corrupt file)")
        }
        // `decode` re-checked the decoded size against the pixel limit before this allocation.
        let w = frame.width, h = frame.height
        let pixels = try RGBAScaler().convert(frame, width: w, height: h, path: path)
        return (w, h, pixels)
    }

    /// Decodes the first picture of an image file and keeps it as the decoder produced it (planar YUV, RGB …), so
    /// that the caller converts only the part it needs, at the size it needs (`DecodedPicture.rgba(crop:…)`),
    /// instead of the whole picture to full-size RGBA first. `minimumSize`: the smallest size needed, given the
    /// picture's stored size (JPEGs then decode at a reduced scale, as in `decodeRGBA`).
    package static func decodePicture(
        path: String, minimumSize: ((width: Int, height: Int)) -> (width: Int, height: Int)? = { _ in nil }
    ) throws -> DecodedPicture {
        let input = try MediaInput(path: path, mediaType: .image, lowresFor: minimumSize)
        let frame = try Frame()
        guard try input.decode(into: frame) else {
            throw MediaError(.decode, code: .corrupt, path: path, "no picture could be decoded (empty, truncated or corrupt file)")
        }
        return DecodedPicture(frame: frame, path: path)
    }

    /// `opaquePNG` stores RGB without the alpha channel (for pictures whose alpha is 255 everywhere, e.g. a
    /// rendered frame): a quarter less to compress.
    package enum Format: Sendable { case png, opaquePNG, jpeg(quality: Int) }

    /// Encodes packed RGBA (`width` x `height`, 4 bytes a pixel) as PNG (with alpha, or RGB for `opaquePNG`) or
    /// JPEG (alpha dropped; quality 2 best ... 31 worst on FFmpeg's qscale; odd sizes lose their last row or column).
    ///
    /// PNGs are compressed for speed: zlib level 1 over the "up" row filter takes about 60 ms for a 1080x1920 frame
    /// (zlib's default level 6 without a filter: about 150 ms, and a larger file).
    package static func encode(_ pixels: [UInt8], width: Int, height: Int, as format: Format, path: String) throws -> [UInt8] {
        let id: AVCodecID, pixelFormat: AVPixelFormat, quality: Int?
        switch format {
        case .png: (id, pixelFormat, quality) = (AV_CODEC_ID_PNG, AV_PIX_FMT_RGBA, nil)
        case .opaquePNG: (id, pixelFormat, quality) = (AV_CODEC_ID_PNG, AV_PIX_FMT_RGB24, nil)
        case .jpeg(let q): (id, pixelFormat, quality) = (AV_CODEC_ID_MJPEG, AV_PIX_FMT_YUVJ420P, q)
        }
        guard pixels.count >= width * height * 4 else { throw MediaError(.encode, path: path, "the picture holds fewer pixels than its size") }
        guard let codec = avcodec_find_encoder(id) else { throw MediaError(.encode, path: path, "encoder not available") }
        let context = try CodecContext(codec: codec)
        let ctx = context.pointer
        let w = width - (quality != nil ? width % 2 : 0)
        let h = height - (quality != nil ? height % 2 : 0)
        guard w > 0, h > 0 else { throw MediaError(.encode, path: path, "image too small") }
        ctx.pointee.width = Int32(w)
        ctx.pointee.height = Int32(h)
        ctx.pointee.pix_fmt = pixelFormat
        ctx.pointee.time_base = AVRational(num: 1, den: 25)
        if let quality {
            ctx.pointee.flags |= AV_CODEC_FLAG_QSCALE
            ctx.pointee.global_quality = Int32(quality) * FF_QP2LAMBDA
            ctx.pointee.color_range = AVCOL_RANGE_JPEG
        }
        let options = Options()
        if quality == nil {
            ctx.pointee.compression_level = 1
            options.set("pred", "up")
        }
        try check(avcodec_open2(ctx, codec, &options.pointer), .encode, path, "cannot open the encoder")
        let frame = try Frame()
        frame.pointer.pointee.width = Int32(w)
        frame.pointer.pointee.height = Int32(h)
        frame.pointer.pointee.format = pixelFormat.rawValue
        if let quality { frame.pointer.pointee.quality = Int32(quality) * FF_QP2LAMBDA }
        try check(av_frame_get_buffer(frame.pointer, 0), .encode, path, "out of memory")
        let f = frame.pointer.pointee
        pixels.withUnsafeBufferPointer { src in
            let base = src.baseAddress!
            if pixelFormat == AV_PIX_FMT_RGBA {
                for y in 0..<h { memcpy(f.data.0! + y * Int(f.linesize.0), base + y * width * 4, w * 4) }
            } else if pixelFormat == AV_PIX_FMT_RGB24 {
                for y in 0..<h {
                    let s = base + y * width * 4, d = f.data.0! + y * Int(f.linesize.0)
                    for x in 0..<w { d[3 * x] = s[4 * x]; d[3 * x + 1] = s[4 * x + 1]; d[3 * x + 2] = s[4 * x + 2] }
                }
            } else {
                rgbaToYUVJ420(base, w, h, width * 4, f.data.0!, Int(f.linesize.0), f.data.1!, Int(f.linesize.1), f.data.2!, Int(f.linesize.2))
            }
        }
        try check(avcodec_send_frame(ctx, frame.pointer), .encode, path, "encoding failed")
        try check(avcodec_send_frame(ctx, nil), .encode, path, "encoding failed")
        let packet = try Packet()
        var data: [UInt8] = []
        while avcodec_receive_packet(ctx, packet.pointer) == 0 {
            data.append(contentsOf: UnsafeBufferPointer(start: packet.pointer.pointee.data, count: Int(packet.pointer.pointee.size)))
            av_packet_unref(packet.pointer)
        }
        guard !data.isEmpty else { throw MediaError(.encode, path: path, "the encoder produced no data") }
        return data
    }

    /// Full-range (JPEG) YUV 4:2:0 from RGBA, BT.601 as JFIF specifies.
    private static func rgbaToYUVJ420(
        _ rgba: UnsafePointer<UInt8>, _ w: Int, _ h: Int, _ rowStride: Int,
        _ y: UnsafeMutablePointer<UInt8>, _ ys: Int, _ u: UnsafeMutablePointer<UInt8>, _ us: Int,
        _ v: UnsafeMutablePointer<UInt8>, _ vs: Int
    ) {
        func c(_ x: Double) -> UInt8 { UInt8(max(0, min(255, x.rounded()))) }
        for row in 0..<h {
            for col in 0..<w {
                let p = rgba + row * rowStride + col * 4
                y[row * ys + col] = c(0.299 * Double(p[0]) + 0.587 * Double(p[1]) + 0.114 * Double(p[2]))
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
}

/// A decoded picture in the decoder's own pixel format (see `ImageCodec.decodePicture`).
package final class DecodedPicture {
    private let frame: Frame
    private let path: String
    package var width: Int { frame.width }
    package var height: Int { frame.height }

    init(frame: Frame, path: String) {
        self.frame = frame
        self.path = path
    }

    /// What a crop's origin must be a multiple of (the chroma subsampling), or nil when the format cannot be read
    /// from an offset in place (paletted, bit-packed): then convert it whole with `rgba()`.
    package var cropAlignment: (x: Int, y: Int)? { RGBAScaler.cropAlignment(of: frame) }

    /// The whole picture as packed RGBA.
    package func rgba() throws -> [UInt8] { try RGBAScaler().convert(frame, width: width, height: height, path: path) }

    /// The `crop` rectangle (origin a multiple of `cropAlignment`) converted straight to RGBA at `toWidth` x
    /// `toHeight`, in one Lanczos pass.
    package func rgba(crop: (x: Int, y: Int, w: Int, h: Int), toWidth: Int, toHeight: Int) throws -> [UInt8] {
        try RGBAScaler().convert(frame, crop: crop, toWidth: toWidth, toHeight: toHeight, path: path)
    }
}
