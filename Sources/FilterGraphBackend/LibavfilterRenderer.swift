import Foundation
import LibAV
import Planner
import RasterImage
internal import RenderKernels

/// Which backend draws the frames: rendc's own compositor (`fast`, the default) or the plan's stock FFmpeg
/// graph run in-process by libavfilter (`libavfilter`). Both feed the same encoder and muxer.
public enum RenderEngine: String, Sendable, CaseIterable {
    case fast, libavfilter
}

/// Runs the plan's stock FFmpeg graph (`RenderPlan.ffmpegGraph`) in-process: its PNG art drawn into a private
/// folder, the graph parsed with `avfilter_graph_parse_ptr` and pulled from buffer sinks, then encoded by the
/// same `MP4Writer` as the fast engine.
public final class LibavfilterRenderer {
    public let plan: RenderPlan
    private let texts: [Int: RGBAImage]

    public init(plan: RenderPlan, texts: [Int: RGBAImage]) {
        self.plan = plan
        self.texts = texts
    }

    /// Renders to `output` (and `thumbnail`), each through a temporary file renamed on success. The art folder
    /// (`workDirectory`, default beside the output) is removed afterwards.
    public func render(
        to output: String, thumbnail: String?, workDirectory: String? = nil,
        progress: (_ frame: Int, _ total: Int) -> Void = { _, _ in },
        shouldCancel: () -> Bool = { false }
    ) throws {
        let outURL = URL(fileURLWithPath: output)
        let parent = workDirectory ?? outURL.deletingLastPathComponent().path
        let art = (parent as NSString).appendingPathComponent(".rendc-graph-\(UUID().uuidString)")
        let tempVideo = outURL.deletingLastPathComponent().appendingPathComponent(".\(outURL.lastPathComponent).\(UUID().uuidString).partial.mp4")
            .path
        defer {
            try? FileManager.default.removeItem(atPath: art)
            try? FileManager.default.removeItem(atPath: tempVideo)
        }
        let pictures = try StockGraphArt.prepare(plan, texts: texts)
        let graph = Self.graph(plan, pictures: pictures, artDirectory: art + "/")
        try StockGraphArt.write(graph, plan: plan, texts: texts, pictures: pictures, to: art)
        var thumbnailImage: RGBAImage?
        do {
            let writer = try MP4Writer(path: tempVideo, plan: plan)
            let run: SourcedGraph
            do {
                run = try SourcedGraph(script: graph.script, sampleRate: plan.encoder.audioSampleRate, audioFrameSize: writer.audioFrameSize)
            } catch {
                throw BackendError(.prepare, "the stock graph does not run: \(error)")
            }
            let fps = Double(plan.fps)
            var index = 0
            while let frame = try run.nextVideo() {
                if shouldCancel() { throw BackendError(.cancelled, "the render was cancelled") }
                guard index < plan.frameCount else { break }
                if index == plan.thumbnailFrame && thumbnail != nil { thumbnailImage = rgba(of: PlanesRef(frame: frame)) }
                try writer.sendVideo(frame)
                index += 1
                while !run.audioFinished && run.audioSeconds < Double(index) / fps + 0.5, let a = try run.nextAudio() {
                    try writer.sendAudio(a)
                }
                progress(index, plan.frameCount)
            }
            guard index == plan.frameCount else {
                throw BackendError(.encode, "the stock graph made \(index) frames, the plan has \(plan.frameCount)")
            }
            while let a = try run.nextAudio() { try writer.sendAudio(a) }
            try writer.finish()
        }
        if let thumbnail {
            guard let thumbnailImage else { throw BackendError(.encode, path: thumbnail, "thumbnail frame \(plan.thumbnailFrame) was not rendered") }
            try ImageFile.writeJPEG(thumbnailImage, to: thumbnail)
        }
        try AtomicFile.replace(tempVideo, with: output)
    }

    /// The graph this engine runs, with its art named under `artDirectory`: with "" exactly the `graph.txt` that
    /// `FFmpegExport` writes for `run.sh`.
    public func graph(artDirectory: String) throws -> FFmpegGraph {
        Self.graph(plan, pictures: try StockGraphArt.prepare(plan, texts: texts), artDirectory: artDirectory)
    }

    static func graph(_ plan: RenderPlan, pictures: StockGraphArt.Pictures, artDirectory: String) -> FFmpegGraph {
        plan.ffmpegGraph(artDirectory: artDirectory, pictures: pictures.geometry, artBounds: pictures.bounds)
    }

    private func rgba(of planes: PlanesRef) -> RGBAImage {
        var out = [UInt8](repeating: 0, count: plan.width * plan.height * 4)
        rk_yuv420_to_rgba(
            planes.y, planes.yStride, planes.u, planes.cStride, planes.v, planes.cStride, Int32(plan.width), Int32(plan.height), &out, plan.width * 4)
        return RGBAImage(width: plan.width, height: plan.height, pixels: out)
    }
}

/// The export a designer can run anywhere: `graph.txt`, the PNG art beside it and `run.sh`.
public enum FFmpegExport {
    /// The graph `write` exports (its pictures measured, not assumed), without writing anything.
    public static func graph(plan: RenderPlan, texts: [Int: RGBAImage]) throws -> FFmpegGraph {
        LibavfilterRenderer.graph(plan, pictures: try StockGraphArt.prepare(plan, texts: texts), artDirectory: "")
    }

    /// Writes `graph.txt`, the art and `run.sh` (which runs `ffmpeg -filter_complex_script graph.txt` from its own
    /// folder to `out.mp4` there) into `directory`.
    public static func write(plan: RenderPlan, texts: [Int: RGBAImage], to directory: String) throws -> FFmpegGraph {
        let pictures = try StockGraphArt.prepare(plan, texts: texts)
        let graph = LibavfilterRenderer.graph(plan, pictures: pictures, artDirectory: "")
        try StockGraphArt.write(graph, plan: plan, texts: texts, pictures: pictures, to: directory)
        try graph.script.write(toFile: (directory as NSString).appendingPathComponent("graph.txt"), atomically: true, encoding: .utf8)
        let e = plan.encoder
        var x264 = "-c:v \(e.videoCodec) -preset \(e.preset) -crf \(e.crf) -g \(e.gop) -pix_fmt \(e.pixelFormat)"
        if let tune = e.tune { x264 += " -tune \(tune)" }
        if let p = e.x264Params { x264 += " -x264-params '\(p.replacingOccurrences(of: "'", with: "'\\''"))'" }
        let script = """
            #!/bin/sh
            # Renders this plan with the ffmpeg CLI (stock FFmpeg 5.1 filters only). Generated by `rendc plan --emit-ffmpeg`.
            # Runs from any working directory: the art is found beside this script; input media stay at their absolute paths.
            set -e
            cd "$(dirname "$0")"
            exec ffmpeg -nostdin -hide_banner -loglevel error -y -filter_complex_script graph.txt \\
              -map '[vout]' -map '[aout]' -r \(plan.fps) -frames:v \(plan.frameCount) \\
              \(x264) -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv \\
              -c:a \(e.audioCodec) -b:a \(e.audioBitrate) -ar \(e.audioSampleRate) -ac \(e.audioChannels) \\
              \(e.faststart ? "-movflags +faststart " : "")"${1:-out.mp4}"

            """
        let runPath = (directory as NSString).appendingPathComponent("run.sh")
        try script.write(toFile: runPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: runPath)
        return graph
    }
}
