import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import JobWorker
import Logging
import NIOCore
import RendcTestSupport
import RenderPipeline
import Testing

@testable import JobAPI

/// Runs a command-line tool (ffmpeg/ffprobe as independent makers and checkers; never the renderer).
func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try Subprocess.run(executable, arguments)
    return (result.status, result.combined)
}

@Suite(.serialized, .ownThreads) struct EndToEndTests {
    /// Upload real images and audio through the API, submit, render with the real RenderPipeline in an in-process
    /// JobWorker, poll to completed, download through the signed URL and check the MP4 with ffprobe.
    @Test(.timeLimit(.minutes(8))) func uploadSubmitRenderDownload() async throws {
        let work = try Fixtures.temporaryDirectory("rendc-api-e2e")
        defer { try? FileManager.default.removeItem(at: work) }
        // Inputs made by the ffmpeg CLI: three photos of different shapes and a 6 s tone.
        let inputs: [(String, [String])] = [
            ("a.jpg", ["-f", "lavfi", "-i", "testsrc2=size=1200x1600", "-frames:v", "1"]),
            ("b.png", ["-f", "lavfi", "-i", "smptebars=size=900x900", "-frames:v", "1"]),
            ("c.jpg", ["-f", "lavfi", "-i", "mandelbrot=size=1600x1000", "-frames:v", "1"]),
            ("track.m4a", ["-f", "lavfi", "-i", "sine=frequency=440:duration=6", "-c:a", "aac"]),
            // A voice-over: 1 kHz bursts (issue 17), quiet, so the loudness figures move.
            ("voice.wav", ["-f", "lavfi", "-i", "aevalsrc='if(between(t,0.5,2),0.05*sin(2*PI*1000*t),0)':d=2.5:s=16000"]),
        ]
        for (name, args) in inputs {
            let result = try runTool("/usr/bin/ffmpeg", ["-v", "error", "-y"] + args + [work.appendingPathComponent(name).path])
            try #require(result.status == 0, "ffmpeg could not make \(name): \(result.output)")
        }

        let logger = Logger(label: "rendc.test.e2e")
        let pipeline = RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [Fixtures.specsDirectory.path],
                assetsDirectory: work.appendingPathComponent("default-assets").path,
                cacheDirectory: work.appendingPathComponent("cache").path,
                temporaryDirectory: work.appendingPathComponent("tmp").path),
            logger: logger)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        // As `rendc serve` lists them: parsed as the worker loads them, so submit plans the job (SubmitPlanning).
        let templates: @Sendable () throws -> [TemplateSummary] = {
            try pipeline.templates().map {
                TemplateSummary(name: $0.name, description: $0.description, template: try? pipeline.loadTemplate($0.path))
            }
        }

        try await withAPI(templates: templates) { api in
            var imageIds: [String] = []
            for name in ["a.jpg", "b.png", "c.jpg"] {
                let bytes = try [UInt8](Data(contentsOf: work.appendingPathComponent(name)))
                let response = try await api.upload(bytes, type: "image", filename: name, key: api.keyA)
                #expect(response.status == .created, "\(String(buffer: response.body))")
                imageIds.append(try #require(try jsonObject(response)["assetId"] as? String))
            }
            let audioBytes = try [UInt8](Data(contentsOf: work.appendingPathComponent("track.m4a")))
            let audio = try await api.upload(audioBytes, type: "audio", filename: "track.m4a", key: api.keyA)
            #expect(audio.status == .created, "\(String(buffer: audio.body))")
            let audioId = try #require(try jsonObject(audio)["assetId"] as? String)
            let voiceBytes = try [UInt8](Data(contentsOf: work.appendingPathComponent("voice.wav")))
            let voiceUpload = try await api.upload(voiceBytes, type: "audio", filename: "voice.wav", key: api.keyA)
            #expect(voiceUpload.status == .created, "\(String(buffer: voiceUpload.body))")
            let voiceId = try #require(try jsonObject(voiceUpload)["assetId"] as? String)

            let names =
                (try jsonObject(try await api.send(.get, "/api/v1/templates", key: api.keyA))["templates"] as? [[String: Any]])?
                .compactMap { $0["name"] as? String } ?? []
            #expect(names.contains("golden-frame"))

            let ids = imageIds.map { "\"\($0)\"" }.joined(separator: ",")
            // Longer than the caption's box holds even at its smallest size: the render cuts it and notes so.
            let caption = "Nuevo 👟 -30% " + String(repeating: "en todas las zapatillas de la tienda ", count: 8)
            let submitted = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA,
                """
                {"imageIds":[\(ids)],"audioFile":"\(audioId)","voiceFile":"\(voiceId)","textOverlay":"\(caption)","overlayType":"golden-frame",
                 "qualityMode":"normal","durationTarget":3}
                """)
            #expect(submitted.status == .accepted, "\(String(buffer: submitted.body))")
            let jobId = try #require(try jsonObject(submitted)["jobId"] as? String)

            let worker = JobWorker(
                store: api.store, objectStore: api.objectStore, renderer: PipelineRenderer(pipeline: pipeline),
                configuration: WorkerConfiguration(
                    concurrency: 1, temporaryDirectory: work.appendingPathComponent("worker").path, identity: "e2e-worker",
                    pollInterval: 0.5),
                logger: logger)
            // The worker runs in this process until the job is finished; the poller returns the final job JSON.
            let finalBody: Data = try await withThrowingTaskGroup(of: Data?.self) { group in
                group.addTask {
                    try await worker.run()
                    return nil
                }
                group.addTask {
                    let deadline = Date().addingTimeInterval(420)
                    while Date() < deadline {
                        let response = try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: api.keyA)
                        let job = try jsonObject(response)["job"] as? [String: Any]
                        let status = job?["status"] as? String
                        if status == "completed" || status == "failed" || status == "cancelled" {
                            return Data(response.body.readableBytesView)
                        }
                        try await Task.sleep(for: .milliseconds(250))
                    }
                    Issue.record("job \(jobId) did not finish in time")
                    return nil
                }
                var finished: Data?
                while let value = try await group.next() {
                    if let value {
                        finished = value
                        worker.beginShutdown()
                    } else if finished == nil {
                        group.cancelAll()
                    }
                }
                return try #require(finished)
            }
            let job = try #require((try JSONSerialization.jsonObject(with: finalBody) as? [String: Any])?["job"] as? [String: Any])
            #expect(job["status"] as? String == "completed", "job ended \(job["status"] ?? "?"): \(job["lastError"] ?? "")")
            #expect(job["progress"] as? Int == 100)
            #expect((job["processingTimeMs"] as? Int ?? 0) > 0)
            let videoURL = try #require(job["outputVideoUrl"] as? String)
            let thumbURL = try #require(job["outputThumbnailUrl"] as? String)
            #expect(videoURL.contains("signature="))
            // The voice-over is the job's, and the loudness measured while rendering is its result.
            #expect(job["voiceFile"] as? String == voiceId)
            let loudness = try #require(job["audioLoudness"] as? [String: Any], "\(job)")
            let outLUFS = try #require(loudness["outputLufs"] as? Double), inLUFS = try #require(loudness["inputLufs"] as? Double)
            let peak = try #require(loudness["outputTruePeakDbtp"] as? Double)
            #expect(abs(outLUFS + 14) <= 1 && peak <= -1 && abs(inLUFS - outLUFS) > 1, "loudness \(loudness)")
            // The render's notes reach the store's developer (the caption was cut, in the template's words), without a
            // path of the server in them.
            let notes = try #require(job["notes"] as? [String], "\(job)")
            #expect(
                notes.contains { $0.contains("the field caption did not fit") && $0.contains("of \"Nuevo 👟 -30% en todas la…\"") },
                "\(notes)")
            #expect(notes.allSatisfy { !$0.contains(work.path) && !$0.contains("/tmp") && !$0.contains(".m4a") }, "\(notes)")

            let video = try await api.send(.get, String(videoURL.dropFirst(api.configuration.baseURL.count)), key: nil)
            #expect(video.status == .ok)
            #expect(video.headers[.contentType] == "video/mp4")
            let videoFile = work.appendingPathComponent("downloaded.mp4")
            try Data(video.body.readableBytesView).write(to: videoFile)
            let probe = try runTool(
                "/usr/bin/ffprobe",
                [
                    "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height:format=duration", "-of", "json",
                    videoFile.path,
                ])
            #expect(probe.status == 0, "\(probe.output)")
            struct Probe: Decodable {
                struct Stream: Decodable { var codec_type: String; var codec_name: String; var width: Int?; var height: Int? }
                struct Format: Decodable { var duration: String? }
                var streams: [Stream]
                var format: Format
            }
            let parsed = try JSONDecoder().decode(Probe.self, from: Data(probe.output.utf8))
            let videoStream = try #require(parsed.streams.first { $0.codec_type == "video" })
            #expect(videoStream.codec_name == "h264")
            #expect(videoStream.width == 1080)
            #expect(videoStream.height == 1920)
            #expect(parsed.streams.contains { $0.codec_type == "audio" && $0.codec_name == "aac" })
            let duration = Double(parsed.format.duration ?? "") ?? 0
            #expect(abs(duration - 3) < 0.5, "duration \(duration)")

            let thumb = try await api.send(.get, String(thumbURL.dropFirst(api.configuration.baseURL.count)), key: nil)
            #expect(thumb.status == .ok)
            #expect(Array(thumb.body.readableBytesView.prefix(3)) == [0xFF, 0xD8, 0xFF])
            // The other tenant cannot see the job, and the outputs sit under the tenant's keys.
            #expect(try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: api.keyB).status == .notFound)
            #expect(videoURL.contains("/files?key=videos%2F\(api.tenantA.uuidString.lowercased())%2F\(jobId).mp4&"))
        }
    }
}
