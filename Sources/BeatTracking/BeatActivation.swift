import Foundation

/// A learned beat activation: for each frame, the probability that a beat is there, from a tiny MLP over a few frames
/// of the compressed mel spectrogram (16 bands of 8 mel bands: their level, centred on the track's mean, and their
/// rise from the frame before, ±4 frames) and the total rise pooled around ±0.09 ... ±0.74 s (rhythmic context).
/// Its weights (`BeatActivationWeights.swift`) were trained by `bench/beats/train_activation.py` to reproduce madmom's
/// beats on excerpts of Debian music packages that are in neither benchmark set. The features here must equal that
/// script's (`activationMatchesTheTrainingScript` compares them through a committed fixture).
package enum BeatActivation {
    static let groupSize = 8
    static let context = 4
    static let poolOffsets: [Int] = Array(stride(from: -32, through: 32, by: 4)).filter { $0 != 0 }

    struct Model {
        var w1: [Float]
        var b1: [Float]
        var w2: [Float]
        var b2: Float
    }

    static let model: Model = Model(
        w1: floats(weights1), b1: floats(bias1), w2: floats(weights2), b2: bias2)
    /// `model.w1` in double, as the forward pass multiplies it (converted once, not per frame).
    static let w1Double: [Double] = model.w1.map(Double.init)

    /// The mean of each group of `groupSize` mel bands per frame ([frames][groups], in double as the training
    /// scripts compute it) and each group's mean over the track. Shared by the MLP (groups of 8) and the TCN features
    /// (the group size its weights were trained with).
    static func bandGroupLevels(
        mel: [Float], bands: Int, frames n: Int, groupSize: Int = groupSize
    ) -> (
        level: [Double], mean: [Double]
    ) {
        let groups = bands / groupSize
        var level = [Double](repeating: 0, count: n * groups)
        var mean = [Double](repeating: 0, count: groups)
        for t in 0..<n {
            for g in 0..<groups {
                var sum = 0.0
                for b in 0..<groupSize { sum += Double(mel[t * bands + g * groupSize + b]) }
                level[t * groups + g] = sum / Double(groupSize)
                mean[g] += sum / Double(groupSize)
            }
        }
        for g in 0..<groups { mean[g] /= Double(max(1, n)) }
        return (level, mean)
    }

    static func floats(_ base64: String) -> [Float] {
        guard let data = Data(base64Encoded: base64) else { return [] }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The activation of a compressed mel spectrogram (`frames` rows of `bands` values), one value a frame in 0...1.
    package static func activation(mel: [Float], bands: Int) -> [Float] {
        let model = self.model
        let groups = bands / groupSize
        guard bands > 0, groups * groupSize == bands, mel.count >= bands else { return [] }
        let n = mel.count / bands
        let dims = (2 * context + 1) * 2 * groups + poolOffsets.count
        guard dims == inputCount, model.w1.count == hiddenCount * dims, model.b1.count == hiddenCount,
            model.w2.count == hiddenCount
        else { return [Float](repeating: 0, count: n) }

        // Band-group levels (mean of 8 mel bands, in double as the script), centred on the track's mean; their rise.
        let (level, mean) = bandGroupLevels(mel: mel, bands: bands, frames: n)
        var flux = [Double](repeating: 0, count: n * groups)
        var total = [Double](repeating: 0, count: n)
        for t in 1..<max(n, 1) {
            var s = 0.0
            for g in 0..<groups {
                let d = max(0, level[t * groups + g] - level[(t - 1) * groups + g])
                flux[t * groups + g] = d
                s += d
            }
            total[t] = s
        }
        var centred = level
        for t in 0..<n { for g in 0..<groups { centred[t * groups + g] -= mean[g] } }

        var out = [Float](repeating: 0, count: n)
        let w1 = w1Double
        var x = [Double](repeating: 0, count: dims)
        var hidden = [Double](repeating: 0, count: hiddenCount)
        for t in 0..<n {
            var k = 0
            for c in -context...context {
                let u = t + c
                let inside = u >= 0 && u < n
                for g in 0..<groups { x[k] = inside ? flux[u * groups + g] : 0; k += 1 }
                for g in 0..<groups { x[k] = inside ? centred[u * groups + g] : 0; k += 1 }
            }
            for o in poolOffsets {
                let lo = max(0, t + o - 2), hi = min(n, t + o + 2)
                var m = 0.0
                if lo < hi { m = total[lo]; for u in lo..<hi { m = max(m, total[u]) } }
                x[k] = m
                k += 1
            }
            // The weights widened to double once (`w1Double`), the same products summed in the same order.
            w1.withUnsafeBufferPointer { w in
                x.withUnsafeBufferPointer { x in
                    for j in 0..<hiddenCount {
                        var s = Double(model.b1[j])
                        let row = w.baseAddress! + j * dims
                        for i in 0..<dims { s += row[i] * x[i] }
                        hidden[j] = tanh(s)
                    }
                }
            }
            var s = Double(model.b2)
            for j in 0..<hiddenCount { s += Double(model.w2[j]) * hidden[j] }
            out[t] = Float(1 / (1 + exp(-s)))
        }
        return out
    }
}
