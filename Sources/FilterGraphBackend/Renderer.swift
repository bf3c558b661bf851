import LibAV
import Foundation
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// Runs a `RenderPlan`: prepares every static layer once (pictures decoded and pre-scaled, the bottom layers and
/// looping video blended and cached, art and text as premultiplied YUVA), then streams frames through the
/// compositor into libx264 with the audio graph alongside. Memory does not grow with the video's length.
public final class FilterGraphRenderer {
    public let plan: RenderPlan
    private let compositor: Compositor

    /// Prepares the plan's inputs. `texts` holds the text renderer's image for each text layer, by layer index
    /// (box-sized).
    public init(plan: RenderPlan, texts: [Int: RGBAImage], options: RenderOptions = RenderOptions()) throws {
        self.plan = plan
        self.options = options
        compositor = try Compositor(plan: plan, texts: texts, options: options)
        stillFrame = nil
    }

    /// Prepares only what frame `frame` shows (one overlay frame, the pictures of its shot): for `still(frame:)`.
    public init(plan: RenderPlan, texts: [Int: RGBAImage], stillFrame frame: Int, options: RenderOptions = RenderOptions()) throws {
        self.plan = plan
        self.options = options
        compositor = try Compositor(plan: plan, texts: texts, onlyFrame: frame, options: options)
        stillFrame = frame
    }

    private let options: RenderOptions

    /// Seconds of video encoded, at most, before the audio graph must start (waiting for a pending loudness
    /// measurement then): the muxer holds the video packets meanwhile.
    public static let audioLagLimit = 3.0

    /// Set when prepared for one frame only.
    private let stillFrame: Int?

    /// Waits until the layers prepared beside the first frames (pictures of later shots, the overlay loop) are all
    /// ready and stored in the layer cache.
    public func waitUntilPrepared() { compositor.waitUntilPrepared() }

    /// True when frame `index` is pixel-identical to frame `index - 1` (freeze mode inside a shot).
    func repeatsPreviousFrame(_ index: Int) -> Bool { compositor.repeatsPreviousFrame(index) }

    /// Composes output frame `index` into `dst`.
    func compose(frame index: Int, into dst: PlanesRef) throws {
        try compositor.compose(frame: index, into: dst)
    }

    private func makeFrame() throws -> AVFrameBox { try AVFrameBox.video(width: plan.width, height: plan.height) }

    /// One composed frame as RGBA (for `rendc still` and tests).
    public func still(frame index: Int) throws -> RGBAImage {
        let frame = try makeFrame()
        let planes = PlanesRef(frame: frame)
        guard index >= 0, index < plan.frameCount, stillFrame == nil || stillFrame == index else {
            throw BackendError(.prepare, "frame \(index) is outside the video (frames 0 to \(plan.frameCount - 1))")
        }
        try compose(frame: index, into: planes)
        return rgba(of: planes)
    }

    private func rgba(of planes: PlanesRef) -> RGBAImage {
        var out = [UInt8](repeating: 0, count: plan.width * plan.height * 4)
        rk_yuv420_to_rgba(
            planes.y, planes.yStride, planes.u, planes.cStride, planes.v, planes.cStride, Int32(plan.width), Int32(plan.height), &out, plan.width * 4)
        return RGBAImage(width: plan.width, height: plan.height, pixels: out)
    }

    /// `packed` planes (`PlanesRef.packed()`) as RGBA.
    private func rgba(ofPacked packed: [UInt8]) -> RGBAImage {
        var copy = packed
        let w = plan.width, h = plan.height
        return copy.withUnsafeMutableBufferPointer { p in
            let y = p.baseAddress!, u = y + w * h, v = u + (w / 2) * (h / 2)
            return rgba(of: PlanesRef(y: y, u: u, v: v, yStride: w, cStride: w / 2, width: w, height: h))
        }
    }

    /// Renders the video to `output` (and the thumbnail to `thumbnail`), each written to a temporary file beside
    /// its destination and renamed on success; nothing partial is left on failure or cancellation.
    /// Returns the loudness of the audio written, when the plan's audio graph measures it.
    ///
    /// `loudness`, when given, is the plan's loudness normalisation still being measured: the video starts at once
    /// and the audio graph is built when the measurement is ready (or once the video is `audioLagLimit` seconds
    /// ahead, waiting for it then), so the measuring passes run beside the first frames.
    @discardableResult
    public func render(
        to output: String, thumbnail: String?,
        progress: (_ frame: Int, _ total: Int) -> Void = { _, _ in },
        shouldCancel: () -> Bool = { false },
        firstFrameSent: () -> Void = {},
        loudness pending: PendingLoudness? = nil
    ) throws -> LoudnessMeasurement? {
        var loudness: LoudnessMeasurement?
        let outURL = URL(fileURLWithPath: output)
        let tempVideo = outURL.deletingLastPathComponent().appendingPathComponent(".\(outURL.lastPathComponent).\(UUID().uuidString).partial.mp4")
            .path
        defer { try? FileManager.default.removeItem(atPath: tempVideo) }
        // The thumbnail's frame as YUV (3 MB at 1080x1920; as RGBA, 8 MB held for the whole render).
        var thumbnailPlanes: [UInt8]?
        do {
            let writer = try MP4Writer(path: tempVideo, plan: plan)
            var audio: AudioSource? = pending == nil ? try AudioSource(plan: plan, frameSize: writer.audioFrameSize) : nil
            /// The audio graph once the loudness measurement is ready (`wait`: block for it).
            func audioSource(wait: Bool) throws -> AudioSource? {
                if let audio { return audio }
                guard let pending, wait || pending.isReady else { return nil }
                var p = plan
                p.audio?.loudness = try pending.wait()
                audio = try AudioSource(plan: p, frameSize: writer.audioFrameSize)
                return audio
            }
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
                if index == thumbFrame && thumbnail != nil { thumbnailPlanes = planes.packed() }
                frame.pts = Int64(index)
                try writer.sendVideo(frame)
                if index == 0 {
                    options.trace?(.frameSent(0))
                    firstFrameSent()
                    compositor.firstFrameSent()
                }
                // Keep audio about half a second ahead of video so the muxer interleaves closely.
                let videoTime = Double(index + 1) / fps
                if let audio = try audioSource(wait: videoTime >= Self.audioLagLimit) {
                    while !audio.finished && audio.seconds < videoTime + 0.5, let a = try audio.next() {
                        try writer.sendAudio(a)
                    }
                }
                progress(index + 1, plan.frameCount)
            }
            let rest = try audioSource(wait: true)!
            while let a = try rest.next() { try writer.sendAudio(a) }
            loudness = rest.outputLoudness
            try writer.finish()
        }
        if let thumbnail {
            guard let thumbnailPlanes else { throw BackendError(.encode, path: thumbnail, "thumbnail frame \(plan.thumbnailFrame) was not rendered") }
            try ImageFile.writeJPEG(rgba(ofPacked: thumbnailPlanes), to: thumbnail)
        }
        do {
            try AtomicFile.replace(tempVideo, with: output)
        } catch {
            if let thumbnail { try? FileManager.default.removeItem(atPath: thumbnail) }
            throw error
        }
        return loudness
    }
}
