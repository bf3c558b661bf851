import Foundation

/// A real-input radix-2 FFT: a complex FFT of half the size on the even/odd samples packed as re/im, then one
/// untangling pass. Tables are computed once; `forward` allocates nothing. Not thread-safe per instance
/// (it owns its scratch buffers): make one per thread.
package final class RealFFT {
    package let size: Int
    private let half: Int
    private var bitReverse: [Int32]
    /// Twiddles of the half-size complex FFT: exp(-2πi k / half), k < half/2.
    private var cosTable: [Float]
    private var sinTable: [Float]
    /// Twiddles of the untangling pass: exp(-2πi k / size), k <= half.
    private var untangleCos: [Float]
    private var untangleSin: [Float]
    private var re: [Float]
    private var im: [Float]

    /// `size` must be a power of two, at least 4.
    package init?(size: Int) {
        guard size >= 4, size & (size - 1) == 0 else { return nil }
        self.size = size
        let half = size / 2
        let bits = half.trailingZeroBitCount
        self.half = half
        bitReverse = (0..<half).map { i in
            var r = 0
            var v = i
            for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
            return Int32(r)
        }
        cosTable = (0..<max(1, half / 2)).map { Float(cos(-2 * Double.pi * Double($0) / Double(half))) }
        sinTable = (0..<max(1, half / 2)).map { Float(sin(-2 * Double.pi * Double($0) / Double(half))) }
        untangleCos = (0...half).map { Float(cos(-2 * Double.pi * Double($0) / Double(size))) }
        untangleSin = (0...half).map { Float(sin(-2 * Double.pi * Double($0) / Double(size))) }
        re = [Float](repeating: 0, count: half)
        im = [Float](repeating: 0, count: half)
    }

    /// Spectrum of `input[0..<size]` as `size/2 + 1` complex bins written to `outRe`/`outIm`.
    package func forward(_ input: UnsafePointer<Float>, outRe: UnsafeMutablePointer<Float>, outIm: UnsafeMutablePointer<Float>) {
        let n = half
        re.withUnsafeMutableBufferPointer { reB in
            im.withUnsafeMutableBufferPointer { imB in
                bitReverse.withUnsafeBufferPointer { brB in
                    let r = reB.baseAddress!, i = imB.baseAddress!, br = brB.baseAddress!
                    // Pack even samples as real, odd as imaginary, in bit-reversed order.
                    for k in 0..<n {
                        let j = Int(br[k])
                        r[j] = input[2 * k]
                        i[j] = input[2 * k + 1]
                    }
                    cosTable.withUnsafeBufferPointer { cB in
                        sinTable.withUnsafeBufferPointer { sB in
                            Self.butterflies(r, i, n: n, cos: cB.baseAddress!, sin: sB.baseAddress!)
                        }
                    }
                    untangleCos.withUnsafeBufferPointer { ucB in
                        untangleSin.withUnsafeBufferPointer { usB in
                            let uc = ucB.baseAddress!, us = usB.baseAddress!
                            // X[k] = (Z[k] + conj Z[n-k]) / 2 + W^k (Z[k] - conj Z[n-k]) / 2i
                            outRe[0] = r[0] + i[0]
                            outIm[0] = 0
                            outRe[n] = r[0] - i[0]
                            outIm[n] = 0
                            var k = 1
                            while k < n {
                                let ar = r[k], ai = i[k]
                                let br = r[n - k], bi = -i[n - k]  // conj Z[n-k]
                                let er = 0.5 * (ar + br), ei = 0.5 * (ai + bi)
                                // (a - b) / 2i = (ai - bi)/2 - i (ar - br)/2
                                let or = 0.5 * (ai - bi), oi = -0.5 * (ar - br)
                                let wr = uc[k], wi = us[k]
                                outRe[k] = er + wr * or - wi * oi
                                outIm[k] = ei + wr * oi + wi * or
                                k += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// In-place iterative radix-2 decimation-in-time on bit-reversed input.
    private static func butterflies(
        _ r: UnsafeMutablePointer<Float>, _ i: UnsafeMutablePointer<Float>, n: Int,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        var span = 1
        while span < n {
            let step = n / (2 * span)
            var start = 0
            while start < n {
                var k = 0
                while k < span {
                    let wr = cos[k * step], wi = sin[k * step]
                    let a = start + k, b = a + span
                    let tr = wr * r[b] - wi * i[b]
                    let ti = wr * i[b] + wi * r[b]
                    r[b] = r[a] - tr
                    i[b] = i[a] - ti
                    r[a] += tr
                    i[a] += ti
                    k += 1
                }
                start += 2 * span
            }
            span *= 2
        }
    }
}
