import LibAV
import Foundation
import LayerCache
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// A product image decoded once and pre-scaled for its window, ready for a Ken Burns warp every frame.
package final class PreparedImage {
    let path: String
    let picture: YUVImage
    /// Size of the displayed image in window pixels at zoom 1 (cover: the window; contain: the fitted image).
    let fit: Fit
    let window: Rect
    /// The part of the original (oriented) image that `picture` holds, in original pixels.
    let crop: (x: Double, y: Double, w: Double, h: Double)
    let originalSize: (w: Double, h: Double)
    /// Window pixels per original pixel at zoom 1.
    let baseScale: Double
    /// For `fit: contain` with `fill: blur`: the picture's own blurred, cover-scaled copy, window-sized.
    let fill: YUVImage?

    /// A picture prepared before (read back from the layer cache).
    init(
        path: String, window: Rect, fit: Fit, picture: YUVImage, crop: (x: Double, y: Double, w: Double, h: Double),
        originalSize: (w: Double, h: Double),
        baseScale: Double, fill: YUVImage?
    ) {
        self.path = path
        self.window = window
        self.fit = fit
        self.picture = picture
        self.crop = crop
        self.originalSize = originalSize
        self.baseScale = baseScale
        self.fill = fill
    }

    convenience init(path: String, window: Rect, fit: Fit, motions: [Motion], adjust: Adjustments = Adjustments(), blurFill: Bool = false) throws {
        let p = try PreparedImage.prepareRGBA(path: path, window: window, fit: fit, motions: motions, adjust: adjust, blurFill: blurFill)
        self.init(
            path: path, window: window, fit: fit, picture: YUVImage(rgba: p.picture), crop: p.crop, originalSize: p.originalSize,
            baseScale: p.baseScale, fill: p.fill.map { YUVImage(rgba: $0) })
    }

    /// The picture as RGBA, before its conversion to YUV: what the fast engine warps every frame, and what the stock
    /// FFmpeg graph reads (`StockGraphArt`), so that both resample the same pixels.
    package struct RGBA {
        package var picture: RGBAImage
        package var crop: (x: Double, y: Double, w: Double, h: Double)
        package var originalSize: (w: Double, h: Double)
        package var baseScale: Double
        package var fill: RGBAImage?
    }

    /// `direct: false` converts the whole decoded picture to RGBA first, as adjusted and blur-filled pictures are
    /// (tests compare the two ways).
    package static func prepareRGBA(
        path: String, window: Rect, fit: Fit, motions: [Motion], adjust: Adjustments, blurFill: Bool, direct: Bool = true
    ) throws -> RGBA {
        let maxZoom = motions.map(\.maxZoom).max() ?? 1
        let orientation = (try? EXIFOrientation.read(path: path)) ?? 1
        let decoded = try ImageCodec.decodePicture(path: path) { stored in
            decodeSize(stored: stored, window: window, fit: fit, maxZoom: maxZoom, orientation: orientation)
        }
        // Sizes as displayed (EXIF orientation applied), in decoded pixels.
        let swap = orientation >= 5
        let iw = swap ? decoded.height : decoded.width, ih = swap ? decoded.width : decoded.height
        guard iw >= 2, ih >= 2 else { throw BackendError(.decode, path: path, "image is smaller than 2x2 pixels") }
        let baseScale = PreparedImage.baseScale(width: Double(iw), height: Double(ih), window: window, fit: fit)
        // Pre-scaled so that the largest zoom samples it 1:1.
        let k = baseScale * maxZoom
        var crop = PreparedImage.crop(width: iw, height: ih, window: window, fit: fit, baseScale: baseScale, motions: motions)
        // A sliver of a picture (8000x16) covering a window and panned is scaled up along its whole pan: gigabytes for
        // a few kilobytes of upload. Such a picture is refused, naming it, as bad input (not retried).
        let budget = Double(max(1, window.width * window.height)) * maxZoom * maxZoom * 16
        guard Double(crop.w) * k * Double(crop.h) * k <= budget else {
            throw BackendError(
                .prepare, code: .tooLarge, path: path,
                "the picture (\(iw)x\(ih)) is too narrow or too flat for this layout's \(window.width)x\(window.height) window and its pan; use a picture closer to the window's shape"
            )
        }
        if direct, adjust.isIdentity, !blurFill, let align = decoded.cropAlignment {
            // Straight from the decoder's pixels to the pre-scaled crop: no full-size RGBA of the picture, which for a
            // 12-megapixel photo is 48 MB on top of the decoder's frame while x264 runs beside.
            var source = EXIFOrientation.storedRect(of: crop, orientation: orientation, width: decoded.width, height: decoded.height)
            let dx = source.x % align.x, dy = source.y % align.y
            source = (source.x - dx, source.y - dy, source.w + dx, source.h + dy)
            crop = EXIFOrientation.displayedRect(of: source, orientation: orientation, width: decoded.width, height: decoded.height)
            let pw = max(2, Int((Double(crop.w) * k).rounded())), ph = max(2, Int((Double(crop.h) * k).rounded()))
            let scaled = try decoded.rgba(crop: source, toWidth: swap ? ph : pw, toHeight: swap ? pw : ph)
            var picture = RGBAImage(width: swap ? ph : pw, height: swap ? pw : ph, pixels: scaled)
            if orientation != 1 { picture = EXIFOrientation.apply(orientation, to: picture) }
            return RGBA(
                picture: picture, crop: (Double(crop.x), Double(crop.y), Double(crop.w), Double(crop.h)), originalSize: (Double(iw), Double(ih)),
                baseScale: baseScale, fill: nil)
        }
        var rgba = RGBAImage(width: decoded.width, height: decoded.height, pixels: try decoded.rgba())
        if orientation != 1 { rgba = EXIFOrientation.apply(orientation, to: rgba) }
        if !adjust.isIdentity {
            let n = rgba.width * rgba.height
            rgba.pixels.withUnsafeMutableBufferPointer { p in rk_adjust_rgba(p.baseAddress, n, adjust.brightness, adjust.contrast, adjust.saturation)
            }
        }
        let fill = blurFill ? try PreparedImage.blurredCoverRGBA(rgba, width: window.width, height: window.height) : nil
        let pw = max(2, Int((Double(crop.w) * k).rounded())), ph = max(2, Int((Double(crop.h) * k).rounded()))
        // Scaled straight from the crop's rectangle of the decoded picture: a copy of the crop would add up to a
        // whole decoded picture to the peak while x264 runs beside.
        let scaled = try RGBAScaler().scaleRGBA(
            rgba.pixels, width: rgba.width, height: rgba.height, crop: crop, toWidth: pw, toHeight: ph)
        rgba = RGBAImage(width: 0, height: 0, pixels: [])
        return RGBA(
            picture: RGBAImage(width: pw, height: ph, pixels: scaled), crop: (Double(crop.x), Double(crop.y), Double(crop.w), Double(crop.h)),
            originalSize: (Double(iw), Double(ih)), baseScale: baseScale, fill: fill)
    }

    /// The part of a `width` x `height` picture (as displayed) any shot shows, in whole pixels: for cover, the union of
    /// the zoom-1 views at every pan point the shots use (nothing outside it is ever shown); for contain, all of it.
    static func crop(width: Int, height: Int, window: Rect, fit: Fit, baseScale: Double, motions: [Motion]) -> (x: Int, y: Int, w: Int, h: Int) {
        guard fit == .cover else { return (0, 0, width, height) }
        let iw = Double(width), ih = Double(height)
        let vw = Double(window.width) / baseScale, vh = Double(window.height) / baseScale
        var x0 = iw, y0 = ih, x1 = 0.0, y1 = 0.0
        for m in motions.isEmpty ? [Motion.still] : motions {
            for c in [m.panFrom, m.panTo] {
                let cx = min(max(c.x * iw, vw / 2), iw - vw / 2), cy = min(max(c.y * ih, vh / 2), ih - vh / 2)
                x0 = min(x0, cx - vw / 2); y0 = min(y0, cy - vh / 2); x1 = max(x1, cx + vw / 2); y1 = max(y1, cy + vh / 2)
            }
        }
        let x = min(width - 1, max(0, Int(x0.rounded(.down)))), y = min(height - 1, max(0, Int(y0.rounded(.down))))
        return (x, y, max(1, min(width, Int(x1.rounded(.up))) - x), max(1, min(height, Int(y1.rounded(.up))) - y))
    }

    /// The scale of a `width` x `height` picture (as displayed) at zoom 1 in `window`: covering it or fitting in it.
    static func baseScale(width iw: Double, height ih: Double, window: Rect, fit: Fit) -> Double {
        let W = Double(window.width), H = Double(window.height)
        return fit == .cover ? max(W / iw, H / ih) : min(W / iw, H / ih)
    }

    /// The size to decode a picture at (big JPEGs decode at 1/2, 1/4 or 1/8 of their size when that still holds
    /// every pixel the largest zoom shows), as stored (before the EXIF orientation), from its stored size.
    static func decodeSize(
        stored: (width: Int, height: Int), window: Rect, fit: Fit, maxZoom: Double, orientation: Int
    ) -> (width: Int, height: Int) {
        let swap = orientation >= 5
        let iw = Double(swap ? stored.height : stored.width), ih = Double(swap ? stored.width : stored.height)
        let k = baseScale(width: iw, height: ih, window: window, fit: fit) * maxZoom
        let need = (width: Int((iw * k).rounded(.up)), height: Int((ih * k).rounded(.up)))
        return swap ? (need.height, need.width) : need
    }

    /// The picture scaled to cover `width` x `height`, blurred and dimmed a little: the backdrop of a contained
    /// picture in vertical video. Blurred at a quarter of the size (the blur hides it) and scaled up.
    static func blurredCover(_ img: RGBAImage, width: Int, height: Int) throws -> YUVImage {
        YUVImage(rgba: try blurredCoverRGBA(img, width: width, height: height))
    }

    static func blurredCoverRGBA(_ img: RGBAImage, width: Int, height: Int) throws -> RGBAImage {
        let qw = max(2, width / 4), qh = max(2, height / 4)
        let s = max(Double(qw) / Double(img.width), Double(qh) / Double(img.height))
        let cw = max(qw, Int((Double(img.width) * s).rounded())), ch = max(qh, Int((Double(img.height) * s).rounded()))
        let scaled = try RGBAScaler().scaleRGBA(img.pixels, width: img.width, height: img.height, toWidth: cw, toHeight: ch)
        var small = cropRGBA(RGBAImage(width: cw, height: ch, pixels: scaled), x: (cw - qw) / 2, y: (ch - qh) / 2, w: qw, h: qh)
        small.pixels.withUnsafeMutableBufferPointer { p in
            rk_box_blur(p.baseAddress, Int32(qw), Int32(qh), 4, Int32(max(2, qw / 24)), 3)
            rk_adjust_rgba(p.baseAddress, qw * qh, -0.08, 0.9, 1.0)
        }
        let up = try RGBAScaler().scaleRGBA(small.pixels, width: qw, height: qh, toWidth: width, toHeight: height)
        return RGBAImage(width: width, height: height, pixels: up)
    }

    static func cropRGBA(_ img: RGBAImage, x: Int, y: Int, w: Int, h: Int) -> RGBAImage {
        let w = max(1, min(w, img.width - x)), h = max(1, min(h, img.height - y))
        if x == 0 && y == 0 && w == img.width && h == img.height { return img }
        var out = [UInt8](repeating: 0, count: w * h * 4)
        img.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<h {
                    memcpy(dst.baseAddress! + row * w * 4, src.baseAddress! + ((y + row) * img.width + x) * 4, w * 4)
                }
            }
        }
        return RGBAImage(width: w, height: h, pixels: out)
    }

    /// Where the picture lands for `zoom` and view centre `center`: the destination rectangle inside the window
    /// (window-relative, even) and the affine source mapping (x0, y0, sx, sy) in `picture` pixels.
    func placement(zoom: Double, center: UnitPoint) -> (dst: Rect, x0: Double, y0: Double, sx: Double, sy: Double) {
        let W = Double(window.width), H = Double(window.height)
        let kx = Double(picture.width) / crop.w, ky = Double(picture.height) / crop.h
        switch fit {
        case .cover:
            let vw = W / (baseScale * zoom), vh = H / (baseScale * zoom)
            let cx = min(max(center.x * originalSize.w, vw / 2), originalSize.w - vw / 2)
            let cy = min(max(center.y * originalSize.h, vh / 2), originalSize.h - vh / 2)
            let x0 = (cx - vw / 2 - crop.x) * kx, y0 = (cy - vh / 2 - crop.y) * ky
            return (Rect(x: 0, y: 0, width: window.width, height: window.height), x0, y0, vw * kx / W, vh * ky / H)
        case .contain:
            // The fitted image grows about its centre and is clipped to the window.
            let dw = originalSize.w * baseScale * zoom, dh = originalSize.h * baseScale * zoom
            let left = (W - dw) / 2, top = (H - dh) / 2
            let x = max(0, Int(left.rounded(.up))) & ~1, y = max(0, Int(top.rounded(.up))) & ~1
            let w = min(window.width - x, Int((W - 2 * Double(x)).rounded())) & ~1
            let h = min(window.height - y, Int((H - 2 * Double(y)).rounded())) & ~1
            let sx = Double(picture.width) / dw, sy = Double(picture.height) / dh
            return (Rect(x: x, y: y, width: max(2, w), height: max(2, h)), (Double(x) - left) * sx, (Double(y) - top) * sy, sx, sy)
        }
    }
}

/// The bottom of the frame: static layers composed once, with at most one looping video blended over them once
/// per video frame and cached as YUV (only the parts the pictures never cover, each frame as its differences from
/// the first: see `LoopCoding`). A video too long for the memory budget is decoded and blended as it plays instead.
/// The blended loop is kept in the layer cache between renders.
final class BaseStack {
    let width: Int, height: Int
    /// The bytes of the frame (per plane) that the cache holds: everything outside the always-covered rectangle.
    private let layout: LoopLayout
    /// The cached frames (the layer-cache payload as it is: a hit is used without copying).
    private var loop: CompactLoop?
    private var frameBytes: Int { layout.frameBytes }
    private var videoFPS: Double = 30
    private var streaming: StreamingVideo?
    private(set) var isAnimated = false
    /// Memory the cache may use, counted in whole frames (the most a loop's frames take).
    static let cacheBudget = 160 * 1024 * 1024

    /// - Parameter onlyFrame: prepare just what output frame `onlyFrame` shows (a still): one video frame, unless
    ///   the whole loop is in the layer cache already.
    /// - Parameter overlap: blend the loop on a thread of its own while the first frames are composed and encoded
    ///   (a frame waits only for the loop frame it shows), when the video's header says it fits the budget.
    init(
        width: Int, height: Int, under: [Sprite], video: (VideoPlan, LayerPlan)?, over: [Sprite], occluded: Rect?, outputFPS: Int,
        onlyFrame: Int? = nil,
        cache: LayerCache = .disabled(), overlap: Bool = false
    ) throws {
        self.width = width
        self.height = height
        layout = LoopLayout(width: width, height: height, occluded: occluded)
        let bytesPerFrame = layout.frameBytes
        // Static layers under the video, on opaque black.
        let planes = PlaneBuffer(width: width, height: height)
        rk_fill_plane(planes.y, width, Int32(width), Int32(height), 16)
        rk_fill_plane(planes.u, width / 2, Int32(width / 2), Int32(height / 2), 128)
        rk_fill_plane(planes.v, width / 2, Int32(width / 2), Int32(height / 2), 128)
        let ref = planes.planes
        for s in under { AlphaLayer(sprite: s).blend(onto: ref) }
        let overLayers = over.map { AlphaLayer(sprite: $0) }
        guard let (v, layer) = video else {
            for l in overLayers { l.blend(onto: ref) }
            var b = CompactLoopBuilder(frameBytes: bytesPerFrame)
            b.append(planes, layout: layout)
            loop = CompactLoop(payload: b.finish(fps: videoFPS, holdLast: false), frameBytes: bytesPerFrame)
            fixed = true
            return
        }
        let underYUV = ref.packed()
        isAnimated = v.animated
        var key: LayerCacheKey?
        // A still keeps the one blended frame it shows on its own, under the output frame's index (a hit needs
        // neither the video opened nor the loop read), or cuts it out of the loop a render left (reading and checking
        // only that frame's blocks of the entry and the reference's).
        var frameKey: LayerCacheKey?
        if cache.isEnabled, let hash = try? cache.contentHash(ofFile: v.source.path) {
            let loopKey = BaseStack.cacheKey(
                videoHash: hash, video: v, layer: layer, width: width, height: height, under: underYUV, over: over,
                occluded: occluded, outputFPS: outputFPS, budget: BaseStack.cacheBudget)
            key = loopKey
            if let onlyFrame {
                var k = LayerCacheKeyBuilder(kind: "overlay-frame-3")
                k.add(loopKey.hex)
                k.add(onlyFrame)
                let still = k.finish()
                frameKey = still
                if let payload = cache.value(for: still), use(payload), loop?.count == 1 {
                    fixed = true
                    return
                }
                if let payload = frameOfLoop(cache, loopKey, output: onlyFrame, fps: outputFPS), use(payload) {
                    fixed = true
                    cache.store(payload, for: still)
                    return
                }
            } else if let payload = cache.value(for: loopKey), use(payload) {
                return
            }
        }
        // One decoding thread: the loop is blended beside the encoder, and frame threads would each hold frames of
        // their own (about 30 MB more at 1080x1920, while x264 allocates its lookahead).
        let input = try MediaInputFile(path: v.source.path, mediaType: .video, decoderThreads: 1)
        videoFPS = input.frameRate ?? Double(outputFPS)
        let blender = VideoBlender(
            width: width, height: height, under: underYUV, video: v, box: layer.box, opacity: layer.opacity, over: overLayers, skip: occluded)
        let frame = try AVFrameBox()
        if let onlyFrame {
            // A still: decode up to the one video frame it shows (looping or holding the last), blend only that.
            var n = v.animated ? Int((Double(onlyFrame) / Double(outputFPS) * videoFPS + 1e-6).rounded(.down)) : 0
            var index = -1
            while index < n, try input.decode(into: frame) { index += 1; if index < n { frame.unref() } }
            if index < n {
                guard index >= 0 else { throw BackendError(.decode, path: v.source.path, "the video has no frames") }
                n = v.loop ? n % (index + 1) : index
                try input.rewind()
                index = -1
                while index < n, try input.decode(into: frame) { index += 1; if index < n { frame.unref() } }
            }
            try blender.blend(frame, into: planes, path: v.source.path)
            var b = CompactLoopBuilder(frameBytes: bytesPerFrame)
            b.append(planes, layout: layout)
            let payload = b.finish(fps: videoFPS, holdLast: false)
            loop = CompactLoop(payload: payload, frameBytes: bytesPerFrame)
            fixed = true
            if let frameKey { cache.store(payload, for: frameKey) }
            return
        }
        let maxFrames = v.animated ? max(1, BaseStack.cacheBudget / max(1, bytesPerFrame)) : 1
        if overlap, v.animated, let d = input.duration, let rate = input.frameRate, d.isFinite, rate.isFinite,
            Int((d * rate).rounded(.up)) + 2 < maxFrames
        {
            if !v.loop { holdLast = true }
            progressive = ProgressiveLoop(
                input: input, blender: blender, planes: planes, frame: frame, path: v.source.path, layout: layout, maxFrames: maxFrames,
                cache: key.map { (cache, $0) }, videoFPS: videoFPS, holdLast: holdLast)
            return
        }
        var builder = CompactLoopBuilder(frameBytes: bytesPerFrame, reserving: maxFrames)
        while builder.count < maxFrames, try input.decode(into: frame) {
            try blender.blend(frame, into: planes, path: v.source.path)
            builder.append(planes, layout: layout)
            frame.unref()
        }
        guard builder.count > 0 else { throw BackendError(.decode, path: v.source.path, "the video has no frames") }
        if v.animated && builder.count == maxFrames, try input.decode(into: frame) {
            // Too long to cache: play it from the file, looping.
            try input.rewind()
            streaming = StreamingVideo(input: input, blender: blender, planes: planes, frame: frame)
            return
        }
        if !v.loop && v.animated { holdLast = true }
        let payload = builder.finish(fps: videoFPS, holdLast: holdLast)
        loop = CompactLoop(payload: payload, frameBytes: bytesPerFrame)
        if let key { cache.store(payload, for: key) }
    }

    /// The loop while it is being blended beside the first frames.
    private var progressive: ProgressiveLoop?

    deinit { progressive?.cancel() }

    /// Waits until the loop is completely blended (and in the layer cache).
    func waitUntilPrepared() { progressive?.waitUntilDone() }

    /// True while the loop is being blended beside the first frames; `action` then runs once it is complete.
    func whenLoopBlended(_ action: @escaping @Sendable () -> Void) -> Bool {
        guard let progressive else { return false }
        progressive.whenDone(action)
        return true
    }

    /// A video that plays once holds its last frame.
    private var holdLast = false
    /// Prepared for one frame only: the cache holds just it.
    private var fixed = false

    /// The payload of a one-frame loop holding the base of output frame `index` (at `fps`), cut out of the cached
    /// loop under `key`: its header, the entries of that frame in its table, the reference and that frame's
    /// encoding (only their blocks are read and checked).
    private func frameOfLoop(_ cache: LayerCache, _ key: LayerCacheKey, output index: Int, fps: Int) -> [UInt8]? {
        let h = LoopCoding.header
        guard let head = cache.value(for: key, bytes: 0..<h), let header = LoopCoding.header(head, frameBytes: frameBytes) else { return nil }
        let n = Int((Double(index) / Double(fps) * header.fps + 1e-6).rounded(.down))
        let k = header.holdLast ? min(n, header.count - 1) : n % header.count
        let data = h + frameBytes, table = data + header.dataLength
        guard let entries = cache.value(for: key, bytes: (table + 8 * k)..<(table + 8 * k + 16)) else { return nil }
        var r = LayerReader(entries)
        guard let start = try? r.int(), let end = try? r.int(), start >= 0, start < end, end <= header.dataLength,
            var stream = cache.value(for: key, bytes: h..<data), let encoding = cache.value(for: key, bytes: (data + start)..<(data + end))
        else { return nil }
        let valid = encoding.withUnsafeBufferPointer { e in
            guard LoopCoding.isValid(e, frameBytes: frameBytes) else { return false }
            stream.withUnsafeMutableBufferPointer { LoopCoding.apply(e, to: $0.baseAddress!, frameBytes: frameBytes) }
            return true
        }
        guard valid else { return nil }
        var b = CompactLoopBuilder(frameBytes: frameBytes)
        stream.withUnsafeBufferPointer { b.append(stream: $0.baseAddress!) }
        return b.finish(fps: header.fps, holdLast: header.holdLast)
    }

    /// Takes a cached loop if it is well formed for this frame layout.
    private func use(_ payload: [UInt8]) -> Bool {
        guard let l = CompactLoop(payload: payload, frameBytes: frameBytes) else { return false }
        videoFPS = l.fps
        holdLast = l.holdLast
        loop = l
        return true
    }

    /// Writes the base of output frame `index` (at `fps`) into `dst`.
    func render(frame index: Int, fps: Int, into dst: PlanesRef) throws {
        if let streaming {
            try streaming.next()
            let p = streaming.planes
            for row in 0..<height { memcpy(dst.y + row * dst.yStride, p.y + row * width, width) }
            for row in 0..<height / 2 {
                memcpy(dst.u + row * dst.cStride, p.u + row * width / 2, width / 2)
                memcpy(dst.v + row * dst.cStride, p.v + row * width / 2, width / 2)
            }
            return
        }
        let t = Double(index) / Double(fps)
        let n = Int((t * videoFPS + 1e-6).rounded(.down))
        if let progressive {
            let frame = try progressive.frame(n)
            let b = progressive.buffer
            layout.draw(reference: b + LoopCoding.header, encoding: b + frame.lowerBound, count: frame.count, into: dst)
            return
        }
        guard let loop else { return }
        let k = fixed ? 0 : (holdLast ? min(n, loop.count - 1) : n % loop.count)
        let start = loop.offsets[k], end = loop.offsets[k + 1]
        loop.payload.withUnsafeBufferPointer { p in
            layout.draw(reference: p.baseAddress! + LoopCoding.header, encoding: p.baseAddress! + start, count: end - start, into: dst)
        }
    }
}

extension BlendMode {
    /// The render kernels' number for the mode (`rk_blend_rgba_modes`): 0 normal, 1 screen, 2 add.
    var kernelMode: Int32 {
        switch self {
        case .normal: 0
        case .screen: 1
        case .add: 2
        }
    }
}

/// Blends one video frame, fitted to its box, over the static layers under it (in RGB, so screen and add mean
/// what they do in an editor), then the static layers over it.
///
/// The layers under the video are kept as YUV 4:2:0 (3 MB at 1080x1920, where RGBA would be 8 MB) and turned into
/// RGB a band of rows at a time; every step after the video's conversion works per pixel (per 2x2 block for the
/// chroma), so bands give the same bytes as whole frames. Pixels inside `skip` (the window the pictures always
/// cover, which the cached bottom leaves out) are not blended at all.
final class VideoBlender {
    let width: Int, height: Int
    /// Y, then U, then V of the layers under the video.
    let under: [UInt8]
    let video: VideoPlan
    let box: Rect
    let opacity: Double
    let over: [AlphaLayer]
    /// Left, top, right and bottom of the part of the frame nobody reads, moved inwards to even columns and rows.
    private let skip: (left: Int, top: Int, right: Int, bottom: Int)?
    private let scaler = RGBAScaler()
    private var rgba: [UInt8]
    private var band: [UInt8]
    /// Rows blended at a time (even).
    static let bandRows = 16

    init(width: Int, height: Int, under: [UInt8], video: VideoPlan, box: Rect, opacity: Double, over: [AlphaLayer], skip: Rect?) {
        self.width = width
        self.height = height
        self.under = under
        self.video = video
        self.box = box
        self.opacity = opacity
        self.over = over
        if let o = skip {
            let l = max(0, (o.x + 1) & ~1), t = max(0, (o.y + 1) & ~1)
            let r = min(width, (o.x + o.width) & ~1), b = min(height, (o.y + o.height) & ~1)
            self.skip = r > l && b > t ? (l, t, r, b) : nil
        } else {
            self.skip = nil
        }
        rgba = [UInt8](repeating: 0, count: width * height * 4)
        band = [UInt8](repeating: 0, count: width * VideoBlender.bandRows * 4)
    }

    func blend(_ frame: Frame, into planes: PlaneBuffer, path: String) throws {
        let fw = Double(frame.width), fh = Double(frame.height)
        guard fw > 0, fh > 0 else { throw BackendError(.decode, path: path, "a video frame has no size") }
        let s = video.fit == .cover ? max(Double(box.width) / fw, Double(box.height) / fh) : min(Double(box.width) / fw, Double(box.height) / fh)
        let cw = max(1, Int((fw * s).rounded())), ch = max(1, Int((fh * s).rounded()))
        let mode = video.blend.kernelMode
        let o = Int32((opacity * 256).rounded())
        if cw == width && ch == height && box == Rect(x: 0, y: 0, width: width, height: height) {
            // A full-canvas video (the usual overlay): converted straight into the frame's buffer, then blended over
            // the layers under it in place, band by band.
            try scaler.convert(frame, width: cw, height: ch, into: &rgba, path: path)
            blendBands(mode: mode, opacity: o, into: planes)
        } else {
            try blendScaled(frame, cw: cw, ch: ch, mode: mode, opacity: o, path: path)
            rgba.withUnsafeBufferPointer { src in
                rk_rgba_to_yuva420(
                    src.baseAddress, Int32(width), Int32(height), width * 4, planes.y, width, planes.u, width / 2, planes.v, width / 2, nil, 0, nil, 0
                )
            }
        }
        for l in over { l.blend(onto: planes.planes) }
    }

    /// Blends `rgba` (the video) over the layers under it and converts the result into `planes`, `bandRows` rows at
    /// a time, leaving out `skip`.
    private func blendBands(mode: Int32, opacity o: Int32, into planes: PlaneBuffer) {
        let w = width, cw = width / 2, chromaPlane = (width / 2) * (height / 2)
        under.withUnsafeBufferPointer { u in
            rgba.withUnsafeMutableBufferPointer { rgbaBuffer in
                band.withUnsafeMutableBufferPointer { bandBuffer in
                    let uy = u.baseAddress!, uu = uy + w * height, uv = uu + chromaPlane
                    let top = rgbaBuffer.baseAddress!, b = bandBuffer.baseAddress!
                    for r0 in stride(from: 0, to: height, by: VideoBlender.bandRows) {
                        let h = min(VideoBlender.bandRows, height - r0)
                        var spans = [(0, w)]
                        if let k = skip, r0 >= k.top, r0 + h <= k.bottom { spans = [(0, k.left), (k.right, w)] }
                        for (x0, x1) in spans where x1 > x0 {
                            let n = x1 - x0
                            let t = top + (r0 * w + x0) * 4
                            rk_yuv420_to_rgba(
                                uy + r0 * w + x0, w, uu + (r0 / 2) * cw + x0 / 2, cw, uv + (r0 / 2) * cw + x0 / 2, cw, Int32(n), Int32(h), b, n * 4)
                            rk_blend_rgba_modes(t, w * 4, b, n * 4, Int32(n), Int32(h), o, mode, t, w * 4)
                            rk_rgba_to_yuva420(
                                t, Int32(n), Int32(h), w * 4, planes.y + r0 * w + x0, w, planes.u + (r0 / 2) * cw + x0 / 2, cw,
                                planes.v + (r0 / 2) * cw + x0 / 2, cw, nil, 0, nil, 0)
                        }
                    }
                }
            }
        }
    }

    private func blendScaled(_ frame: Frame, cw: Int, ch: Int, mode: Int32, opacity o: Int32, path: String) throws {
        let scaled = try scaler.convert(frame, width: cw, height: ch, path: path)
        // The visible part: the scaled frame centred in the box, clipped to the box and the canvas.
        let left = box.x + (box.width - cw) / 2, top = box.y + (box.height - ch) / 2
        let x0 = max(0, box.x, left), y0 = max(0, box.y, top)
        let x1 = min(width, box.x + box.width, left + cw), y1 = min(height, box.y + box.height, top + ch)
        let w = width, cs = width / 2, chromaPlane = (width / 2) * (height / 2)
        under.withUnsafeBufferPointer { u in
            rgba.withUnsafeMutableBufferPointer { dst in
                let uy = u.baseAddress!
                rk_yuv420_to_rgba(uy, w, uy + w * height, cs, uy + w * height + chromaPlane, cs, Int32(w), Int32(height), dst.baseAddress!, w * 4)
            }
        }
        if x1 > x0 && y1 > y0 {
            scaled.withUnsafeBufferPointer { src in
                rgba.withUnsafeMutableBufferPointer { dst in
                    let d = dst.baseAddress! + (y0 * width + x0) * 4
                    rk_blend_rgba_modes(
                        src.baseAddress! + ((y0 - top) * cw + (x0 - left)) * 4, cw * 4, d, width * 4, Int32(x1 - x0), Int32(y1 - y0), o, mode,
                        d, width * 4)
                }
            }
        }
    }
}

extension PlanesRef {
    /// The planes' pixels without their strides: Y, then U, then V.
    func packed() -> [UInt8] {
        let w = width, h = height
        var out = [UInt8](repeating: 0, count: w * h + 2 * (w / 2) * (h / 2))
        out.withUnsafeMutableBufferPointer { o in
            let b = o.baseAddress!
            for row in 0..<h { memcpy(b + row * w, y + row * yStride, w) }
            for row in 0..<(h / 2) {
                memcpy(b + w * h + row * (w / 2), u + row * cStride, w / 2)
                memcpy(b + w * h + (w / 2) * (h / 2) + row * (w / 2), v + row * cStride, w / 2)
            }
        }
        return out
    }
}

/// A video too long to cache, decoded frame by frame and looped.
final class StreamingVideo {
    let input: MediaInputFile
    let blender: VideoBlender
    let planes: PlaneBuffer
    let frame: AVFrameBox
    init(input: MediaInputFile, blender: VideoBlender, planes: PlaneBuffer, frame: AVFrameBox) {
        self.input = input
        self.blender = blender
        self.planes = planes
        self.frame = frame
    }
    func next() throws {
        frame.unref()
        if try !input.decode(into: frame) {
            try input.rewind()
            guard try input.decode(into: frame) else { throw BackendError(.decode, path: input.path, "the video cannot be looped") }
        }
        try blender.blend(frame, into: planes, path: input.path)
    }
}

/// An overlay loop blended on a thread of its own into one buffer laid out as the layer cache stores it (header
/// space, the reference, the frames' encodings; see `LoopCoding`), so the first frames need not wait for the whole
/// loop. Readers wait only for the frame they show; when the loop is complete its table and header are written
/// after and before the frames, and it goes to the layer cache without a copy.
final class ProgressiveLoop: @unchecked Sendable {
    let buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private let cond = NSCondition()
    /// Where each blended frame's encoding starts in `buffer` (one more entry: where the last ends).
    private var offsets: [Int] = []
    private var finished = false
    private var cancelled = false
    private var failure: (any Error)?
    /// Set when the thread has nothing left to do (the cache written, or it failed or was cancelled), its working
    /// memory is freed and `whenDone` actions have run.
    private var done = false
    private var onDone: [@Sendable () -> Void] = []
    /// The thread's working memory is freed (`onDone` has been taken).
    private var freed = false
    private let frameBytes: Int, holdLast: Bool

    init(
        input: MediaInputFile, blender: VideoBlender, planes: PlaneBuffer, frame: AVFrameBox, path: String, layout: LoopLayout,
        maxFrames: Int, cache: (LayerCache, LayerCacheKey)?, videoFPS: Double, holdLast: Bool
    ) {
        frameBytes = layout.frameBytes
        self.holdLast = holdLast
        let data = LoopCoding.header + frameBytes
        capacity = data + maxFrames * LoopCoding.maxEncoded(frameBytes) + 8 * (maxFrames + 1)
        // Reserved address space: pages never written are never resident.
        buffer = .allocate(capacity: capacity)
        offsets = [data]
        let work = WorkSlot(Work(input: input, blender: blender, planes: planes, frame: frame, layout: layout))
        let thread = Thread { [self] in
            if let w = work.take() { run(w, path: path, maxFrames: maxFrames, cache: cache, videoFPS: videoFPS) }
            Backend.releaseFreeMemory()
            // The decoder, the blender's buffers and the planes (about 33 MB) are freed before anyone is told, and
            // those waiting for the loop are told after the actions ran.
            cond.lock()
            freed = true
            let actions = onDone
            onDone = []
            cond.unlock()
            for action in actions { action() }
            cond.lock()
            done = true
            cond.broadcast()
            cond.unlock()
        }
        thread.name = "rendc-overlay"
        thread.start()
    }

    deinit { buffer.deallocate() }

    /// Hands the work to the thread once, so that it is freed when `run` returns (the thread's closure lives on).
    private final class WorkSlot: @unchecked Sendable {
        private var work: Work?
        init(_ work: Work) { self.work = work }
        func take() -> Work? { defer { work = nil }; return work }
    }

    /// What the thread works with (used by it alone once started).
    private final class Work: @unchecked Sendable {
        let input: MediaInputFile, blender: VideoBlender, planes: PlaneBuffer, frame: AVFrameBox, layout: LoopLayout
        init(input: MediaInputFile, blender: VideoBlender, planes: PlaneBuffer, frame: AVFrameBox, layout: LoopLayout) {
            self.input = input; self.blender = blender; self.planes = planes; self.frame = frame; self.layout = layout
        }
    }

    private func run(_ w: Work, path: String, maxFrames: Int, cache: (LayerCache, LayerCacheKey)?, videoFPS: Double) {
        let reference = buffer + LoopCoding.header
        let stream = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, frameBytes))
        defer { stream.deallocate() }
        do {
            var count = 0, end = offsets[0]
            while count < maxFrames, try w.input.decode(into: w.frame) {
                try w.blender.blend(w.frame, into: w.planes, path: path)
                // Only this thread writes past `end`; readers read what `offsets` publishes.
                w.layout.extract(w.planes, into: count == 0 ? reference : stream)
                end += LoopCoding.encode(count == 0 ? reference : stream, reference: reference, count: frameBytes, into: buffer + end)
                w.frame.unref()
                count += 1
                cond.lock()
                offsets.append(end)
                let stop = cancelled
                cond.broadcast()
                cond.unlock()
                if stop { return }
            }
            guard count > 0 else { throw BackendError(.decode, path: path, "the video has no frames") }
            cond.lock()
            finished = true
            let table = offsets.map { $0 - offsets[0] }
            cond.broadcast()
            cond.unlock()
            if let (cache, key) = cache {
                var t = LayerWriter()
                for o in table { t.int(o) }
                let header = LoopCoding.headerBytes(fps: videoFPS, count: count, frameBytes: frameBytes, holdLast: holdLast, dataLength: table.last!)
                header.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: LoopCoding.header) }
                t.bytes.withUnsafeBufferPointer { (buffer + end).update(from: $0.baseAddress!, count: $0.count) }
                cache.store(UnsafeRawBufferPointer(start: buffer, count: end + t.bytes.count), for: key)
            }
        } catch {
            cond.lock()
            failure = error
            cond.broadcast()
            cond.unlock()
        }
    }

    /// Where in `buffer` the encoding of video frame `n` is (looped over the whole loop, or held at its end), once it
    /// is blended.
    func frame(_ n: Int) throws -> Range<Int> {
        cond.lock()
        defer { cond.unlock() }
        while true {
            let decoded = offsets.count - 1
            if n < decoded { return offsets[n]..<offsets[n + 1] }
            if let failure { throw failure }
            if finished {
                let k = holdLast ? decoded - 1 : n % decoded
                return offsets[k]..<offsets[k + 1]
            }
            cond.wait()
        }
    }

    func cancel() {
        cond.lock()
        cancelled = true
        cond.unlock()
    }

    /// Runs `action` (on the loop's thread, or here if that has finished already) once the thread has freed its
    /// working memory, before `waitUntilDone` returns.
    func whenDone(_ action: @escaping @Sendable () -> Void) {
        cond.lock()
        if !freed {
            onDone.append(action)
            cond.unlock()
            return
        }
        cond.unlock()
        action()
    }

    /// Waits until the whole loop is blended and stored.
    func waitUntilDone() {
        cond.lock()
        while !done { cond.wait() }
        cond.unlock()
    }
}
