internal import CFFmpeg
import Foundation
import MediaFormats

/// What the MP4 writer encodes: H.264 video and AAC audio settings.
package struct MP4Settings: Sendable {
    package var width: Int, height: Int, fps: Int
    package var videoCodec: String, preset: String, crf: Int, tune: String?, x264Params: String?, gop: Int
    package var audioCodec: String, audioSampleRate: Int, audioBitrate: Int, audioChannels: Int
    package var faststart: Bool

    package init(
        width: Int, height: Int, fps: Int, videoCodec: String, preset: String, crf: Int, tune: String?, x264Params: String?, gop: Int,
        audioCodec: String, audioSampleRate: Int, audioBitrate: Int, audioChannels: Int, faststart: Bool
    ) {
        self.width = width; self.height = height; self.fps = fps
        self.videoCodec = videoCodec; self.preset = preset; self.crf = crf; self.tune = tune; self.x264Params = x264Params; self.gop = gop
        self.audioCodec = audioCodec; self.audioSampleRate = audioSampleRate; self.audioBitrate = audioBitrate; self.audioChannels = audioChannels
        self.faststart = faststart
    }
}

/// H.264 + AAC in MP4 (faststart), through libavcodec and libavformat. Every C object has its own owner, so a
/// failure anywhere in `init` frees what was made before it.
package final class MP4Writer {
    package let path: String
    private let output: OutputContext
    private let video: CodecContext
    private let audio: CodecContext
    private let videoStream: UnsafeMutablePointer<AVStream>
    private let audioStream: UnsafeMutablePointer<AVStream>
    private let packet: Packet
    private var finished = false

    package init(path: String, settings enc: MP4Settings) throws {
        LibAVLogging.applyDefault()
        self.path = path
        packet = try Packet()
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&ctx, nil, "mp4", path), .write, path, "cannot create the MP4 muxer")
        guard let ctx else { throw MediaError(.write, code: .outOfMemory, path: path, "cannot create the MP4 muxer") }
        output = OutputContext(ctx)
        let globalHeader = ctx.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0

        // Video: libx264, yuv420p, BT.709 limited range.
        guard let x264 = avcodec_find_encoder_by_name(enc.videoCodec) else {
            throw MediaError(.encode, "the \(enc.videoCodec) encoder is not in this FFmpeg build (install libavcodec with libx264)")
        }
        video = try CodecContext(codec: x264)
        guard let vs = avformat_new_stream(ctx, nil) else { throw MediaError(.encode, code: .outOfMemory, "out of memory") }
        videoStream = vs
        let vc = video.pointer
        vc.pointee.width = Int32(enc.width)
        vc.pointee.height = Int32(enc.height)
        vc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        vc.pointee.time_base = AVRational(num: 1, den: Int32(enc.fps))
        vc.pointee.framerate = AVRational(num: Int32(enc.fps), den: 1)
        vc.pointee.gop_size = Int32(enc.gop)
        vc.pointee.color_primaries = AVCOL_PRI_BT709
        vc.pointee.color_trc = AVCOL_TRC_BT709
        vc.pointee.colorspace = AVCOL_SPC_BT709
        vc.pointee.color_range = AVCOL_RANGE_MPEG
        vc.pointee.thread_count = Int32(max(1, min(ProcessInfo.processInfo.activeProcessorCount, 16)))
        if globalHeader { vc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        let videoOptions = Options([("preset", enc.preset), ("crf", String(enc.crf))])
        if let tune = enc.tune { videoOptions.set("tune", tune) }
        if let params = enc.x264Params { videoOptions.set("x264-params", params) }
        try check(
            avcodec_open2(vc, x264, &videoOptions.pointer), .encode, nil, "cannot open \(enc.videoCodec) (preset \(enc.preset), crf \(enc.crf))")
        try check(avcodec_parameters_from_context(vs.pointee.codecpar, vc), .encode, nil, "video parameters")
        vs.pointee.time_base = vc.pointee.time_base
        vs.pointee.avg_frame_rate = vc.pointee.framerate

        // Audio: AAC, float planar.
        guard let aac = avcodec_find_encoder_by_name(enc.audioCodec) else {
            throw MediaError(.encode, "the \(enc.audioCodec) encoder is not available")
        }
        audio = try CodecContext(codec: aac)
        guard let as_ = avformat_new_stream(ctx, nil) else { throw MediaError(.encode, code: .outOfMemory, "out of memory") }
        audioStream = as_
        let ac = audio.pointer
        ac.pointee.sample_rate = Int32(enc.audioSampleRate)
        ac.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        ac.pointee.bit_rate = Int64(enc.audioBitrate)
        av_channel_layout_default(&ac.pointee.ch_layout, Int32(enc.audioChannels))
        ac.pointee.time_base = AVRational(num: 1, den: Int32(enc.audioSampleRate))
        if globalHeader { ac.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        try check(avcodec_open2(ac, aac, nil), .encode, nil, "cannot open the AAC encoder")
        try check(avcodec_parameters_from_context(as_.pointee.codecpar, ac), .encode, nil, "audio parameters")
        as_.pointee.time_base = ac.pointee.time_base

        try check(avio_open(&ctx.pointee.pb, path, AVIO_FLAG_WRITE), .write, path, "cannot open for writing")
        let muxOptions = Options()
        if enc.faststart { muxOptions.set("movflags", "+faststart") }
        try check(avformat_write_header(ctx, &muxOptions.pointer), .write, path, "cannot write the MP4 header")
    }

    /// Audio frame size the encoder wants (1024 for AAC).
    package var audioFrameSize: Int { Int(audio.pointer.pointee.frame_size) }

    package func sendVideo(_ frame: Frame?) throws {
        try check(avcodec_send_frame(video.pointer, frame?.pointer), .encode, nil, "H.264 encoding failed")
        try drain(video.pointer, videoStream)
    }

    package func sendAudio(_ frame: Frame?) throws {
        try check(avcodec_send_frame(audio.pointer, frame?.pointer), .encode, nil, "AAC encoding failed")
        try drain(audio.pointer, audioStream)
    }

    private func drain(_ codec: UnsafeMutablePointer<AVCodecContext>, _ stream: UnsafeMutablePointer<AVStream>) throws {
        while true {
            let r = avcodec_receive_packet(codec, packet.pointer)
            if r == AVERROR_EAGAIN || r == AVERROR_EOF_ { return }
            try check(r, .encode, nil, "encoder failed")
            av_packet_rescale_ts(packet.pointer, codec.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            try check(av_interleaved_write_frame(output.pointer, packet.pointer), .write, path, "writing failed (disk full?)")
        }
    }

    /// Flushes both encoders and writes the trailer (moving the index to the front for faststart).
    package func finish() throws {
        guard !finished else { return }
        finished = true
        try sendVideo(nil)
        try sendAudio(nil)
        try check(av_write_trailer(output.pointer), .write, path, "cannot finish the MP4")
        try check(avio_closep(&output.pointer.pointee.pb), .write, path, "cannot close the file")
    }
}
