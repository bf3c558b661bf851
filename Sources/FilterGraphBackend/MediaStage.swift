import Foundation
import LayerCache
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// The job's pictures and clips in their layout cells, shot by shot, with Ken Burns motion and transitions.
/// The common case (an opaque, unrotated, unanimated layer between transitions) warps straight into the frame;
/// otherwise the layer is drawn into its own premultiplied buffer and blended through its transform.
final class MediaStage: Stage {
    let layer: LayerPlan
    let media: MediaPlan
    let fps: Int
    struct Key: Hashable {
        var input: Int, width: Int, height: Int, fit: Fit, blurFill: Bool
    }
    private(set) var pictures: PicturePreparer<Key>!
    private var clips: [Int: ClipPlayer] = [:]
    /// Straight into the frame: identity transform, full opacity, inside the canvas, no radius or shadow.
    private let direct: Bool
    /// The layer's own buffers, made on first use (the direct path never needs them).
    private lazy var work = PlaneBuffer(width: media.window.width, height: media.window.height)
    private lazy var second = PlaneBuffer(width: media.window.width, height: media.window.height)
    private let masks: (luma: [UInt8], chroma: [UInt8])?
    private let shadow: AlphaLayer?
    private let shadowSprite: Sprite?
    private let scratch: UnsafeMutablePointer<Int32>
    private let canvasWidth: Int, canvasHeight: Int
    /// True when the layer always paints every pixel of its window (the base may leave the window out).
    private(set) var coversWindow = false

    /// With `onlyFrame`, only the pictures that frame shows are prepared (a still). Otherwise the pictures frame 0
    /// does not show are prepared beside the first frames (`options.overlapPreparation`), from the layer cache when
    /// they were prepared before.
    init(
        layer: LayerPlan, media: MediaPlan, canvasWidth: Int, canvasHeight: Int, fps: Int, onlyFrame: Int? = nil,
        options: RenderOptions = RenderOptions()
    ) throws {
        self.layer = layer
        self.media = media
        self.fps = fps
        self.canvasWidth = canvasWidth
        self.canvasHeight = canvasHeight
        let w = media.window
        let inside = w.x >= 0 && w.y >= 0 && w.x + w.width <= canvasWidth && w.y + w.height <= canvasHeight
        direct =
            inside && layer.isStatic && layer.rotation.truncatingRemainder(dividingBy: 360) == 0 && layer.opacity >= 1
            && layer.radius == 0 && media.cellRadius == 0 && layer.shadow == nil
        scratch = .allocate(capacity: Int(rk_warp_scratch_ints(Int32(max(canvasWidth, w.width, 16)))))
        if layer.radius > 0 || media.cellRadius > 0 {
            let bw = max(2, w.width & ~1), bh = max(2, w.height & ~1)
            let l = media.coverage(width: bw, height: bh, radius: layer.radius)
            var c = [UInt8](repeating: 0, count: (bw / 2) * (bh / 2))
            for y in 0..<(bh / 2) { for x in 0..<(bw / 2) { c[y * bw / 2 + x] = l[(2 * y) * bw + 2 * x] } }
            masks = (l, c)
        } else {
            masks = nil
        }
        if let s = layer.shadow {
            let (img, left, top) = LayerArt.mediaShadow(layer, media, s)
            var x = w.x - left, y = w.y - top
            var padded = img
            if x & 1 != 0 || y & 1 != 0 { padded = LayerArt.pad(img, left: x & 1, top: y & 1); x -= x & 1; y -= y & 1 }
            let sprite = Sprite(rgba: padded, x: x, y: y)
            shadowSprite = sprite
            shadow = layer.isStatic ? AlphaLayer(sprite: sprite.baked(layer.transform(frame: 0, time: 0), pivot: layer.pivot)) : nil
        } else {
            shadowSprite = nil
            shadow = nil
        }
        // Prepare every picture once per cell size, for all the motions it is shown with.
        var motions: [Key: [Motion]] = [:]
        var order: [Key] = []
        var shown = media.shots
        if let f = onlyFrame, let shot = media.shot(at: f) {
            shown = [shot]
            if let (t, _) = media.transition(at: f) { shown = [media.shots[t.from], media.shots[t.from + 1]] }
        }
        for shot in shown {
            for (c, cell) in media.cells.enumerated() where media.inputs[shot.images[c]].kind == .picture {
                let key = Key(
                    input: shot.images[c], width: cell.rect.width, height: cell.rect.height, fit: cell.fit,
                    blurFill: cell.fit == .contain && cell.fill == .blur)
                if motions[key] == nil { order.append(key) }
                motions[key, default: []].append(shot.motions[c])
            }
        }
        // Frame 0's pictures (both shots of a transition at frame 0) and any picture that may be translucent are
        // prepared here; the rest beside the first frames.
        var first = Set<Int>()
        if let shot = media.shot(at: 0) {
            var shots = [shot]
            if let (t, _) = media.transition(at: 0) { shots = [media.shots[t.from], media.shots[t.from + 1]] }
            for s in shots { first.formUnion(s.images) }
        }
        // The next shot's pictures are prepared right after frame 0 even while the overlay loop holds the later ones.
        var soon = Set<Int>()
        if let shot = media.shot(at: 0) {
            let last = media.transition(at: 0).map { $0.0.from + 1 } ?? shot.index
            if last + 1 < media.shots.count { soon.formUnion(media.shots[last + 1].images) }
        }
        var hashes: [Int: String] = [:]
        let cache = options.cache
        let zoomTransition = media.transitions.contains { $0.kind == .zoom }
        let adjust = media.adjust
        let jobs = order.map { key -> PicturePreparer<Key>.Job in
            let list = motions[key]!
            let path = media.inputs[key.input].path
            if cache.isEnabled, hashes[key.input] == nil { hashes[key.input] = try? cache.contentHash(ofFile: path) }
            let hash = hashes[key.input]
            let early = first.contains(key.input) || !OpacityProbe.isSurelyOpaque(path: path)
            return .init(key: key, early: early, soon: soon.contains(key.input)) {
                try PreparedImage.cached(
                    path: path, contentHash: hash, window: Rect(x: 0, y: 0, width: key.width, height: key.height), fit: key.fit,
                    motions: list
                        + (zoomTransition
                            ? [Motion(zoomFrom: 1, zoomTo: list.map(\.maxZoom).max()! * 1.25, panFrom: .center, panTo: .center, easing: .linear)]
                            : []),
                    adjust: adjust, blurFill: key.blurFill, cache: cache)
            }
        }
        pictures = try PicturePreparer(jobs: jobs, background: onlyFrame == nil && options.overlapPreparation, trace: options.trace)
        let tiles = media.cells.reduce(0) { $0 + $1.rect.width * $1.rect.height } == w.width * w.height
        // Pictures left for later are certainly opaque (their headers say so).
        let opaque =
            media.cells.allSatisfy { $0.fit == .cover || $0.fill != .none }
            && !pictures.anyTranslucent
            && !media.inputs.contains { $0.kind == .clip }
        coversWindow = direct && tiles && opaque && layer.visible == [FrameSpan(0, media.shots.last?.endFrame ?? 0)]
    }

    deinit {
        pictures?.cancel()
        scratch.deallocate()
    }

    /// Frame 0 was sent: the pictures of later shots may be prepared now.
    func firstFrameSent() { pictures.release() }

    func waitUntilPrepared() { pictures.waitUntilPrepared() }

    func draw(frame: Int, into dst: PlanesRef) throws {
        guard layer.isVisible(at: frame), let shot = media.shot(at: frame) else { return }
        let transition = media.transition(at: frame)
        if direct && transition == nil {
            try drawShot(shot, frame: frame, extraZoom: 1, into: dst.offset(x: media.window.x, y: media.window.y), alpha: nil)
            return
        }
        work.clear()
        if let (t, p) = transition {
            let a = media.shots[t.from], b = media.shots[t.from + 1]
            try drawShot(a, frame: frame, extraZoom: t.kind == .zoom ? 1 + 0.25 * p : 1, into: work.planes, alpha: work)
            second.clear()
            try drawShot(b, frame: frame, extraZoom: 1, into: second.planes, alpha: second)
            combine(t.kind, progress: p)
        } else {
            try drawShot(shot, frame: frame, extraZoom: 1, into: work.planes, alpha: work)
        }
        if let masks {
            // Rounded corners: only the rows within the radius of the top and bottom edges are not fully covered
            // (rounded cells: every row, for the cells' own corners and the gaps).
            let r = min(work.height / 2, layer.radius + 2) & ~1
            let bands = media.cellRadius > 0 ? [0..<work.height] : [0..<r, (work.height - r)..<work.height]
            masks.luma.withUnsafeBufferPointer { lm in
                masks.chroma.withUnsafeBufferPointer { cm in
                    for rows in bands {
                        let l = rows.lowerBound * work.width, n = rows.count * work.width
                        rk_multiply_mask(work.y + l, lm.baseAddress! + l, n)
                        rk_multiply_mask(work.a + l, lm.baseAddress! + l, n)
                        let c = rows.lowerBound / 2 * (work.width / 2), m = rows.count / 2 * (work.width / 2)
                        rk_multiply_mask(work.u + c, cm.baseAddress! + c, m)
                        rk_multiply_mask(work.v + c, cm.baseAddress! + c, m)
                        rk_multiply_mask(work.ca + c, cm.baseAddress! + c, m)
                    }
                }
            }
        }
        let t = layer.transform(frame: frame, time: Double(frame) / Double(fps))
        if let shadow {
            shadow.blend(onto: dst)
        } else if let shadowSprite {
            shadowSprite.draw(onto: dst, transform: t, pivot: layer.pivot)
        }
        let sprite = Sprite(buffer: work, x: media.window.x, y: media.window.y)
        if t.isIdentityGeometry {
            AlphaLayerBlit.blend(sprite, onto: dst, opacity: Int32((t.opacity * 256).rounded()))
        } else {
            sprite.draw(onto: dst, transform: t, pivot: layer.pivot)
        }
    }

    func changes(at frame: Int) -> Bool {
        if layer.isVisible(at: frame) != layer.isVisible(at: frame - 1) { return true }
        guard layer.isVisible(at: frame), let shot = media.shot(at: frame) else { return false }
        if media.shot(at: frame - 1)?.index != shot.index { return true }
        if media.transition(at: frame) != nil || media.transition(at: frame - 1) != nil { return true }
        if shot.motions.contains(where: { !$0.isStill }) { return true }
        if shot.images.contains(where: { media.inputs[$0].kind == .clip }) { return true }
        return layer.animation.contains { $0.span.contains(frame) || $0.span.contains(frame - 1) }
    }

    // MARK: Drawing

    /// Draws every cell of `shot` at `frame` into `dst` (the window's top-left); `alpha` marks what was painted
    /// when drawing into a buffer of the layer's own.
    private func drawShot(_ shot: Shot, frame: Int, extraZoom: Double, into dst: PlanesRef, alpha: PlaneBuffer?) throws {
        let t = min(1, max(0, shot.progress(at: frame)))
        for (c, cell) in media.cells.enumerated() {
            let input = shot.images[c]
            let r = cell.rect
            let target = dst.offset(x: r.x, y: r.y)
            if media.inputs[input].kind == .clip {
                let player = try clip(input: input, cell: c)
                let buffer = try player.frame(at: Double(frame - shot.startFrame) / Double(fps), restart: shot.startFrame * 8 + c).buffer
                if case .color(let color) = cell.fill { fillRect(target, r.width, r.height, color, alpha: alpha, at: r) }
                blendBuffer(buffer, into: target, alpha: alpha, at: r)
                continue
            }
            let key = Key(input: input, width: r.width, height: r.height, fit: cell.fit, blurFill: cell.fit == .contain && cell.fill == .blur)
            guard let pic = try pictures.picture(key) else { continue }
            switch cell.fill {
            case .color(let color) where cell.fit == .contain: fillRect(target, r.width, r.height, color, alpha: alpha, at: r)
            case .blur where cell.fit == .contain:
                if let fill = pic.fill { copyImage(fill, into: target, alpha: alpha, at: r) }
            default: break
            }
            let m = shot.motions[c]
            let p = pic.placement(zoom: m.zoom(at: t) * extraZoom, center: m.center(at: t))
            warp(pic, p, into: target, cellWidth: r.width, cellHeight: r.height, alpha: alpha, at: r)
        }
    }

    private func clip(input: Int, cell: Int) throws -> ClipPlayer {
        let key = input * 8 + cell
        if let p = clips[key] { return p }
        let r = media.cells[cell].rect
        let p = try ClipPlayer(path: media.inputs[input].path, width: r.width, height: r.height, fit: media.cells[cell].fit, loop: true)
        clips[key] = p
        return p
    }

    private func fillRect(_ dst: PlanesRef, _ w: Int, _ h: Int, _ c: Color, alpha: PlaneBuffer?, at r: Rect) {
        var y: UInt8 = 0, u: UInt8 = 0, v: UInt8 = 0
        rk_rgb_to_yuv(c.r, c.g, c.b, &y, &u, &v)
        rk_fill_plane(dst.y, dst.yStride, Int32(w), Int32(h), y)
        rk_fill_plane(dst.u, dst.cStride, Int32(w / 2), Int32(h / 2), u)
        rk_fill_plane(dst.v, dst.cStride, Int32(w / 2), Int32(h / 2), v)
        markOpaque(alpha, Rect(x: r.x, y: r.y, width: w, height: h))
    }

    private func markOpaque(_ alpha: PlaneBuffer?, _ r: Rect) {
        guard let alpha else { return }
        let x = max(0, r.x), y = max(0, r.y), w = min(alpha.width - x, r.width - (x - r.x)), h = min(alpha.height - y, r.height - (y - r.y))
        guard w > 0, h > 0 else { return }
        rk_fill_plane(alpha.a + y * alpha.width + x, alpha.width, Int32(w), Int32(h), 255)
        rk_fill_plane(alpha.ca + (y / 2) * (alpha.width / 2) + x / 2, alpha.width / 2, Int32(w / 2), Int32(h / 2), 255)
    }

    private func copyImage(_ img: YUVImage, into dst: PlanesRef, alpha: PlaneBuffer?, at r: Rect) {
        let w = min(img.width, r.width), h = min(img.height, r.height)
        img.y.withUnsafeBufferPointer { s in for row in 0..<h { memcpy(dst.y + row * dst.yStride, s.baseAddress! + row * img.width, w) } }
        img.u.withUnsafeBufferPointer { s in for row in 0..<h / 2 { memcpy(dst.u + row * dst.cStride, s.baseAddress! + row * img.width / 2, w / 2) } }
        img.v.withUnsafeBufferPointer { s in for row in 0..<h / 2 { memcpy(dst.v + row * dst.cStride, s.baseAddress! + row * img.width / 2, w / 2) } }
        markOpaque(alpha, Rect(x: r.x, y: r.y, width: w, height: h))
    }

    /// A premultiplied buffer (a clip frame) blended over the target.
    private func blendBuffer(_ b: PlaneBuffer, into dst: PlanesRef, alpha: PlaneBuffer?, at r: Rect) {
        let w = min(b.width, r.width), h = min(b.height, r.height)
        for row in 0..<h {
            rk_blend_premul_row(dst.y + row * dst.yStride, b.y + row * b.width, b.a + row * b.width, Int32(w))
            if let alpha { rk_blend_premul_row(alpha.a + (r.y + row) * alpha.width + r.x, b.a + row * b.width, b.a + row * b.width, Int32(w)) }
        }
        for row in 0..<h / 2 {
            rk_blend_premul_row(dst.u + row * dst.cStride, b.u + row * b.width / 2, b.ca + row * b.width / 2, Int32(w / 2))
            rk_blend_premul_row(dst.v + row * dst.cStride, b.v + row * b.width / 2, b.ca + row * b.width / 2, Int32(w / 2))
            if let alpha {
                rk_blend_premul_row(
                    alpha.ca + (r.y / 2 + row) * alpha.width / 2 + r.x / 2, b.ca + row * b.width / 2, b.ca + row * b.width / 2, Int32(w / 2))
            }
        }
    }

    private func warp(
        _ image: PreparedImage, _ p: (dst: Rect, x0: Double, y0: Double, sx: Double, sy: Double), into dst: PlanesRef,
        cellWidth: Int, cellHeight: Int, alpha: PlaneBuffer?, at cell: Rect
    ) {
        let pic = image.picture
        let ox = p.dst.x, oy = p.dst.y
        let w = min(p.dst.width, cellWidth - ox) & ~1, h = min(p.dst.height, cellHeight - oy) & ~1
        guard w > 0, h > 0 else { return }
        let target = dst.offset(x: ox, y: oy)
        let sc = scratch
        if let a = pic.a, let ca = pic.ca {
            // A translucent picture (a PNG cut-out): warp into temporaries and blend, straight over premultiplied.
            let tmp = PlaneBuffer(width: w, height: h)
            warpPlane(pic.y, pic.width, pic.height, tmp.y, w, h, w, p, 1, sc)
            warpPlane(a, pic.width, pic.height, tmp.a, w, h, w, p, 1, sc)
            warpPlane(pic.u, pic.width / 2, pic.height / 2, tmp.u, w / 2, h / 2, w / 2, p, 2, sc)
            warpPlane(pic.v, pic.width / 2, pic.height / 2, tmp.v, w / 2, h / 2, w / 2, p, 2, sc)
            warpPlane(ca, pic.width / 2, pic.height / 2, tmp.ca, w / 2, h / 2, w / 2, p, 2, sc)
            let ones = [UInt8](repeating: 255, count: w)
            for row in 0..<h {
                rk_blend_straight_row(target.y + row * target.yStride, tmp.y + row * w, tmp.a + row * w, Int32(w))
                if let alpha { rk_blend_straight_row(alpha.a + (cell.y + oy + row) * alpha.width + cell.x + ox, ones, tmp.a + row * w, Int32(w)) }
            }
            for row in 0..<h / 2 {
                rk_blend_straight_row(target.u + row * target.cStride, tmp.u + row * w / 2, tmp.ca + row * w / 2, Int32(w / 2))
                rk_blend_straight_row(target.v + row * target.cStride, tmp.v + row * w / 2, tmp.ca + row * w / 2, Int32(w / 2))
                if let alpha {
                    rk_blend_straight_row(
                        alpha.ca + ((cell.y + oy) / 2 + row) * alpha.width / 2 + (cell.x + ox) / 2, ones, tmp.ca + row * w / 2, Int32(w / 2))
                }
            }
        } else {
            warpPlane(pic.y, pic.width, pic.height, target.y, w, h, target.yStride, p, 1, sc)
            warpPlane(pic.u, pic.width / 2, pic.height / 2, target.u, w / 2, h / 2, target.cStride, p, 2, sc)
            warpPlane(pic.v, pic.width / 2, pic.height / 2, target.v, w / 2, h / 2, target.cStride, p, 2, sc)
            markOpaque(alpha, Rect(x: cell.x + ox, y: cell.y + oy, width: w, height: h))
        }
    }

    private func warpPlane(
        _ src: [UInt8], _ sw: Int, _ sh: Int, _ dst: UnsafeMutablePointer<UInt8>, _ dw: Int, _ dh: Int, _ dstride: Int,
        _ p: (dst: Rect, x0: Double, y0: Double, sx: Double, sy: Double), _ sub: Double, _ scratch: UnsafeMutablePointer<Int32>
    ) {
        src.withUnsafeBufferPointer { s in
            rk_warp_plane(s.baseAddress, Int32(sw), Int32(sh), sw, dst, Int32(dw), Int32(dh), dstride, p.x0 / sub, p.y0 / sub, p.sx, p.sy, scratch)
        }
    }

    // MARK: Transitions

    /// Combines `work` (the outgoing shot) and `second` (the incoming one) into `work`.
    private func combine(_ kind: TransitionKind, progress p: Double) {
        let W = work.width, H = work.height
        let planes: [(UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, Int, Int)] = [
            (work.y, second.y, W, H), (work.a, second.a, W, H),
            (work.u, second.u, W / 2, H / 2), (work.v, second.v, W / 2, H / 2), (work.ca, second.ca, W / 2, H / 2),
        ]
        for (a, b, w, h) in planes {
            let sx = min(w, Int((p * Double(w)).rounded())), sy = min(h, Int((p * Double(h)).rounded()))
            switch kind {
            case .cut:
                if p >= 0.5 { memcpy(a, b, w * h) }
            case .crossfade, .zoom:
                rk_mix_row(a, b, Int32(w * h), Int32((p * 256).rounded()))
            case .slideLeft:
                for row in 0..<h { let r = a + row * w; memmove(r, r + sx, w - sx); memcpy(r + w - sx, b + row * w, sx) }
            case .slideRight:
                for row in 0..<h { let r = a + row * w; memmove(r + sx, r, w - sx); memcpy(r, b + row * w + w - sx, sx) }
            case .slideUp:
                memmove(a, a + sy * w, (h - sy) * w); memcpy(a + (h - sy) * w, b, sy * w)
            case .slideDown:
                memmove(a + sy * w, a, (h - sy) * w); memcpy(a, b + (h - sy) * w, sy * w)
            case .wipeLeft:
                for row in 0..<h { memcpy(a + row * w + w - sx, b + row * w + w - sx, sx) }
            case .wipeRight:
                for row in 0..<h { memcpy(a + row * w, b + row * w, sx) }
            case .wipeUp:
                memcpy(a + (h - sy) * w, b + (h - sy) * w, sy * w)
            case .wipeDown:
                memcpy(a, b, sy * w)
            }
        }
    }
}

/// Blends a whole premultiplied sprite without a transform, at an opacity (rows clipped to the target).
enum AlphaLayerBlit {
    static func blend(_ s: Sprite, onto dst: PlanesRef, opacity: Int32) {
        let b = s.buffer
        let x0 = max(0, s.x), y0 = max(0, s.y)
        let x1 = min(dst.width, s.x + b.width), y1 = min(dst.height, s.y + b.height)
        guard x1 > x0, y1 > y0 else { return }
        // Full opacity: the plain kernel, whose opaque and transparent pixels are a copy and a skip.
        let blend: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, Int32) -> Void =
            opacity >= 256
            ? { rk_blend_premul_row($0, $1, $2, $3) }
            : { rk_blend_premul_row_opacity($0, $1, $2, $3, opacity) }
        for y in y0..<y1 {
            let sr = (y - s.y) * b.width + (x0 - s.x)
            blend(dst.y + y * dst.yStride + x0, b.y + sr, b.a + sr, Int32(x1 - x0))
        }
        for y in (y0 / 2)..<(y1 / 2) {
            let sr = (y - s.y / 2) * (b.width / 2) + (x0 / 2 - s.x / 2)
            blend(dst.u + y * dst.cStride + x0 / 2, b.u + sr, b.ca + sr, Int32((x1 - x0) / 2))
            blend(dst.v + y * dst.cStride + x0 / 2, b.v + sr, b.ca + sr, Int32((x1 - x0) / 2))
        }
    }
}
