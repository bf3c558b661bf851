internal import CFFmpeg
import Foundation
import MediaFormats

/// A complete filtergraph that reads its own inputs (`movie`, `amovie`, `color` sources) and ends in the open
/// outputs `[vout]` and `[aout]`: parsed with `avfilter_graph_parse_ptr`, each output linked to a buffer sink.
/// Video frames come out as the graph makes them (pts counted in frames); audio in encoder-sized frames (pts in
/// samples).
package final class SourcedGraph {
    private let graph: FilterGraphContext
    private let videoSink: UnsafeMutablePointer<AVFilterContext>
    private let audioSink: UnsafeMutablePointer<AVFilterContext>
    private let videoFrame: Frame
    private let audioFrame: Frame
    package private(set) var videoFinished = false
    package private(set) var audioFinished = false
    package private(set) var frames: Int64 = 0
    package private(set) var samples: Int64 = 0
    package let sampleRate: Int

    package init(script: String, sampleRate: Int, audioFrameSize: Int) throws {
        LibAVLogging.applyDefault()
        self.sampleRate = sampleRate
        videoFrame = try Frame()
        audioFrame = try Frame()
        graph = try FilterGraphContext()
        let g = graph.pointer
        var v: UnsafeMutablePointer<AVFilterContext>?
        try check(avfilter_graph_create_filter(&v, avfilter_get_by_name("buffersink"), "vout", nil, nil, g), .filter, nil, "buffersink")
        var a: UnsafeMutablePointer<AVFilterContext>?
        try check(avfilter_graph_create_filter(&a, avfilter_get_by_name("abuffersink"), "aout", nil, nil, g), .filter, nil, "abuffersink")
        videoSink = v!
        audioSink = a!
        var inputs = avfilter_inout_alloc()
        var second = avfilter_inout_alloc()
        var outputs: UnsafeMutablePointer<AVFilterInOut>? = nil
        defer { avfilter_inout_free(&inputs); avfilter_inout_free(&outputs) }
        guard let first = inputs, let next = second else {
            avfilter_inout_free(&second)
            throw MediaError(.filter, code: .outOfMemory, "out of memory")
        }
        first.pointee.name = av_strdup("vout")
        first.pointee.filter_ctx = videoSink
        first.pointee.pad_idx = 0
        first.pointee.next = next
        next.pointee.name = av_strdup("aout")
        next.pointee.filter_ctx = audioSink
        next.pointee.pad_idx = 0
        next.pointee.next = nil
        second = nil
        try check(avfilter_graph_parse_ptr(g, script, &inputs, &outputs, nil), .filter, nil, "cannot parse the filter graph")
        try check(avfilter_graph_config(g, nil), .filter, nil, "cannot configure the filter graph")
        av_buffersink_set_frame_size(audioSink, UInt32(audioFrameSize))
    }

    /// The next video frame, or nil at the end. The frame is reused by the next call.
    package func nextVideo() throws -> Frame? {
        guard !videoFinished else { return nil }
        av_frame_unref(videoFrame.pointer)
        let r = av_buffersink_get_frame(videoSink, videoFrame.pointer)
        if r == AVERROR_EOF_ { videoFinished = true; return nil }
        try check(r, .filter, nil, "video filtering failed")
        videoFrame.pointer.pointee.pts = frames
        videoFrame.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
        frames += 1
        return videoFrame
    }

    /// The next encoder-sized audio frame, or nil at the end. The frame is reused by the next call.
    package func nextAudio() throws -> Frame? {
        guard !audioFinished else { return nil }
        av_frame_unref(audioFrame.pointer)
        let r = av_buffersink_get_frame(audioSink, audioFrame.pointer)
        if r == AVERROR_EOF_ { audioFinished = true; return nil }
        try check(r, .filter, nil, "audio filtering failed")
        audioFrame.pointer.pointee.pts = samples
        samples += Int64(audioFrame.pointer.pointee.nb_samples)
        return audioFrame
    }

    package var audioSeconds: Double { Double(samples) / Double(sampleRate) }
}
