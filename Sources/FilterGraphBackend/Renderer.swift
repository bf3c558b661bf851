import Foundation
import LibAV
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// Runs a `RenderPlan`: prepares every static layer once (images decoded and pre-scaled, overlay loop blended
/// over the background, frame and caption as premultiplied YUVA), then streams frames through the compositor into
/// libx264 with the audio graph alongside. Memory does not grow with the video's length.
public final class FilterGraphRenderer {
    public let plan: RenderPlan
    private let base: BaseSource
    private let images: [PreparedImage]
    private let overlays: [AlphaLayer]
    private var scratch: [Int32]

    /// Prepares the plan's inputs. `caption` is the text renderer's image for `plan.caption` (box-sized).
    public init(plan: RenderPlan, caption: RGBAImage?) throws {
        self.plan = plan
        var occluded: Rect?
        if let imgs = plan.images, imgs.fit == .cover { occluded = imgs.window }
        base = try BaseSource(width: plan.width, height: plan.height, background: plan.background, overlay: plan.overlay, occluded: occluded, outputFPS: plan.fps)
        var prepared: [PreparedImage] = []
        if let imgs = plan.images {
            for (i, input) in imgs.inputs.enumerated() {
                let motions = imgs.shots.filter { $0.image == i }.map(\.motion)
                guard !motions.isEmpty else { prepared.append(try PreparedImage(path: input.path, window: imgs.window, fit: imgs.fit, motions: [.still])); continue }
                prepared.append(try PreparedImage(path: input.path, window: imgs.window, fit: imgs.fit, motions: motions))
            }
        }
        images = prepared
        var layers: [AlphaLayer] = []
        switch plan.frame {
        case .border(let color, let width)?:
            layers.append(AlphaLayer(image: FilterGraphRenderer.border(width: plan.width, height: plan.height, color: color, thickness: width), x: 0, y: 0))
        case .image(let png)?:
            let decoded = try ImageFile.decode(path: png.path)
            let scaled = try RGBAScaler().scaleRGBA(decoded.pixels, width: decoded.width, height: decoded.height, toWidth: plan.width, toHeight: plan.height)
            layers.append(AlphaLayer(image: RGBAImage(width: plan.width, height: plan.height, pixels: scaled), x: 0, y: 0))
        case nil:
            break
        }
        if let c = plan.caption, let caption, !caption.isFullyTransparent {
            layers.append(AlphaLayer(image: caption, x: c.box.x, y: c.box.y))
        }
        overlays = layers
        scratch = [Int32](repeating: 0, count: 3 * max(plan.width, 16))
    }

    /// A transparent canvas with a solid border `thickness` pixels wide inside its edge.
    static func border(width: Int, height: Int, color: Color, thickness: Int) -> RGBAImage {
        var img = RGBAImage(width: width, height: height)
        let px: [UInt8] = [color.r, color.g, color.b, color.a]
        img.pixels.withUnsafeMutableBufferPointer { p in
            for y in 0..<height {
                let full = y < thickness || y >= height - thickness
                for x in 0..<width where full || x < thickness || x >= width - thickness {
                    let i = (y * width + x) * 4
                    p[i] = px[0]; p[i + 1] = px[1]; p[i + 2] = px[2]; p[i + 3] = px[3]
                }
            }
        }
        return img
    }

    /// True when frame `index` is pixel-identical to frame `index - 1`: nothing moves (still overlay or none, a
    /// still shot) and no cut falls between them.
    func repeatsPreviousFrame(_ index: Int) -> Bool {
        guard plan.overlay?.animated != true else { return false }
        guard let imgs = plan.images else { return true }
        guard let shot = imgs.shots.last(where: { $0.startFrame <= index }) else { return false }
        return shot.startFrame < index && shot.motion.isStill
    }

    /// Composes output frame `index` into `dst`.
    func compose(frame index: Int, into dst: PlanesRef) throws {
        try base.render(frame: index, fps: plan.fps, into: dst)
        if let imgs = plan.images, let shot = imgs.shots.last(where: { $0.startFrame <= index }) {
            let image = images[shot.image]
            let t = shot.frameCount > 1 ? Double(index - shot.startFrame) / Double(shot.frameCount - 1) : 0
            let p = image.placement(zoom: shot.motion.zoom(at: t), center: shot.motion.center(at: t))
            warp(image, p, window: imgs.window, into: dst)
        }
        for layer in overlays { layer.blend(onto: dst) }
    }

    private func warp(_ image: PreparedImage, _ p: (dst: Rect, x0: Double, y0: Double, sx: Double, sy: Double), window: Rect, into dst: PlanesRef) {
        let pic = image.picture
        let ox = window.x + p.dst.x, oy = window.y + p.dst.y
        let w = min(p.dst.width, dst.width - ox) & ~1, h = min(p.dst.height, dst.height - oy) & ~1
        guard w > 0, h > 0 else { return }
        scratch.withUnsafeMutableBufferPointer { s in
            let sc = s.baseAddress!
            if let alpha = pic.a, let calpha = pic.ca {
                // Translucent product image (a PNG cut-out): warp into temporaries and blend.
                var ty = [UInt8](repeating: 0, count: w * h), ta = ty
                var tu = [UInt8](repeating: 0, count: w * h / 4), tv = tu, tca = tu
                warpPlane(pic.y, pic.width, pic.height, &ty, w, h, p.x0, p.y0, p.sx, p.sy, sc)
                warpPlane(alpha, pic.width, pic.height, &ta, w, h, p.x0, p.y0, p.sx, p.sy, sc)
                warpPlane(pic.u, pic.width / 2, pic.height / 2, &tu, w / 2, h / 2, p.x0 / 2, p.y0 / 2, p.sx, p.sy, sc)
                warpPlane(pic.v, pic.width / 2, pic.height / 2, &tv, w / 2, h / 2, p.x0 / 2, p.y0 / 2, p.sx, p.sy, sc)
                warpPlane(calpha, pic.width / 2, pic.height / 2, &tca, w / 2, h / 2, p.x0 / 2, p.y0 / 2, p.sx, p.sy, sc)
                for row in 0..<h { rk_blend_straight_row(dst.y + (oy + row) * dst.yStride + ox, ty.withUnsafeBufferPointer { $0.baseAddress! } + row * w, ta.withUnsafeBufferPointer { $0.baseAddress! } + row * w, Int32(w)) }
                for row in 0..<h / 2 {
                    let o = (oy / 2 + row) * dst.cStride + ox / 2
                    rk_blend_straight_row(dst.u + o, tu.withUnsafeBufferPointer { $0.baseAddress! } + row * w / 2, tca.withUnsafeBufferPointer { $0.baseAddress! } + row * w / 2, Int32(w / 2))
                    rk_blend_straight_row(dst.v + o, tv.withUnsafeBufferPointer { $0.baseAddress! } + row * w / 2, tca.withUnsafeBufferPointer { $0.baseAddress! } + row * w / 2, Int32(w / 2))
                }
            } else {
                pic.y.withUnsafeBufferPointer { src in
                    rk_warp_plane(src.baseAddress, Int32(pic.width), Int32(pic.height), pic.width, dst.y + oy * dst.yStride + ox, Int32(w), Int32(h), dst.yStride, p.x0, p.y0, p.sx, p.sy, sc)
                }
                pic.u.withUnsafeBufferPointer { src in
                    rk_warp_plane(src.baseAddress, Int32(pic.width / 2), Int32(pic.height / 2), pic.width / 2, dst.u + (oy / 2) * dst.cStride + ox / 2, Int32(w / 2), Int32(h / 2), dst.cStride, p.x0 / 2, p.y0 / 2, p.sx, p.sy, sc)
                }
                pic.v.withUnsafeBufferPointer { src in
                    rk_warp_plane(src.baseAddress, Int32(pic.width / 2), Int32(pic.height / 2), pic.width / 2, dst.v + (oy / 2) * dst.cStride + ox / 2, Int32(w / 2), Int32(h / 2), dst.cStride, p.x0 / 2, p.y0 / 2, p.sx, p.sy, sc)
                }
            }
        }
    }

    private func warpPlane(_ src: [UInt8], _ sw: Int, _ sh: Int, _ dst: inout [UInt8], _ dw: Int, _ dh: Int,
                           _ x0: Double, _ y0: Double, _ sx: Double, _ sy: Double, _ scratch: UnsafeMutablePointer<Int32>) {
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                rk_warp_plane(s.baseAddress, Int32(sw), Int32(sh), sw, d.baseAddress, Int32(dw), Int32(dh), dw, x0, y0, sx, sy, scratch)
            }
        }
    }

    private func makeFrame() throws -> AVFrameBox { try AVFrameBox.video(width: plan.width, height: plan.height) }

    /// One composed frame as RGBA (for `rendc still` and tests).
    public func still(frame index: Int) throws -> RGBAImage {
        let frame = try makeFrame()
        let planes = PlanesRef(frame: frame)
        try compose(frame: min(max(0, index), plan.frameCount - 1), into: planes)
        return rgba(of: planes)
    }

    private func rgba(of planes: PlanesRef) -> RGBAImage {
        var out = [UInt8](repeating: 0, count: plan.width * plan.height * 4)
        rk_yuv420_to_rgba(planes.y, planes.yStride, planes.u, planes.cStride, planes.v, planes.cStride, Int32(plan.width), Int32(plan.height), &out, plan.width * 4)
        return RGBAImage(width: plan.width, height: plan.height, pixels: out)
    }

    /// Renders the video to `output` (and the thumbnail to `thumbnail`), each written to a temporary file beside
    /// its destination and renamed on success; nothing partial is left on failure or cancellation.
    public func render(
        to output: String, thumbnail: String?,
        progress: (_ frame: Int, _ total: Int) -> Void = { _, _ in },
        shouldCancel: () -> Bool = { false }
    ) throws {
        let outURL = URL(fileURLWithPath: output)
        let tempVideo = outURL.deletingLastPathComponent().appendingPathComponent(".\(outURL.lastPathComponent).\(UUID().uuidString).partial.mp4").path
        defer { try? FileManager.default.removeItem(atPath: tempVideo) }
        var thumbnailImage: RGBAImage?
        do {
            let writer = try MP4Writer(path: tempVideo, plan: plan)
            let audio = try AudioSource(plan: plan, frameSize: writer.audioFrameSize)
            let frame = try makeFrame()
            let thumbFrame = plan.thumbnailFrame
            let fps = Double(plan.fps)
            for index in 0..<plan.frameCount {
                if shouldCancel() { throw BackendError(.cancelled, "the render was cancelled") }
                // av_frame_make_writable keeps the pixels (it copies if the encoder still holds the buffer), so a
                // frame identical to the last one (freeze mode, inside a shot) is not composed again.
                try frame.makeWritable()
                let planes = PlanesRef(frame: frame)
                if index == 0 || !repeatsPreviousFrame(index) { try compose(frame: index, into: planes) }
                if index == thumbFrame && thumbnail != nil { thumbnailImage = rgba(of: planes) }
                frame.pts = Int64(index)
                try writer.sendVideo(frame)
                // Keep audio about half a second ahead of video so the muxer interleaves closely.
                let videoTime = Double(index + 1) / fps
                while !audio.finished && audio.seconds < videoTime + 0.5, let a = try audio.next() {
                    try writer.sendAudio(a)
                }
                progress(index + 1, plan.frameCount)
            }
            while let a = try audio.next() { try writer.sendAudio(a) }
            try writer.finish()
        }
        if let thumbnail {
            guard let thumbnailImage else { throw BackendError(.encode, path: thumbnail, "thumbnail frame \(plan.thumbnailFrame) was not rendered") }
            try ImageFile.writeJPEG(thumbnailImage, to: thumbnail)
        }
        do {
            try AtomicFile.replace(tempVideo, with: output)
        } catch {
            if let thumbnail { try? FileManager.default.removeItem(atPath: thumbnail) }
            throw error
        }
    }
}
