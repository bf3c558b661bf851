import Foundation

/// A learned beat activation with long temporal context: a small temporal convolutional network (after Böck & Davies,
/// "Temporal convolutional networks for musical audio beat tracking", 2019) over the compressed mel spectrogram the
/// onset envelope already computes. Inputs per frame (`inputCount`): the rise of the band groups (`groupSize` mel bands
/// each; both come from the weights file, as the script wrote them) from the frame before and their level centred on
/// the track's mean, standardised with the training set's mean and deviation. An input convolution (3 frames) to
/// `channels` channels, then residual blocks h += ELU(conv(h)) with kernel 5 and `dilations` 1, 2, 4 … (to 64: a
/// receptive field of about 12 s), then a 1×1 convolution and a sigmoid: the probability of a beat at each frame. Its
/// weights (`BeatTCNWeights.swift`) were trained by `bench/beats/train_tcn.py` on madmom's beats of the training
/// excerpts (`bench/beats/training.tsv`), in neither benchmark set; the features and the forward pass here must equal
/// that script's (`tcnMatchesTheTrainingScript` compares them through a committed fixture).
package enum BeatTCN {
    struct Model {
        var inputMean: [Float]
        var inputScale: [Float]
        /// [channels][inputs][3], [channels]
        var inputWeights: [Float]
        var inputBias: [Float]
        /// Per block: [channels][channels][kernel], [channels]
        var blockWeights: [[Float]]
        var blockBias: [[Float]]
        var outputWeights: [Float]
        var outputBias: Float
    }

    static let model: Model = {
        let blocks = floats(BeatTCN.blockWeightsBase64)
        let biases = floats(BeatTCN.blockBiasBase64)
        let perBlock = channels * channels * kernel
        return Model(
            inputMean: floats(BeatTCN.inputMeanBase64), inputScale: floats(BeatTCN.inputScaleBase64),
            inputWeights: floats(BeatTCN.inputWeightsBase64), inputBias: floats(BeatTCN.inputBiasBase64),
            blockWeights: dilations.indices.map { Array(blocks[($0 * perBlock)..<(($0 + 1) * perBlock)]) },
            blockBias: dilations.indices.map { Array(biases[($0 * channels)..<(($0 + 1) * channels)]) },
            outputWeights: floats(BeatTCN.outputWeightsBase64), outputBias: BeatTCN.outputBias)
    }()

    static func floats(_ base64: String) -> [Float] { BeatActivation.floats(base64) }

    /// The input features, [inputs][frames] (channel-major, so each convolution runs over contiguous frames).
    static func features(mel: [Float], bands: Int, frames n: Int) -> [Float] {
        let groups = bands / groupSize
        let (level, mean) = BeatActivation.bandGroupLevels(mel: mel, bands: bands, frames: n, groupSize: groupSize)
        var x = [Float](repeating: 0, count: 2 * groups * n)
        for g in 0..<groups {
            for t in 0..<n {
                let rise = t == 0 ? 0 : max(0, level[t * groups + g] - level[(t - 1) * groups + g])
                x[g * n + t] = Float(rise)
                x[(groups + g) * n + t] = Float(level[t * groups + g] - mean[g])
            }
        }
        return x
    }

    /// out[o][t] += Σ_i Σ_k w[o][i][k] · input[i][t + (k − (K − 1)/2)·dilation], zero outside the frames; zero
    /// weights are skipped.
    static func convolve(
        _ input: UnsafeBufferPointer<Float>, inputs: Int, weights: [Float], kernel: Int, dilation: Int,
        into out: UnsafeMutableBufferPointer<Float>, outputs: Int, frames n: Int
    ) {
        weights.withUnsafeBufferPointer { w in
            for o in 0..<outputs {
                let row = out.baseAddress! + o * n
                for i in 0..<inputs {
                    let source = input.baseAddress! + i * n
                    for k in 0..<kernel {
                        let weight = w[(o * inputs + i) * kernel + k]
                        // An ensemble written as one network (`train_tcn.py`'s merge) has block-diagonal blocks.
                        if weight == 0 { continue }
                        let shift = (k - (kernel - 1) / 2) * dilation
                        let lo = max(0, -shift), hi = min(n, n - shift)
                        if lo >= hi { continue }
                        let s = source + shift
                        for t in lo..<hi { row[t] += weight * s[t] }
                    }
                }
            }
        }
    }

    static func elu(_ x: Float) -> Float { x > 0 ? x : expm1(x) }

    /// The activation of a compressed mel spectrogram (`frames` rows of `bands` values), one value a frame in 0...1.
    package static func activation(mel: [Float], bands: Int) -> [Float] {
        let model = self.model
        let groups = bands / groupSize
        guard bands > 0, groups * groupSize == bands, mel.count >= bands else { return [] }
        let n = mel.count / bands
        let inputs = 2 * groups
        guard inputs == inputCount, model.inputMean.count == inputs, model.inputScale.count == inputs,
            model.inputWeights.count == channels * inputs * 3, model.inputBias.count == channels,
            model.blockWeights.allSatisfy({ $0.count == channels * channels * kernel }),
            model.outputWeights.count == channels
        else { return [Float](repeating: 0, count: n) }

        var x = features(mel: mel, bands: bands, frames: n)
        for i in 0..<inputs {
            let m = model.inputMean[i], s = model.inputScale[i]
            for t in 0..<n { x[i * n + t] = (x[i * n + t] - m) * s }
        }
        var h = [Float](repeating: 0, count: channels * n)
        for o in 0..<channels { for t in 0..<n { h[o * n + t] = model.inputBias[o] } }
        x.withUnsafeBufferPointer { input in
            h.withUnsafeMutableBufferPointer { out in
                convolve(input, inputs: inputs, weights: model.inputWeights, kernel: 3, dilation: 1, into: out, outputs: channels, frames: n)
            }
        }
        for i in h.indices { h[i] = elu(h[i]) }
        var y = [Float](repeating: 0, count: channels * n)
        for (b, dilation) in dilations.enumerated() {
            for o in 0..<channels {
                let bias = model.blockBias[b][o]
                for t in 0..<n { y[o * n + t] = bias }
            }
            h.withUnsafeBufferPointer { input in
                y.withUnsafeMutableBufferPointer { out in
                    convolve(
                        input, inputs: channels, weights: model.blockWeights[b], kernel: kernel, dilation: dilation, into: out, outputs: channels,
                        frames: n)
                }
            }
            for i in h.indices { h[i] += elu(y[i]) }
        }
        var out = [Float](repeating: model.outputBias, count: n)
        for c in 0..<channels {
            let w = model.outputWeights[c]
            for t in 0..<n { out[t] += w * h[c * n + t] }
        }
        for t in 0..<n { out[t] = 1 / (1 + exp(-out[t])) }
        return out
    }
}
