import Foundation

/// Onset strength over time, one value a hop: how much the log-mel spectrum rose from the frame before.
package struct OnsetEnvelope: Sendable {
    package var values: [Float]
    /// The same flux over the bass bands only (kick drum, bass line): where the beat usually is.
    package var low: [Float] = []
    /// The compressed mel spectrogram the flux came from (frames × `melBands`, row by row): the learned
    /// activation's input (`BeatActivation`). Empty when the envelope is empty.
    package var mel: [Float] = []
    package var melBands = 0
    /// Frames a second (sampleRate / hop).
    package var frameRate: Double
    /// Seconds between frame index 0's time and the real onset time the envelope peaks at (calibrated).
    package var timeOffset: Double

    package func time(ofFrame frame: Double) -> Double { frame / frameRate + timeOffset }
}

/// Log-mel spectral flux, as librosa's `onset_strength` (n_fft 2048, hop 512 at 22050 Hz, 128 Slaney mel bands,
/// power in dB floored 80 dB under the peak, first difference, half-wave rectified, mean over bands).
package struct OnsetDetector: Sendable {
    package var sampleRate: Int = 22050
    package var fftSize: Int = 2048
    package var hop: Int = 512
    package var melBands: Int = 128
    package var topDecibels: Float = 80
    /// Mel bands centred below this frequency make the low (bass) envelope.
    package var lowBandMaxHz: Double = 200
    /// Compression of the mel band energies before the difference: log10(1 + gamma * magnitude) (madmom's
    /// log-filtered spectrogram) when `logGamma` > 0, else decibels floored `topDecibels` under the peak (librosa).
    /// 100 since the bar-pointer decoding (real-music mean F 0.811 -> 0.814, validation 0.534 -> 0.613; decibels
    /// were better with the dynamic programme alone).
    package var logGamma: Float = 100
    /// Superflux (Böck & Widmer 2013): the frame each band is compared with is maximum-filtered over ±this many
    /// bands, so a vibrato or glide that only moves between neighbouring bands makes no onset. 0 = plain flux.
    package var maxFilterBands = 0
    /// Frames between the compared frames (1 = the frame before).
    package var fluxLag = 1

    /// Harmonic/percussive split (Fitzgerald 2010) on the mel magnitudes before compression: each bin keeps the
    /// fraction P² / (P² + H²) of itself, P the median over ±`percussiveMedian` bands of its frame, H the median over
    /// ±`percussiveMedian` frames of its band (sustained notes are H, drum hits P). 0 = no split.
    package var percussiveMedian = 0

    package init() {}

    func percussive(_ mel: [Float], frames: Int) -> [Float] {
        let k = percussiveMedian
        var out = mel
        var buffer = [Float](); buffer.reserveCapacity(2 * k + 1)
        func median(_ xs: inout [Float]) -> Float { xs.sort(); return xs[xs.count / 2] }
        for t in 0..<frames {
            for b in 0..<melBands {
                buffer.removeAll(keepingCapacity: true)
                for u in max(0, t - k)...min(frames - 1, t + k) { buffer.append(mel[u * melBands + b]) }
                let h = median(&buffer)
                buffer.removeAll(keepingCapacity: true)
                for c in max(0, b - k)...min(melBands - 1, b + k) { buffer.append(mel[t * melBands + c]) }
                let p = median(&buffer)
                let mask = p * p / max(p * p + h * h, 1e-12)
                out[t * melBands + b] = mel[t * melBands + b] * mask
            }
        }
        return out
    }

    package func envelope(_ samples: [Float]) -> OnsetEnvelope {
        let frameRate = Double(sampleRate) / Double(hop)
        let frameCount = samples.isEmpty ? 0 : 1 + samples.count / hop
        guard frameCount > 1, let fft = RealFFT(size: fftSize) else {
            return OnsetEnvelope(values: [Float](repeating: 0, count: frameCount), frameRate: frameRate, timeOffset: 0)
        }
        let bins = fftSize / 2 + 1
        let filters = MelFilterBank(sampleRate: sampleRate, fftSize: fftSize, bands: melBands)
        let window = (0..<fftSize).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(fftSize))) }
        var mel = [Float](repeating: 0, count: frameCount * melBands)
        var frame = [Float](repeating: 0, count: fftSize)
        var re = [Float](repeating: 0, count: bins)
        var im = [Float](repeating: 0, count: bins)
        var power = [Float](repeating: 0, count: bins)
        let pad = fftSize / 2
        let n = samples.count

        samples.withUnsafeBufferPointer { x in
            window.withUnsafeBufferPointer { w in
                frame.withUnsafeMutableBufferPointer { f in
                    re.withUnsafeMutableBufferPointer { reB in
                        im.withUnsafeMutableBufferPointer { imB in
                            power.withUnsafeMutableBufferPointer { p in
                                mel.withUnsafeMutableBufferPointer { m in
                                    for t in 0..<frameCount {
                                        let start = t * hop - pad
                                        if start >= 0 && start + fftSize <= n {
                                            for k in 0..<fftSize { f[k] = x[start + k] * w[k] }
                                        } else {
                                            for k in 0..<fftSize {
                                                let s = start + k
                                                f[k] = (s >= 0 && s < n) ? x[s] * w[k] : 0
                                            }
                                        }
                                        fft.forward(f.baseAddress!, outRe: reB.baseAddress!, outIm: imB.baseAddress!)
                                        for k in 0..<bins { p[k] = reB[k] * reB[k] + imB[k] * imB[k] }
                                        let row = m.baseAddress! + t * melBands
                                        filters.apply(power: p.baseAddress!, into: row)
                                        if percussiveMedian > 0 {
                                            for b in 0..<melBands { row[b] = row[b].squareRoot() }  // compressed below
                                        } else if logGamma > 0 {
                                            for b in 0..<melBands { row[b] = log10f(1 + logGamma * row[b].squareRoot()) }
                                        } else {
                                            for b in 0..<melBands { row[b] = 10 * log10f(max(row[b], 1e-10)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if percussiveMedian > 0 {
            mel = percussive(mel, frames: frameCount)
            for i in 0..<mel.count {
                mel[i] = logGamma > 0 ? log10f(1 + logGamma * mel[i]) : 20 * log10f(max(mel[i], 1e-5))
            }
        }
        let peak = mel.max() ?? 0
        let floor = logGamma > 0 ? 0 : peak - topDecibels
        var values = [Float](repeating: 0, count: frameCount)
        var low = [Float](repeating: 0, count: frameCount)
        let lowBands = max(1, filters.centres.filter { $0 < lowBandMaxHz }.count)
        let radius = max(0, maxFilterBands), lag = max(1, fluxLag)
        var reference = [Float](repeating: 0, count: melBands)
        mel.withUnsafeBufferPointer { m in
            let scale = 1 / Float(melBands)
            for t in 1..<frameCount {
                let cur = m.baseAddress! + t * melBands
                let prev = m.baseAddress! + max(0, t - lag) * melBands
                for b in 0..<melBands {
                    var r = max(prev[b], floor)
                    if radius > 0 {
                        for k in max(0, b - radius)...min(melBands - 1, b + radius) { r = max(r, prev[k]) }
                    }
                    reference[b] = r
                }
                var sum: Float = 0
                for b in 0..<lowBands {
                    let d = max(cur[b], floor) - reference[b]
                    if d > 0 { sum += d }
                }
                low[t] = sum / Float(lowBands)
                for b in lowBands..<melBands {
                    let d = max(cur[b], floor) - reference[b]
                    if d > 0 { sum += d }
                }
                values[t] = sum * scale
            }
            // Frame 0 rises from the silence before the track (a beat at 0 s shows), capped at the loudest onset
            // so a track cut mid-song does not start with an outsized one.
            var first: Float = 0
            for b in 0..<melBands { first += max(m[b], floor) - floor }
            values[0] = min(first * scale, values.max() ?? 0)
        }
        return OnsetEnvelope(values: values, low: low, mel: mel, melBands: melBands, frameRate: frameRate, timeOffset: 0)
    }
}

/// Slaney-style mel filters (librosa's default `htk=False, norm='slaney'`), stored sparsely.
struct MelFilterBank {
    var starts: [Int]
    var weights: [[Float]]
    /// Centre frequency of each band, Hz.
    var centres: [Double]

    init(sampleRate: Int, fftSize: Int, bands: Int) {
        func hzToMel(_ hz: Double) -> Double {
            let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
            return hz < minLogHz ? hz / fSp : minLogMel + log(hz / minLogHz) / logStep
        }
        func melToHz(_ mel: Double) -> Double {
            let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
            return mel < minLogMel ? mel * fSp : minLogHz * exp(logStep * (mel - minLogMel))
        }
        let bins = fftSize / 2 + 1
        let maxMel = hzToMel(Double(sampleRate) / 2)
        let hz = (0..<(bands + 2)).map { melToHz(maxMel * Double($0) / Double(bands + 1)) }
        let binHz = (0..<bins).map { Double($0) * Double(sampleRate) / Double(fftSize) }
        var starts: [Int] = []
        var weights: [[Float]] = []
        for i in 0..<bands {
            let lower = hz[i], centre = hz[i + 1], upper = hz[i + 2]
            let norm = 2 / (upper - lower)
            var row: [Float] = []
            var first = -1
            for k in 0..<bins {
                let f = binHz[k]
                let w = max(0, min((f - lower) / (centre - lower), (upper - f) / (upper - centre)))
                if w > 0 {
                    if first < 0 { first = k }
                    row.append(Float(w * norm))
                } else if first >= 0 {
                    break
                }
            }
            starts.append(max(first, 0))
            weights.append(row)
        }
        self.starts = starts
        self.weights = weights
        centres = (0..<bands).map { hz[$0 + 1] }
    }

    func apply(power: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        for b in 0..<starts.count {
            let s = starts[b]
            var sum: Float = 0
            weights[b].withUnsafeBufferPointer { w in
                for j in 0..<w.count { sum += w[j] * power[s + j] }
            }
            out[b] = sum
        }
    }
}
