import LibAV
import Foundation
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// A view of a YUV 4:2:0 picture's planes (an AVFrame's, or our own buffers').
struct PlanesRef {
    var y: UnsafeMutablePointer<UInt8>
    var u: UnsafeMutablePointer<UInt8>
    var v: UnsafeMutablePointer<UInt8>
    var yStride: Int
    var cStride: Int
    var width: Int
    var height: Int

    init(
        y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>, yStride: Int, cStride: Int, width: Int,
        height: Int
    ) {
        self.y = y
        self.u = u
        self.v = v
        self.yStride = yStride
        self.cStride = cStride
        self.width = width
        self.height = height
    }

    init(frame: Frame) {
        (y, yStride) = frame.plane(0)
        (u, cStride) = frame.plane(1)
        v = frame.plane(2).data
        width = frame.width
        height = frame.height
    }

    /// The planes of the rectangle at (x, y) (even), clipped to nothing beyond the picture by the caller.
    func offset(x: Int, y oy: Int) -> PlanesRef {
        PlanesRef(
            y: y + oy * yStride + x, u: u + (oy / 2) * cStride + x / 2, v: v + (oy / 2) * cStride + x / 2, yStride: yStride, cStride: cStride,
            width: width - x, height: height - oy)
    }
}

/// A sprite prepared for blending many times without a transform: the runs of covered pixels per row, so
/// transparent areas cost nothing per frame.
final class AlphaLayer {
    let sprite: Sprite
    /// Per luma row: [start, end) runs with alpha > 0.
    private let lumaRuns: [[Range<Int>]]
    private let chromaRuns: [[Range<Int>]]

    init(sprite: Sprite) {
        self.sprite = sprite
        let b = sprite.buffer
        lumaRuns = AlphaLayer.runs(b.a, width: b.width, height: b.height)
        chromaRuns = AlphaLayer.runs(b.ca, width: b.width / 2, height: b.height / 2)
    }

    /// Runs closer than this are one run: the kernels leave a transparent sample as it is and blend 16 samples
    /// a step, so a short gap costs less inside a run than a call per glyph stroke.
    static let runGap = 16

    static func runs(_ alpha: UnsafeMutablePointer<UInt8>, width: Int, height: Int) -> [[Range<Int>]] {
        var result: [[Range<Int>]] = []
        result.reserveCapacity(height)
        for row in 0..<height {
            var rowRuns: [Range<Int>] = []
            var start = -1
            let base = alpha + row * width
            for col in 0..<width {
                if base[col] != 0 {
                    if start < 0 {
                        start = col
                        if let last = rowRuns.last, col - last.upperBound < runGap { start = rowRuns.removeLast().lowerBound }
                    }
                } else if start >= 0 {
                    rowRuns.append(start..<col)
                    start = -1
                }
            }
            if start >= 0 { rowRuns.append(start..<width) }
            result.append(rowRuns)
        }
        return result
    }

    var isEmpty: Bool { lumaRuns.allSatisfy(\.isEmpty) }

    /// Blends the layer onto `dst`, clipped to it.
    func blend(onto dst: PlanesRef, opacity: Int32 = 256) {
        let b = sprite.buffer, x = sprite.x & ~1, y = sprite.y & ~1
        blendPlane(dst.y, dst.yStride, dst.width, dst.height, b.y, b.a, b.width, lumaRuns, x, y, opacity)
        let cw = dst.width / 2, ch = dst.height / 2
        blendPlane(dst.u, dst.cStride, cw, ch, b.u, b.ca, b.width / 2, chromaRuns, x / 2, y / 2, opacity)
        blendPlane(dst.v, dst.cStride, cw, ch, b.v, b.ca, b.width / 2, chromaRuns, x / 2, y / 2, opacity)
    }

    private func blendPlane(
        _ dst: UnsafeMutablePointer<UInt8>, _ stride: Int, _ dw: Int, _ dh: Int,
        _ premul: UnsafeMutablePointer<UInt8>, _ alpha: UnsafeMutablePointer<UInt8>, _ lw: Int,
        _ runs: [[Range<Int>]], _ ox: Int, _ oy: Int, _ opacity: Int32
    ) {
        for (row, rowRuns) in runs.enumerated() where !rowRuns.isEmpty {
            let dy = oy + row
            guard dy >= 0 && dy < dh else { continue }
            for run in rowRuns {
                let s = max(run.lowerBound, -ox), e = min(run.upperBound, dw - ox)
                guard e > s else { continue }
                if opacity >= 256 {
                    rk_blend_premul_row(dst + dy * stride + ox + s, premul + row * lw + s, alpha + row * lw + s, Int32(e - s))
                } else {
                    rk_blend_premul_row_opacity(dst + dy * stride + ox + s, premul + row * lw + s, alpha + row * lw + s, Int32(e - s), opacity)
                }
            }
        }
    }
}

/// Own YUV 4:2:0 planes (plus optional alpha) for a prepared product image.
final class YUVImage {
    let width: Int, height: Int
    var y: [UInt8], u: [UInt8], v: [UInt8]
    /// Nil when every pixel is opaque (the fast path).
    var a: [UInt8]?, ca: [UInt8]?

    /// Planes as they are (read back from the layer cache).
    init(width: Int, height: Int, y: [UInt8], u: [UInt8], v: [UInt8], a: [UInt8]?, ca: [UInt8]?) {
        self.width = width
        self.height = height
        self.y = y
        self.u = u
        self.v = v
        self.a = a
        self.ca = ca
    }

    init(rgba: RGBAImage) {
        let w = max(2, rgba.width & ~1), h = max(2, rgba.height & ~1)
        width = w
        height = h
        y = [UInt8](repeating: 0, count: w * h)
        u = [UInt8](repeating: 128, count: (w / 2) * (h / 2))
        v = u
        var alpha = [UInt8](repeating: 255, count: w * h)
        var calpha = [UInt8](repeating: 255, count: (w / 2) * (h / 2))
        if rgba.width >= 2 && rgba.height >= 2 {
            rgba.pixels.withUnsafeBufferPointer { src in
                rk_rgba_to_yuva420(src.baseAddress, Int32(w), Int32(h), rgba.width * 4, &y, w, &u, w / 2, &v, w / 2, &alpha, w, &calpha, w / 2)
            }
        }
        if alpha.contains(where: { $0 != 255 }) {
            a = alpha
            ca = calpha
        }
    }
}
