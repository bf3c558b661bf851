/// Scores tracked beats against known beat times (the accuracy benchmark and the tests use it).
public enum BeatEvaluation {
    public struct Score: Sendable, Equatable {
        public var precision: Double
        public var recall: Double
        public var fMeasure: Double
        /// Matched pairs (each reference beat matches at most one estimate and the other way round).
        public var matched: Int
    }

    /// F-measure with a ±`tolerance` window (seconds), one-to-one matching, no trimming of the first seconds
    /// (unlike mir_eval's default, which ignores the first 5 s).
    public static func score(estimated: [Double], reference: [Double], tolerance: Double = 0.07) -> Score {
        let e = estimated.sorted(), r = reference.sorted()
        if e.isEmpty && r.isEmpty { return Score(precision: 1, recall: 1, fMeasure: 1, matched: 0) }
        if e.isEmpty || r.isEmpty { return Score(precision: 0, recall: 0, fMeasure: 0, matched: 0) }
        // Greedy two-pointer matching on sorted times: maximal for equal-width windows on a line.
        var i = 0, j = 0, matched = 0
        while i < e.count && j < r.count {
            let d = e[i] - r[j]
            if abs(d) <= tolerance + 1e-9 {
                matched += 1; i += 1; j += 1
            } else if d < 0 {
                i += 1
            } else {
                j += 1
            }
        }
        let precision = Double(matched) / Double(e.count)
        let recall = Double(matched) / Double(r.count)
        let f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return Score(precision: precision, recall: recall, fMeasure: f, matched: matched)
    }

    /// Relative tempo error, |estimated - reference| / reference.
    public static func tempoError(estimated: Double, reference: Double) -> Double {
        reference > 0 ? abs(estimated - reference) / reference : .infinity
    }
}
