import Foundation
import LibAV
import Planner
import RasterImage
internal import RenderKernels
import SpecLang

/// Facts about a media file read from its headers.
public enum MediaProbe {
    /// Duration in seconds of the file's audio stream; throws when there is no decodable audio.
    public static func audioDuration(path: String) throws -> Double {
        let input = try MediaInput(path: path, mediaType: .audio)
        guard let d = input.duration, d > 0 else {
            throw BackendError(.openInput, code: .unreadable, path: path, "the audio's length is unknown (empty or truncated file?)")
        }
        return d
    }
}

/// Encodes procedurally drawn RGBA frames into an H.264 MP4 (used to make the default overlay loops).
public enum ClipWriter {
    public static func write(
        path: String, width: Int, height: Int, fps: Int, frameCount: Int, crf: Int = 18,
        draw: (_ index: Int, _ image: inout RGBAImage) -> Void
    ) throws {
        let plan = RenderPlan(
            template: "clip", quality: .normal, width: width, height: height, fps: fps,
            duration: Double(frameCount) / Double(fps), frameCount: frameCount,
            encoder: EncoderSettings(preset: "medium", crf: crf, gop: fps), layers: [], audio: nil, thumbnailTime: 0,
            cutSource: .fallback(interval: 1, reason: "clip")
        )
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial.mp4").path
        defer { try? FileManager.default.removeItem(atPath: temp) }
        do {
            let writer = try MP4Writer(path: temp, plan: plan)
            let audio = try AudioSource(plan: plan, frameSize: writer.audioFrameSize)
            let frame = try Frame.video(width: width, height: height)
            var image = RGBAImage(width: width, height: height)
            for i in 0..<frameCount {
                try frame.makeWritable()
                draw(i, &image)
                let p = PlanesRef(frame: frame)
                image.pixels.withUnsafeBufferPointer { src in
                    rk_rgba_to_yuva420(
                        src.baseAddress, Int32(width), Int32(height), width * 4, p.y, p.yStride, p.u, p.cStride, p.v, p.cStride, nil, 0, nil, 0)
                }
                frame.pts = Int64(i)
                try writer.sendVideo(frame)
            }
            while let a = try audio.next() { try writer.sendAudio(a) }
            try writer.finish()
        }
        try AtomicFile.replace(temp, with: path)
    }
}

/// Process-wide libav settings.
public enum Backend {
    /// Process-level allocator settings for long renders (see rk_tune_allocator); call once at start-up.
    public static func tuneAllocator() { rk_tune_allocator() }

    /// Returns the allocator's free pages to the system (see rk_release_free_memory): called where a big transient
    /// has just been freed beside the encoder (a picture prepared, the overlay loop blended, the loudness measured),
    /// so that the next one does not land on top of memory that is free but still resident.
    static func releaseFreeMemory() { rk_release_free_memory() }

    /// Quiets libav's own console output to errors only (rendc reports progress and problems itself).
    public static func configureLogging(verbose: Bool = false) {
        LibAVLogging.configure(verbose: verbose)
    }
}
