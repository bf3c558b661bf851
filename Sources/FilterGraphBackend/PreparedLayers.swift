import Foundation
import LayerCache
import Planner
import SpecLang

/// What happened while a renderer prepared its layers and sent frames, in order (for tests and timing).
public enum RenderEvent: Sendable, Equatable {
    /// The `ordinal`th picture (in order of first use) is ready.
    case pictureReady(ordinal: Int)
    /// The cached bottom (background, overlay loop) is ready.
    case baseReady
    /// The overlay loop that was being blended beside the first frames is complete (its working memory freed).
    case loopBlended
    /// Frame `index` was handed to the encoder.
    case frameSent(Int)
}

/// How a renderer prepares its layers.
public struct RenderOptions: Sendable {
    /// Prepared pictures and overlay loops kept between renders.
    public var cache: LayerCache
    /// Prepare the pictures beside the first frames (frame 0 needs only its own shot's pictures); false prepares
    /// every picture before the first frame (the old serial start; kept for contrast in tests).
    public var overlapPreparation: Bool
    /// Called (from any thread) as layers become ready and frames are sent.
    public var trace: (@Sendable (RenderEvent) -> Void)?

    public init(cache: LayerCache = .disabled(), overlapPreparation: Bool = true, trace: (@Sendable (RenderEvent) -> Void)? = nil) {
        self.cache = cache
        self.overlapPreparation = overlapPreparation
        self.trace = trace
    }
}

// MARK: - Payload coding (pixels and numbers only: an entry never holds a path or a tenant)

struct LayerWriter {
    var bytes: [UInt8] = []
    mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }
    mutating func double(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    mutating func array(_ a: [UInt8]) { int(a.count); bytes += a }
}

struct LayerReader {
    struct Malformed: Error {}
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    mutating func int() throws -> Int {
        guard at + 8 <= bytes.count else { throw Malformed() }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        at += 8
        return Int(Int64(bitPattern: v))
    }
    mutating func double() throws -> Double { Double(bitPattern: UInt64(bitPattern: Int64(try int()))) }
    mutating func array(count expected: Int? = nil) throws -> [UInt8] {
        let n = try int()
        guard n >= 0, at + n <= bytes.count, expected == nil || expected == n else { throw Malformed() }
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }
}

extension YUVImage {
    func encode(into w: inout LayerWriter) {
        w.int(width); w.int(height)
        w.array(y); w.array(u); w.array(v)
        w.int(a == nil ? 0 : 1)
        if let a, let ca { w.array(a); w.array(ca) }
    }

    static func decode(_ r: inout LayerReader) throws -> YUVImage {
        let width = try r.int(), height = try r.int()
        guard width >= 2, height >= 2, width % 2 == 0, height % 2 == 0, width <= 16384, height <= 16384 else { throw LayerReader.Malformed() }
        let l = width * height, c = l / 4
        let y = try r.array(count: l), u = try r.array(count: c), v = try r.array(count: c)
        let hasAlpha = try r.int()
        let a = hasAlpha == 1 ? try r.array(count: l) : nil
        let ca = hasAlpha == 1 ? try r.array(count: c) : nil
        return YUVImage(width: width, height: height, y: y, u: u, v: v, a: a, ca: ca)
    }
}

// MARK: - Prepared pictures

extension PreparedImage {
    /// The picture prepared for its window, from the cache when the same bytes were prepared with the same
    /// parameters before. `contentHash` is the source file's SHA-256 (nil: do not cache).
    static func cached(
        path: String, contentHash: String?, window: Rect, fit: Fit, motions: [Motion], adjust: Adjustments, blurFill: Bool,
        cache: LayerCache
    ) throws -> PreparedImage {
        guard cache.isEnabled, let contentHash else {
            return try PreparedImage(path: path, window: window, fit: fit, motions: motions, adjust: adjust, blurFill: blurFill)
        }
        var k = LayerCacheKeyBuilder(kind: "picture-2")
        k.add(contentHash)
        k.add(window.width); k.add(window.height); k.add(fit.rawValue)
        // What the crop and pre-scale depend on, and nothing else (so videos of other lengths share the entry): the
        // set of pan points and the largest zoom.
        var points = Set<[Double]>()
        for m in motions.isEmpty ? [Motion.still] : motions { points.insert([m.panFrom.x, m.panFrom.y]); points.insert([m.panTo.x, m.panTo.y]) }
        let sorted = points.sorted { $0[0] != $1[0] ? $0[0] < $1[0] : $0[1] < $1[1] }
        k.add(sorted.count)
        for p in sorted { k.add(p[0]); k.add(p[1]) }
        k.add(motions.map(\.maxZoom).max() ?? 1)
        k.add(adjust.brightness); k.add(adjust.contrast); k.add(adjust.saturation)
        k.add(blurFill ? 1 : 0)
        let key = k.finish()
        if let bytes = cache.value(for: key), let image = try? PreparedImage.decode(bytes, path: path, window: window, fit: fit) {
            return image
        }
        let image = try PreparedImage(path: path, window: window, fit: fit, motions: motions, adjust: adjust, blurFill: blurFill)
        cache.store(image.encoded(), for: key)
        return image
    }

    func encoded() -> [UInt8] {
        var w = LayerWriter()
        for v in [crop.x, crop.y, crop.w, crop.h, originalSize.w, originalSize.h, baseScale] { w.double(v) }
        picture.encode(into: &w)
        w.int(fill == nil ? 0 : 1)
        fill?.encode(into: &w)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], path: String, window: Rect, fit: Fit) throws -> PreparedImage {
        var r = LayerReader(bytes)
        let crop = (x: try r.double(), y: try r.double(), w: try r.double(), h: try r.double())
        let original = (w: try r.double(), h: try r.double())
        let baseScale = try r.double()
        let picture = try YUVImage.decode(&r)
        let fill = try r.int() == 1 ? try YUVImage.decode(&r) : nil
        guard r.at == bytes.count, crop.w > 0, crop.h > 0, baseScale > 0, baseScale.isFinite else { throw LayerReader.Malformed() }
        return PreparedImage(
            path: path, window: window, fit: fit, picture: picture, crop: crop, originalSize: original, baseScale: baseScale, fill: fill)
    }
}

/// Whether a picture file is certainly opaque, from its header alone (JPEG; PNG without an alpha channel or
/// tRNS; lossy or alpha-less WebP). Anything else may be translucent.
enum OpacityProbe {
    static func isSurelyOpaque(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let b = [UInt8]((try? handle.read(upToCount: 1 << 16)) ?? Data())
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return true }
        if b.count >= 33, b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A][...] {
            guard [0, 2, 3].contains(b[25]) else { return false }
            // Walk the chunks up to the first IDAT: a tRNS before it makes colours transparent.
            var at = 8
            while at + 8 <= b.count {
                let length = Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
                let type = String(decoding: b[(at + 4)..<(at + 8)], as: UTF8.self)
                if type == "IDAT" { return true }
                if type == "tRNS" { return false }
                at += 12 + length
            }
            return false
        }
        if b.count >= 30, b[0..<4] == Array("RIFF".utf8)[...], b[8..<12] == Array("WEBP".utf8)[...] {
            switch String(decoding: b[12..<16], as: UTF8.self) {
            case "VP8 ": return true
            case "VP8L": return b[20] == 0x2F && (b[24] >> 4) & 1 == 0
            case "VP8X": return b[20] & 0x10 == 0
            default: return false
            }
        }
        return false
    }
}

/// Prepares a media layer's pictures in the order the shots first show them: those frame 0 needs first, the rest
/// on a thread of their own once frame 0 was sent (or as soon as any frame waits for one), so decoding and
/// pre-scaling run beside the first frames on the core the encoder is not yet using. A frame that needs a picture
/// waits only for that picture.
///
/// While an overlay loop is still being blended beside the first frames (`hold()`), only the pictures of the next
/// shot are prepared; the later ones wait until the loop is complete (`unhold()`) or a frame waits for one. A
/// picture's decoding holds up to 60 MB for a moment (a 20 MB JPEG is held as FFmpeg's packet and again as the
/// decoder's unescaped scan), the loop's blending about 33 MB, and both landing while libx264 is full set a cold
/// render's peak (issue 13). The next shot's pictures are not held: they are needed within seconds, while the
/// encoder is still filling, and holding them would only make a frame wait and decode them beside the loop anyway.
final class PicturePreparer<Key: Hashable>: @unchecked Sendable {
    struct Job {
        var key: Key
        /// Prepared before the first frame: frame 0 shows it, or it may be translucent (which decides what the
        /// cached bottom leaves out).
        var early: Bool
        /// Shown by the shot after frame 0's: prepared right after frame 0 even while held.
        var soon: Bool = false
        var make: () throws -> PreparedImage
    }
    private let cond = NSCondition()
    private var jobs: [Job]
    private let known: Set<Key>
    private var next = 0
    private var released = false
    private var cancelled = false
    /// Pictures after the next shot's wait (see `hold()`).
    private var held = false
    /// Frames waiting for a picture not prepared yet: the hold does not apply meanwhile.
    private var waiting = 0
    private var ready: [Key: PreparedImage] = [:]
    private var failure: (any Error)?
    private let trace: (@Sendable (RenderEvent) -> Void)?
    private var ordinal = 0
    /// True when a picture prepared up front has transparent pixels.
    private(set) var anyTranslucent = false

    /// Without `background`, every picture is prepared here (stills, the serial start).
    init(jobs: [Job], background: Bool, trace: (@Sendable (RenderEvent) -> Void)?) throws {
        self.trace = trace
        known = Set(jobs.map(\.key))
        // Early jobs first (in order of first use), then the rest.
        self.jobs = jobs.filter(\.early) + jobs.filter { !$0.early }
        let earlyCount = background ? jobs.filter(\.early).count : jobs.count
        for job in self.jobs.prefix(earlyCount) {
            let image = try job.make()
            ready[job.key] = image
            if image.picture.a != nil { anyTranslucent = true }
            trace?(.pictureReady(ordinal: ordinal))
            ordinal += 1
        }
        next = earlyCount
        if next < self.jobs.count {
            let thread = Thread { [self] in run() }
            thread.name = "rendc-pictures"
            thread.start()
        }
    }

    private func run() {
        while true {
            cond.lock()
            while !cancelled && (!released || (held && waiting == 0 && next < jobs.count && !jobs[next].soon)) { cond.wait() }
            guard !cancelled, next < jobs.count else { cond.unlock(); return }
            let job = jobs[next]
            next += 1
            cond.unlock()
            do {
                let image = try job.make()
                // The decoder's packet, scan and frame are freed: give their pages back before the next picture.
                Backend.releaseFreeMemory()
                trace?(.pictureReady(ordinal: ordinal))
                ordinal += 1
                cond.lock()
                ready[job.key] = image
                cond.broadcast()
                cond.unlock()
            } catch {
                cond.lock()
                failure = error
                cond.broadcast()
                cond.unlock()
                return
            }
        }
    }

    /// Holds the pictures after the next shot's until `unhold()` (an overlay loop is being blended).
    func hold() {
        cond.lock()
        held = true
        cond.unlock()
    }

    /// The overlay loop is complete: the held pictures may be prepared.
    func unhold() {
        cond.lock()
        held = false
        cond.broadcast()
        cond.unlock()
    }

    /// Lets the rest of the pictures be prepared (called once frame 0 was sent).
    func release() {
        cond.lock()
        released = true
        cond.broadcast()
        cond.unlock()
    }

    /// Stops preparing (the stage is gone).
    func cancel() {
        cond.lock()
        cancelled = true
        cond.broadcast()
        cond.unlock()
    }

    /// Waits until every picture is prepared (or one failed).
    func waitUntilPrepared() {
        release()
        cond.lock()
        while failure == nil && !cancelled && ready.count < known.count { cond.wait() }
        cond.unlock()
    }

    /// The prepared picture for `key` (waiting for it if needed), or nil if the layer never shows it.
    func picture(_ key: Key) throws -> PreparedImage? {
        guard known.contains(key) else { return nil }
        cond.lock()
        defer { cond.unlock() }
        if let image = ready[key] { return image }
        waiting += 1
        defer { waiting -= 1 }
        released = true
        cond.broadcast()
        while true {
            if let image = ready[key] { return image }
            if let failure { throw failure }
            cond.wait()
        }
    }
}

// MARK: - The cached bottom

extension BaseStack {
    /// The key of an overlay loop blended over and under its static layers: the video's bytes, every blend
    /// parameter and the exact pixels of the layers under (YUV 4:2:0) and over it.
    static func cacheKey(
        videoHash: String, video v: VideoPlan, layer: LayerPlan, width: Int, height: Int, under: [UInt8], over: [Sprite],
        occluded: Rect?, outputFPS: Int, budget: Int
    ) -> LayerCacheKey {
        var k = LayerCacheKeyBuilder(kind: "overlay-loop-2")
        k.add(videoHash)
        k.add(width); k.add(height); k.add(outputFPS); k.add(budget)
        k.add(v.loop ? 1 : 0); k.add(v.animated ? 1 : 0); k.add(v.fit.rawValue); k.add(v.blend.rawValue)
        k.add(layer.box.x); k.add(layer.box.y); k.add(layer.box.width); k.add(layer.box.height); k.add(layer.opacity)
        if let o = occluded { k.add(o.x); k.add(o.y); k.add(o.width); k.add(o.height) } else { k.add(-1) }
        k.add(bytes: under)
        k.add(over.count)
        for s in over {
            let b = s.buffer
            k.add(s.x); k.add(s.y); k.add(b.width); k.add(b.height)
            for (p, n) in [(b.y, b.lumaCount), (b.a, b.lumaCount), (b.u, b.chromaCount), (b.v, b.chromaCount), (b.ca, b.chromaCount)] {
                k.add(bytes: Array(UnsafeBufferPointer(start: p, count: n)))
            }
        }
        return k.finish()
    }
}
