import RenderKernels
import Testing

@Suite struct KernelTests {
    func warp(_ src: [UInt8], _ sw: Int, _ sh: Int, dw: Int, dh: Int, x0: Double, y0: Double, sx: Double, sy: Double) -> [UInt8] {
        var dst = [UInt8](repeating: 0, count: dw * dh)
        var scratch = [Int32](repeating: 0, count: 3 * dw)
        src.withUnsafeBufferPointer { s in
            rk_warp_plane(s.baseAddress, Int32(sw), Int32(sh), sw, &dst, Int32(dw), Int32(dh), dw, x0, y0, sx, sy, &scratch)
        }
        return dst
    }

    @Test func identityWarpCopies() {
        let src = (0..<(37 * 23)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(warp(src, 37, 23, dw: 37, dh: 23, x0: 0, y0: 0, sx: 1, sy: 1) == src)
    }

    @Test func halfPixelShiftAverages() {
        // Columns alternate 0 and 200: shifting by half a pixel gives 100 everywhere but the clamped last column.
        let src = (0..<(8 * 4)).map { UInt8($0 % 2 == 0 ? 0 : 200) }
        let out = warp(src, 8, 4, dw: 7, dh: 4, x0: 0.5, y0: 0, sx: 1, sy: 1)
        #expect(out.allSatisfy { $0 == 100 })
    }

    @Test func downscaleByTwoIsBilinear() {
        // A vertical ramp, scaled 2:1 vertically: each output row samples between two source rows.
        let src = (0..<(4 * 8)).map { UInt8(($0 / 4) * 20) }
        let out = warp(src, 4, 8, dw: 4, dh: 4, x0: 0, y0: 0, sx: 1, sy: 2)
        #expect(out == [10, 10, 10, 10, 50, 50, 50, 50, 90, 90, 90, 90, 130, 130, 130, 130])
    }

    @Test func bt709Colours() {
        var y: UInt8 = 0, u: UInt8 = 0, v: UInt8 = 0
        rk_rgb_to_yuv(255, 255, 255, &y, &u, &v)
        #expect((y, u, v) == (235, 128, 128))
        rk_rgb_to_yuv(0, 0, 0, &y, &u, &v)
        #expect((y, u, v) == (16, 128, 128))
        rk_rgb_to_yuv(0xD4, 0xAF, 0x37, &y, &u, &v)
        // Round trip back to RGB within 2 levels.
        var rgba = [UInt8](repeating: 0, count: 16)
        var Y = [UInt8](repeating: y, count: 4), U = [u], V = [v]
        rk_yuv420_to_rgba(&Y, 2, &U, 1, &V, 1, 2, 2, &rgba, 8)
        #expect(abs(Int(rgba[0]) - 0xD4) <= 2 && abs(Int(rgba[1]) - 0xAF) <= 2 && abs(Int(rgba[2]) - 0x37) <= 2)
    }
}
