internal import CFFmpeg
import Foundation
import MediaFormats

extension MediaKind {
    var avType: AVMediaType { self == .audio ? AVMEDIA_TYPE_AUDIO : AVMEDIA_TYPE_VIDEO }
}

/// An input file opened safely, with one decoder for its best stream of a kind.
///
/// The file is inspected first (`MediaInspector`, lenient about a truncated tail); its container must be one allowed
/// for the kind; libavformat then opens it with exactly that container's demuxer (never probing), through the
/// `file` protocol only, with `format_whitelist` set to that demuxer so nothing nested can open another.
/// Pictures above `MediaLimits.maximumPixels` are refused from the headers, and the decoder's `max_pixels` refuses
/// any frame above it before allocating.
package final class MediaInput {
    package let path: String
    package let kind: MediaKind
    package let container: Container
    let format: InputContext
    let codec: CodecContext
    let streamIndex: Int32
    private let packet: Packet
    private var draining = false
    /// Beat analysis keeps decoding past damaged packets (and reports them); rendering stops at the first.
    package var skipsCorruptPackets = false
    package private(set) var skippedPackets = 0
    package private(set) var decodedPackets = 0
    private var lastDecodeError: Int32 = 0
    /// End of the last packet read from the stream, in the stream's time base.
    private(set) var lastPacketEnd: Int64 = 0

    /// - Parameter minimumSize: for JPEG images, the smallest size the caller needs, given the picture's stored
    ///   size (from the header this initialiser already inspected); the decoder then decodes at 1/2, 1/4 or 1/8
    ///   scale when that is still at least this large (big photos decode much faster and smaller).
    /// - Parameter decoderThreads: threads of a picture or video decoder (0: as many as FFmpeg picks). Each frame
    ///   thread holds frames of its own, so a decoder that runs beside the encoder (the overlay loop) uses one.
    package init(
        path: String, mediaType kind: MediaKind, lowresFor minimumSize: ((width: Int, height: Int)) -> (width: Int, height: Int)? = { _ in nil },
        decoderThreads: Int = 0
    ) throws {
        LibAVLogging.applyDefault()
        self.path = path
        self.kind = kind
        let inspection = try MediaInspector.inspect(path: path, strict: false)
        container = inspection.container
        guard Container.allowed(for: kind).contains(container) else {
            if kind == .audio && container.isImage {
                throw MediaError(.openInput, code: .noStream, path: path, "is a \(container.rawValue) picture: it has no audio stream")
            }
            throw MediaError(.openInput, code: .refused, path: path, "a \(container.rawValue) file cannot be read as \(kind.noun)")
        }
        if inspection.hasAudio == false && kind == .audio {
            throw MediaError(.openInput, code: .noStream, path: path, "has no audio stream")
        }
        if let pixels = inspection.pixels, let w = inspection.width, let h = inspection.height,
            pixels > MediaLimits.maximumPixels || w > MediaLimits.maximumSide || h > MediaLimits.maximumSide
        {
            throw MediaError(
                .openInput, code: .tooLarge, path: path,
                "the picture is \(w)x\(h), larger than the limit of \(MediaLimits.maximumPixels / 1_000_000) megapixels (\(MediaLimits.maximumSide) a side)"
            )
        }
        packet = try Packet()

        guard let demuxer = av_find_input_format(container.demuxer) else {
            throw MediaError(.openInput, code: .decoderUnavailable, path: path, "this FFmpeg has no \(container.demuxer) demuxer")
        }
        let options = Options([
            ("protocol_whitelist", "file"),
            ("format_whitelist", String(cString: demuxer.pointee.name)),
            ("enable_drefs", "0"),
            ("use_absolute_path", "0"),
        ])
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        // "file:" keeps a name with a colon in it from being read as another protocol.
        let opened = avformat_open_input(&ctx, "file:" + path, demuxer, &options.pointer)
        guard opened >= 0, let ctx else {
            throw MediaError(.openInput, code: .unreadable, path: path, "not a readable \(container.rawValue) file (\(averrorString(opened)))")
        }
        format = InputContext(ctx)
        // A picture's demuxer names its codec from the header already, and its decoder reads the size from the
        // bitstream (checked against the limit above, from the header, and after decoding): probing the stream
        // would decode the whole picture once more, and keep that copy (48 MB for a 12-megapixel PNG) until closed.
        if kind != .image {
            // Probing decodes a frame of every stream, a music file's cover picture too, whose size no upload check
            // had read (review12: a 16000x16000 PNG in a 1.3 MB MP3 cost 1.07 GB each time the file was opened).
            // Every probing decoder gets the pixel limit; audio inputs do not probe their other streams at all.
            let streams = Int(ctx.pointee.nb_streams)
            if kind == .audio {
                for i in 0..<streams where ctx.pointee.streams[i]!.pointee.codecpar.pointee.codec_type != AVMEDIA_TYPE_AUDIO {
                    ctx.pointee.streams[i]!.pointee.discard = AVDISCARD_ALL
                }
            }
            // One dictionary a stream; the call leaves in each the options it did not use (and may replace it).
            var perStream = [OpaquePointer?](repeating: nil, count: max(1, streams))
            for i in 0..<streams { av_dict_set(&perStream[i], "max_pixels", "\(MediaLimits.maximumPixels)", 0) }
            let probed = perStream.withUnsafeMutableBufferPointer { avformat_find_stream_info(ctx, streams > 0 ? $0.baseAddress : nil) }
            for i in perStream.indices { av_dict_free(&perStream[i]) }
            try check(probed, .openInput, path, "cannot read stream information", as: .unreadable)
        }

        var decoderPtr: UnsafePointer<AVCodec>?
        let index = av_find_best_stream(ctx, kind.avType, -1, -1, &decoderPtr, 0)
        guard index >= 0, let decoder = decoderPtr else {
            let what = kind == .audio ? "audio" : "video or image"
            throw MediaError(
                .openInput, code: index == rendc_averror_decoder_not_found() ? .decoderUnavailable : .noStream, path: path,
                "has no \(what) stream that can be decoded")
        }
        streamIndex = index
        codec = try CodecContext(codec: decoder)
        let c = codec.pointer
        let stream = ctx.pointee.streams[Int(index)]!
        try check(avcodec_parameters_to_context(c, stream.pointee.codecpar), .openInput, path, "bad codec parameters", as: .unreadable)
        c.pointee.pkt_timebase = stream.pointee.time_base
        if kind != .audio {
            let w = Int(c.pointee.width), h = Int(c.pointee.height)
            if w * h > MediaLimits.maximumPixels || w > MediaLimits.maximumSide || h > MediaLimits.maximumSide {
                throw MediaError(
                    .openInput, code: .tooLarge, path: path,
                    "the picture is \(w)x\(h), larger than the limit of \(MediaLimits.maximumPixels / 1_000_000) megapixels")
            }
            c.pointee.max_pixels = Int64(MediaLimits.maximumPixels)
            c.pointee.thread_count = Int32(max(0, decoderThreads))
        }
        if kind == .image, decoder.pointee.id == AV_CODEC_ID_MJPEG {
            // A JPEG whose picture data is damaged fails instead of being concealed: the decoder fills what it cannot
            // read with one colour (trial15b: a product shown as a green block, the job "completed"). Only JPEG: the
            // TIFF decoder, told to explode, refuses files it decodes correctly otherwise.
            c.pointee.err_recognition |= AV_EF_EXPLODE
        }
        let w = c.pointee.width > 0 ? Int(c.pointee.width) : inspection.width ?? 0
        let h = c.pointee.height > 0 ? Int(c.pointee.height) : inspection.height ?? 0
        if decoder.pointee.id == AV_CODEC_ID_MJPEG, w > 0, h > 0, let minimumSize = minimumSize((w, h)) {
            var lowres: Int32 = 0
            while lowres < min(3, Int32(decoder.pointee.max_lowres)),
                (w >> (lowres + 1)) >= minimumSize.width, (h >> (lowres + 1)) >= minimumSize.height
            {
                lowres += 1
            }
            c.pointee.lowres = lowres
        }
        try check(
            avcodec_open2(c, decoder, nil), .openInput, path, "cannot open the \(String(cString: decoder.pointee.name)) decoder",
            as: .decoderUnavailable)
    }

    var stream: UnsafeMutablePointer<AVStream> { format.pointer.pointee.streams[Int(streamIndex)]! }

    /// Seconds in the stream (or the container), when the file says.
    package var duration: Double? {
        let s = stream.pointee
        if s.duration > 0 && s.duration != rendc_av_nopts_value() && s.time_base.den > 0 {
            return Double(s.duration) * av_q2d(s.time_base)
        }
        let d = format.pointer.pointee.duration
        if d > 0 && d != rendc_av_nopts_value() { return Double(d) / Double(rendc_av_time_base()) }
        return nil
    }

    /// False when libavformat guessed the length from the bit rate (then a short decode is no proof of truncation).
    package var durationIsExact: Bool { format.pointer.pointee.duration_estimation_method != AVFMT_DURATION_FROM_BITRATE }

    /// The video stream's average frame rate, when known.
    /// Seconds per unit of the stream's timestamps.
    package var timeBase: Double {
        let tb = stream.pointee.time_base
        return tb.num > 0 && tb.den > 0 ? av_q2d(tb) : 1.0 / 90_000
    }

    package var frameRate: Double? {
        let rate = stream.pointee.avg_frame_rate
        return rate.num > 0 && rate.den > 0 ? av_q2d(rate) : nil
    }

    /// Decodes the next frame into `frame`; false at the end of the stream. Audio in float formats is checked for
    /// NaN and infinite samples (refused: no encoder can take them, and they are never music).
    package func decode(into frame: Frame) throws -> Bool {
        while true {
            let r = avcodec_receive_frame(codec.pointer, frame.pointer)
            if r == 0 {
                if kind == .audio { try checkSamples(frame) } else { try checkPicture(frame) }
                return true
            }
            if r == AVERROR_EOF_ { return false }
            if r != AVERROR_EAGAIN {
                if skipsCorruptPackets { try skip(r); continue }
                try check(r, .decode, path, "the \(kind.noun) is corrupt or undecodable", as: .corrupt)
            }
            if draining { return false }
            // Feed the decoder.
            while true {
                let rr = av_read_frame(format.pointer, packet.pointer)
                let pb = format.pointer.pointee.pb
                if rr == AVERROR_EOF_ || (rr < 0 && (skipsCorruptPackets || (pb != nil && avio_feof(pb) != 0))) {
                    draining = true
                    _ = avcodec_send_packet(codec.pointer, nil)
                    break
                }
                try check(rr, .decode, path, "reading failed (truncated or corrupt file?)", as: .corrupt)
                defer { av_packet_unref(packet.pointer) }
                let p = packet.pointer.pointee
                if p.stream_index != streamIndex { continue }
                if p.pts != rendc_av_nopts_value() { lastPacketEnd = max(lastPacketEnd, p.pts + max(p.duration, 0)) }
                let sr = avcodec_send_packet(codec.pointer, packet.pointer)
                if sr < 0 && sr != AVERROR_EAGAIN {
                    if skipsCorruptPackets { try skip(sr); continue }
                    try check(sr, .decode, path, "the \(kind.noun) is corrupt or undecodable", as: .corrupt)
                }
                decodedPackets += 1
                break
            }
        }
    }

    private func skip(_ code: Int32) throws {
        skippedPackets += 1
        lastDecodeError = code
        if skippedPackets > 50 && decodedPackets == 0 {
            throw MediaError(.decode, code: .corrupt, path: path, "the audio data is corrupt (\(averrorString(code)))")
        }
    }

    /// The last decoder error seen while skipping damaged packets, in words.
    package var lastSkippedError: String { averrorString(lastDecodeError) }

    private func checkSamples(_ frame: Frame) throws {
        let f = frame.pointer.pointee
        let format = AVSampleFormat(rawValue: f.format)
        let isDouble = format == AV_SAMPLE_FMT_DBL || format == AV_SAMPLE_FMT_DBLP
        guard format == AV_SAMPLE_FMT_FLT || format == AV_SAMPLE_FMT_FLTP || isDouble else { return }
        let planar = av_sample_fmt_is_planar(format) != 0
        let channels = Int(f.ch_layout.nb_channels)
        let planes = planar ? channels : 1
        let perPlane = Int(f.nb_samples) * (planar ? 1 : channels)
        guard let data = f.extended_data else { return }
        for p in 0..<planes {
            guard let plane = data[p] else { continue }
            let finite: Bool
            if isDouble {
                finite = UnsafeBufferPointer(start: UnsafeRawPointer(plane).assumingMemoryBound(to: Double.self), count: perPlane).allSatisfy {
                    $0.isFinite
                }
            } else {
                finite = UnsafeBufferPointer(start: UnsafeRawPointer(plane).assumingMemoryBound(to: Float.self), count: perPlane).allSatisfy {
                    $0.isFinite
                }
            }
            if !finite {
                throw MediaError(.decode, code: .invalidSamples, path: path, "the audio is corrupt: it holds NaN or infinite samples")
            }
        }
    }

    private func checkPicture(_ frame: Frame) throws {
        let w = frame.width, h = frame.height
        guard w > 0, h > 0, w * h <= MediaLimits.maximumPixels, w <= MediaLimits.maximumSide, h <= MediaLimits.maximumSide else {
            throw MediaError(
                .decode, code: .tooLarge, path: path,
                "decoded a \(w)x\(h) picture, outside the limit of \(MediaLimits.maximumPixels / 1_000_000) megapixels")
        }
        let f = frame.pointer.pointee
        if kind == .image, f.flags & AV_FRAME_FLAG_CORRUPT != 0 || f.decode_error_flags != 0 {
            throw MediaError(.decode, code: .corrupt, path: path, "the image's picture data is damaged (the decoder could not read all of it)")
        }
    }

    /// Seeks back to the start (for looping overlays).
    package func rewind() throws {
        try check(av_seek_frame(format.pointer, streamIndex, 0, AVSEEK_FLAG_BACKWARD), .decode, path, "cannot seek to the start")
        avcodec_flush_buffers(codec.pointer)
        draining = false
    }

    /// Reads the remaining packets without decoding them and returns the end time of the last one, in seconds.
    package func countRemainingDuration(from start: Int64? = nil) throws -> Double {
        let packet = try Packet()
        var end = start ?? lastPacketEnd
        while av_read_frame(format.pointer, packet.pointer) >= 0 {
            let p = packet.pointer.pointee
            if p.stream_index == streamIndex, p.pts != rendc_av_nopts_value() {
                end = max(end, p.pts + max(p.duration, 0))
            }
            av_packet_unref(packet.pointer)
        }
        let tb = stream.pointee.time_base
        guard tb.den > 0 else { return 0 }
        return Double(end) * Double(tb.num) / Double(tb.den)
    }

    /// Bytes a second of this audio stream's decoded frames (its rate, channels and sample format).
    var decodedBytesPerSecond: Int {
        let c = codec.pointer.pointee
        return Int(max(c.sample_rate, 0)) * Int(max(c.ch_layout.nb_channels, 1)) * Int(max(av_get_bytes_per_sample(c.sample_fmt), 1))
    }

    /// The `abuffer` arguments that describe this audio stream's decoded frames.
    var audioBufferArguments: String {
        let c = codec.pointer.pointee
        let tb = stream.pointee.time_base
        var layoutName = [CChar](repeating: 0, count: 128)
        var layout = c.ch_layout
        if layout.order == AV_CHANNEL_ORDER_UNSPEC { av_channel_layout_default(&layout, max(1, c.ch_layout.nb_channels)) }
        av_channel_layout_describe(&layout, &layoutName, layoutName.count)
        let fmtName = av_get_sample_fmt_name(c.sample_fmt).map { String(cString: $0) } ?? "fltp"
        let layoutText = String(decoding: layoutName.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "time_base=\(tb.num)/\(tb.den):sample_rate=\(c.sample_rate):sample_fmt=\(fmtName):channel_layout=\(layoutText)"
    }
}
