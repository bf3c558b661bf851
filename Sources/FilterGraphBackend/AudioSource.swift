internal import CFFmpeg
import Foundation
import Planner

/// The audio track: the input decoded and run through a libavfilter graph parsed from the plan
/// (`RenderPlan.audioFilterChain`: trim, pad, volume, fades, resample to 48 kHz stereo float), or silence.
/// Frames come out sized for the AAC encoder.
final class AudioSource {
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var source: UnsafeMutablePointer<AVFilterContext>?
    private var sink: UnsafeMutablePointer<AVFilterContext>?
    private let input: MediaInputFile?
    private let decoded: AVFrameBox
    private let filtered: AVFrameBox
    private var inputDone = false
    private(set) var finished = false
    /// Samples handed to the encoder so far.
    private(set) var samples: Int64 = 0
    let sampleRate: Int

    init(plan: RenderPlan, frameSize: Int) throws {
        sampleRate = plan.encoder.audioSampleRate
        decoded = try AVFrameBox()
        filtered = try AVFrameBox()
        guard let g = avfilter_graph_alloc() else { throw BackendError(.filter, "out of memory") }
        graph = g
        g.pointee.nb_threads = 1
        let chain = plan.audioFilterChain
        let path = plan.audio?.source.path

        var sinkCtx: UnsafeMutablePointer<AVFilterContext>?
        try check(avfilter_graph_create_filter(&sinkCtx, avfilter_get_by_name("abuffersink"), "out", nil, nil, g), .filter, path, "abuffersink")
        sink = sinkCtx

        if let audio = plan.audio {
            let file = try MediaInputFile(path: audio.source.path, mediaType: AVMEDIA_TYPE_AUDIO)
            input = file
            let c = file.codec!.pointee
            let tb = file.stream.pointee.time_base
            var layoutName = [CChar](repeating: 0, count: 128)
            var layout = c.ch_layout
            if layout.order == AV_CHANNEL_ORDER_UNSPEC { av_channel_layout_default(&layout, max(1, c.ch_layout.nb_channels)) }
            av_channel_layout_describe(&layout, &layoutName, layoutName.count)
            let fmtName = av_get_sample_fmt_name(c.sample_fmt).map { String(cString: $0) } ?? "fltp"
            let args = "time_base=\(tb.num)/\(tb.den):sample_rate=\(c.sample_rate):sample_fmt=\(fmtName):channel_layout=\(String(cString: layoutName))"
            var srcCtx: UnsafeMutablePointer<AVFilterContext>?
            try check(avfilter_graph_create_filter(&srcCtx, avfilter_get_by_name("abuffer"), "in", args, nil, g), .filter, audio.source.path, "abuffer (\(args))")
            source = srcCtx
            try AudioSource.parse(graph: g, chain: chain, source: srcCtx, sink: sinkCtx, path: audio.source.path)
        } else {
            input = nil
            try AudioSource.parse(graph: g, chain: chain, source: nil, sink: sinkCtx, path: nil)
        }
        try check(avfilter_graph_config(g, nil), .filter, path, "audio graph '\(chain)'")
        av_buffersink_set_frame_size(sinkCtx, UInt32(frameSize))
    }

    deinit { avfilter_graph_free(&graph) }

    /// Parses `chain` between the optional `source` (as [in]) and `sink` (as [out]).
    private static func parse(graph: UnsafeMutablePointer<AVFilterGraph>, chain: String, source: UnsafeMutablePointer<AVFilterContext>?,
                              sink: UnsafeMutablePointer<AVFilterContext>?, path: String?) throws {
        var outputs: UnsafeMutablePointer<AVFilterInOut>? = nil
        var inputs = avfilter_inout_alloc()
        defer { avfilter_inout_free(&inputs); avfilter_inout_free(&outputs) }
        inputs!.pointee.name = av_strdup("out")
        inputs!.pointee.filter_ctx = sink
        inputs!.pointee.pad_idx = 0
        inputs!.pointee.next = nil
        if let source {
            outputs = avfilter_inout_alloc()
            outputs!.pointee.name = av_strdup("in")
            outputs!.pointee.filter_ctx = source
            outputs!.pointee.pad_idx = 0
            outputs!.pointee.next = nil
        }
        try check(avfilter_graph_parse_ptr(graph, chain, &inputs, &outputs, nil), .filter, path, "cannot parse the audio graph '\(chain)'")
    }

    /// Next encoder-sized frame (pts in samples), or nil at the end.
    func next() throws -> UnsafeMutablePointer<AVFrame>? {
        guard !finished else { return nil }
        while true {
            av_frame_unref(filtered.pointer)
            let r = av_buffersink_get_frame(sink, filtered.pointer)
            if r >= 0 {
                filtered.pointer.pointee.pts = samples
                samples += Int64(filtered.pointer.pointee.nb_samples)
                return filtered.pointer
            }
            if r == AVERROR_EOF_ { finished = true; return nil }
            if r != AVERROR_EAGAIN { try check(r, .filter, input?.path, "audio filtering failed") }
            guard let input, let source, !inputDone else {
                // A source-only graph (silence) that wants more input has nothing to wait for.
                finished = true
                return nil
            }
            av_frame_unref(decoded.pointer)
            if try input.decode(into: decoded) {
                let f = decoded.pointer
                if f.pointee.pts == rendc_av_nopts_value() { f.pointee.pts = f.pointee.best_effort_timestamp }
                try check(av_buffersrc_add_frame_flags(source, f, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)), .filter, input.path, "audio filtering failed")
            } else {
                inputDone = true
                try check(av_buffersrc_add_frame_flags(source, nil, 0), .filter, input.path, "audio filtering failed")
            }
        }
    }

    /// Seconds of audio produced so far.
    var seconds: Double { Double(samples) / Double(sampleRate) }
}
