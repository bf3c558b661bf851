import BeatTracking
import Planner

extension RenderPipeline {
    /// Beat times of a track, analysed once per track content (cached by hash) over the longest video allowed, or
    /// nil when they cannot be had: the planner then cuts on the template's fallback interval and says why.
    /// Beats of the track from `from` to `span` seconds, and the track's length as the decode found it. A file that
    /// decodes to much less than its header declares (`truncated`) fails the plan: planning with the header's length
    /// would play silence where the header promised music (review12 M2). So does audio that is corrupt or damaged
    /// beyond concealment (`decodeFailed`: the render could not play it either). Other failures fall back to fixed
    /// cuts.
    func analyseBeats(
        path: String, from: Double = 0, span: Double? = nil, hashes: ContentHashes
    ) throws -> (beats: BeatTimes?, trackDuration: Double?) {
        let tracker = BeatTracker()
        let end = span ?? configuration.maxDuration + 1
        let upTo = max(1, end - from)
        do {
            let analysis: BeatAnalysis
            if let dir = configuration.cacheDirectory {
                let lookup = try BeatCache(directory: dir).lookup(
                    forFile: path, from: from, maxDuration: upTo, tracker: tracker, contentHash: hashes.hash(path))
                if !lookup.fromCache { audioObserver?(.beatAnalysis) }
                analysis = lookup.analysis
            } else {
                audioObserver?(.beatAnalysis)
                analysis = try tracker.analyze(file: path, from: from, maxDuration: upTo)
            }
            logger.debug(
                "beats",
                metadata: [
                    "file": "\(path)", "tempo": "\(analysis.tempo)", "beats": "\(analysis.beats.count)", "confidence": "\(analysis.confidence)",
                ])
            return (
                BeatTimes(times: analysis.beats, tempo: analysis.tempo, confidence: analysis.confidence, reliableSpans: analysis.reliableSpans),
                analysis.trackDuration
            )
        } catch let error as BeatTrackingError where error.code == .truncated || error.code == .decodeFailed {
            throw PipelineError(.input, "audio \(error)", underlying: error)
        } catch {
            logger.warning("beat analysis failed; cutting on the fallback interval", metadata: ["file": "\(path)", "error": "\(error)"])
            return (nil, nil)
        }
    }
}
