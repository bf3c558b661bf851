internal import CFFmpeg
import Foundation
import MediaFormats

// Every libav* object has exactly one owner: a final class whose only job is to free it in `deinit`. Composite types
// hold owners, never raw pointers, so an initialiser that throws part-way releases whatever it had already made
// (Swift destroys the stored properties that were initialised; a composite's own `deinit` would not run).

/// Counts the owners alive that were made on the current thread while a test is counting (see `countingLiveObjects`).
package enum LiveObjects {
    final class Counter: @unchecked Sendable { var live = 0 }
    private static let key = "rendc.libav.live-objects"

    static var current: Counter? { Thread.current.threadDictionary[key] as? Counter }

    /// Runs `body` and returns how many libav* owners made on this thread during it are still alive afterwards.
    /// Zero means everything made was freed, including by initialisers that failed part-way.
    package static func countingLiveObjects(_ body: () throws -> Void) rethrows -> Int {
        let counter = Counter()
        Thread.current.threadDictionary[key] = counter
        defer { Thread.current.threadDictionary.removeObject(forKey: key) }
        try body()
        return counter.live
    }
}

/// Held by every owner: registers with the live-object counter when one is active on this thread.
final class LiveToken {
    private let counter = LiveObjects.current
    init() { counter?.live += 1 }
    deinit { counter?.live -= 1 }
}

/// Owns an AVFrame.
package final class Frame {
    private let token = LiveToken()
    let pointer: UnsafeMutablePointer<AVFrame>

    package init() throws {
        guard let f = av_frame_alloc() else { throw MediaError(.prepare, code: .outOfMemory, "out of memory (frame)") }
        pointer = f
    }

    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }

    package func unref() { av_frame_unref(pointer) }

    package var width: Int { Int(pointer.pointee.width) }
    package var height: Int { Int(pointer.pointee.height) }
    package var sampleCount: Int { Int(pointer.pointee.nb_samples) }
    /// Samples a second of an audio frame (0 for a picture).
    package var sampleRate: Int { Int(pointer.pointee.sample_rate) }
    package var pts: Int64 {
        get { pointer.pointee.pts }
        set { pointer.pointee.pts = newValue }
    }
    /// The decoder's best guess of the frame's time in stream time-base units, nil when unknown.
    package var bestEffortTimestamp: Int64? {
        let t = pointer.pointee.best_effort_timestamp
        return t == rendc_av_nopts_value() ? nil : t
    }

    /// A writable YUV 4:2:0 frame tagged BT.709 limited range: the one picture format the compositor and the
    /// encoder share.
    package static func video(width: Int, height: Int) throws -> Frame {
        guard width > 0, height > 0, width <= MediaLimits.maximumSide, height <= MediaLimits.maximumSide else {
            throw MediaError(.prepare, "a \(width)x\(height) frame is outside 1...\(MediaLimits.maximumSide) pixels a side")
        }
        let frame = try Frame()
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

    /// Makes the pixels writable, keeping them (copied if the encoder still holds the buffer).
    package func makeWritable() throws {
        try check(av_frame_make_writable(pointer), .encode, nil, "frame buffer")
    }

    /// Plane `index`'s first byte and its bytes per row.
    package func plane(_ index: Int) -> (data: UnsafeMutablePointer<UInt8>, stride: Int) {
        precondition((0..<3).contains(index))
        let f = pointer.pointee
        switch index {
        case 0: return (f.data.0!, Int(f.linesize.0))
        case 1: return (f.data.1!, Int(f.linesize.1))
        default: return (f.data.2!, Int(f.linesize.2))
        }
    }
}

/// Owns an AVPacket.
final class Packet {
    private let token = LiveToken()
    let pointer: UnsafeMutablePointer<AVPacket>
    init() throws {
        guard let p = av_packet_alloc() else { throw MediaError(.prepare, code: .outOfMemory, "out of memory (packet)") }
        pointer = p
    }
    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }
}

/// Owns an opened input AVFormatContext.
final class InputContext {
    private let token = LiveToken()
    let pointer: UnsafeMutablePointer<AVFormatContext>
    init(_ pointer: UnsafeMutablePointer<AVFormatContext>) {
        self.pointer = pointer
    }
    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&p)
    }
}

/// Owns an output AVFormatContext and its AVIOContext.
final class OutputContext {
    private let token = LiveToken()
    let pointer: UnsafeMutablePointer<AVFormatContext>
    init(_ pointer: UnsafeMutablePointer<AVFormatContext>) {
        self.pointer = pointer
    }
    deinit {
        if pointer.pointee.pb != nil { avio_closep(&pointer.pointee.pb) }
        avformat_free_context(pointer)
    }
}

/// Owns an AVCodecContext.
final class CodecContext {
    private let token = LiveToken()
    let pointer: UnsafeMutablePointer<AVCodecContext>
    init(codec: UnsafePointer<AVCodec>) throws {
        guard let c = avcodec_alloc_context3(codec) else { throw MediaError(.prepare, code: .outOfMemory, "out of memory (codec context)") }
        pointer = c
    }
    deinit {
        var p: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&p)
    }
}

/// Owns an AVFilterGraph (and with it every filter in it).
final class FilterGraphContext {
    private let token = LiveToken()
    let pointer: UnsafeMutablePointer<AVFilterGraph>
    init() throws {
        guard let g = avfilter_graph_alloc() else { throw MediaError(.filter, code: .outOfMemory, "out of memory (filter graph)") }
        pointer = g
    }
    deinit {
        var p: UnsafeMutablePointer<AVFilterGraph>? = pointer
        avfilter_graph_free(&p)
    }
}

/// Owns a SwrContext.
final class ResampleContext {
    private let token = LiveToken()
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }
    deinit {
        var p: OpaquePointer? = pointer
        swr_free(&p)
    }
}

/// Owns an AVDictionary of options for one call.
final class Options {
    private let token = LiveToken()
    var pointer: OpaquePointer?
    init(_ values: [(String, String)] = []) {
        for (k, v) in values { av_dict_set(&pointer, k, v, 0) }
    }
    func set(_ key: String, _ value: String) { av_dict_set(&pointer, key, value, 0) }
    deinit { av_dict_free(&pointer) }
}
