import Foundation

/// How clearly the learned beat activation (`BeatTCN`) pulses along a decoded beat path (`BeatDBN`), per section and
/// for the whole track (docs/beats.md, "Ninth round"). The onset envelope's confidence rejects slow, quiet music whose
/// activation still pulses (the eighth round's rejected excerpts); this measure keeps those, and vetoes a confident
/// track whose activation does not repeat at all (counted speech).
///
/// In windows of `windowSeconds` (hop `hopSeconds`): the activation's autocorrelation (mean removed, normalised by its
/// energy) at the path's local beat period (the median interval of its beats in the window) and at twice that period
/// (the bar of two beats), each the largest within ± `tolerance`; and the contrast, the mean activation at the path's
/// beats (the largest of three frames) over its mean in the window. A window with fewer than three beats counts 0.
/// The track's figures are the medians over its windows. Noise, speech, rain, applause and random clicks stay under
/// 0.25 for the smaller of the two autocorrelations; music whose activation pulses reaches 0.4–0.9.
package struct ActivationPulse: Sendable {
    package var windowSeconds = 8.0
    package var hopSeconds = 1.0
    package var tolerance = 0.04
    /// A track the onset envelope rejects is accepted, with the decoded path's beats, when the smaller of its median
    /// beat and bar autocorrelations reaches this and its median contrast reaches `contrast`.
    package var accept = 0.4
    /// Otherwise its windows that reach this (and `contrast`) make sections whose decoded beats are partial beats.
    package var section = 0.4
    /// A sustained sound wobbling slowly (a drone with vibrato) correlates at every lag: its activation has no peaks.
    package var contrast = 2.0
    /// A track the onset envelope accepts returns no beats when the larger of its median beat and bar
    /// autocorrelations is under this (counted speech: 0.09–0.12; music, 321 excerpts: 0.28 and up).
    package var veto = 0.2
    /// Decoded beats at either end whose activation is under this fraction of the beats' median are dropped (the
    /// decoder runs on through silence).
    package var trimFraction = 0.2

    package init() {}

    package struct Window: Sendable {
        /// First and last activation frame of the window.
        package var frames: ClosedRange<Int>
        /// Autocorrelation at the beat period and at twice it; mean activation at the beats over the window's mean.
        package var beat: Double
        package var bar: Double
        package var contrast: Double
    }

    package struct Measure: Sendable {
        package var windows: [Window] = []
        /// Medians over the windows.
        package var beat = 0.0
        package var bar = 0.0
        package var contrast = 0.0
        /// Both the beat and the bar repeat.
        package var pulse: Double { min(beat, bar) }
        /// Either repeats.
        package var periodicity: Double { max(beat, bar) }
    }

    /// `beats`: the decoded path's beat times in seconds on the activation's time axis (frame / `frameRate`).
    package func measure(_ activation: [Float], beats: [Double], frameRate: Double) -> Measure {
        let n = activation.count
        let window = Int(windowSeconds * frameRate), hop = max(1, Int(hopSeconds * frameRate))
        guard n > 0, window > 0, frameRate > 0 else { return Measure() }
        let maxLag = Int(60 * frameRate / 50) * 2 + 2
        let a = activation.map(Double.init)
        var out = Measure()
        var lo = 0
        repeat {
            let hi = min(n, lo + window)
            if hi - lo < window / 2 { break }
            let inside = beats.filter { $0 >= Double(lo) / frameRate && $0 <= Double(hi) / frameRate }
            var w = Window(frames: lo...(hi - 1), beat: 0, bar: 0, contrast: 0)
            if inside.count >= 3 {
                let ac = autocorrelation(a, lo, hi, maxLag: maxLag)
                let gaps = zip(inside.dropFirst(), inside).map { $0 - $1 }.sorted()
                let median = gaps.count % 2 == 1 ? gaps[gaps.count / 2] : (gaps[gaps.count / 2 - 1] + gaps[gaps.count / 2]) / 2
                let period = median * frameRate
                func at(_ lag: Double) -> Double {
                    let l1 = max(1, Int((lag * (1 - tolerance)).rounded(.down)))
                    let l2 = min(maxLag, Int((lag * (1 + tolerance)).rounded(.up)))
                    guard l1 <= l2 else { return 0 }
                    return ac[l1...l2].max() ?? 0
                }
                var on = 0.0, mean = 0.0
                for t in inside { on += peak(a, at: t * frameRate) }
                on /= Double(inside.count)
                for i in lo..<hi { mean += a[i] }
                mean /= Double(hi - lo)
                w.beat = at(period)
                w.bar = at(2 * period)
                w.contrast = on / max(1e-9, mean)
            }
            out.windows.append(w)
            lo += hop
        } while lo < max(1, n - window + 1)
        func median(_ xs: [Double]) -> Double {
            guard !xs.isEmpty else { return 0 }
            let s = xs.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        out.beat = median(out.windows.map(\.beat))
        out.bar = median(out.windows.map(\.bar))
        out.contrast = median(out.windows.map(\.contrast))
        return out
    }

    /// Whether a track the onset envelope rejects has a pulse in its activation.
    package func accepts(_ m: Measure) -> Bool { m.pulse >= accept && m.contrast >= contrast }

    /// Frame ranges (at least `minimumSeconds` long) covered by windows that pulse: each window marks its centre
    /// ± `hopSeconds` (the first from the start, the last to the end), as the estimator's reliable sections do.
    package func sections(_ m: Measure, frameCount n: Int, frameRate: Double, minimumSeconds: Double) -> [ClosedRange<Int>] {
        guard n > 0 else { return [] }
        var good = [Bool](repeating: false, count: n)
        for (k, w) in m.windows.enumerated() where min(w.beat, w.bar) >= section && w.contrast >= contrast {
            let centre = Double(w.frames.lowerBound + w.frames.upperBound + 1) / 2 / frameRate
            let lo = k == 0 ? 0 : max(0, Int((centre - hopSeconds) * frameRate))
            let hi = k == m.windows.count - 1 ? n - 1 : min(n - 1, Int((centre + hopSeconds) * frameRate))
            if lo <= hi { for f in lo...hi { good[f] = true } }
        }
        var spans: [ClosedRange<Int>] = []
        var f = 0
        while f < n {
            guard good[f] else { f += 1; continue }
            var end = f
            while end + 1 < n && good[end + 1] { end += 1 }
            if Double(end - f + 1) >= minimumSeconds * frameRate { spans.append(f...end) }
            f = end + 1
        }
        return spans
    }

    /// The beats without those at either end where the activation is under `trimFraction` of the beats' median.
    package func trimmed(_ beats: [Double], activation: [Float], frameRate: Double) -> [Double] {
        guard beats.count >= 2 else { return beats }
        let a = activation.map(Double.init)
        let peaks = beats.map { peak(a, at: $0 * frameRate) }
        let sorted = peaks.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        var i = 0, j = beats.count
        while i < j && peaks[i] < trimFraction * median { i += 1 }
        while j > i && peaks[j - 1] < trimFraction * median { j -= 1 }
        return Array(beats[i..<j])
    }

    func peak(_ a: [Double], at frame: Double) -> Double {
        guard !a.isEmpty else { return 0 }
        let f = Int(frame.rounded())
        let lo = max(0, f - 1), hi = min(a.count - 1, f + 1)
        guard lo <= hi else { return 0 }
        return a[lo...hi].max() ?? 0
    }

    func autocorrelation(_ a: [Double], _ lo: Int, _ hi: Int, maxLag: Int) -> [Double] {
        let n = hi - lo
        var x = [Double](repeating: 0, count: n)
        var mean = 0.0
        for i in 0..<n { mean += a[lo + i] }
        mean /= Double(n)
        var energy = 0.0
        for i in 0..<n { x[i] = a[lo + i] - mean; energy += x[i] * x[i] }
        var out = [Double](repeating: 0, count: maxLag + 1)
        guard energy > 1e-12 else { return out }
        for l in 0...min(maxLag, n - 1) {
            var s = 0.0
            for i in 0..<(n - l) { s += x[i] * x[i + l] }
            out[l] = s / energy
        }
        return out
    }
}
