internal import CFFmpeg
import Foundation
import MediaFormats

/// An audio graph run through libavfilter: each input file decoded into its own `abuffer` source, the graph text
/// parsed between them and one `abuffersink`. The graph names its inputs with the labels given (`[3:a]`) and its
/// output `[aout]`; a graph with no inputs makes its own sound (silence). Frames come out `frameSize` samples long
/// for the encoder (or as the graph makes them, with `frameSize` nil), with pts counted in samples.
package final class AudioGraph {
    private struct Source {
        let label: String
        let input: MediaInput
        let context: UnsafeMutablePointer<AVFilterContext>
        var done = false
        /// Where the next frame should start (stream time base), and the input's skipped packets when it was set.
        var nextPTS: Int64?
        var skipped = 0
    }
    private let graph: FilterGraphContext
    private var sources: [Source]
    private let sink: UnsafeMutablePointer<AVFilterContext>
    private let decoded: Frame
    private let filtered: Frame
    private var nextSource = 0
    package private(set) var finished = false
    /// Samples handed out so far.
    package private(set) var samples: Int64 = 0
    package let sampleRate: Int
    /// The latest value of each frame metadata key seen at the sink (for example `lavfi.r128.I` from `ebur128`).
    package private(set) var metadata: [String: String] = [:]
    /// The largest value seen at the sink of each numeric metadata key.
    package private(set) var metadataMaximum: [String: Double] = [:]

    /// - Parameters:
    ///   - graph: filtergraph text whose open inputs are the labels of `inputs` and whose open output is `[aout]`.
    ///   - inputs: (label, audio file) pairs, or none for a graph that makes its own sound.
    package init(graph text: String, inputs: [(label: String, path: String)], sampleRate: Int, frameSize: Int?) throws {
        self.sampleRate = sampleRate
        decoded = try Frame()
        filtered = try Frame()
        graph = try FilterGraphContext()
        let g = graph.pointer
        g.pointee.nb_threads = 1
        let path = inputs.first?.path
        var sinkCtx: UnsafeMutablePointer<AVFilterContext>?
        try check(avfilter_graph_create_filter(&sinkCtx, avfilter_get_by_name("abuffersink"), "aout", nil, nil, g), .filter, path, "abuffersink")
        sink = sinkCtx!
        var made: [Source] = []
        for (n, i) in inputs.enumerated() {
            let file = try MediaInput(path: i.path, mediaType: .audio)
            // A damaged packet is dropped and its time filled with silence (`fillGap`), as the beat analysis does:
            // one bad FLAC or AAC frame failed every render before (review12 M3).
            file.skipsCorruptPackets = true
            let args = file.audioBufferArguments
            var srcCtx: UnsafeMutablePointer<AVFilterContext>?
            try check(
                avfilter_graph_create_filter(&srcCtx, avfilter_get_by_name("abuffer"), "in\(n)", args, nil, g), .filter, i.path, "abuffer (\(args))")
            made.append(Source(label: i.label, input: file, context: srcCtx!))
        }
        sources = made
        try AudioGraph.parse(graph: g, text: text, sources: made, sink: sink, path: path)
        try check(avfilter_graph_config(g, nil), .filter, path, "audio graph '\(text)'")
        if let frameSize { av_buffersink_set_frame_size(sink, UInt32(frameSize)) }
    }

    /// The single-input form: `chain` with `[in]` and `[out]` labels (or none, for silence).
    package convenience init(chain: String, inputPath: String?, sampleRate: Int, frameSize: Int) throws {
        let text = (inputPath == nil ? "" : "[in]") + chain + "[aout]"
        try self.init(graph: text, inputs: inputPath.map { [("in", $0)] } ?? [], sampleRate: sampleRate, frameSize: frameSize)
    }

    /// Parses `text` between the sources (as their labels) and `sink` (as [aout]).
    private static func parse(
        graph: UnsafeMutablePointer<AVFilterGraph>, text: String, sources: [Source],
        sink: UnsafeMutablePointer<AVFilterContext>, path: String?
    ) throws {
        var outputs: UnsafeMutablePointer<AVFilterInOut>? = nil
        var inputs = avfilter_inout_alloc()
        defer { avfilter_inout_free(&inputs); avfilter_inout_free(&outputs) }
        guard let inputsNode = inputs else { throw MediaError(.filter, code: .outOfMemory, path: path, "out of memory") }
        inputsNode.pointee.name = av_strdup("aout")
        inputsNode.pointee.filter_ctx = sink
        inputsNode.pointee.pad_idx = 0
        inputsNode.pointee.next = nil
        for s in sources.reversed() {
            guard let node = avfilter_inout_alloc() else { throw MediaError(.filter, code: .outOfMemory, path: path, "out of memory") }
            node.pointee.name = av_strdup(s.label)
            node.pointee.filter_ctx = s.context
            node.pointee.pad_idx = 0
            node.pointee.next = outputs
            outputs = node
        }
        try check(avfilter_graph_parse_ptr(graph, text, &inputs, &outputs, nil), .filter, path, "cannot parse the audio graph '\(text)'")
    }

    /// The next frame (pts in samples), or nil at the end. The frame is reused by the next call.
    package func next() throws -> Frame? {
        guard !finished else { return nil }
        while true {
            av_frame_unref(filtered.pointer)
            let r = av_buffersink_get_frame(sink, filtered.pointer)
            if r >= 0 {
                filtered.pointer.pointee.pts = samples
                samples += Int64(filtered.pointer.pointee.nb_samples)
                readMetadata(filtered.pointer)
                return filtered
            }
            if r == AVERROR_EOF_ { finished = true; return nil }
            if r != AVERROR_EAGAIN { try check(r, .filter, sources.first?.input.path, "audio filtering failed") }
            guard let n = sourceToFeed() else {
                // A source-only graph (silence), or every input at its end: nothing more to wait for.
                finished = true
                return nil
            }
            let input = sources[n].input
            av_frame_unref(decoded.pointer)
            if try input.decode(into: decoded) {
                let f = decoded.pointer
                if f.pointee.pts == rendc_av_nopts_value() { f.pointee.pts = f.pointee.best_effort_timestamp }
                try fillGap(n, before: f)
                try check(
                    av_buffersrc_add_frame_flags(sources[n].context, f, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)), .filter, input.path,
                    "audio filtering failed")
            } else {
                sources[n].done = true
                try check(av_buffersrc_add_frame_flags(sources[n].context, nil, 0), .filter, input.path, "audio filtering failed")
            }
        }
    }

    /// Silence where the decoder dropped damaged packets, so the music after them keeps its time: only after a
    /// skipped packet, for gaps over 1 ms and under 10 s, in frames of at most 4096 samples.
    private func fillGap(_ n: Int, before f: UnsafeMutablePointer<AVFrame>) throws {
        let input = sources[n].input
        let pts = f.pointee.pts, rate = Int(f.pointee.sample_rate)
        let tb = input.timeBase
        defer {
            if pts != rendc_av_nopts_value(), rate > 0, tb > 0 {
                sources[n].nextPTS = pts + Int64((Double(f.pointee.nb_samples) / Double(rate) / tb).rounded())
            }
            sources[n].skipped = input.skippedPackets
        }
        guard input.skippedPackets > sources[n].skipped, let expected = sources[n].nextPTS, pts != rendc_av_nopts_value(), rate > 0, tb > 0
        else { return }
        let gap = Double(pts - expected) * tb
        guard gap > 0.001, gap < 10 else { return }
        var remaining = Int((gap * Double(rate)).rounded())
        var at = expected
        while remaining > 0 {
            let count = min(remaining, 4096)
            let silence = try Frame()
            let p = silence.pointer
            p.pointee.format = f.pointee.format
            p.pointee.sample_rate = f.pointee.sample_rate
            p.pointee.nb_samples = Int32(count)
            try check(av_channel_layout_copy(&p.pointee.ch_layout, &f.pointee.ch_layout), .filter, input.path, "audio gap")
            try check(av_frame_get_buffer(p, 0), .filter, input.path, "audio gap")
            av_samples_set_silence(
                p.pointee.extended_data, 0, Int32(count), p.pointee.ch_layout.nb_channels, AVSampleFormat(rawValue: p.pointee.format))
            p.pointee.pts = at
            try check(av_buffersrc_add_frame_flags(sources[n].context, p, 0), .filter, input.path, "audio filtering failed")
            at += Int64((Double(count) / Double(rate) / tb).rounded())
            remaining -= count
        }
    }

    /// The input the graph waits for most (most failed requests), or the next one in turn.
    private func sourceToFeed() -> Int? {
        let open = sources.indices.filter { !sources[$0].done }
        guard !open.isEmpty else { return nil }
        let wanted = open.max { av_buffersrc_get_nb_failed_requests(sources[$0].context) < av_buffersrc_get_nb_failed_requests(sources[$1].context) }!
        if av_buffersrc_get_nb_failed_requests(sources[wanted].context) > 0 { return wanted }
        nextSource = (nextSource + 1) % sources.count
        return open.first { $0 >= nextSource } ?? open[0]
    }

    private func readMetadata(_ frame: UnsafeMutablePointer<AVFrame>) {
        guard let dict = frame.pointee.metadata else { return }
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while true {
            entry = av_dict_get(dict, "", entry, AV_DICT_IGNORE_SUFFIX)
            guard let e = entry, let k = e.pointee.key, let v = e.pointee.value else { break }
            let key = String(cString: k), value = String(cString: v)
            metadata[key] = value
            if let d = Double(value), d.isFinite { metadataMaximum[key] = max(metadataMaximum[key] ?? -.infinity, d) }
        }
    }

    /// The samples of the current frame as floats, when the graph ends in packed float (`flt`) mono.
    package func monoSamples(of frame: Frame) -> [Float] {
        let f = frame.pointer
        guard f.pointee.format == AV_SAMPLE_FMT_FLT.rawValue, let data = f.pointee.data.0 else { return [] }
        let n = Int(f.pointee.nb_samples)
        return data.withMemoryRebound(to: Float.self, capacity: n) { Array(UnsafeBufferPointer(start: $0, count: n)) }
    }

    /// Seconds of audio produced so far.
    package var seconds: Double { Double(samples) / Double(sampleRate) }
}
