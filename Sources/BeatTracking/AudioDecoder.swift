import Foundation
import LibAV
import MediaFormats

/// Mono Float32 samples decoded from an audio file, plus the length of the whole track.
package struct DecodedAudio: Sendable {
    package var samples: [Float]
    package var sampleRate: Int
    /// Seconds in the whole track: from the container when it says, otherwise counted.
    package var trackDuration: Double
    /// Seconds of the track before the first sample (decoded and dropped: `decode(path:maxDuration:from:)`).
    package var start: Double = 0
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

    /// - Parameter from: seconds of the track to decode and drop first (a template's fixed music start): the samples
    ///   then start there, and `maxDuration` counts from there.
    package func decode(path: String, maxDuration: Double?, from: Double = 0) throws -> DecodedAudio {
        if let maxDuration, !(maxDuration > 0) || !maxDuration.isFinite {
            throw BeatTrackingError(.invalidArgument, path: path, "maximum duration must be a positive number of seconds, got \(maxDuration)")
        }
        let input = try open(path)
        input.skipsCorruptPackets = true
        do {
            return try decode(input, path: path, maxDuration: maxDuration, from: from.isFinite ? max(0, from) : 0)
        } catch let error as MediaError {
            throw BeatTrackingError(error, path: path)
        }
    }

    private func decode(_ input: MediaInput, path: String, maxDuration: Double?, from: Double) throws -> DecodedAudio {
        let frame = try Frame()
        var resampler: MonoResampler?

        // Clamp absurd limits (a year of audio) so the sample count cannot overflow.
        let maxSamples = maxDuration.map { Int((min($0, 3.2e7) * Double(sampleRate)).rounded(.up)) } ?? Int.max
        var samples: [Float] = []
        // Reserve for what the container says is there (capped), not for the limit.
        let expected = (input.duration ?? 0) * Double(sampleRate)
        samples.reserveCapacity(min(maxSamples, Int(min(max(expected, 0), 3600 * Double(sampleRate))) + sampleRate))
        var reachedCap = false
        // Samples before `from`: decoded and dropped as they come (only one frame's worth is held at a time).
        var toSkip = Int((min(from, 3.2e7) * Double(sampleRate)).rounded())
        var skipped = 0
        func drop() {
            guard toSkip > 0 else { return }
            let n = min(toSkip, samples.count)
            samples.removeFirst(n)
            toSkip -= n
            skipped += n
        }
        var limit: Int { maxSamples == Int.max ? Int.max : maxSamples + toSkip }
        // Damaged packets the decoder skipped leave a gap in the timestamps: it is filled with zeros, so the beats
        // after it stay on the track's time axis (review12 M3: they came out early by what was lost). Only after a
        // skipped packet, and only gaps under 10 s.
        var nextTime: Double?
        var skippedBefore = 0
        var filled = 0
        var firstGap: Double?

        while !reachedCap, try input.decode(into: frame) {
            defer { frame.unref() }
            if resampler == nil || !(resampler?.matches(frame) ?? false) {
                resampler = try MonoResampler(frame: frame, outputRate: sampleRate, path: path)
            }
            if let ts = frame.bestEffortTimestamp, frame.sampleRate > 0 {
                let t = Double(ts) * input.timeBase
                if input.skippedPackets > skippedBefore, let expected = nextTime, t - expected > 0.001, t - expected < 10 {
                    let n = max(0, min(Int(((t - expected) * Double(sampleRate)).rounded()), limit - samples.count))
                    samples.append(contentsOf: repeatElement(0, count: n))
                    filled += n
                    if firstGap == nil { firstGap = expected }
                }
                nextTime = t + Double(frame.sampleCount) / Double(frame.sampleRate)
                skippedBefore = input.skippedPackets
            }
            try resampler?.convert(frame, into: &samples, limit: limit)
            drop()
            if samples.count >= maxSamples { reachedCap = true }
        }
        if !reachedCap, let resampler {
            try resampler.flush(into: &samples, limit: limit)
            drop()
        }
        if samples.count > maxSamples { samples.removeLast(samples.count - maxSamples) }

        if samples.isEmpty {
            if input.skippedPackets > 0 {
                throw BeatTrackingError(.decodeFailed, path: path, "the audio data is corrupt (\(input.lastSkippedError))")
            }
            if skipped > 0 {
                throw BeatTrackingError(
                    .noAudio, path: path,
                    "the audio ends at \(formatSeconds(Double(skipped) / Double(sampleRate))), before \(formatSeconds(from)) where the analysis starts"
                )
            }
            throw BeatTrackingError(.noAudio, path: path, "the audio stream holds no samples")
        }
        let decodedSeconds = Double(skipped + samples.count) / Double(sampleRate)
        // Concealment is for a damaged frame or a few, not for a file whose music is mostly lost.
        let lost = Double(filled) / Double(sampleRate)
        if let firstGap, lost > max(1.0, 0.05 * decodedSeconds) {
            throw BeatTrackingError(
                .decodeFailed, path: path,
                "the audio is damaged from about \(formatSeconds(firstGap)): \(formatSeconds(lost)) of it could not be decoded")
        }

        let trackDuration: Double
        if let declared = input.duration {
            if !reachedCap, input.durationIsExact, declared - decodedSeconds > max(1.0, 0.05 * declared) {
                throw BeatTrackingError(
                    .truncated, path: path,
                    "the file is truncated: it declares \(formatSeconds(declared)) of audio but only \(formatSeconds(decodedSeconds)) could be decoded"
                )
            }
            if reachedCap, decodedSeconds > declared + 1 {
                // The header says less than already decoded (an MP3 Xing count that says 1 s of a 600-s file): the
                // packets say how long the track is.
                trackDuration = max(decodedSeconds, try input.countRemainingDuration())
            } else {
                trackDuration = reachedCap ? declared : max(declared, decodedSeconds)
            }
        } else if reachedCap {
            trackDuration = max(decodedSeconds, try input.countRemainingDuration())
        } else {
            trackDuration = decodedSeconds
        }
        return DecodedAudio(samples: samples, sampleRate: sampleRate, trackDuration: trackDuration, start: Double(skipped) / Double(sampleRate))
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
