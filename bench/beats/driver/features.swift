// FEAT=1: what the tracker's decisions could be fitted on (bench/beats/fit_decisions.py; docs/beats.md, "Seventh
// round"). For one track: the default tracker's result; the estimator's tempo, confidence and flags (the MLP
// activation, as in the default); the TCN + BeatDBN path over the whole tempo range; and for candidate tempi at
// ratios 1/2, 1, 2, 2/3, 3/2, 3/4, 4/3 of the tracker's tempo (of the estimator's, or the whole range's, when the
// track is rejected) the DBN's path within ±15 % of it, with its log score per frame and the mean of the TCN
// activation, the bass and the onset envelope at its beats, halfway between them, and at its even and odd beats.
import Foundation

func features(path: String, samples: [Float], tracker: BeatTracker) -> String {
    let rate = Double(BeatTracker.analysisRate)
    let result = tracker.analyze(samples: samples, sampleRate: BeatTracker.analysisRate)
    var detector = tracker.onsets
    detector.sampleRate = BeatTracker.analysisRate
    let env = detector.envelope(samples)
    let tcn = BeatTCN.activation(mel: env.mel, bands: env.melBands)
    let mlp = BeatActivation.activation(mel: env.mel, bands: env.melBands)
    let est = tracker.estimator.track(env.values, low: env.low, activation: mlp, frameRate: env.frameRate)
    let dbn = tracker.fullRangeDecoder ?? BeatDBN()
    func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
    func tempo(_ beats: [Double]) -> Double {
        beats.count >= 2 ? 60 / median(zip(beats.dropFirst(), beats).map { $0 - $1 }) : 0
    }
    func peak(_ x: [Float], _ t: Double) -> Double {
        guard !x.isEmpty else { return 0 }
        let f = Int((t * env.frameRate).rounded())
        var m: Float = 0
        for k in max(0, f - 1)...min(x.count - 1, max(0, f + 1)) { m = max(m, x[k]) }
        return Double(m)
    }
    func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
    func stats(_ beats: [Double], _ x: [Float], _ name: String) -> String {
        let on = beats.map { peak(x, $0) }
        let mid = zip(beats.dropFirst(), beats).map { peak(x, ($0 + $1) / 2) }
        let even = stride(from: 0, to: on.count, by: 2).map { on[$0] }
        let odd = stride(from: 1, to: on.count, by: 2).map { on[$0] }
        return String(
            format: "\"%@\":{\"on\":%.4f,\"mid\":%.4f,\"even\":%.4f,\"odd\":%.4f}",
            name, mean(on), mean(mid), mean(even), mean(odd))
    }
    func list(_ b: [Double]) -> String { "[" + b.map { String(format: "%.4f", $0) }.joined(separator: ",") + "]" }
    let whole = dbn.decode(tcn, activationRate: env.frameRate)
    let wholeBeats = whole.beats.map { env.timeOffset + $0 }
    let base = result.tempo > 0 ? result.tempo : (est.tempo > 0 ? est.tempo : tempo(wholeBeats))
    var candidates: [String] = []
    for (name, ratio) in [("h", 0.5), ("t", 1.0), ("d", 2.0), ("23", 2.0 / 3), ("32", 1.5), ("34", 0.75), ("43", 4.0 / 3)] {
        var level = dbn
        level.minTempo = max(dbn.minTempo * 0.8, base * ratio / 1.15)
        level.maxTempo = min(dbn.maxTempo * 1.2, base * ratio * 1.15)
        guard base > 0, level.minTempo < level.maxTempo else { continue }
        let decoded = level.decode(tcn, activationRate: env.frameRate)
        let beats = decoded.beats.map { env.timeOffset + $0 }
        candidates.append(
            "\"\(name)\":{\"tempo\":\(tempo(beats)),\"lps\":\(decoded.logScorePerFrame),"
                + "\(stats(beats, tcn, "tcn")),\(stats(beats, env.low, "low")),\(stats(beats, env.values, "onset")),"
                + "\"beats\":\(list(beats))}")
    }
    let duration = Double(samples.count) / rate
    return "{\"file\":\"\(path)\",\"duration\":\(duration),\"tempo\":\(result.tempo),\"confidence\":\(result.confidence),"
        + "\"beats\":\(list(result.beats)),\"estimator\":{\"tempo\":\(est.tempo),\"confidence\":\(est.confidence),"
        + "\"ternarySettled\":\(est.ternaryLevelSettled),\"phaseSettled\":\(est.phaseSettled),"
        + "\"periodicity\":\(est.periodicity),\"agreement\":\(est.agreement)},"
        + "\"whole\":{\"tempo\":\(tempo(wholeBeats)),\"lps\":\(whole.logScorePerFrame),\"beats\":\(list(wholeBeats))},"
        + "\"tcnMean\":\(mean(tcn.map(Double.init))),\"candidates\":{\(candidates.joined(separator: ","))}}"
}

/// WINDOWS=1: per 8 s window of the activation pulse (ActivationPulse) along the full range's path: its start (s), the
/// activation's autocorrelation at the beat and the bar, the contrast, and the onset envelope's autocorrelation at the
/// same beat and bar lags (the same measure run on the envelope); one JSON line per track.
func pulseWindows(path: String, samples: [Float], tracker: BeatTracker) -> String {
    var detector = tracker.onsets
    detector.sampleRate = BeatTracker.analysisRate
    let env = detector.envelope(samples)
    let tcn = BeatTCN.activation(mel: env.mel, bands: env.melBands)
    let dbn = tracker.fullRangeDecoder ?? BeatDBN()
    let whole = dbn.decode(tcn, activationRate: env.frameRate)
    let judge = tracker.activationPulse ?? ActivationPulse()
    let a = judge.measure(tcn, beats: whole.beats, frameRate: env.frameRate)
    let o = judge.measure(env.values, beats: whole.beats, frameRate: env.frameRate)
    let rows = zip(a.windows, o.windows).map { w, v in
        String(
            format: "[%.1f,%.3f,%.3f,%.2f,%.3f,%.3f]", Double(w.frames.lowerBound) / env.frameRate, w.beat, w.bar, w.contrast, v.beat, v.bar)
    }
    let tempo = whole.beats.count >= 2 ? 60 * Double(whole.beats.count - 1) / (whole.beats.last! - whole.beats.first!) : 0
    return "{\"file\":\"\(path)\",\"tempo\":\(tempo),\"windows\":[\(rows.joined(separator: ","))]}"
}

/// BEATROWS=1: the tracker's beats, each as [time, TCN activation, bass, onset envelope at it, and the same three halfway
/// to the next beat] (each the largest of three frames); one JSON line per track (twelfth round: phase across breaks).
func beatRows(path: String, samples: [Float], tracker: BeatTracker) -> String {
    let r = tracker.analyze(samples: samples, sampleRate: BeatTracker.analysisRate)
    var detector = tracker.onsets
    detector.sampleRate = BeatTracker.analysisRate
    let env = detector.envelope(samples)
    let tcn = BeatTCN.activation(mel: env.mel, bands: env.melBands)
    func peak(_ x: [Float], _ t: Double) -> Float {
        guard !x.isEmpty else { return 0 }
        let f = min(x.count - 1, max(0, Int(((t - env.timeOffset) * env.frameRate).rounded())))
        var m: Float = 0
        for k in max(0, f - 1)...min(x.count - 1, f + 1) { m = max(m, x[k]) }
        return m
    }
    var rows: [String] = []
    for (i, b) in r.beats.enumerated() {
        let next = i + 1 < r.beats.count ? r.beats[i + 1] : b + (b - r.beats[max(0, i - 1)])
        let m = (b + next) / 2
        rows.append(
            String(
                format: "[%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f]", b, peak(tcn, b), peak(env.low, b), peak(env.values, b), peak(tcn, m),
                peak(env.low, m), peak(env.values, m)))
    }
    return "{\"file\":\"\(path)\",\"rows\":[\(rows.joined(separator: ","))]}"
}
