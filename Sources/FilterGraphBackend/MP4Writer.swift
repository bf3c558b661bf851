internal import CFFmpeg
import Foundation
import Planner

/// H.264 + AAC in MP4 (faststart), through libavcodec and libavformat.
final class MP4Writer {
    let path: String
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private(set) var video: UnsafeMutablePointer<AVCodecContext>?
    private(set) var audio: UnsafeMutablePointer<AVCodecContext>?
    private var videoStream: UnsafeMutablePointer<AVStream>
    private var audioStream: UnsafeMutablePointer<AVStream>
    private let packet: AVPacketBox
    private var headerWritten = false
    private var finished = false

    init(path: String, plan: RenderPlan) throws {
        self.path = path
        _ = Backend.defaultLogging
        packet = try AVPacketBox()
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&ctx, nil, "mp4", path), .write, path, "cannot create the MP4 muxer")
        format = ctx
        let enc = plan.encoder

        // Video: libx264, yuv420p, BT.709 limited range.
        guard let x264 = avcodec_find_encoder_by_name(enc.videoCodec) else {
            throw BackendError(.encode, "the \(enc.videoCodec) encoder is not in this FFmpeg build (install libavcodec with libx264)")
        }
        guard let vs = avformat_new_stream(ctx, nil), let vc = avcodec_alloc_context3(x264) else { throw BackendError(.encode, "out of memory") }
        videoStream = vs
        video = vc
        vc.pointee.width = Int32(plan.width)
        vc.pointee.height = Int32(plan.height)
        vc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        vc.pointee.time_base = AVRational(num: 1, den: Int32(plan.fps))
        vc.pointee.framerate = AVRational(num: Int32(plan.fps), den: 1)
        vc.pointee.gop_size = Int32(enc.gop)
        vc.pointee.color_primaries = AVCOL_PRI_BT709
        vc.pointee.color_trc = AVCOL_TRC_BT709
        vc.pointee.colorspace = AVCOL_SPC_BT709
        vc.pointee.color_range = AVCOL_RANGE_MPEG
        vc.pointee.thread_count = Int32(max(1, min(ProcessInfo.processInfo.activeProcessorCount, 16)))
        if ctx!.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 { vc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        var opts: OpaquePointer?
        av_dict_set(&opts, "preset", enc.preset, 0)
        av_dict_set(&opts, "crf", String(enc.crf), 0)
        if let tune = enc.tune { av_dict_set(&opts, "tune", tune, 0) }
        if let params = enc.x264Params { av_dict_set(&opts, "x264-params", params, 0) }
        let openVideo = avcodec_open2(vc, x264, &opts)
        av_dict_free(&opts)
        try check(openVideo, .encode, nil, "cannot open \(enc.videoCodec) (preset \(enc.preset), crf \(enc.crf))")
        try check(avcodec_parameters_from_context(vs.pointee.codecpar, vc), .encode, nil, "video parameters")
        vs.pointee.time_base = vc.pointee.time_base
        vs.pointee.avg_frame_rate = vc.pointee.framerate

        // Audio: AAC, 48 kHz stereo, float planar.
        guard let aac = avcodec_find_encoder_by_name(enc.audioCodec) else { throw BackendError(.encode, "the \(enc.audioCodec) encoder is not available") }
        guard let as_ = avformat_new_stream(ctx, nil), let ac = avcodec_alloc_context3(aac) else { throw BackendError(.encode, "out of memory") }
        audioStream = as_
        audio = ac
        ac.pointee.sample_rate = Int32(enc.audioSampleRate)
        ac.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        ac.pointee.bit_rate = Int64(enc.audioBitrate)
        av_channel_layout_default(&ac.pointee.ch_layout, Int32(enc.audioChannels))
        ac.pointee.time_base = AVRational(num: 1, den: Int32(enc.audioSampleRate))
        if ctx!.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 { ac.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        try check(avcodec_open2(ac, aac, nil), .encode, nil, "cannot open the AAC encoder")
        try check(avcodec_parameters_from_context(as_.pointee.codecpar, ac), .encode, nil, "audio parameters")
        as_.pointee.time_base = ac.pointee.time_base

        var pb: UnsafeMutablePointer<AVIOContext>?
        try check(avio_open(&pb, path, AVIO_FLAG_WRITE), .write, path, "cannot open for writing")
        ctx!.pointee.pb = pb
        var muxOpts: OpaquePointer?
        if plan.encoder.faststart { av_dict_set(&muxOpts, "movflags", "+faststart", 0) }
        let r = avformat_write_header(ctx, &muxOpts)
        av_dict_free(&muxOpts)
        try check(r, .write, path, "cannot write the MP4 header")
        headerWritten = true
    }

    deinit {
        if let ctx = format {
            if ctx.pointee.pb != nil { avio_closep(&ctx.pointee.pb) }
            avformat_free_context(ctx)
        }
        avcodec_free_context(&video)
        avcodec_free_context(&audio)
    }

    /// Audio frame size the encoder wants (1024 for AAC).
    var audioFrameSize: Int { Int(audio!.pointee.frame_size) }

    func sendVideo(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        try check(avcodec_send_frame(video, frame), .encode, nil, "H.264 encoding failed")
        try drain(video!, videoStream)
    }

    func sendAudio(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        try check(avcodec_send_frame(audio, frame), .encode, nil, "AAC encoding failed")
        try drain(audio!, audioStream)
    }

    private func drain(_ codec: UnsafeMutablePointer<AVCodecContext>, _ stream: UnsafeMutablePointer<AVStream>) throws {
        while true {
            let r = avcodec_receive_packet(codec, packet.pointer)
            if r == AVERROR_EAGAIN || r == AVERROR_EOF_ { return }
            try check(r, .encode, nil, "encoder failed")
            av_packet_rescale_ts(packet.pointer, codec.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            let w = av_interleaved_write_frame(format, packet.pointer)
            try check(w, .write, path, "writing failed (disk full?)")
        }
    }

    /// Flushes both encoders and writes the trailer (moving the index to the front for faststart).
    func finish() throws {
        guard !finished else { return }
        finished = true
        try sendVideo(nil)
        try sendAudio(nil)
        try check(av_write_trailer(format), .write, path, "cannot finish the MP4")
        try check(avio_closep(&format!.pointee.pb), .write, path, "cannot close the file")
    }
}
