import LibAV
import Foundation
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// One layer (or run of layers) of the frame, drawn in order.
protocol Stage: AnyObject {
    func draw(frame: Int, into dst: PlanesRef) throws
    /// True when the stage may look different at `frame` than at `frame - 1`.
    func changes(at frame: Int) -> Bool
}

/// Draws a plan's layers bottom to top. The bottom run of layers that never move (colours, static art and at most
/// one looping video) is composed once per video frame and cached; every other layer is a stage that costs only
/// its own pixels: static art is blended as runs of covered pixels, animated layers through one affine
/// resampling of their own box, pictures through one Ken Burns warp per cell.
final class Compositor {
    let plan: RenderPlan
    private let base: BaseStack
    private let stages: [Stage]

    /// `texts`: the text renderer's image for each text layer, by layer index (box-sized). With `onlyFrame`, only
    /// what that frame shows is prepared (a still).
    init(plan: RenderPlan, texts: [Int: RGBAImage], onlyFrame: Int? = nil, options: RenderOptions = RenderOptions()) throws {
        self.plan = plan
        let full = FrameSpan(0, plan.frameCount)
        var prefix: [LayerPlan] = []
        var video: (VideoPlan, LayerPlan)?
        var rest = plan.layers[...]
        // The cached bottom: static, always-visible layers, with at most one video among them.
        while let l = rest.first, l.isStatic, l.visible == [full] {
            if case .media = l.content { break }
            if case .video(let v) = l.content {
                guard video == nil, l.rotation == 0, l.radius == 0, l.shadow == nil else { break }
                video = (v, l)
            }
            prefix.append(l)
            rest = rest.dropFirst()
        }
        // A still needs only the layers its frame shows (one text of a counter, the cards already in).
        if let f = onlyFrame { rest = rest.filter { $0.isVisible(at: f) }[...] }
        // Static art (colours, borders, text, shapes, pictures: tens of milliseconds for canvas-sized layers) is drawn
        // on a thread of its own while the media stages and the cached bottom are prepared here.
        let art = ArtPreparation(prefix: prefix, rest: Array(rest), texts: texts, fps: plan.fps)
        var stages: [(LayerPlan, Stage?)] = []
        var occluded: Rect?
        // Static layers right above an opaque media layer that never touch its window (golden-frame's border): the
        // media layer paints nothing else, so drawing them before it gives the same pixels, and they join the
        // cached bottom instead of being blended every frame.
        var lifted: [Sprite] = []
        for (n, l) in rest.enumerated() {
            switch l.content {
            case .media(let m):
                let stage = try MediaStage(
                    layer: l, media: m, canvasWidth: plan.width, canvasHeight: plan.height, fps: plan.fps, onlyFrame: onlyFrame, options: options)
                if n == 0, stage.coversWindow { occluded = m.window }
                stages.append((l, stage))
            case .video(let v):
                stages.append((l, try VideoStage(layer: l, video: v, fps: plan.fps)))
            default:
                if let window = occluded, stages.count == 1, l.isStatic, l.visible == [full] {
                    let baked = try art.stage(l.index).sprite.baked(l.transform(frame: 0, time: 0), pivot: l.pivot)
                    if baked.isOutside(window) {
                        lifted.append(baked)
                        continue
                    }
                }
                stages.append((l, nil))
            }
        }
        var under: [Sprite] = [], over: [Sprite] = []
        var seenVideo = false
        for l in prefix {
            if case .video = l.content { seenVideo = true; continue }
            let s = try art.prefixSprite(l.index)
            if seenVideo { over.append(s) } else { under.append(s) }
        }
        over += lifted
        base = try BaseStack(
            width: plan.width, height: plan.height, under: under, video: video, over: over, occluded: occluded, outputFPS: plan.fps,
            onlyFrame: onlyFrame, cache: options.cache,
            overlap: options.overlapPreparation)
        options.trace?(.baseReady)
        // While the overlay loop is blended beside the first frames, the pictures after the next shot's wait for it.
        let preparers = stages.compactMap { ($0.1 as? MediaStage)?.pictures }
        for p in preparers { p.hold() }
        let trace = options.trace
        let blending = base.whenLoopBlended {
            trace?(.loopBlended)
            for p in preparers { p.unhold() }
        }
        if !blending { for p in preparers { p.unhold() } }
        self.stages = try stages.map { l, stage -> Stage in
            if let stage { return stage }
            return try art.stage(l.index)
        }
    }

    /// Frame 0 was sent to the encoder: what later frames need may be prepared now.
    func firstFrameSent() {
        for case let stage as MediaStage in stages { stage.firstFrameSent() }
    }

    /// Waits until everything prepared beside the first frames is ready (and in the layer cache).
    func waitUntilPrepared() {
        base.waitUntilPrepared()
        for case let stage as MediaStage in stages { stage.waitUntilPrepared() }
    }

    func compose(frame index: Int, into dst: PlanesRef) throws {
        try base.render(frame: index, fps: plan.fps, into: dst)
        for stage in stages { try stage.draw(frame: index, into: dst) }
    }

    /// True when frame `index` is pixel-identical to frame `index - 1`.
    func repeatsPreviousFrame(_ index: Int) -> Bool {
        guard index > 0, !base.isAnimated else { return false }
        return !stages.contains { $0.changes(at: index) }
    }
}

// MARK: - Static art

/// Draws a plan's static art on a thread of its own, in the order the compositor needs it: the layers of the cached
/// bottom (baked), then the sprite stages. Waiting for one rethrows its error.
final class ArtPreparation: @unchecked Sendable {
    private let cond = NSCondition()
    private var prefixSprites: [Int: Result<Sprite, any Error>] = [:]
    private var stages: [Int: Result<SpriteStage, any Error>] = [:]
    private let bottom: [LayerPlan], sprites: [LayerPlan], texts: [Int: RGBAImage], fps: Int

    init(prefix: [LayerPlan], rest: [LayerPlan], texts: [Int: RGBAImage], fps: Int) {
        bottom = prefix.filter {
            if case .video = $0.content { return false }
            return true
        }
        sprites = rest.filter {
            switch $0.content {
            case .media, .video: return false
            default: return true
            }
        }
        self.texts = texts
        self.fps = fps
        guard !bottom.isEmpty || !sprites.isEmpty else { return }
        let thread = Thread { [self] in run() }
        thread.name = "rendc-art"
        thread.start()
    }

    private func run() {
        for l in bottom {
            let r = Result<Sprite, any Error> { try LayerArt.sprite(for: l, texts: texts).baked(l.transform(frame: 0, time: 0), pivot: l.pivot) }
            cond.lock(); prefixSprites[l.index] = r; cond.broadcast(); cond.unlock()
        }
        for l in sprites {
            let r = Result<SpriteStage, any Error> { SpriteStage(layer: l, sprite: try LayerArt.sprite(for: l, texts: texts), fps: fps) }
            cond.lock(); stages[l.index] = r; cond.broadcast(); cond.unlock()
        }
    }

    /// The baked sprite of bottom layer `index`, once drawn.
    func prefixSprite(_ index: Int) throws -> Sprite {
        cond.lock(); defer { cond.unlock() }
        while prefixSprites[index] == nil { cond.wait() }
        return try prefixSprites[index]!.get()
    }

    /// The sprite stage of layer `index`, once drawn.
    func stage(_ index: Int) throws -> SpriteStage {
        cond.lock(); defer { cond.unlock() }
        while stages[index] == nil { cond.wait() }
        return try stages[index]!.get()
    }
}

enum LayerArt {
    /// A media layer's drop shadow, made at its window's size (`left`, `top`: where the window's top-left lies in
    /// it) and cleared wherever the window (its rounded box, its rounded cards) covers wholly: as CSS's box-shadow,
    /// it never shows under the layer, not even through a translucent one, and costs only its rim. Both engines
    /// draw this one image: the fast one as a sprite, the stock graph as art.
    static func mediaShadow(_ l: LayerPlan, _ media: MediaPlan, _ s: Shadow) -> (RGBAImage, left: Int, top: Int) {
        let w = media.window
        var shape = Raster.fill(.solid(.white), width: w.width, height: w.height)
        let cover = l.radius > 0 || media.cellRadius > 0 ? media.coverage(width: w.width, height: w.height, radius: l.radius) : nil
        if let cover { Raster.mask(&shape, cover) }
        var (img, left, top) = Raster.shadow(of: shape, s)
        for row in 0..<w.height where row + top >= 0 && row + top < img.height {
            let base = (row + top) * img.width + left
            for col in 0..<w.width where col + left >= 0 && col + left < img.width && (cover?[row * w.width + col] ?? 255) == 255 {
                img.pixels[(base + col) * 4 + 3] = 0
            }
        }
        return (img, left, top)
    }

    /// The layer drawn once at its box (shadow included), before rotation, animation and opacity.
    static func sprite(for l: LayerPlan, texts: [Int: RGBAImage]) throws -> Sprite {
        var (img, x, y) = try rgba(for: l, texts: texts)
        // Even origin for 4:2:0: shift the pixels by one when the box starts on an odd column or row.
        if x & 1 != 0 || y & 1 != 0 {
            img = pad(img, left: x & 1, top: y & 1)
            x -= x & 1
            y -= y & 1
        }
        return Sprite(rgba: img, x: x, y: y)
    }

    /// The layer drawn once at its box (shadow included) as straight RGBA, and the canvas position of its
    /// top-left pixel.
    static func rgba(for l: LayerPlan, texts: [Int: RGBAImage]) throws -> (RGBAImage, x: Int, y: Int) {
        let b = l.box
        var img: RGBAImage
        switch l.content {
        case .color(let fill):
            img = Raster.fill(fill, width: b.width, height: b.height)
            if l.radius > 0 { Raster.mask(&img, Raster.coverage(.roundedRectangle, width: b.width, height: b.height, radius: Double(l.radius))) }
        case .image(let p):
            img = try picture(p, box: b, radius: l.radius)
        case .text:
            img = texts[l.index] ?? RGBAImage(width: b.width, height: b.height)
        case .shape(let s):
            let shape: ShapeKind = s.shape == .rectangle && l.radius > 0 ? .roundedRectangle : s.shape
            img = RGBAImage(width: b.width, height: b.height)
            if let fill = s.fill {
                img = Raster.fill(fill, width: b.width, height: b.height)
                Raster.mask(&img, Raster.coverage(shape, width: b.width, height: b.height, radius: Double(l.radius)))
            }
            if let stroke = s.stroke, stroke.width > 0 {
                var ring = Raster.fill(.solid(stroke.color), width: b.width, height: b.height)
                Raster.mask(&ring, Raster.coverage(shape, width: b.width, height: b.height, radius: Double(l.radius), stroke: stroke.width))
                Raster.over(&img, ring)
            }
        case .border(let color, let width):
            img = Raster.border(width: b.width, height: b.height, color: color, thickness: width, radius: l.radius)
        case .media, .video:
            img = RGBAImage(width: b.width, height: b.height)
        }
        var x = b.x, y = b.y
        if let shadow = l.shadow {
            let (shadowed, dx, dy) = Raster.withShadow(img, shadow)
            img = shadowed
            x += dx
            y += dy
        }
        return (img, x, y)
    }

    static func pad(_ img: RGBAImage, left: Int, top: Int) -> RGBAImage {
        var out = RGBAImage(width: img.width + left, height: img.height + top)
        Raster.place(img.pixels, width: img.width, height: img.height, at: (left, top), into: &out)
        return out
    }

    /// A static picture fitted into the box without distortion: contain centres it, cover crops its middle.
    static func picture(_ p: PicturePlan, box: Rect, radius: Int) throws -> RGBAImage {
        let decoded = try ImageFile.decode(path: p.source.path, minimumSize: (box.width / 2, box.height / 2))
        guard decoded.width >= 1, decoded.height >= 1 else { throw BackendError(.decode, path: p.source.path, "empty picture") }
        let sx = Double(box.width) / Double(decoded.width), sy = Double(box.height) / Double(decoded.height)
        let s = p.fit == .cover ? max(sx, sy) : min(sx, sy)
        let w = max(1, Int((Double(decoded.width) * s).rounded())), h = max(1, Int((Double(decoded.height) * s).rounded()))
        let scaled = try RGBAScaler().scaleRGBA(decoded.pixels, width: decoded.width, height: decoded.height, toWidth: w, toHeight: h)
        var out = RGBAImage(width: box.width, height: box.height)
        let ox = (box.width - w) / 2, oy = (box.height - h) / 2
        Raster.place(scaled, width: w, height: h, at: (ox, oy), into: &out)
        if radius > 0 {
            // Round the corners of the picture itself, not of the empty box around a contained one.
            var mask = [UInt8](repeating: 0, count: box.width * box.height)
            let pw = min(w, box.width), ph = min(h, box.height), px = max(0, ox), py = max(0, oy)
            let inner = Raster.coverage(.roundedRectangle, width: pw, height: ph, radius: Double(radius))
            for row in 0..<ph { for col in 0..<pw { mask[(row + py) * box.width + col + px] = inner[row * pw + col] } }
            Raster.mask(&out, mask)
        }
        return out
    }
}

// MARK: - Sprite stage

/// Text, pictures, shapes, borders and colours: drawn once, then blended each frame they show in.
final class SpriteStage: Stage {
    let layer: LayerPlan
    let sprite: Sprite
    /// Static layers: the sprite with its rotation and opacity baked in, as runs of covered pixels.
    private let baked: AlphaLayer?
    /// Animated layers: the untransformed sprite as runs, for frames where the transform is the identity.
    private let plain: AlphaLayer

    let fps: Int

    init(layer: LayerPlan, sprite: Sprite, fps: Int) {
        self.layer = layer
        self.sprite = sprite
        self.fps = fps
        plain = AlphaLayer(sprite: sprite)
        baked = layer.isStatic ? AlphaLayer(sprite: sprite.baked(layer.transform(frame: 0, time: 0), pivot: layer.pivot)) : nil
    }

    func draw(frame: Int, into dst: PlanesRef) throws {
        guard layer.isVisible(at: frame) else { return }
        if let baked {
            baked.blend(onto: dst)
            return
        }
        let t = layer.transform(frame: frame, time: Double(frame) / Double(fps))
        if t.isIdentityGeometry && t.opacity >= 1 {
            plain.blend(onto: dst)
        } else {
            sprite.draw(onto: dst, transform: t, pivot: layer.pivot)
        }
    }

    func changes(at frame: Int) -> Bool {
        if layer.isVisible(at: frame) != layer.isVisible(at: frame - 1) { return true }
        guard layer.isVisible(at: frame), !layer.isStatic else { return false }
        return layer.animation.contains { $0.span.contains(frame) || $0.span.contains(frame - 1) }
    }
}

// MARK: - Video stage

/// A clip above the cached bottom (timed, animated or over the pictures): decoded as it plays, looping or holding
/// its last frame, fitted to its box.
final class VideoStage: Stage {
    let layer: LayerPlan
    let video: VideoPlan
    let fps: Int
    private let player: ClipPlayer

    /// Scratch RGBA of the canvas under the clip, for `screen` and `add`.
    private var under: [UInt8] = []

    init(layer: LayerPlan, video: VideoPlan, fps: Int) throws {
        self.layer = layer
        self.video = video
        self.fps = fps
        // screen/add for a clip that does not move, scale or turn (the exported graph's rule, `VideoPlan.blends`).
        player = try ClipPlayer(
            path: video.source.path, width: layer.box.width, height: layer.box.height, fit: video.fit, loop: video.loop,
            keepsRGBA: video.blends(in: layer))
    }

    func draw(frame: Int, into dst: PlanesRef) throws {
        guard layer.isVisible(at: frame) else { return }
        let span = layer.visible.first { $0.contains(frame) }!
        let local = video.animated ? Double(frame - span.start) / Double(fps) : 0
        let shown = try player.frame(at: local, restart: span.start)
        let t = layer.transform(frame: frame, time: Double(frame) / Double(fps))
        if let rgba = shown.rgba {
            blend(rgba, opacity: t.opacity, into: dst)
        } else {
            // A clip that moves, scales or turns is drawn `normal`, for all its frames (as the exported graph draws it).
            Sprite(buffer: shown.buffer, x: layer.box.x & ~1, y: layer.box.y & ~1).draw(onto: dst, transform: t, pivot: layer.pivot)
        }
    }

    /// `screen` or `add` in RGB, as the cached bottom blends a clip (black, and a contained clip's margins, change
    /// nothing), over the part of the canvas the clip's box covers.
    private func blend(_ top: RGBAImage, opacity: Double, into dst: PlanesRef) {
        let bx = layer.box.x & ~1, by = layer.box.y & ~1
        let x0 = max(0, bx), y0 = max(0, by)
        let x1 = min(dst.width, bx + top.width) & ~1, y1 = min(dst.height, by + top.height) & ~1
        guard x1 > x0, y1 > y0 else { return }
        let n = x1 - x0, h = y1 - y0
        if under.count < n * h * 4 { under = [UInt8](repeating: 0, count: n * h * 4) }
        let mode = video.blend.kernelMode
        let o = Int32((min(1, max(0, opacity)) * 256).rounded())
        let y = dst.y + y0 * dst.yStride + x0, u = dst.u + (y0 / 2) * dst.cStride + x0 / 2, v = dst.v + (y0 / 2) * dst.cStride + x0 / 2
        under.withUnsafeMutableBufferPointer { b in
            let bottom = b.baseAddress!
            rk_yuv420_to_rgba(y, dst.yStride, u, dst.cStride, v, dst.cStride, Int32(n), Int32(h), bottom, n * 4)
            top.pixels.withUnsafeBufferPointer { t in
                rk_blend_rgba_modes(
                    t.baseAddress! + ((y0 - by) * top.width + (x0 - bx)) * 4, top.width * 4, bottom, n * 4, Int32(n), Int32(h), o, mode, bottom, n * 4
                )
            }
            rk_rgba_to_yuva420(bottom, Int32(n), Int32(h), n * 4, y, dst.yStride, u, dst.cStride, v, dst.cStride, nil, 0, nil, 0)
        }
    }

    func changes(at frame: Int) -> Bool {
        layer.isVisible(at: frame) != layer.isVisible(at: frame - 1) || (layer.isVisible(at: frame) && (video.animated || !layer.isStatic))
    }
}

/// Decodes a clip in order and gives the frame showing at a time, fitted to a box, as premultiplied YUVA.
final class ClipPlayer {
    let path: String
    let width: Int, height: Int
    let fit: Fit
    let loop: Bool
    private let input: MediaInputFile
    private let frame: AVFrameBox
    private let scaler = RGBAScaler()
    /// Also keep each frame as straight RGBA (for `screen` and `add`).
    let keepsRGBA: Bool
    private let timeBase: Double
    private var current: (buffer: PlaneBuffer, rgba: RGBAImage?, time: Double)?
    private var next: (buffer: PlaneBuffer, rgba: RGBAImage?, time: Double)?
    private var lastTime = 0.0
    private var loopOffset = 0.0
    private var restartToken = Int.min
    private var decodedAny = false

    init(path: String, width: Int, height: Int, fit: Fit, loop: Bool, keepsRGBA: Bool = false) throws {
        self.path = path
        self.keepsRGBA = keepsRGBA
        self.width = max(2, width & ~1)
        self.height = max(2, height & ~1)
        self.fit = fit
        self.loop = loop
        input = try MediaInputFile(path: path, mediaType: .video)
        frame = try Frame()
        timeBase = input.timeBase
    }

    /// The frame at `t` seconds from the clip's start; a new `restart` token starts the clip again.
    func frame(at t: Double, restart: Int) throws -> (buffer: PlaneBuffer, rgba: RGBAImage?) {
        if restart != restartToken {
            if restartToken != Int.min { try input.rewind() }
            restartToken = restart
            current = nil
            next = nil
            lastTime = 0
            loopOffset = 0
        }
        if current == nil {
            guard let first = try decodeNext() else { throw BackendError(.decode, path: path, "the video has no frames") }
            current = first
        }
        while true {
            if next == nil { next = try decodeNext() }
            guard let n = next, n.time <= t + 1e-6 else { break }
            current = n
            next = nil
        }
        return (current!.buffer, current!.rgba)
    }

    private func decodeNext() throws -> (buffer: PlaneBuffer, rgba: RGBAImage?, time: Double)? {
        for attempt in 0..<2 {
            frame.unref()
            if try input.decode(into: frame) {
                decodedAny = true
                let time = frame.bestEffortTimestamp.map { Double($0) * timeBase + loopOffset } ?? lastTime + 1.0 / 30
                lastTime = time
                let image = try fitted()
                return (.premultiplied(image), keepsRGBA ? image : nil, time)
            }
            // The end: loop (once per call, so a clip with no frames cannot spin) or hold the last frame.
            guard loop, decodedAny, attempt == 0 else { return nil }
            try input.rewind()
            loopOffset = lastTime + 1.0 / 30
        }
        return nil
    }

    /// The decoded frame scaled to the box by `fit` (cover crops the middle; contain leaves transparent margins).
    private func fitted() throws -> RGBAImage {
        let fw = Double(frame.width), fh = Double(frame.height)
        guard fw > 0, fh > 0 else { throw BackendError(.decode, path: path, "a video frame has no size") }
        let s = fit == .cover ? max(Double(width) / fw, Double(height) / fh) : min(Double(width) / fw, Double(height) / fh)
        let sw = max(2, Int((fw * s).rounded())), sh = max(2, Int((fh * s).rounded()))
        let scaled = try scaler.convert(frame, width: sw, height: sh, path: path)
        var out = RGBAImage(width: width, height: height)
        Raster.place(scaled, width: sw, height: sh, at: ((width - sw) / 2, (height - sh) / 2), into: &out)
        return out
    }
}
