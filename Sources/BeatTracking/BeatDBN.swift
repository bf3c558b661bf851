import Foundation

/// A bar-pointer dynamic Bayesian network over the whole tempo range (the model of madmom's
/// `DBNBeatTrackingProcessor`, after Krebs, Böck & Widmer 2015), decoding a beat activation (a beat probability per
/// frame, e.g. `BeatTCN`'s) into beat times by Viterbi.
///
/// The hidden state is (beat interval in frames, position within the beat), for every whole interval between
/// `maxTempo` and `minTempo` at `frameRate`. The position advances one a frame; at the end of a beat the interval
/// may change from i to j with probability ∝ exp(−λ·|j/i − 1|) (rows normalised; transitions below
/// `transitionFloor` of the row's largest are dropped, which with λ 100 keeps only neighbouring intervals). The
/// first 1/`observationLambda` of a beat is its beat region, where the activation a is observed as log a; elsewhere
/// as log((1 − a)/(λ_obs − 1)). Uniform start. Each pass of the best path through a beat region gives one beat: the
/// frame of its largest activation.
///
/// The activation is linearly interpolated from its own frame rate to `frameRate` first (madmom decodes at 100 frames
/// a second; at 43 a whole-frame interval is a 4 % tempo step). Cost: O(frames × (intervals × neighbours + states /
/// λ_obs)), Float, no allocation per frame: each interval's positions are a ring whose values are kept relative to the
/// running sum of the off-beat observation, so only the beat region and the beat boundaries are touched per frame.
package struct BeatDBN: Sendable {
    package var minTempo = 55.0
    package var maxTempo = 215.0
    package var frameRate = 100.0
    package var transitionLambda = 100.0
    package var observationLambda = 16.0
    /// Transitions less likely than this fraction of the row's most likely (staying at the same interval) are dropped.
    package var transitionFloor = 1e-6
    /// Activations are clamped to [floor, 1 − floor] before the logarithm.
    package var activationFloor: Float = 1e-7
    /// Log-normal tempo prior per beat: each beat adds `priorWeight` × −½·(log2(tempo / `priorTempo`) / `priorOctaves`)²
    /// to the path's log score (0 = none, madmom's model).
    package var priorWeight = 0.0
    package var priorTempo = 120.0
    package var priorOctaves = 1.0

    package init() {}

    package struct Decoded: Sendable {
        /// Beat times in seconds (on the activation's time axis: frame / its frame rate).
        package var beats: [Double]
        /// Interval (in seconds) of the path at each beat.
        package var intervals: [Double]
        /// Log score of the best path, per decoded frame (higher: the activation fits the model better).
        package var logScorePerFrame: Double
    }

    /// Decodes `activation` (one beat probability per frame at `activationRate` frames a second).
    package func decode(_ activation: [Float], activationRate: Double) -> Decoded {
        let empty = Decoded(beats: [], intervals: [], logScorePerFrame: 0)
        let n = activation.count
        guard n >= 2, activationRate > 0, frameRate > 0, minTempo > 0, maxTempo > minTempo else { return empty }
        // 1. The activation at `frameRate`.
        let lastTime = Double(n - 1) / activationRate
        let frames = Int((lastTime * frameRate).rounded(.up))
        guard frames >= 2 else { return empty }
        var act = [Float](repeating: 0, count: frames)
        let step = activationRate / frameRate
        for k in 0..<frames {
            let x = Double(k) * step
            let i = min(n - 2, Int(x))
            let f = Float(x - Double(i))
            act[k] = activation[i] + (activation[i + 1] - activation[i]) * f
        }
        // 2. State space.
        let lowest = max(1, Int((60 * frameRate / maxTempo).rounded()))
        let highest = max(lowest, Int((60 * frameRate / minTempo).rounded()))
        let intervals = Array(lowest...highest)
        let count = intervals.count
        var offsets = [Int](repeating: 0, count: count + 1)
        for k in 0..<count { offsets[k + 1] = offsets[k] + intervals[k] }
        let regions = intervals.map { i in (0..<i).filter { Double($0) < Double(i) / observationLambda }.count }
        // 3. Transitions, grouped by destination: sources lo...hi of each destination j with their log probabilities.
        var rowTotal = [Double](repeating: 0, count: count)
        for i in 0..<count {
            for j in 0..<count {
                let p = exp(-transitionLambda * abs(Double(intervals[j]) / Double(intervals[i]) - 1))
                if p >= transitionFloor { rowTotal[i] += p }
            }
        }
        var prior = [Float](repeating: 0, count: count)
        if priorWeight > 0 {
            for j in 0..<count {
                let z = log2(60 * frameRate / Double(intervals[j]) / priorTempo) / priorOctaves
                prior[j] = Float(-0.5 * priorWeight * z * z)
            }
        }
        var sourceStart = [Int](repeating: 0, count: count + 1)
        var sources: [Int32] = []
        var logTransition: [Float] = []
        for j in 0..<count {
            for i in 0..<count {
                let p = exp(-transitionLambda * abs(Double(intervals[j]) / Double(intervals[i]) - 1))
                guard p >= transitionFloor else { continue }
                sources.append(Int32(i))
                logTransition.append(Float(log(p / rowTotal[i])) + prior[j])
            }
            sourceStart[j + 1] = sources.count
        }
        // 4. Viterbi. `score[offsets[k] + slot]` holds the value of interval k's position (slot − head[k]) mod i_k,
        //    relative to the running sum of the off-beat observation (which every other position adds each frame).
        let states = offsets[count]
        var score = [Float](repeating: 0, count: states)
        var head = [Int](repeating: 0, count: count)
        var outgoing = [Float](repeating: 0, count: count)
        var back = [UInt16](repeating: 0, count: frames * count)
        let lambdaObs = Float(observationLambda)
        let floor = activationFloor
        func gain(_ a: Float) -> Float {
            let x = min(1 - floor, max(floor, a))
            return log(x) - log((1 - x) / (lambdaObs - 1))
        }
        var offSum = 0.0
        score.withUnsafeMutableBufferPointer { s in
            // Frame 0: uniform start (a constant, dropped), then its observation.
            let g0 = gain(act[0])
            for k in 0..<count {
                for p in 0..<regions[k] { s[offsets[k] + p] += g0 }
            }
            offSum += Double(log((1 - min(1 - floor, max(floor, act[0]))) / (lambdaObs - 1)))
            back.withUnsafeMutableBufferPointer { bp in
                for t in 1..<frames {
                    let g = gain(act[t])
                    offSum += Double(log((1 - min(1 - floor, max(floor, act[t]))) / (lambdaObs - 1)))
                    // The last position of each interval leaves for the start of a beat.
                    for k in 0..<count {
                        let i = intervals[k]
                        let last = head[k] == 0 ? i - 1 : head[k] - 1
                        outgoing[k] = s[offsets[k] + last]
                    }
                    // Unchecked reads and the region's ring in two straight runs: the same sums in the same order.
                    outgoing.withUnsafeBufferPointer { outgoing in
                        sources.withUnsafeBufferPointer { sources in
                            logTransition.withUnsafeBufferPointer { logTransition in
                                for j in 0..<count {
                                    var best = -Float.infinity
                                    var from: Int32 = 0
                                    for e in sourceStart[j]..<sourceStart[j + 1] {
                                        let v = outgoing[Int(sources[e])] + logTransition[e]
                                        if v > best { best = v; from = sources[e] }
                                    }
                                    let i = intervals[j]
                                    let h = head[j] == 0 ? i - 1 : head[j] - 1
                                    head[j] = h
                                    let row = s.baseAddress! + offsets[j]
                                    row[h] = best
                                    bp[t * count + j] = UInt16(from)
                                    // The beat region (positions 0 ..< region) observes the activation: slots h ..< h + region,
                                    // wrapping at i.
                                    let r = regions[j], straight = min(r, i - h)
                                    for q in h..<(h + straight) { row[q] += g }
                                    for q in 0..<(r - straight) { row[q] += g }
                                }
                            }
                        }
                    }
                    // Keep the values near zero (Float): subtract the best now and then.
                    if t & 255 == 0 {
                        var m = -Float.infinity
                        for q in 0..<states where s[q] > m { m = s[q] }
                        if m.isFinite { for q in 0..<states { s[q] -= m }; offSum += Double(m) }
                    }
                }
            }
        }
        // 5. Backtrack from the best final state, one beat (segment in one interval) at a time.
        var bestState = 0
        for q in 0..<states where score[q] > score[bestState] { bestState = q }
        var k = 0
        while offsets[k + 1] <= bestState { k += 1 }
        var position = (bestState - offsets[k] - head[k] + intervals[k]) % intervals[k]
        var t = frames - 1
        var beats: [Double] = []
        var beatIntervals: [Double] = []
        while true {
            // Interval k from frame t − position (its position 0) to t.
            let start = t - position
            let regionEnd = min(t, start + regions[k] - 1)
            let regionStart = max(0, start)
            if regionStart <= regionEnd {
                var peak = regionStart
                for f in regionStart...regionEnd where act[f] > act[peak] { peak = f }
                beats.append(Double(peak) / frameRate)
                beatIntervals.append(Double(intervals[k]) / frameRate)
            }
            if start <= 0 { break }
            let from = Int(back[start * count + k])
            t = start - 1
            k = from
            position = intervals[k] - 1
        }
        let total = Double(score[bestState]) + offSum
        return Decoded(beats: beats.reversed(), intervals: beatIntervals.reversed(), logScorePerFrame: total / Double(frames))
    }
}
