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

    public init(tempo: Double, confidence: Double, beats: [Double], analysedDuration: Double, trackDuration: Double) {
        self.tempo = tempo
        self.confidence = confidence
        self.beats = beats
        self.analysedDuration = analysedDuration
        self.trackDuration = trackDuration
    }
}
