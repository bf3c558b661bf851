import Foundation
import LibAV
import MediaFormats

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
        let input = try open(path)
        if let duration = input.duration { return duration }
        return try input.countRemainingDuration(from: 0)
    }

    package func decode(path: String, maxDuration: Double?) throws -> DecodedAudio {
        if let maxDuration, !(maxDuration > 0) || !maxDuration.isFinite {
            throw BeatTrackingError(.invalidArgument, path: path, "maximum duration must be a positive number of seconds, got \(maxDuration)")
        }
        let input = try open(path)
        input.skipsCorruptPackets = true
        do {
            return try decode(input, path: path, maxDuration: maxDuration)
        } catch let error as MediaError {
            throw BeatTrackingError(error, path: path)
        }
    }

    private func decode(_ input: MediaInput, path: String, maxDuration: Double?) throws -> DecodedAudio {
        let frame = try Frame()
        var resampler: MonoResampler?

        // Clamp absurd limits (a year of audio) so the sample count cannot overflow.
        let maxSamples = maxDuration.map { Int((min($0, 3.2e7) * Double(sampleRate)).rounded(.up)) } ?? Int.max
        var samples: [Float] = []
        // Reserve for what the container says is there (capped), not for the limit.
        let expected = (input.duration ?? 0) * Double(sampleRate)
        samples.reserveCapacity(min(maxSamples, Int(min(max(expected, 0), 3600 * Double(sampleRate))) + sampleRate))
        var reachedCap = false

        while !reachedCap, try input.decode(into: frame) {
            defer { frame.unref() }
            if resampler == nil || !(resampler?.matches(frame) ?? false) {
                resampler = try MonoResampler(frame: frame, outputRate: sampleRate, path: path)
            }
            try resampler?.convert(frame, into: &samples, limit: maxSamples)
            if samples.count >= maxSamples { reachedCap = true }
        }
        if !reachedCap, let resampler { try resampler.flush(into: &samples, limit: maxSamples) }
        if samples.count > maxSamples { samples.removeLast(samples.count - maxSamples) }

        if samples.isEmpty {
            if input.skippedPackets > 0 {
                throw BeatTrackingError(.decodeFailed, path: path, "the audio data is corrupt (\(input.lastSkippedError))")
            }
            throw BeatTrackingError(.noAudio, path: path, "the audio stream holds no samples")
        }
        let decodedSeconds = Double(samples.count) / Double(sampleRate)

        let trackDuration: Double
        if let declared = input.duration {
            if !reachedCap, input.durationIsExact, declared - decodedSeconds > max(1.0, 0.05 * declared) {
                throw BeatTrackingError(
                    .truncated, path: path,
                    "the file is truncated: it declares \(formatSeconds(declared)) of audio but only \(formatSeconds(decodedSeconds)) could be decoded"
                )
            }
            trackDuration = reachedCap ? declared : max(declared, decodedSeconds)
        } else if reachedCap {
            trackDuration = max(decodedSeconds, try input.countRemainingDuration())
        } else {
            trackDuration = decodedSeconds
        }
        return DecodedAudio(samples: samples, sampleRate: sampleRate, trackDuration: trackDuration)
    }

    /// Opens the file through LibAV (allow-listed demuxers only), with errors in BeatTracking's terms.
    private func open(_ path: String) throws -> MediaInput {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            throw BeatTrackingError(.fileNotFound, path: path, "no such file")
        }
        if isDirectory.boolValue { throw BeatTrackingError(.unreadable, path: path, "is a directory, not an audio file") }
        do {
            return try MediaInput(path: path, mediaType: .audio)
        } catch let error as MediaError {
            throw BeatTrackingError(error, path: path)
        }
    }
}

extension BeatTrackingError {
    /// LibAV's error in BeatTracking's codes.
    init(_ error: MediaError, path: String) {
        let code: Code
        switch error.code {
        case .fileNotFound: code = .fileNotFound
        case .noStream: code = .noAudioStream
        case .decoderUnavailable: code = .decoderUnavailable
        case .truncated: code = .truncated
        case .corrupt, .invalidSamples: code = .decodeFailed
        case .unreadable, .refused: code = .unreadable
        default: code = error.stage == .decode ? .decodeFailed : .unreadable
        }
        self.init(code, path: path, error.message)
    }
}

func formatSeconds(_ seconds: Double) -> String {
    let rounded = (seconds * 100).rounded() / 100
    return "\(rounded) s"
}

func fileExists(_ path: String, isDirectory: inout Bool) -> Bool {
    var directory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &directory)
    isDirectory = directory.boolValue
    return exists
}
