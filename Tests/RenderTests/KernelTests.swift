import RenderKernels
import Testing
#if canImport(Glibc)
import Glibc
#endif

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

    /// A source one pixel wide whose last byte sits just before a page the process may not read: a read one byte
    /// past the row (the old warp did that) kills the test with SIGSEGV instead of passing by luck.
    @Test(arguments: [(1, 7), (1, 1), (2, 5)])
    func narrowSourceIsNeverReadPastItsEnd(width: Int, height: Int) throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let raw = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        let base = try #require(raw == MAP_FAILED ? nil : raw)
        defer { munmap(base, 2 * page) }
        #expect(mprotect(base + page, page, PROT_NONE) == 0)
        let count = width * height
        let src = (base + page - count).assumingMemoryBound(to: UInt8.self)
        for i in 0..<count { src[i] = UInt8(40 + 20 * i) }
        let dw = 6, dh = 9
        var dst = [UInt8](repeating: 0, count: dw * dh)
        var scratch = [Int32](repeating: 0, count: 3 * dw)
        // Upscale with a fractional offset so every output pixel asks for a right and a lower neighbour.
        rk_warp_plane(
            src, Int32(width), Int32(height), width, &dst, Int32(dw), Int32(dh), dw, 0.25, 0.25,
            Double(width) / Double(dw), Double(height) / Double(dh), &scratch)
        if width == 1 {
            // One column: every output pixel of a row is that row's (blended) value; rows follow the source's ramp.
            for y in 0..<dh { #expect(Set(dst[(y * dw)..<((y + 1) * dw)]).count == 1, "row \(y): \(dst[(y * dw)..<((y + 1) * dw)])") }
            #expect(dst.first! >= 40 && dst.last! <= UInt8(40 + 20 * (count - 1)))
            if height > 1 { #expect(dst.last! > dst.first!) }
        } else {
            #expect(dst.allSatisfy { $0 >= 40 && $0 <= UInt8(40 + 20 * (count - 1)) })
        }
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
