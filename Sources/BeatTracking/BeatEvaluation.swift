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

    /// mir_eval's continuity-based accuracies (Hainsworth; Klapuri et al.): the share of estimated beats that fall
    /// within `phaseTolerance` of a reference inter-beat interval of a reference beat while their own interval is
    /// within `periodTolerance` of it. CML: at the reference's metrical level; AML: at any of the reference, its
    /// off-beat, double tempo, or either half of it. "c" counts the longest correct run only, "t" every correct beat.
    public struct Continuity: Sendable, Equatable {
        public var cmlC: Double
        public var cmlT: Double
        public var amlC: Double
        public var amlT: Double
    }

    /// `mir_eval.beat.continuity` of mir_eval 0.8.2, step for step (the nearest reference beat, first on a tie; a
    /// reference beat used once; the first beat or annotation looks at the next interval; the share's denominator is
    /// the larger of the two counts), with no trimming of the first 5 s (as `score`). Fewer than two beats on either
    /// side: all zero (mir_eval gives zero for fewer than two estimated beats and raises for a single reference
    /// beat). mir_eval rejects unsorted times; here they are sorted first.
    public static func continuity(
        estimated: [Double], reference: [Double], phaseTolerance: Double = 0.175, periodTolerance: Double = 0.175
    ) -> Continuity {
        let e = estimated.sorted(), r = reference.sorted()
        guard e.count > 1, r.count > 1 else { return Continuity(cmlC: 0, cmlT: 0, amlC: 0, amlT: 0) }
        // The reference's variations: itself, off-beat, double tempo, half tempo (odd beats), half tempo (even beats).
        var double: [Double] = []
        for k in 0..<(2 * r.count - 1) {
            double.append(k % 2 == 0 ? r[k / 2] : (r[k / 2 + 1] - r[k / 2]) * 0.5 + r[k / 2])  // as np.interp
        }
        let variations = [
            r, stride(from: 1, to: double.count, by: 2).map { double[$0] }, double,
            stride(from: 0, to: r.count, by: 2).map { r[$0] }, stride(from: 1, to: r.count, by: 2).map { r[$0] },
        ]
        var continuous: [Double] = [], total: [Double] = []
        for ref in variations {
            let n = max(ref.count, e.count)
            var used = [Bool](repeating: false, count: ref.count)
            var success = [Bool](repeating: false, count: n)
            for m in e.indices {
                var nearest = 0
                for k in ref.indices where abs(e[m] - ref[k]) < abs(e[m] - ref[nearest]) { nearest = k }
                if used[nearest] { continue }
                let difference = abs(e[m] - ref[nearest])
                let phase: Double, period: Double
                if m == 0 || nearest == 0 {
                    // Look forward (or back at the last beat; numpy's ref[-1] when there is a single one).
                    let referenceInterval =
                        nearest + 1 < ref.count
                        ? ref[nearest + 1] - ref[nearest] : ref[nearest] - ref[(nearest - 1 + ref.count) % ref.count]
                    let estimatedInterval = m + 1 < e.count ? e[m + 1] - e[m] : e[m] - e[m - 1]
                    if referenceInterval == 0 {
                        phase = difference == 0 ? 1 : .infinity
                        period = estimatedInterval == 0 ? 0 : .infinity
                    } else {
                        phase = abs(difference / referenceInterval)
                        period = abs(1 - estimatedInterval / referenceInterval)
                    }
                } else {
                    let referenceInterval = ref[nearest] - ref[nearest - 1]
                    phase = abs(difference / referenceInterval)
                    period = abs(1 - (e[m] - e[m - 1]) / referenceInterval)
                }
                if phase < phaseTolerance && period < periodTolerance {
                    used[nearest] = true
                    success[m] = true
                }
            }
            var longest = 0, run = 0
            for hit in success {
                run = hit ? run + 1 : 0
                longest = max(longest, run)
            }
            continuous.append(Double(longest) / Double(n))
            total.append(Double(success.filter { $0 }.count) / Double(n))
        }
        return Continuity(cmlC: continuous[0], cmlT: total[0], amlC: continuous.max() ?? 0, amlT: total.max() ?? 0)
    }

    /// Relative tempo error, |estimated - reference| / reference.
    public static func tempoError(estimated: Double, reference: Double) -> Double {
        reference > 0 ? abs(estimated - reference) / reference : .infinity
    }
}
