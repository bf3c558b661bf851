import Foundation
import LibAV
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// A product image decoded once and pre-scaled for its window, ready for a Ken Burns warp every frame.
final class PreparedImage {
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

    init(path: String, window: Rect, fit: Fit, motions: [Motion]) throws {
        self.path = path
        self.window = window
        self.fit = fit
        let maxZoom = motions.map(\.maxZoom).max() ?? 1
        let needed = (width: Int(Double(window.width) * maxZoom / 8), height: Int(Double(window.height) * maxZoom / 8))
        var rgba = try ImageFile.decode(path: path, minimumSize: (max(1, needed.width * 8 / 2), max(1, needed.height * 8 / 2)))
        guard rgba.width >= 2, rgba.height >= 2 else { throw BackendError(.decode, path: path, "image is smaller than 2x2 pixels") }
        let W = Double(window.width), H = Double(window.height)
        let iw = Double(rgba.width), ih = Double(rgba.height)
        originalSize = (iw, ih)
        switch fit {
        case .cover:
            baseScale = max(W / iw, H / ih)
            // Union of the zoom-1 views at every pan point the shots use: nothing outside it is ever shown.
            let vw = W / baseScale, vh = H / baseScale
            var x0 = iw, y0 = ih, x1 = 0.0, y1 = 0.0
            for m in motions.isEmpty ? [Motion.still] : motions {
                for c in [m.panFrom, m.panTo] {
                    let cx = min(max(c.x * iw, vw / 2), iw - vw / 2), cy = min(max(c.y * ih, vh / 2), ih - vh / 2)
                    x0 = min(x0, cx - vw / 2); y0 = min(y0, cy - vh / 2); x1 = max(x1, cx + vw / 2); y1 = max(y1, cy + vh / 2)
                }
            }
            crop = (max(0, x0.rounded(.down)), max(0, y0.rounded(.down)), min(iw, x1.rounded(.up)) - max(0, x0.rounded(.down)), min(ih, y1.rounded(.up)) - max(0, y0.rounded(.down)))
        case .contain:
            baseScale = min(W / iw, H / ih)
            crop = (0, 0, iw, ih)
        }
        // Pre-scale the crop so that the largest zoom samples it 1:1.
        let k = baseScale * maxZoom
        let pw = max(2, Int((crop.w * k).rounded())), ph = max(2, Int((crop.h * k).rounded()))
        let cropped = PreparedImage.cropRGBA(rgba, x: Int(crop.x), y: Int(crop.y), w: Int(crop.w), h: Int(crop.h))
        rgba = RGBAImage(width: 0, height: 0, pixels: [])
        let scaled = try RGBAScaler().scaleRGBA(cropped.pixels, width: cropped.width, height: cropped.height, toWidth: pw, toHeight: ph)
        picture = YUVImage(rgba: RGBAImage(width: pw, height: ph, pixels: scaled))
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

/// The layers under the images: background colour plus the overlay video, blended once per overlay frame and
/// cached as YUV (only the parts the images never cover). Long overlays beyond the memory budget are decoded and
/// blended as they play instead.
final class BaseSource {
    let width: Int, height: Int
    let background: Color
    /// Byte runs of the frame (per plane) that the cache holds: everything outside the always-covered rectangle.
    private struct Segment { var plane: Int; var row: Int; var x: Int; var length: Int }
    private var segments: [Segment] = []
    private var cache: [[UInt8]] = []
    private var overlayFPS: Double = 30
    private var bgY: UInt8 = 16, bgU: UInt8 = 128, bgV: UInt8 = 128
    private var streaming: StreamingOverlay?
    /// Memory the cache may use.
    static let cacheBudget = 160 * 1024 * 1024

    init(width: Int, height: Int, background: Color, overlay: OverlayPlan?, occluded: Rect?, outputFPS: Int) throws {
        self.width = width
        self.height = height
        self.background = background
        rk_rgb_to_yuv(background.r, background.g, background.b, &bgY, &bgU, &bgV)
        guard let overlay else { return }
        segments = BaseSource.segments(width: width, height: height, occluded: occluded)
        let bytesPerFrame = segments.reduce(0) { $0 + $1.length }
        let input = try MediaInputFile(path: overlay.source.path, mediaType: .video)
        overlayFPS = input.frameRate ?? Double(outputFPS)
        let blender = OverlayBlender(width: width, height: height, background: background, overlay: overlay)
        let frame = try AVFrameBox()
        let planes = YUVPlanes(width: width, height: height)
        let maxFrames = overlay.animated ? max(1, BaseSource.cacheBudget / max(1, bytesPerFrame)) : 1
        while cache.count < maxFrames, try input.decode(into: frame) {
            try blender.blend(frame, into: planes, path: overlay.source.path)
            cache.append(extract(planes))
            frame.unref()
        }
        guard !cache.isEmpty else { throw BackendError(.decode, path: overlay.source.path, "the overlay video has no frames") }
        if overlay.animated && cache.count == maxFrames, try input.decode(into: frame) {
            // Too long to cache: play it from the file, looping.
            cache = []
            try input.rewind()
            streaming = StreamingOverlay(input: input, blender: blender, planes: planes, frame: frame)
        }
    }

    private static func segments(width: Int, height: Int, occluded: Rect?) -> [Segment] {
        var result: [Segment] = []
        for plane in 0..<3 {
            let sub = plane == 0 ? 1 : 2
            let pw = width / sub, ph = height / sub
            for row in 0..<ph {
                if let o = occluded, row >= (o.y + sub - 1) / sub, row < (o.y + o.height) / sub {
                    let left = (o.x + sub - 1) / sub, right = (o.x + o.width) / sub
                    if left > 0 { result.append(Segment(plane: plane, row: row, x: 0, length: left)) }
                    if right < pw { result.append(Segment(plane: plane, row: row, x: right, length: pw - right)) }
                } else {
                    result.append(Segment(plane: plane, row: row, x: 0, length: pw))
                }
            }
        }
        return result
    }

    private func extract(_ p: YUVPlanes) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: segments.reduce(0) { $0 + $1.length })
        var offset = 0
        out.withUnsafeMutableBufferPointer { dst in
            for s in segments {
                let (plane, stride) = s.plane == 0 ? (p.y, p.width) : (s.plane == 1 ? p.u : p.v, p.width / 2)
                plane.withUnsafeBufferPointer { src in
                    memcpy(dst.baseAddress! + offset, src.baseAddress! + s.row * stride + s.x, s.length)
                }
                offset += s.length
            }
        }
        return out
    }

    /// Writes the base of output frame `index` (at `fps`) into `dst`.
    func render(frame index: Int, fps: Int, into dst: PlanesRef) throws {
        if let streaming {
            try streaming.next()
            let p = streaming.planes
            p.y.withUnsafeBufferPointer { y in
                for row in 0..<height { memcpy(dst.y + row * dst.yStride, y.baseAddress! + row * width, width) }
            }
            p.u.withUnsafeBufferPointer { u in
                p.v.withUnsafeBufferPointer { v in
                    for row in 0..<height / 2 {
                        memcpy(dst.u + row * dst.cStride, u.baseAddress! + row * width / 2, width / 2)
                        memcpy(dst.v + row * dst.cStride, v.baseAddress! + row * width / 2, width / 2)
                    }
                }
            }
            return
        }
        guard !cache.isEmpty else {
            rk_fill_plane(dst.y, dst.yStride, Int32(width), Int32(height), bgY)
            rk_fill_plane(dst.u, dst.cStride, Int32(width / 2), Int32(height / 2), bgU)
            rk_fill_plane(dst.v, dst.cStride, Int32(width / 2), Int32(height / 2), bgV)
            return
        }
        let t = Double(index) / Double(fps)
        let k = Int((t * overlayFPS + 1e-6).rounded(.down)) % cache.count
        var offset = 0
        cache[k].withUnsafeBufferPointer { src in
            for s in segments {
                let (plane, stride) = s.plane == 0 ? (dst.y, dst.yStride) : (s.plane == 1 ? dst.u : dst.v, dst.cStride)
                memcpy(plane + s.row * stride + s.x, src.baseAddress! + offset, s.length)
                offset += s.length
            }
        }
    }
}

/// Own contiguous YUV 4:2:0 planes.
final class YUVPlanes {
    let width: Int, height: Int
    var y: [UInt8], u: [UInt8], v: [UInt8]
    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        y = [UInt8](repeating: 16, count: width * height)
        u = [UInt8](repeating: 128, count: width * height / 4)
        v = u
    }
}

/// Blends one overlay video frame over the background colour, scaled to cover the canvas.
final class OverlayBlender {
    let width: Int, height: Int
    let background: Color
    let overlay: OverlayPlan
    private let scaler = RGBAScaler()
    private var rgba: [UInt8]

    init(width: Int, height: Int, background: Color, overlay: OverlayPlan) {
        self.width = width
        self.height = height
        self.background = background
        self.overlay = overlay
        rgba = [UInt8](repeating: 0, count: width * height * 4)
    }

    func blend(_ frame: Frame, into planes: YUVPlanes, path: String) throws {
        let fw = Double(frame.width), fh = Double(frame.height)
        let s = max(Double(width) / fw, Double(height) / fh)
        let cw = max(width, Int((fw * s).rounded())), ch = max(height, Int((fh * s).rounded()))
        let scaled = try scaler.convert(frame, width: cw, height: ch, path: path)
        let ox = (cw - width) / 2, oy = (ch - height) / 2
        let mode: Int32 = overlay.blend == .screen ? 1 : (overlay.blend == .add ? 2 : 0)
        let opacity = Int32((overlay.opacity * 256).rounded())
        scaled.withUnsafeBufferPointer { src in
            rgba.withUnsafeMutableBufferPointer { dst in
                rk_blend_rgba_over_color(src.baseAddress! + (oy * cw + ox) * 4, cw * 4, Int32(width), Int32(height),
                                         background.r, background.g, background.b, opacity, mode, dst.baseAddress!, width * 4)
            }
        }
        rgba.withUnsafeBufferPointer { src in
            rk_rgba_to_yuva420(src.baseAddress, Int32(width), Int32(height), width * 4, &planes.y, width, &planes.u, width / 2, &planes.v, width / 2, nil, 0, nil, 0)
        }
    }
}

/// An overlay too long to cache, decoded frame by frame and looped.
final class StreamingOverlay {
    let input: MediaInputFile
    let blender: OverlayBlender
    let planes: YUVPlanes
    let frame: AVFrameBox
    init(input: MediaInputFile, blender: OverlayBlender, planes: YUVPlanes, frame: AVFrameBox) {
        self.input = input
        self.blender = blender
        self.planes = planes
        self.frame = frame
    }
    func next() throws {
        frame.unref()
        if try !input.decode(into: frame) {
            try input.rewind()
            guard try input.decode(into: frame) else { throw BackendError(.decode, path: input.path, "overlay video cannot be looped") }
        }
        try blender.blend(frame, into: planes, path: input.path)
    }
}
