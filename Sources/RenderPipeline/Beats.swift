import BeatTracking
import Planner

extension RenderPipeline {
    /// Beat times of a track, analysed once per track content (cached by hash) over the longest video allowed, or
    /// nil when they cannot be had: the planner then cuts on the template's fallback interval and says why.
    func analyseBeats(path: String, span: Double? = nil, hashes: ContentHashes) -> BeatTimes? {
        let tracker = BeatTracker()
        let upTo = span ?? configuration.maxDuration + 1
        do {
            let analysis: BeatAnalysis
            if let dir = configuration.cacheDirectory {
                let lookup = try BeatCache(directory: dir).lookup(
                    forFile: path, maxDuration: upTo, tracker: tracker, contentHash: hashes.hash(path))
                if !lookup.fromCache { audioObserver?(.beatAnalysis) }
                analysis = lookup.analysis
            } else {
                audioObserver?(.beatAnalysis)
                analysis = try tracker.analyze(file: path, maxDuration: upTo)
            }
            logger.debug(
                "beats",
                metadata: [
                    "file": "\(path)", "tempo": "\(analysis.tempo)", "beats": "\(analysis.beats.count)", "confidence": "\(analysis.confidence)",
                ])
            return BeatTimes(times: analysis.beats, tempo: analysis.tempo, confidence: analysis.confidence, reliableSpans: analysis.reliableSpans)
        } catch {
            logger.warning("beat analysis failed; cutting on the fallback interval", metadata: ["file": "\(path)", "error": "\(error)"])
            return nil
        }
    }
}
