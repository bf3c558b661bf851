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
        /// Which of `decodes` feeds it.
        let decode: Int
        /// Seconds of the file (from its first frame) its chain uses; frames outside are not sent (the first is,
        /// for `asetpts=PTS-STARTPTS`). Nil: every frame.
        let window: ClosedRange<Double>?
        let context: UnsafeMutablePointer<AVFilterContext>
        /// The next of its decode's frames to send.
        var cursor = 0
        var done = false
    }
    /// Every file is decoded once, however many inputs read it (a loop's pieces, audio13 L3).
    private var decodes: [SharedDecode] = []
    private let graph: FilterGraphContext
    private var sources: [Source]
    private let sink: UnsafeMutablePointer<AVFilterContext>
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
    ///   - reads: for an input label, the seconds of its file (from its first sample) that its chain uses (a loop
    ///     piece's `atrim`, with margin); frames wholly outside are not sent, and its input ends after them.
    package init(
        graph text: String, inputs: [(label: String, path: String)], reads: [String: ClosedRange<Double>] = [:], sampleRate: Int,
        frameSize: Int?
    ) throws {
        self.sampleRate = sampleRate
        filtered = try Frame()
        graph = try FilterGraphContext()
        let g = graph.pointer
        g.pointee.nb_threads = 1
        let path = inputs.first?.path
        var sinkCtx: UnsafeMutablePointer<AVFilterContext>?
        try check(avfilter_graph_create_filter(&sinkCtx, avfilter_get_by_name("abuffersink"), "aout", nil, nil, g), .filter, path, "abuffersink")
        sink = sinkCtx!
        var made: [Source] = []
        var decodes: [SharedDecode] = []
        for (n, i) in inputs.enumerated() {
            let d: Int
            if let same = decodes.firstIndex(where: { $0.input.path == i.path }),
                AudioGraph.heldBytes(inputs.filter { $0.path == i.path }.map { reads[$0.label] }, decodes[same].input) <= AudioGraph.sharedBudget
            {
                d = same
            } else {
                let file = try MediaInput(path: i.path, mediaType: .audio)
                // A damaged packet is dropped and its time filled with silence (`SharedDecode.gap`), as the beat analysis does:
                // one bad FLAC or AAC frame failed every render before (review12 M3).
                file.skipsCorruptPackets = true
                decodes.append(try SharedDecode(input: file))
                d = decodes.count - 1
            }
            let args = decodes[d].input.audioBufferArguments
            var srcCtx: UnsafeMutablePointer<AVFilterContext>?
            try check(
                avfilter_graph_create_filter(&srcCtx, avfilter_get_by_name("abuffer"), "in\(n)", args, nil, g), .filter, i.path, "abuffer (\(args))")
            made.append(Source(label: i.label, decode: d, window: reads[i.label], context: srcCtx!))
        }
        self.decodes = decodes
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
            if r != AVERROR_EAGAIN { try check(r, .filter, decodes.first?.input.path, "audio filtering failed") }
            guard let n = sourceToFeed() else {
                // A source-only graph (silence), or every input at its end: nothing more to wait for.
                finished = true
                return nil
            }
            try feed(n)
        }
    }

    /// Sends source `n` its next frame in its window, or its end.
    private func feed(_ n: Int) throws {
        let di = sources[n].decode
        let d = decodes[di]
        let keep = { [unowned self] (i: Int, span: ClosedRange<Double>) in self.needs(di, i, span) }
        while true {
            // Past frame 0, straight to the first frame decoded so far that reaches the window.
            if sources[n].cursor > 0, !d.untimed, let w = sources[n].window {
                sources[n].cursor = d.firstFrame(reaching: w.lowerBound, from: sources[n].cursor)
            }
            let i = sources[n].cursor
            let fetched = try d.entry(i, keep: keep)
            sources[n].cursor += 1
            guard case .frame(let entry) = fetched else {
                if case .end = fetched { return try end(n) }
                continue
            }
            d.release(i, keep: keep)
            if i > 0, !d.untimed, let w = sources[n].window {
                if entry.span.upperBound < w.lowerBound { continue }
                if entry.span.lowerBound > w.upperBound { return try end(n) }
            }
            try check(
                av_buffersrc_add_frame_flags(sources[n].context, entry.frame.pointer, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)), .filter, d.input.path,
                "audio filtering failed")
            return
        }
    }

    private func end(_ n: Int) throws {
        sources[n].done = true
        try check(av_buffersrc_add_frame_flags(sources[n].context, nil, 0), .filter, decodes[sources[n].decode].input.path, "audio filtering failed")
    }

    /// Whether an input of decode `d` that has not ended will still send frame `i` (spanning `span` seconds).
    private func needs(_ d: Int, _ i: Int, _ span: ClosedRange<Double>) -> Bool {
        sources.contains { s in
            !s.done && s.decode == d && s.cursor <= i
                && (i == 0 || decodes[d].untimed
                    || s.window.map { span.upperBound >= $0.lowerBound && span.lowerBound <= $0.upperBound } ?? true)
        }
    }

    /// The most decoded audio one file's inputs may hold for each other (128 MiB: 60 s of 8 channels at 48 kHz in
    /// float is 92 MB). A file that could need more (32 channels at 192 kHz) is opened once per input instead.
    static let sharedBudget = 128 << 20

    /// The most one decode could hold for `windows` (their union, and a second of slack), nil windows being the
    /// whole file: unbounded.
    static func heldBytes(_ windows: [ClosedRange<Double>?], _ input: MediaInput) -> Int {
        let spans = windows.compactMap { $0 }
        guard spans.count == windows.count, let lo = spans.map(\.lowerBound).min(), let hi = spans.map(\.upperBound).max() else {
            return .max
        }
        return Int(min((hi - lo + 1) * Double(input.decodedBytesPerSecond), Double(Int.max / 2)))
    }

    /// Files opened and frames decoded (silence filled in included), over every input: a loop of N pieces opens
    /// and decodes its track once.
    package var decodeCounts: (files: Int, frames: Int) { (decodes.count, decodes.reduce(0) { $0 + $1.count }) }
    /// The most decoded audio held at once for inputs still to read it, in bytes (a loop's span of the track, in
    /// the file's decoded format).
    package var peakHeldBytes: Int { decodes.map(\.peakHeldBytes).max() ?? 0 }

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

/// One audio file decoded once for every graph input that reads it. Its frames are kept (as references) only while
/// an input that has not read them yet will send them: a loop's later pieces hold the loop's span of the track, in
/// the file's decoded format, and nothing else.
private final class SharedDecode {
    struct Entry {
        let frame: Frame
        /// Seconds from the file's first frame.
        let span: ClosedRange<Double>
        let bytes: Int
    }
    let input: MediaInput
    private let decoded: Frame
    private var held: [Int: Entry] = [:]
    private var heldBytes = 0
    private(set) var peakHeldBytes = 0
    /// Frames decoded (and silence frames made) so far, and the seconds each spans.
    private(set) var count = 0
    private var spans: [ClosedRange<Double>] = []
    private var ended = false
    private var firstPTS: Int64?
    private var lastEnd = 0.0
    /// True once a frame came without a timestamp: then `atrim` counts samples, so every frame is sent (no window).
    private(set) var untimed = false
    /// Where the next frame should start (stream time base), and the input's skipped packets when it was set.
    private var nextPTS: Int64?
    private var skipped = 0
    /// Frames made by the last decode step, not yet numbered (a gap's silence, then the decoded frame).
    private var pending: [Frame] = []

    init(input: MediaInput) throws {
        self.input = input
        decoded = try Frame()
    }

    enum Fetch {
        case frame(Entry)
        /// Made earlier and not kept, since no input was to send it.
        case skipped
        case end
    }

    /// Frame `i`, decoding on until it exists. Every frame made on the way is kept when `keep` says an input will
    /// still send it.
    func entry(_ i: Int, keep: (Int, ClosedRange<Double>) -> Bool) throws -> Fetch {
        if let e = held[i] { return .frame(e) }
        guard count <= i else { return .skipped }
        while count <= i {
            guard let frame = try nextFrame() else { return .end }
            let e = entry(for: frame)
            let n = count
            count += 1
            spans.append(e.span)
            if keep(n, e.span) { hold(n, e) }
            if n == i { return .frame(e) }
        }
        return .end
    }

    /// Drops frame `i` once no input will send it.
    func release(_ i: Int, keep: (Int, ClosedRange<Double>) -> Bool) {
        guard let e = held[i], !keep(i, e.span) else { return }
        held[i] = nil
        heldBytes -= e.bytes
    }

    /// The first frame from `start` on, among those decoded so far (or the next to decode), that ends at or after
    /// `time` (the frames' times increase).
    func firstFrame(reaching time: Double, from start: Int) -> Int {
        var lo = start, hi = spans.count
        guard lo < hi else { return start }
        while lo < hi {
            let mid = (lo + hi) / 2
            if spans[mid].upperBound < time { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func hold(_ i: Int, _ e: Entry) {
        held[i] = e
        heldBytes += e.bytes
        peakHeldBytes = max(peakHeldBytes, heldBytes)
    }

    private func entry(for frame: Frame) -> Entry {
        let f = frame.pointer.pointee
        let tb = input.timeBase
        let rate = max(1, Int(f.sample_rate))
        var start = lastEnd
        if f.pts != rendc_av_nopts_value() {
            if firstPTS == nil { firstPTS = f.pts }
            start = Double(f.pts - firstPTS!) * tb
        } else {
            untimed = true
        }
        lastEnd = start + Double(f.nb_samples) / Double(rate)
        let format = AVSampleFormat(rawValue: f.format)
        let bytes = Int(f.nb_samples) * Int(f.ch_layout.nb_channels) * Int(av_get_bytes_per_sample(format))
        return Entry(frame: frame, span: start...(start + Double(f.nb_samples) / Double(rate)), bytes: bytes)
    }

    /// The next frame of the file (its own reference), or silence before it where damaged packets were dropped.
    private func nextFrame() throws -> Frame? {
        if !pending.isEmpty { return pending.removeFirst() }
        guard !ended else { return nil }
        av_frame_unref(decoded.pointer)
        guard try input.decode(into: decoded) else {
            ended = true
            return nil
        }
        let f = decoded.pointer
        if f.pointee.pts == rendc_av_nopts_value() { f.pointee.pts = f.pointee.best_effort_timestamp }
        pending = try gap(before: f)
        let own = try Frame()
        try check(av_frame_ref(own.pointer, f), .filter, input.path, "audio frame")
        pending.append(own)
        return pending.removeFirst()
    }

    /// Silence where the decoder dropped damaged packets, so the music after them keeps its time: only after a
    /// skipped packet, for gaps over 1 ms and under 10 s, in frames of at most 4096 samples.
    private func gap(before f: UnsafeMutablePointer<AVFrame>) throws -> [Frame] {
        let pts = f.pointee.pts, rate = Int(f.pointee.sample_rate)
        let tb = input.timeBase
        defer {
            if pts != rendc_av_nopts_value(), rate > 0, tb > 0 {
                nextPTS = pts + Int64((Double(f.pointee.nb_samples) / Double(rate) / tb).rounded())
            }
            skipped = input.skippedPackets
        }
        guard input.skippedPackets > skipped, let expected = nextPTS, pts != rendc_av_nopts_value(), rate > 0, tb > 0 else { return [] }
        let gap = Double(pts - expected) * tb
        guard gap > 0.001, gap < 10 else { return [] }
        var remaining = Int((gap * Double(rate)).rounded())
        var at = expected
        var frames: [Frame] = []
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
            frames.append(silence)
            at += Int64((Double(count) / Double(rate) / tb).rounded())
            remaining -= count
        }
        return frames
    }
}
