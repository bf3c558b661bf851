internal import CFFmpeg
import Foundation

/// A failure in the backend, naming the input or stage that failed.
public struct BackendError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Stage: String, Sendable {
        case openInput = "open", decode, encode, filter, write, prepare, cancelled
    }
    public var stage: Stage
    /// The file involved (an input, or the output), when there is one.
    public var path: String?
    public var message: String
    public init(_ stage: Stage, path: String? = nil, _ message: String) {
        self.stage = stage
        self.path = path
        self.message = message
    }
    public var description: String {
        if let path { return "\(stage.rawValue) \(path): \(message)" }
        return "\(stage.rawValue): \(message)"
    }
}

func averrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    av_strerror(code, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

let AVERROR_EAGAIN = rendc_averror_eagain()
let AVERROR_EOF_ = rendc_averror_eof()

@inline(__always)
func check(_ code: Int32, _ stage: BackendError.Stage, _ path: String?, _ what: String) throws {
    if code < 0 { throw BackendError(stage, path: path, "\(what): \(averrorString(code))") }
}

/// Owns an AVFrame.
final class AVFrameBox {
    let pointer: UnsafeMutablePointer<AVFrame>
    init() throws {
        guard let f = av_frame_alloc() else { throw BackendError(.prepare, "out of memory (AVFrame)") }
        pointer = f
    }
    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }
    func unref() { av_frame_unref(pointer) }

    /// A writable YUV 4:2:0 frame tagged BT.709 limited range: the one picture format the compositor and the
    /// encoder share.
    static func video(width: Int, height: Int) throws -> AVFrameBox {
        let frame = try AVFrameBox()
        let f = frame.pointer
        f.pointee.width = Int32(width)
        f.pointee.height = Int32(height)
        f.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        f.pointee.color_range = AVCOL_RANGE_MPEG
        f.pointee.colorspace = AVCOL_SPC_BT709
        f.pointee.color_primaries = AVCOL_PRI_BT709
        f.pointee.color_trc = AVCOL_TRC_BT709
        try check(av_frame_get_buffer(f, 0), .encode, nil, "out of memory for a \(width)x\(height) frame")
        return frame
    }
}

/// Owns an AVPacket.
final class AVPacketBox {
    let pointer: UnsafeMutablePointer<AVPacket>
    init() throws {
        guard let p = av_packet_alloc() else { throw BackendError(.prepare, "out of memory (AVPacket)") }
        pointer = p
    }
    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }
}

/// An opened input file with one decoder for its best stream of a kind.
final class MediaInputFile {
    let path: String
    private(set) var format: UnsafeMutablePointer<AVFormatContext>?
    private(set) var codec: UnsafeMutablePointer<AVCodecContext>?
    let streamIndex: Int32
    private let packet: AVPacketBox
    private var draining = false

    /// - Parameter lowresFor: for JPEG images, the smallest size the caller needs; the decoder then decodes at
    ///   1/2, 1/4 or 1/8 scale when that is still at least this large (big photos decode much faster and smaller).
    init(path: String, mediaType: AVMediaType, lowresFor minimumSize: (width: Int, height: Int)? = nil) throws {
        self.path = path
        _ = Backend.defaultLogging
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw BackendError(.openInput, path: path, "file not found or not readable")
        }
        packet = try AVPacketBox()
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_open_input(&ctx, path, nil, nil), .openInput, path, "not a readable media file")
        format = ctx
        try check(avformat_find_stream_info(ctx, nil), .openInput, path, "cannot read stream information")
        var decoderPtr: UnsafePointer<AVCodec>?
        let index = av_find_best_stream(ctx, mediaType, -1, -1, &decoderPtr, 0)
        guard index >= 0, let decoder = decoderPtr else {
            let kind = mediaType == AVMEDIA_TYPE_AUDIO ? "an audio" : "a video or image"
            avformat_close_input(&format)
            throw BackendError(.openInput, path: path, "has no \(kind) stream that can be decoded")
        }
        streamIndex = index
        guard let c = avcodec_alloc_context3(decoder) else { throw BackendError(.openInput, path: path, "out of memory") }
        codec = c
        let stream = ctx!.pointee.streams[Int(index)]!
        try check(avcodec_parameters_to_context(c, stream.pointee.codecpar), .openInput, path, "bad codec parameters")
        c.pointee.thread_count = 0
        if let minimumSize, decoder.pointee.id == AV_CODEC_ID_MJPEG {
            var lowres: Int32 = 0
            let w = Int(c.pointee.width), h = Int(c.pointee.height)
            while lowres < min(3, Int32(decoder.pointee.max_lowres)),
                  (w >> (lowres + 1)) >= minimumSize.width, (h >> (lowres + 1)) >= minimumSize.height {
                lowres += 1
            }
            c.pointee.lowres = lowres
        }
        try check(avcodec_open2(c, decoder, nil), .openInput, path, "cannot open the \(String(cString: decoder.pointee.name)) decoder")
    }

    deinit {
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    var stream: UnsafeMutablePointer<AVStream> { format!.pointee.streams[Int(streamIndex)]! }

    /// Duration of the stream (or container) in seconds, when known.
    var duration: Double? {
        let s = stream.pointee
        if s.duration > 0 && s.duration != rendc_av_nopts_value() {
            return Double(s.duration) * av_q2d(s.time_base)
        }
        let d = format!.pointee.duration
        if d > 0 && d != rendc_av_nopts_value() { return Double(d) / Double(rendc_av_time_base()) }
        return nil
    }

    /// Decodes the next frame into `frame`; false at the end of the stream.
    func decode(into frame: AVFrameBox) throws -> Bool {
        while true {
            let r = avcodec_receive_frame(codec, frame.pointer)
            if r == 0 { return true }
            if r == AVERROR_EOF_ { return false }
            if r != AVERROR_EAGAIN { try check(r, .decode, path, "decoding failed") }
            if draining { return false }
            // Feed the decoder.
            while true {
                let rr = av_read_frame(format, packet.pointer)
                if rr == AVERROR_EOF_ || (rr < 0 && format!.pointee.pb != nil && avio_feof(format!.pointee.pb) != 0) {
                    draining = true
                    _ = avcodec_send_packet(codec, nil)
                    break
                }
                try check(rr, .decode, path, "reading failed (truncated or corrupt file?)")
                defer { av_packet_unref(packet.pointer) }
                if packet.pointer.pointee.stream_index != streamIndex { continue }
                let sr = avcodec_send_packet(codec, packet.pointer)
                if sr < 0 && sr != AVERROR_EAGAIN { try check(sr, .decode, path, "corrupt data") }
                break
            }
        }
    }

    /// Seeks back to the start (for looping overlays).
    func rewind() throws {
        try check(av_seek_frame(format, streamIndex, 0, AVSEEK_FLAG_BACKWARD), .decode, path, "cannot seek to the start")
        avcodec_flush_buffers(codec)
        draining = false
    }
}

/// Owns a SwsContext converting frames to packed RGBA at a given size.
final class RGBAScaler {
    private var context: OpaquePointer?
    init() {}
    deinit { sws_freeContext(context) }

    /// Converts (and scales) `frame` into a new RGBA buffer of `width` x `height`.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, width: Int, height: Int, path: String?) throws -> [UInt8] {
        let f = frame.pointee
        context = sws_getCachedContext(
            context, f.width, f.height, AVPixelFormat(f.format), Int32(width), Int32(height), AV_PIX_FMT_RGBA,
            Int32(SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT), nil, nil, nil
        )
        guard context != nil else { throw BackendError(.decode, path: path, "unsupported pixel format \(f.format)") }
        // Decode with the matrix and range the frame was tagged with (BT.709 video, as rendc writes it), else BT.601
        // as ffmpeg does (JPEG/JFIF is always 601): swscale's default turns a 709 green visibly greener.
        let hd = f.colorspace == AVCOL_SPC_BT709
        let full: Int32 = f.color_range == AVCOL_RANGE_JPEG ? 1 : 0
        _ = sws_setColorspaceDetails(context, sws_getCoefficients(hd ? SWS_CS_ITU709 : SWS_CS_DEFAULT), full,
                                     sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
        var out = [UInt8](repeating: 0, count: width * height * 4)
        let r: Int32 = out.withUnsafeMutableBufferPointer { buf in
            var dst: [UnsafeMutablePointer<UInt8>?] = [buf.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(width * 4), 0, 0, 0]
            return withUnsafePointer(to: frame.pointee.data) { dataTuple in
                withUnsafePointer(to: frame.pointee.linesize) { strideTuple in
                    dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                        strideTuple.withMemoryRebound(to: Int32.self, capacity: 8) { srcStride in
                            sws_scale(context, src, srcStride, 0, f.height, &dst, &dstStride)
                        }
                    }
                }
            }
        }
        guard r > 0 else { throw BackendError(.decode, path: path, "pixel conversion failed") }
        return out
    }

    /// Scales a packed RGBA buffer to a new size.
    func scaleRGBA(_ pixels: [UInt8], width: Int, height: Int, toWidth: Int, toHeight: Int) throws -> [UInt8] {
        context = sws_getCachedContext(
            context, Int32(width), Int32(height), AV_PIX_FMT_RGBA, Int32(toWidth), Int32(toHeight), AV_PIX_FMT_RGBA,
            Int32(SWS_LANCZOS | SWS_ACCURATE_RND), nil, nil, nil
        )
        guard context != nil else { throw BackendError(.prepare, "cannot create a scaler \(width)x\(height) -> \(toWidth)x\(toHeight)") }
        var out = [UInt8](repeating: 0, count: toWidth * toHeight * 4)
        let r: Int32 = pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var s: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
                var ss: [Int32] = [Int32(width * 4), 0, 0, 0]
                var d: [UnsafeMutablePointer<UInt8>?] = [dst.baseAddress, nil, nil, nil]
                var ds: [Int32] = [Int32(toWidth * 4), 0, 0, 0]
                return sws_scale(context, &s, &ss, 0, Int32(height), &d, &ds)
            }
        }
        guard r > 0 else { throw BackendError(.prepare, "scaling failed") }
        return out
    }
}
