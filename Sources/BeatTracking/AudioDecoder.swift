internal import CFFmpeg
import Foundation

/// Mono Float32 samples decoded from an audio file, plus the length of the whole track.
package struct DecodedAudio: Sendable {
    package var samples: [Float]
    package var sampleRate: Int
    /// Seconds in the whole track: from the container when it says, otherwise counted.
    package var trackDuration: Double
    package var analysedDuration: Double { Double(samples.count) / Double(sampleRate) }
}

/// Decodes any audio libavformat reads (MP3, AAC/M4A, OGG/Vorbis, Opus, FLAC, WAV...) to mono Float32 at a chosen
/// rate, streaming: it reads packets until `maxDuration` seconds of output exist and keeps only that PCM.
package struct AudioDecoder: Sendable {
    package var sampleRate: Int

    package init(sampleRate: Int = 22050) {
        self.sampleRate = sampleRate
    }

    /// Only the container: the track length in seconds, without decoding (counted from packets when the container
    /// does not say).
    package func probeDuration(path: String) throws -> Double {
        let input = try InputFile(path: path)
        if let duration = input.declaredDuration { return duration }
        return try input.countRemainingDuration(path: path, from: 0)
    }

    package func decode(path: String, maxDuration: Double?) throws -> DecodedAudio {
        if let maxDuration, !(maxDuration > 0) || !maxDuration.isFinite {
            throw BeatTrackingError(.invalidArgument, path: path, "maximum duration must be a positive number of seconds, got \(maxDuration)")
        }
        let input = try InputFile(path: path)
        let codec = try CodecContext(stream: input.stream, path: path)
        let packet = try Packet(path: path)
        let frame = try Frame(path: path)
        var resampler: Resampler?

        // Clamp absurd limits (a year of audio) so the sample count cannot overflow.
        let maxSamples = maxDuration.map { Int((min($0, 3.2e7) * Double(sampleRate)).rounded(.up)) } ?? Int.max
        var samples: [Float] = []
        // Reserve for what the container says is there (capped), not for the limit.
        let expected = (input.declaredDuration ?? 0) * Double(sampleRate)
        samples.reserveCapacity(min(maxSamples, Int(min(max(expected, 0), 3600 * Double(sampleRate))) + sampleRate))
        var invalidPackets = 0
        var goodPackets = 0
        var lastError: Int32 = 0
        var reachedCap = false
        var lastPacketEnd: Int64 = 0  // stream time base, for counting the length when the container does not say

        func drainFrames() throws {
            while !reachedCap {
                let rc = avcodec_receive_frame(codec.pointer, frame.pointer)
                if rc == rendc_averror_eagain() || rc == rendc_averror_eof() { return }
                if rc < 0 { invalidPackets += 1; lastError = rc; return }
                defer { av_frame_unref(frame.pointer) }
                if resampler == nil || !(resampler?.matches(frame.pointer) ?? false) {
                    resampler = try Resampler(frame: frame.pointer, outputRate: sampleRate, path: path)
                }
                guard let resampler else { return }
                try resampler.convert(frame: frame.pointer, into: &samples, limit: maxSamples, path: path)
                if samples.count >= maxSamples { reachedCap = true }
            }
        }

        readLoop: while !reachedCap {
            let rc = av_read_frame(input.pointer, packet.pointer)
            if rc < 0 { break readLoop }  // end of file, or a read error at the tail of a damaged file
            defer { av_packet_unref(packet.pointer) }
            guard packet.pointer.pointee.stream_index == input.streamIndex else { continue }
            let p = packet.pointer.pointee
            if p.pts != rendc_av_nopts_value() { lastPacketEnd = max(lastPacketEnd, p.pts + max(p.duration, 0)) }
            let sent = avcodec_send_packet(codec.pointer, packet.pointer)
            if sent < 0 && sent != rendc_averror_eagain() {
                invalidPackets += 1
                lastError = sent
                if invalidPackets > 50 && goodPackets == 0 {
                    throw BeatTrackingError(.decodeFailed, path: path, "the audio data is corrupt (\(averrorString(sent)))")
                }
                continue
            }
            goodPackets += 1
            try drainFrames()
        }
        if !reachedCap {
            // Flush the decoder and the resampler's delay.
            avcodec_send_packet(codec.pointer, nil)
            try drainFrames()
            if !reachedCap, let resampler { try resampler.flush(into: &samples, limit: maxSamples, path: path) }
        }
        if samples.count > maxSamples { samples.removeLast(samples.count - maxSamples) }

        if samples.isEmpty {
            if invalidPackets > 0 {
                throw BeatTrackingError(.decodeFailed, path: path, "the audio data is corrupt (\(averrorString(lastError)))")
            }
            throw BeatTrackingError(.noAudio, path: path, "the audio stream holds no samples")
        }
        let decodedSeconds = Double(samples.count) / Double(sampleRate)

        let trackDuration: Double
        if let declared = input.declaredDuration {
            if !reachedCap, input.durationIsExact, declared - decodedSeconds > max(1.0, 0.05 * declared) {
                throw BeatTrackingError(
                    .truncated, path: path,
                    "the file is truncated: it declares \(formatSeconds(declared)) of audio but only \(formatSeconds(decodedSeconds)) could be decoded")
            }
            trackDuration = reachedCap ? declared : max(declared, decodedSeconds)
        } else if reachedCap {
            trackDuration = max(decodedSeconds, try input.countRemainingDuration(path: path, from: lastPacketEnd))
        } else {
            trackDuration = decodedSeconds
        }
        return DecodedAudio(samples: samples, sampleRate: sampleRate, trackDuration: trackDuration)
    }
}

func averrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    av_strerror(code, &buffer, buffer.count)
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

func formatSeconds(_ seconds: Double) -> String {
    let rounded = (seconds * 100).rounded() / 100
    return "\(rounded) s"
}

// MARK: - Owners of the C objects

/// An opened container with its best audio stream.
final class InputFile {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    let streamIndex: Int32
    let stream: UnsafeMutablePointer<AVStream>

    init(path: String) throws {
        var isDirectory = false
        if !fileExists(path, isDirectory: &isDirectory) {
            throw BeatTrackingError(.fileNotFound, path: path, "no such file")
        }
        if isDirectory { throw BeatTrackingError(.unreadable, path: path, "is a directory, not an audio file") }
        var context: UnsafeMutablePointer<AVFormatContext>?
        let opened = avformat_open_input(&context, path, nil, nil)
        guard opened >= 0, let context else {
            throw BeatTrackingError(.unreadable, path: path, "not a readable audio file (\(averrorString(opened)))")
        }
        pointer = context
        let info = avformat_find_stream_info(context, nil)
        if info < 0 {
            var owned: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&owned)
            throw BeatTrackingError(.unreadable, path: path, "cannot read the stream layout (\(averrorString(info)))")
        }
        let best = av_find_best_stream(context, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        guard best >= 0, let streams = context.pointee.streams, let stream = streams[Int(best)] else {
            var owned: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&owned)
            throw BeatTrackingError(.noAudioStream, path: path, "contains no audio stream")
        }
        streamIndex = best
        self.stream = stream
    }

    deinit {
        var owned: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&owned)
    }

    /// The audio stream's length, or the container's when the stream does not say and it is the only stream.
    var declaredDuration: Double? {
        let s = stream.pointee
        if s.duration != rendc_av_nopts_value(), s.duration > 0, s.time_base.den > 0 {
            return Double(s.duration) * Double(s.time_base.num) / Double(s.time_base.den)
        }
        let f = pointer.pointee
        if f.duration != rendc_av_nopts_value(), f.duration > 0 {
            return Double(f.duration) / Double(rendc_av_time_base())
        }
        return nil
    }

    /// False when libavformat guessed the length from the bit rate (then a short decode is no proof of truncation).
    var durationIsExact: Bool {
        pointer.pointee.duration_estimation_method != AVFMT_DURATION_FROM_BITRATE
    }

    /// Reads the remaining packets without decoding them and returns the end time of the last one, in seconds.
    func countRemainingDuration(path: String, from start: Int64) throws -> Double {
        let packet = try Packet(path: path)
        var end = start
        while av_read_frame(pointer, packet.pointer) >= 0 {
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
}

final class CodecContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    init(stream: UnsafeMutablePointer<AVStream>, path: String) throws {
        guard let parameters = stream.pointee.codecpar else {
            throw BeatTrackingError(.decoderUnavailable, path: path, "the audio stream has no codec parameters")
        }
        guard let decoder = avcodec_find_decoder(parameters.pointee.codec_id) else {
            let name = avcodec_get_name(parameters.pointee.codec_id).map { String(cString: $0) } ?? "unknown"
            throw BeatTrackingError(.decoderUnavailable, path: path, "no decoder for the audio codec '\(name)'")
        }
        guard let context = avcodec_alloc_context3(decoder) else {
            throw BeatTrackingError(.decoderUnavailable, path: path, "cannot allocate a decoder")
        }
        pointer = context
        let copied = avcodec_parameters_to_context(context, parameters)
        if copied < 0 {
            throw BeatTrackingError(.decoderUnavailable, path: path, "bad codec parameters (\(averrorString(copied)))")
        }
        context.pointee.pkt_timebase = stream.pointee.time_base
        let opened = avcodec_open2(context, decoder, nil)
        if opened < 0 {
            throw BeatTrackingError(.decoderUnavailable, path: path, "cannot open the audio decoder (\(averrorString(opened)))")
        }
    }

    deinit {
        var owned: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&owned)
    }
}

final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>
    init(path: String) throws {
        guard let packet = av_packet_alloc() else { throw BeatTrackingError(.decodeFailed, path: path, "out of memory (packet)") }
        pointer = packet
    }
    deinit {
        var owned: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&owned)
    }
}

final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>
    init(path: String) throws {
        guard let frame = av_frame_alloc() else { throw BeatTrackingError(.decodeFailed, path: path, "out of memory (frame)") }
        pointer = frame
    }
    deinit {
        var owned: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&owned)
    }
}

/// Converts decoded frames of one layout, format and rate to mono Float32 at the output rate.
final class Resampler {
    let pointer: OpaquePointer
    let inputFormat: Int32
    let inputRate: Int32
    let inputChannels: Int32
    let outputRate: Int
    private var scratch: [Float] = []

    init(frame: UnsafeMutablePointer<AVFrame>, outputRate: Int, path: String) throws {
        let f = frame.pointee
        inputFormat = f.format
        inputRate = f.sample_rate
        inputChannels = f.ch_layout.nb_channels
        self.outputRate = outputRate
        guard inputRate > 0, inputChannels > 0 else {
            throw BeatTrackingError(.decodeFailed, path: path, "the decoder produced audio without a sample rate or channels")
        }
        var inLayout = AVChannelLayout()
        if f.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
            av_channel_layout_default(&inLayout, inputChannels)
        } else {
            var source = f.ch_layout
            if av_channel_layout_copy(&inLayout, &source) < 0 { av_channel_layout_default(&inLayout, inputChannels) }
        }
        defer { av_channel_layout_uninit(&inLayout) }
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, 1)
        defer { av_channel_layout_uninit(&outLayout) }
        var context: OpaquePointer?
        let rc = swr_alloc_set_opts2(&context, &outLayout, AV_SAMPLE_FMT_FLT, Int32(outputRate),
                                     &inLayout, AVSampleFormat(rawValue: inputFormat), inputRate, 0, nil)
        guard rc >= 0, let context else {
            throw BeatTrackingError(.resampleFailed, path: path, "cannot set up resampling (\(averrorString(rc)))")
        }
        let initialised = swr_init(context)
        if initialised < 0 {
            var owned: OpaquePointer? = context
            swr_free(&owned)
            throw BeatTrackingError(.resampleFailed, path: path, "cannot set up resampling (\(averrorString(initialised)))")
        }
        pointer = context
    }

    deinit {
        var owned: OpaquePointer? = pointer
        swr_free(&owned)
    }

    func matches(_ frame: UnsafeMutablePointer<AVFrame>) -> Bool {
        let f = frame.pointee
        return f.format == inputFormat && f.sample_rate == inputRate && f.ch_layout.nb_channels == inputChannels
    }

    func convert(frame: UnsafeMutablePointer<AVFrame>, into samples: inout [Float], limit: Int, path: String) throws {
        let inCount = frame.pointee.nb_samples
        let capacity = Int(swr_get_out_samples(pointer, inCount)) + 32
        try run(input: frame.pointee.extended_data, count: inCount, capacity: capacity, into: &samples, limit: limit, path: path)
    }

    func flush(into samples: inout [Float], limit: Int, path: String) throws {
        let capacity = Int(swr_get_out_samples(pointer, 0)) + 32
        try run(input: nil, count: 0, capacity: capacity, into: &samples, limit: limit, path: path)
    }

    private func run(input: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, count: Int32, capacity: Int,
                     into samples: inout [Float], limit: Int, path: String) throws {
        if scratch.count < capacity { scratch = [Float](repeating: 0, count: capacity) }
        let produced: Int32 = scratch.withUnsafeMutableBytes { raw -> Int32 in
            var out: UnsafeMutablePointer<UInt8>? = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            let inPointer = input.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UnsafePointer<UInt8>?.self) }
            return swr_convert(pointer, &out, Int32(capacity), inPointer, count)
        }
        if produced < 0 {
            throw BeatTrackingError(.resampleFailed, path: path, "resampling failed (\(averrorString(produced)))")
        }
        let take = min(Int(produced), max(0, limit - samples.count))
        if take > 0 { samples.append(contentsOf: scratch[0..<take]) }
    }
}

func fileExists(_ path: String, isDirectory: inout Bool) -> Bool {
    var directory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &directory)
    isDirectory = directory.boolValue
    return exists
}
