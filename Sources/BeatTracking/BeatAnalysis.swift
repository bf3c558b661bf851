/// Beats found in a music track. (Seam with the planner; the tracker is being built in issue 5.)
public struct BeatAnalysis: Sendable, Equatable, Codable {
    /// Estimated tempo in beats per minute (0 when no beat was found).
    public var tempo: Double
    /// 0...1: how sure the tracker is that `beats` follow a real pulse.
    public var confidence: Double
    /// Beat times in seconds from the start of the track, increasing.
    public var beats: [Double]
    /// Seconds of audio that were analysed.
    public var analysedDuration: Double
    /// Length of the whole track in seconds.
    public var trackDuration: Double
    /// Sections (seconds, first to last beat in each) where the tracker's local confidence holds: beats there can be
    /// trusted. When `confidence` is below the tracker's threshold but some sections hold a clear pulse, `beats`
    /// holds only the beats inside these sections (partial beats) and the caller uses its fallback elsewhere.
    /// Empty when no section is reliable (then `beats` is empty too unless the whole track passed).
    public var reliableSpans: [ClosedRange<Double>]

    /// True when the beats cover only part of the track: outside `reliableSpans` there are no beats to cut on.
    public var isPartial: Bool { !beats.isEmpty && confidence < BeatTracker.minimumConfidence }

    public init(
        tempo: Double, confidence: Double, beats: [Double], analysedDuration: Double, trackDuration: Double,
        reliableSpans: [ClosedRange<Double>] = []
    ) {
        self.reliableSpans = reliableSpans
        self.tempo = tempo
        self.confidence = confidence
        self.beats = beats
        self.analysedDuration = analysedDuration
        self.trackDuration = trackDuration
    }
}
