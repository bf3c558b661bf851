import Planner

extension RenderPipeline {
    /// Beat times for the first `seconds` of a track, or nil when they cannot be had (the planner then cuts on
    /// the template's fallback interval and says why).
    func analyseBeats(path: String, upTo seconds: Double) -> BeatTimes? {
        nil
    }
}
