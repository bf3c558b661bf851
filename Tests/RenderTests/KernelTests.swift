import Planner
import RenderKernels
import RendcTestSupport
import SpecLang
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct KernelTests {
    func warp(_ src: [UInt8], _ sw: Int, _ sh: Int, dw: Int, dh: Int, x0: Double, y0: Double, sx: Double, sy: Double) -> [UInt8] {
        var dst = [UInt8](repeating: 0, count: dw * dh)
        var scratch = [Int32](repeating: 0, count: Int(rk_warp_scratch_ints(Int32(dw))))
        src.withUnsafeBufferPointer { s in
            rk_warp_plane(s.baseAddress, Int32(sw), Int32(sh), sw, &dst, Int32(dw), Int32(dh), dw, x0, y0, sx, sy, &scratch)
        }
        return dst
    }

    /// A drop shadow spreads no further than `Shadow.reach` says (the planner moves a sliding layer that far off the
    /// canvas): three box-blur passes of radius blur / 2, as `Raster.shadow` draws it, on an opaque run of 40 px.
    @Test(arguments: [1, 2, 7, 24, 50])
    func aShadowSpreadsAsFarAsItsReach(_ blur: Int) {
        let w = 400, start = 180, end = 220
        var line = [UInt8](repeating: 0, count: w)
        for x in start..<end { line[x] = 255 }
        rk_box_blur(&line, Int32(w), 1, 1, Int32(max(1, blur / 2)), 3)
        let spread = max(start - line.firstIndex { $0 > 0 }!, line.lastIndex { $0 > 0 }! + 1 - end)
        let reach = Shadow(color: .black, blur: blur).reach
        // Its faintest tail rounds to 0, so it stops a little short of the reach.
        #expect(spread <= reach && spread * 5 >= reach * 4, "blur \(blur): spreads \(spread) px, reach \(reach)")
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
        var scratch = [Int32](repeating: 0, count: Int(rk_warp_scratch_ints(Int32(dw))))
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

    /// The warp's definition, one output sample at a time, in plain integer arithmetic: 8-bit weights, the
    /// horizontal blend exact in 16 bits, one rounding at the end.
    func referenceWarp(_ src: [UInt8], _ sw: Int, _ sh: Int, dw: Int, dh: Int, x0: Double, y0: Double, sx: Double, sy: Double) -> [UInt8] {
        func map(_ i: Int, _ o: Double, _ s: Double, _ n: Int) -> (Int, Int) {
            var f = o + (Double(i) + 0.5) * s - 0.5
            f = min(max(f, 0), Double(n - 1))
            var k = Int(f)
            if k > n - 2 { k = max(0, n - 2) }
            return n == 1 ? (0, 0) : (k, Int(((f - Double(k)) * 256).rounded(.toNearestOrEven)))
        }
        var out = [UInt8](repeating: 0, count: dw * dh)
        for y in 0..<dh {
            let (iy, wy) = map(y, y0, sy, sh)
            let iy1 = min(iy + 1, sh - 1)
            for x in 0..<dw {
                let (ix, wx) = map(x, x0, sx, sw)
                let ix1 = min(ix + 1, sw - 1)
                let h0 = Int(src[iy * sw + ix]) * (256 - wx) + Int(src[iy * sw + ix1]) * wx
                let h1 = Int(src[iy1 * sw + ix]) * (256 - wx) + Int(src[iy1 * sw + ix1]) * wx
                out[y * dw + x] = UInt8((h0 * (256 - wy) + h1 * wy + 32768) >> 16)
            }
        }
        return out
    }

    /// The vectorised paths (byte shuffles for the rows, pmaddwd for the columns) give exactly the reference's bytes,
    /// at Ken Burns scales (0.95-1.05, where whole blocks are shuffled) and far from them (where some blocks fall back).
    @Test func warpMatchesItsDefinitionExactly() {
        var rng = SplitMix64(state: 13)
        for n in 0..<60 {
            let sw = 20 + rng.below(200), sh = 2 + rng.below(30), dw = 1 + rng.below(260), dh = 1 + rng.below(30)
            let sx = n % 2 == 0 ? 0.95 + Double(rng.below(101)) / 1000 : 0.2 + Double(rng.below(2800)) / 1000
            let sy = n % 3 == 0 ? sx : 0.3 + Double(rng.below(2000)) / 1000
            let x0 = Double(rng.below(4000)) / 100 - 10, y0 = Double(rng.below(1000)) / 100 - 3
            let src = (0..<(sw * sh)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let got = warp(src, sw, sh, dw: dw, dh: dh, x0: x0, y0: y0, sx: sx, sy: sy)
            let want = referenceWarp(src, sw, sh, dw: dw, dh: dh, x0: x0, y0: y0, sx: sx, sy: sy)
            #expect(got == want, "src \(sw)x\(sh) -> \(dw)x\(dh), scale \(sx) x \(sy), origin \(x0), \(y0)")
        }
    }

    /// The premultiplied blend's vector path (16 samples a step) equals the per-sample formula for every alpha and
    /// destination value, keeps transparent samples as they are and opaque ones as the layer's.
    @Test func premultipliedBlendMatchesItsDefinitionExactly() {
        var rng = SplitMix64(state: 7)
        let n = 256 * 256
        var alpha = [UInt8](repeating: 0, count: n), dst = alpha, premul = alpha
        for i in 0..<n {
            alpha[i] = UInt8(i & 255)
            dst[i] = UInt8(i >> 8)
            premul[i] = UInt8(truncatingIfNeeded: rng.next())
        }
        var want = dst
        for i in 0..<n where alpha[i] != 0 {
            let a = Int(alpha[i])
            want[i] = a == 255 ? premul[i] : UInt8(truncatingIfNeeded: Int(premul[i]) + (Int(dst[i]) * (255 - a) + 127) / 255)
        }
        // Odd lengths and offsets: the vector steps, then the scalar tail.
        for (start, length) in [(0, n), (3, 1000), (17, 15), (40, 33)] {
            var got = dst
            got.withUnsafeMutableBufferPointer { g in
                premul.withUnsafeBufferPointer { p in
                    alpha.withUnsafeBufferPointer { a in
                        rk_blend_premul_row(g.baseAddress! + start, p.baseAddress! + start, a.baseAddress! + start, Int32(length))
                    }
                }
            }
            #expect(got[start..<(start + length)] == want[start..<(start + length)], "\(start), \(length)")
            #expect(got[..<start] == dst[..<start] && got[(start + length)...] == dst[(start + length)...])
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
