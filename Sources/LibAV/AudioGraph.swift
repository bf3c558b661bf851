internal import CFFmpeg
import Foundation
import MediaFormats

/// An audio track run through a libavfilter graph: the input decoded (or nothing, for a graph that makes its own
/// sound) between an `abuffer` source and an `abuffersink`, parsed from `chain`. Frames come out `frameSize`
/// samples long for the encoder, with pts counted in samples.
package final class AudioGraph {
    private let graph: FilterGraphContext
    private let source: UnsafeMutablePointer<AVFilterContext>?
    private let sink: UnsafeMutablePointer<AVFilterContext>
    private let input: MediaInput?
    private let decoded: Frame
    private let filtered: Frame
    private var inputDone = false
    package private(set) var finished = false
    /// Samples handed out so far.
    package private(set) var samples: Int64 = 0
    package let sampleRate: Int

    /// - Parameters:
    ///   - chain: a filter chain with `[in]` (when there is an input) and `[out]` labels.
    ///   - inputPath: the audio file, or nil for a source-only chain (silence).
    package init(chain: String, inputPath: String?, sampleRate: Int, frameSize: Int) throws {
        self.sampleRate = sampleRate
        decoded = try Frame()
        filtered = try Frame()
        graph = try FilterGraphContext()
        let g = graph.pointer
        g.pointee.nb_threads = 1
        var sinkCtx: UnsafeMutablePointer<AVFilterContext>?
        try check(avfilter_graph_create_filter(&sinkCtx, avfilter_get_by_name("abuffersink"), "out", nil, nil, g), .filter, inputPath, "abuffersink")
        sink = sinkCtx!
        if let inputPath {
            let file = try MediaInput(path: inputPath, mediaType: .audio)
            input = file
            let args = file.audioBufferArguments
            var srcCtx: UnsafeMutablePointer<AVFilterContext>?
            try check(avfilter_graph_create_filter(&srcCtx, avfilter_get_by_name("abuffer"), "in", args, nil, g), .filter, inputPath, "abuffer (\(args))")
            source = srcCtx
        } else {
            input = nil
            source = nil
        }
        try AudioGraph.parse(graph: g, chain: chain, source: source, sink: sink, path: inputPath)
        try check(avfilter_graph_config(g, nil), .filter, inputPath, "audio graph '\(chain)'")
        av_buffersink_set_frame_size(sink, UInt32(frameSize))
    }

    /// Parses `chain` between the optional `source` (as [in]) and `sink` (as [out]).
    private static func parse(graph: UnsafeMutablePointer<AVFilterGraph>, chain: String, source: UnsafeMutablePointer<AVFilterContext>?,
                              sink: UnsafeMutablePointer<AVFilterContext>, path: String?) throws {
        var outputs: UnsafeMutablePointer<AVFilterInOut>? = nil
        var inputs = avfilter_inout_alloc()
        defer { avfilter_inout_free(&inputs); avfilter_inout_free(&outputs) }
        guard let inputsNode = inputs else { throw MediaError(.filter, code: .outOfMemory, path: path, "out of memory") }
        inputsNode.pointee.name = av_strdup("out")
        inputsNode.pointee.filter_ctx = sink
        inputsNode.pointee.pad_idx = 0
        inputsNode.pointee.next = nil
        if let source {
            outputs = avfilter_inout_alloc()
            guard let node = outputs else { throw MediaError(.filter, code: .outOfMemory, path: path, "out of memory") }
            node.pointee.name = av_strdup("in")
            node.pointee.filter_ctx = source
            node.pointee.pad_idx = 0
            node.pointee.next = nil
        }
        try check(avfilter_graph_parse_ptr(graph, chain, &inputs, &outputs, nil), .filter, path, "cannot parse the audio graph '\(chain)'")
    }

    /// The next encoder-sized frame (pts in samples), or nil at the end. The frame is reused by the next call.
    package func next() throws -> Frame? {
        guard !finished else { return nil }
        while true {
            av_frame_unref(filtered.pointer)
            let r = av_buffersink_get_frame(sink, filtered.pointer)
            if r >= 0 {
                filtered.pointer.pointee.pts = samples
                samples += Int64(filtered.pointer.pointee.nb_samples)
                return filtered
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
    package var seconds: Double { Double(samples) / Double(sampleRate) }
}
