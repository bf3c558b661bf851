import Foundation
import Metrics
import JobQueue
import Logging
import RenderPipeline
import SpecLang

/// What one render gets: the job, its inputs fetched to local files, and where to write.
public struct RenderInput: Sendable {
    public var job: Job
    /// The `lease_epoch` of this attempt (distinguishes repeated renders of one job).
    public var attemptEpoch: Int64
    public var images: [String]
    public var audio: String?
    /// The voice-over, fetched to a local file.
    public var voice: String? = nil
    /// Merge field values; picture fields as local paths.
    public var fields: [String: String] = [:]
    public var videoPath: String
    public var thumbnailPath: String
    /// The job's private temporary folder (removed by the worker afterwards).
    public var workDirectory: String
}

public struct RenderedFiles: Sendable, Equatable {
    public var video: String
    public var thumbnail: String?
    /// The plan rendered (`rendc plan`'s summary), kept with the job for operators.
    public var plan: String?
    /// Loudness measured while rendering, when the audio was normalised.
    public var audioLoudness: JobAudioLoudness?
    /// The plan's notes, for the tenant (no paths: a field cut to fit, pictures repeated, ...).
    public var notes: [String]
    public init(video: String, thumbnail: String?, plan: String? = nil, audioLoudness: JobAudioLoudness? = nil, notes: [String] = []) {
        self.video = video
        self.thumbnail = thumbnail
        self.plan = plan
        self.audioLoudness = audioLoudness
        self.notes = notes
    }
}

/// The render step of a job, behind a seam so the worker can be tested without real video renders.
/// `render` is synchronous and may be CPU bound: the worker calls it on a dedicated thread, never on the
/// cooperative pool. It polls `shouldCancel` often and then stops with any error; `progress` takes 0...1.
public protocol JobRenderer: Sendable {
    func render(
        _ input: RenderInput, progress: @escaping @Sendable (Double) -> Void, shouldCancel: @escaping @Sendable () -> Bool
    ) throws -> RenderedFiles
}

/// An error that retrying cannot fix (unknown template, bad input): the job fails without using its retries.
public struct PermanentJobError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The real renderer: `RenderPipeline.render`, the same composition `rendc render` runs.
public struct PipelineRenderer: JobRenderer {
    let pipeline: RenderPipeline
    let logger: Logger?

    /// With a `logger`, each job's time to first frame and render time are logged.
    public init(pipeline: RenderPipeline, logger: Logger? = nil) {
        self.pipeline = pipeline
        self.logger = logger
    }

    public func render(
        _ input: RenderInput, progress: @escaping @Sendable (Double) -> Void, shouldCancel: @escaping @Sendable () -> Bool
    ) throws -> RenderedFiles {
        let quality = input.job.qualityMode
        let request = RenderRequest(
            template: input.job.template, images: input.images, audio: input.audio, text: input.job.textOverlay,
            fields: input.fields, duration: input.job.durationTarget, quality: quality, output: input.videoPath, thumbnail: input.thumbnailPath,
            voice: input.voice)
        do {
            let result = try pipeline.render(request, progress: { progress($0.fraction) }, shouldCancel: shouldCancel)
            if result.elapsed > 0 {
                Recorder(label: "rendc_render_frames_per_second", dimensions: [("quality", quality.rawValue)])
                    .record(Double(result.frameCount) / result.elapsed)
                Recorder(label: "rendc_render_first_frame_seconds", dimensions: [("quality", quality.rawValue)]).record(result.firstFrameSeconds)
            }
            let cache = pipeline.layerCache.statistics
            logger?.info(
                "job rendered",
                metadata: [
                    "jobId": "\(input.job.id.uuidString.lowercased())",
                    "firstFrameMs": "\(Int((result.firstFrameSeconds * 1000).rounded()))",
                    "renderMs": "\(Int((result.elapsed * 1000).rounded()))",
                    "layerCacheMB": "\(cache.memoryBytes >> 20)",
                ])
            var loudness: JobAudioLoudness?
            if let i = result.loudnessIn, let o = result.loudnessOut {
                loudness = JobAudioLoudness(inputLufs: i.integrated, outputLufs: o.integrated, outputTruePeakDbtp: o.truePeak)
            }
            return RenderedFiles(video: result.output, thumbnail: result.thumbnail, plan: result.plan, audioLoudness: loudness, notes: result.notes)
        } catch let error as PipelineError where error.isPermanentFailure {
            throw PermanentJobError(error.description)
        } catch let error as SpecError {
            throw PermanentJobError("template: \(error)")
        } catch let error as SpecErrors {
            throw PermanentJobError("template: \(error)")
        }
    }
}

/// A TEST HOOK, not a renderer: sleeps `duration` seconds (in small steps, honouring cancellation), then writes a
/// tiny placeholder "video" and "thumbnail" naming the job and attempt. When `markerDirectory` is set, each render
/// appends `started epoch N` and, if it got to the end, `finished epoch N` to `markerDirectory/<jobId>`, so a test
/// can count how often a job was rendered.
/// Used by the worker tests and by `rendc worker --fake-render-ms` (the kill test's worker processes).
public struct SimulatedRenderer: JobRenderer {
    public var duration: Double
    public var markerDirectory: String?
    /// Jobs whose text overlay equals this fail (to test failure handling).
    public var failOnText: String?

    public init(duration: Double, markerDirectory: String? = nil, failOnText: String? = "FAIL") {
        self.duration = duration
        self.markerDirectory = markerDirectory
        self.failOnText = failOnText
    }

    public func render(
        _ input: RenderInput, progress: @escaping @Sendable (Double) -> Void, shouldCancel: @escaping @Sendable () -> Bool
    ) throws -> RenderedFiles {
        let start = Date()
        try mark("started", input)
        progress(0)
        while true {
            let elapsed = Date().timeIntervalSince(start)
            if elapsed >= duration { break }
            if shouldCancel() { throw CancellationError() }
            progress(duration > 0 ? elapsed / duration : 1)
            Thread.sleep(forTimeInterval: min(0.01, max(0, duration - elapsed)))
        }
        if let failOnText, input.job.textOverlay == failOnText {
            throw PermanentJobError("simulated render failure for text '\(failOnText)'")
        }
        let stamp = "job \(input.job.id.uuidString.lowercased()) epoch \(input.attemptEpoch)\n"
        try Data(stamp.utf8).write(to: URL(fileURLWithPath: input.videoPath))
        try Data(stamp.utf8).write(to: URL(fileURLWithPath: input.thumbnailPath))
        try mark("finished", input)
        progress(1)
        return RenderedFiles(video: input.videoPath, thumbnail: input.thumbnailPath)
    }

    /// Appends `EVENT epoch N` to the job's marker file (one write, O_APPEND: lines from processes never mix).
    private func mark(_ event: String, _ input: RenderInput) throws {
        guard let markerDirectory else { return }
        let path = markerDirectory + "/" + input.job.id.uuidString.lowercased()
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw PermanentJobError("cannot open marker file \(path)") }
        defer { close(fd) }
        let bytes = Array("\(event) epoch \(input.attemptEpoch)\n".utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
