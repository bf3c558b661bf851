import Foundation

extension BeatTracker {
    /// Beats of the part of a track from `start` seconds, for up to `maxDuration` seconds, in the track's time (a
    /// template that starts the music at a set time plays that part, not the first minute).
    public func analyze(file path: String, from start: Double, maxDuration: Double?) throws -> BeatAnalysis {
        guard start > 0 else { return try analyze(file: path, maxDuration: maxDuration) }
        let audio = try AudioDecoder(sampleRate: Self.analysisRate).decode(path: path, maxDuration: maxDuration, from: start)
        var result = analyze(samples: audio.samples, sampleRate: audio.sampleRate)
        let offset = audio.start
        result.beats = result.beats.map { $0 + offset }
        result.reliableSpans = result.reliableSpans.map { ($0.lowerBound + offset)...($0.upperBound + offset) }
        result.trackDuration = audio.trackDuration
        return result
    }
}
