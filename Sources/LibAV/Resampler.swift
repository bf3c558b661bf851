internal import CFFmpeg
import Foundation
import MediaFormats

/// Converts decoded audio frames of one layout, format and rate to mono Float32 at an output rate.
package final class MonoResampler {
    let context: ResampleContext
    let inputFormat: Int32
    let inputRate: Int32
    let inputChannels: Int32
    package let outputRate: Int
    private let path: String
    private var scratch: [Float] = []

    package init(frame: Frame, outputRate: Int, path: String) throws {
        let f = frame.pointer.pointee
        inputFormat = f.format
        inputRate = f.sample_rate
        inputChannels = f.ch_layout.nb_channels
        self.outputRate = outputRate
        self.path = path
        guard inputRate > 0, inputChannels > 0, outputRate > 0 else {
            throw MediaError(.decode, code: .corrupt, path: path, "the decoder produced audio without a sample rate or channels")
        }
        var inLayout = AVChannelLayout()
        if f.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
            av_channel_layout_default(&inLayout, inputChannels)
        } else {
            var source = f.ch_layout
            if av_channel_layout_copy(&inLayout, &source) < 0 { av_channel_layout_default(&inLayout, inputChannels) }
        }
        defer { av_channel_layout_uninit(&inLayout) }
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, 1)
        defer { av_channel_layout_uninit(&outLayout) }
        var raw: OpaquePointer?
        let rc = swr_alloc_set_opts2(
            &raw, &outLayout, AV_SAMPLE_FMT_FLT, Int32(outputRate),
            &inLayout, AVSampleFormat(rawValue: inputFormat), inputRate, 0, nil)
        guard rc >= 0, let raw else {
            throw MediaError(.decode, path: path, "cannot set up resampling (\(averrorString(rc)))")
        }
        context = ResampleContext(raw)
        try check(swr_init(raw), .decode, path, "cannot set up resampling")
    }

    package func matches(_ frame: Frame) -> Bool {
        let f = frame.pointer.pointee
        return f.format == inputFormat && f.sample_rate == inputRate && f.ch_layout.nb_channels == inputChannels
    }

    package func convert(_ frame: Frame, into samples: inout [Float], limit: Int) throws {
        let inCount = frame.pointer.pointee.nb_samples
        let capacity = Int(swr_get_out_samples(context.pointer, inCount)) + 32
        try run(input: frame.pointer.pointee.extended_data, count: inCount, capacity: capacity, into: &samples, limit: limit)
    }

    package func flush(into samples: inout [Float], limit: Int) throws {
        let capacity = Int(swr_get_out_samples(context.pointer, 0)) + 32
        try run(input: nil, count: 0, capacity: capacity, into: &samples, limit: limit)
    }

    private func run(
        input: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, count: Int32, capacity: Int,
        into samples: inout [Float], limit: Int
    ) throws {
        if scratch.count < capacity { scratch = [Float](repeating: 0, count: capacity) }
        let swr = context.pointer
        let produced: Int32 = scratch.withUnsafeMutableBytes { raw -> Int32 in
            var out: UnsafeMutablePointer<UInt8>? = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            let inPointer = input.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UnsafePointer<UInt8>?.self) }
            return swr_convert(swr, &out, Int32(capacity), inPointer, count)
        }
        try check(produced, .decode, path, "resampling failed")
        let take = min(Int(produced), max(0, limit - samples.count))
        if take > 0 { samples.append(contentsOf: scratch[0..<take]) }
    }
}

/// Converts decoded pictures to packed RGBA, and scales RGBA, through one cached SwsContext.
package final class RGBAScaler {
    private let token = LiveToken()
    private var context: OpaquePointer?
    package init() {}
    deinit { sws_freeContext(context) }

    /// Converts (and scales) `frame` into a new RGBA buffer of `width` x `height`.
    package func convert(_ frame: Frame, width: Int, height: Int, path: String?) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 4)
        try convert(frame, width: width, height: height, into: &out, path: path)
        return out
    }

    /// Converts (and scales) `frame` into `out`, an RGBA buffer of `width` x `height` the caller keeps (a video's
    /// frames one after another, without a new 8 MB buffer each).
    package func convert(_ frame: Frame, width: Int, height: Int, into out: inout [UInt8], path: String?) throws {
        let f = frame.pointer.pointee
        guard width > 0, height > 0, width * height <= MediaLimits.maximumPixels * 2 else {
            throw MediaError(.decode, code: .tooLarge, path: path, "cannot convert a picture to \(width)x\(height)")
        }
        context = sws_getCachedContext(
            context, f.width, f.height, AVPixelFormat(f.format), Int32(width), Int32(height), AV_PIX_FMT_RGBA,
            Int32(SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT), nil, nil, nil
        )
        guard let context else { throw MediaError(.decode, code: .corrupt, path: path, "unsupported pixel format \(f.format)") }
        RGBAScaler.readAsTagged(context, f)
        if out.count != width * height * 4 { out = [UInt8](repeating: 0, count: width * height * 4) }
        let r: Int32 = out.withUnsafeMutableBufferPointer { buf in
            var dst: [UnsafeMutablePointer<UInt8>?] = [buf.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(width * 4), 0, 0, 0]
            return withUnsafePointer(to: frame.pointer.pointee.data) { dataTuple in
                withUnsafePointer(to: frame.pointer.pointee.linesize) { strideTuple in
                    dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                        strideTuple.withMemoryRebound(to: Int32.self, capacity: 8) { srcStride in
                            sws_scale(context, src, srcStride, 0, f.height, &dst, &dstStride)
                        }
                    }
                }
            }
        }
        guard r > 0 else { throw MediaError(.decode, code: .corrupt, path: path, "pixel conversion failed") }
    }

    /// Makes `context` decode with the matrix and range `f` was tagged with (BT.709 video, as rendc writes it), else
    /// BT.601 as ffmpeg does (JPEG/JFIF is always 601): swscale's default turns a 709 green visibly greener.
    private static func readAsTagged(_ context: OpaquePointer, _ f: AVFrame) {
        let full: Int32 = f.color_range == AVCOL_RANGE_JPEG ? 1 : 0
        _ = sws_setColorspaceDetails(
            context, sws_getCoefficients(f.colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT), full,
            sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
    }

    /// What a crop's origin in `frame` must be a multiple of, or nil when its format cannot be read from an
    /// offset (paletted, bit-packed, hardware).
    static func cropAlignment(of frame: Frame) -> (x: Int, y: Int)? {
        guard let d = av_pix_fmt_desc_get(AVPixelFormat(frame.pointer.pointee.format)) else { return nil }
        let flags = d.pointee.flags
        guard flags & UInt64(AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL) == 0 else { return nil }
        if flags & UInt64(AV_PIX_FMT_FLAG_RGB) != 0 { return (1, 1) }
        return (1 << Int(d.pointee.log2_chroma_w), 1 << Int(d.pointee.log2_chroma_h))
    }

    /// Converts the `crop` rectangle of `frame` straight to RGBA at `toWidth` x `toHeight` (one Lanczos pass reading
    /// the rectangle in place): no full-size RGBA copy of a big picture. The crop's origin must be a multiple of
    /// `cropAlignment(of:)`.
    package func convert(_ frame: Frame, crop: (x: Int, y: Int, w: Int, h: Int), toWidth: Int, toHeight: Int, path: String?) throws -> [UInt8] {
        let f = frame.pointer.pointee
        let (cx, cy, cw, ch) = crop
        guard let align = RGBAScaler.cropAlignment(of: frame), let d = av_pix_fmt_desc_get(AVPixelFormat(f.format)),
            cx >= 0, cy >= 0, cw > 0, ch > 0, cx + cw <= Int(f.width), cy + ch <= Int(f.height), cx % align.x == 0, cy % align.y == 0,
            toWidth > 0, toHeight > 0, toWidth * toHeight <= MediaLimits.maximumPixels * 2
        else {
            throw MediaError(.prepare, code: .tooLarge, path: path, "cannot convert \(cw)x\(ch) of \(f.width)x\(f.height) to \(toWidth)x\(toHeight)")
        }
        context = sws_getCachedContext(
            context, Int32(cw), Int32(ch), AVPixelFormat(f.format), Int32(toWidth), Int32(toHeight), AV_PIX_FMT_RGBA,
            Int32(SWS_LANCZOS | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP), nil, nil, nil
        )
        guard let context else { throw MediaError(.decode, code: .corrupt, path: path, "unsupported pixel format \(f.format)") }
        RGBAScaler.readAsTagged(context, f)
        // Each plane read from the crop's origin: chroma planes of YUV at the subsampled position, bytes per pixel
        // from the components stored in that plane.
        let desc = d.pointee
        let comps = [desc.comp.0, desc.comp.1, desc.comp.2, desc.comp.3].prefix(Int(desc.nb_components))
        let isRGB = desc.flags & UInt64(AV_PIX_FMT_FLAG_RGB) != 0
        var src: [UnsafePointer<UInt8>?] = [nil, nil, nil, nil]
        var srcStride: [Int32] = [0, 0, 0, 0]
        let data = [f.data.0, f.data.1, f.data.2, f.data.3], lines = [f.linesize.0, f.linesize.1, f.linesize.2, f.linesize.3]
        for plane in 0..<4 {
            let onPlane = comps.filter { Int($0.plane) == plane }
            guard let base = data[plane], let step = onPlane.map({ Int($0.step) }).max() else { continue }
            guard lines[plane] > 0 else { throw MediaError(.decode, code: .corrupt, path: path, "unsupported picture layout") }
            let sub = !isRGB && (plane == 1 || plane == 2)
            let x = sub ? cx >> Int(desc.log2_chroma_w) : cx, y = sub ? cy >> Int(desc.log2_chroma_h) : cy
            src[plane] = UnsafePointer(base + y * Int(lines[plane]) + x * step)
            srcStride[plane] = lines[plane]
        }
        var out = [UInt8](repeating: 0, count: toWidth * toHeight * 4)
        let r: Int32 = out.withUnsafeMutableBufferPointer { buf in
            var dst: [UnsafeMutablePointer<UInt8>?] = [buf.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(toWidth * 4), 0, 0, 0]
            return sws_scale(context, &src, &srcStride, 0, Int32(ch), &dst, &dstStride)
        }
        guard r > 0 else { throw MediaError(.decode, code: .corrupt, path: path, "pixel conversion failed") }
        return out
    }

    /// Bytes that may be read past the last source pixel of `scaleRGBA` (libav pads its buffers by 64).
    static let sourceSlack = 64

    /// Scales a packed RGBA buffer to a new size.
    package func scaleRGBA(_ pixels: [UInt8], width: Int, height: Int, toWidth: Int, toHeight: Int) throws -> [UInt8] {
        try scaleRGBA(pixels, width: width, height: height, crop: (0, 0, width, height), toWidth: toWidth, toHeight: toHeight)
    }

    /// Scales the `crop` rectangle of a packed RGBA buffer (`width` x `height`) to a new size, reading the
    /// rectangle in place (source rows at an offset, with the whole buffer's stride): no copy of the crop.
    package func scaleRGBA(
        _ pixels: [UInt8], width: Int, height: Int, crop: (x: Int, y: Int, w: Int, h: Int), toWidth: Int, toHeight: Int
    ) throws -> [UInt8] {
        let (cx, cy, cw, ch) = crop
        guard width > 0, height > 0, toWidth > 0, toHeight > 0, pixels.count >= width * height * 4,
            cx >= 0, cy >= 0, cw > 0, ch > 0, cx + cw <= width, cy + ch <= height,
            toWidth * toHeight <= MediaLimits.maximumPixels * 2
        else {
            throw MediaError(.prepare, code: .tooLarge, "cannot scale \(cw)x\(ch) of \(width)x\(height) to \(toWidth)x\(toHeight)")
        }
        context = sws_getCachedContext(
            context, Int32(cw), Int32(ch), AV_PIX_FMT_RGBA, Int32(toWidth), Int32(toHeight), AV_PIX_FMT_RGBA,
            Int32(SWS_LANCZOS | SWS_ACCURATE_RND), nil, nil, nil
        )
        guard let context else { throw MediaError(.prepare, "cannot create a scaler \(cw)x\(ch) -> \(toWidth)x\(toHeight)") }
        var out = [UInt8](repeating: 0, count: toWidth * toHeight * 4)
        // swscale's horizontal filters read a few pixels past the end of a source row (up to 24 bytes measured
        // for RGBA with Lanczos), which libav's own frames allow for with padding. A crop that ends within that
        // distance of the array's end would be read past its allocation (a fault when that is the end of a
        // mapping): such a source is scaled from a copy with zeroed slack after it.
        let readEnd = ((cy + ch - 1) * width + cx + cw) * 4
        let source: [UInt8]
        if pixels.count - readEnd < RGBAScaler.sourceSlack {
            var padded = [UInt8]()
            padded.reserveCapacity(pixels.count + RGBAScaler.sourceSlack)
            padded.append(contentsOf: pixels)
            padded.append(contentsOf: repeatElement(0, count: RGBAScaler.sourceSlack))
            source = padded
        } else {
            source = pixels
        }
        let r: Int32 = source.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var s: [UnsafePointer<UInt8>?] = [src.baseAddress! + (cy * width + cx) * 4, nil, nil, nil]
                var ss: [Int32] = [Int32(width * 4), 0, 0, 0]
                var d: [UnsafeMutablePointer<UInt8>?] = [dst.baseAddress, nil, nil, nil]
                var ds: [Int32] = [Int32(toWidth * 4), 0, 0, 0]
                return sws_scale(context, &s, &ss, 0, Int32(ch), &d, &ds)
            }
        }
        guard r > 0 else { throw MediaError(.prepare, "scaling failed") }
        return out
    }
}
