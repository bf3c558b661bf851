import Foundation
import JobQueue
import JobWorker
import Logging
import ObjectStorage
import RenderPipeline
import RendcTestSupport
import Testing
import Webhooks

/// The worker with the real renderer (`PipelineRenderer` over `RenderPipeline`): inputs from storage, a real
/// H.264/AAC render, outputs uploaded to their keys, checked with ffprobe.
@Suite(.ownThreads) struct RealRenderTests {
    @Test(.timeLimit(.minutes(10)))
    func workerRendersARealVideoFromStoredAssets() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-real")
            defer { try? FileManager.default.removeItem(at: root) }
            let pipeline = RenderPipeline(
                configuration: PipelineConfiguration(
                    templateDirectories: [Fixtures.specsDirectory.path], assetsDirectory: root.path + "/assets",
                    temporaryDirectory: root.path + "/pipeline-tmp", maxDuration: 60
                ), logger: Logger(label: "test"))
            let demoImages = Array(try pipeline.assets.demoImages().prefix(2))
            let track = try #require(try pipeline.assets.path(for: "demo-track"))

            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let tenant = try await store.createTenant(name: "real")
            var imageIds: [UUID] = []
            for (index, path) in demoImages.enumerated() {
                let key = "assets/\(tenant.id.uuidString.lowercased())/demo-\(index).\((path as NSString).pathExtension)"
                try await objects.put(localPath: path, key: key, contentType: "image/jpeg")
                imageIds.append(try await store.insertAsset(NewAsset(tenantId: tenant.id, type: .image, name: "demo-\(index)", filePath: key)).id)
            }
            let audioKey = "assets/\(tenant.id.uuidString.lowercased())/track.\((track as NSString).pathExtension)"
            try await objects.put(localPath: track, key: audioKey, contentType: "audio/mpeg")
            let audio = try await store.insertAsset(NewAsset(tenantId: tenant.id, type: .audio, name: "track", filePath: audioKey))

            let id = try await store.enqueue(
                NewJob(
                    tenantId: tenant.id, imageIds: imageIds, audioAssetId: audio.id.uuidString, textOverlay: "New in ✨",
                    template: "golden-frame", durationTarget: 6, qualityMode: .eco))
            let temp = root.path + "/tmp"
            let config = WorkerConfiguration(
                concurrency: 1, temporaryDirectory: temp, identity: "w-real", pollInterval: 1, progressInterval: 0.2)
            let seenProgress = try await withWorker(
                store: store, objects: objects, renderer: PipelineRenderer(pipeline: pipeline), configuration: config
            ) { (_: JobWorker) async throws -> Set<Int> in
                var seenProgress: Set<Int> = []
                let deadline = Date().addingTimeInterval(150)
                while Date() < deadline {
                    let job = try #require(try await store.job(id: id))
                    if job.status == .processing { seenProgress.insert(job.progress) }
                    if job.status.isTerminal { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return seenProgress
            }
            let job = try #require(try await store.job(id: id))
            #expect(job.status == .completed, "last error: \(job.lastError ?? "-")")
            #expect(job.progress == 100 && (job.processingTimeMs ?? 0) > 0)
            // Mid-render progress is proven by WorkerTests (a long fake render, progress > 0 before it ends); here,
            // with 300 other tests sharing this process's cooperative threads, the worker's progress loop can be
            // starved for the whole of a short render, so only the final value is checked.
            #expect(seenProgress.allSatisfy { (0...100).contains($0) })
            let video = try objects.filePath(forKey: try #require(job.outputVideoKey))
            let info = try FFprobe.probe(video)
            #expect(info.video?.codecName == "h264" && info.video?.width == 720 && info.video?.height == 1280)
            #expect(info.audio?.codecName == "aac")
            #expect(abs(info.duration - 6) < 0.15)
            let thumbnail = try objects.filePath(forKey: try #require(job.outputThumbnailKey))
            let jpeg = try Data(contentsOf: URL(fileURLWithPath: thumbnail))
            #expect(jpeg.starts(with: [0xFF, 0xD8, 0xFF]))
            #expect(folderIsEmpty(temp))
            print(
                "real render through the worker: eco 6 s golden-frame in \(job.processingTimeMs ?? 0) ms; progress values seen: \(seenProgress.sorted())"
            )
        }
    }
}

extension RealRenderTests {
    @Test func anUnknownTemplateFailsAtOnceWithoutRetries() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-real")
            defer { try? FileManager.default.removeItem(at: root) }
            let pipeline = RenderPipeline(
                configuration: PipelineConfiguration(
                    templateDirectories: [Fixtures.specsDirectory.path], assetsDirectory: root.path + "/assets",
                    temporaryDirectory: root.path + "/pipeline-tmp", maxDuration: 60
                ), logger: Logger(label: "test"))
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects, count: 1)
            let id = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images, template: "no-such-template", maxAttempts: 3))
            let config = WorkerConfiguration(concurrency: 1, temporaryDirectory: root.path + "/tmp", identity: "w-tpl", pollInterval: 1)
            try await withWorker(store: store, objects: objects, renderer: PipelineRenderer(pipeline: pipeline), configuration: config) {
                (_: JobWorker) async throws -> Void in
                #expect(try await eventually(timeout: 120) { try await store.job(id: id)?.status.isTerminal == true })
            }
            let job = try #require(try await store.job(id: id))
            #expect(job.status == .failed && job.attempts == 1)
            #expect(job.lastError?.contains("no-such-template") == true, "last error: \(job.lastError ?? "-")")
        }
    }
}

/// `rendc migrate` and `rendc tenant create` as a user runs them.
@Suite(.ownThreads) struct CommandTests {
    /// A designer's first `rendc still --template FILE` has no product photos yet.
    @Test func stillWithoutPicturesUsesTheDemoOnesAndRenderSaysToGiveThem() throws {
        let binary = try KillTest().rendcBinary()
        let dir = try Fixtures.temporaryDirectory("rendc-cli-samples")
        var environment = ProcessInfo.processInfo.environment
        environment["RENDC_ASSETS_DIR"] = dir.appendingPathComponent("assets").path
        let png = dir.appendingPathComponent("frame.png").path
        let still = try Subprocess.run(
            binary, ["still", "--template", "polaroid", "--at", "1", "--quality", "eco", "-o", png], environment: environment)
        #expect(still.status == 0, "\(still.combined)")
        #expect(
            still.errors.contains(
                "no --image given: using the built-in demo pictures (demo-bottle-portrait.jpg, demo-box-landscape.png, demo-ring-square.jpg)"),
            "\(still.combined)")
        #expect(FileManager.default.fileExists(atPath: png))
        // The plan's summary alone, or with the filter graph after it.
        let summary = try Subprocess.run(binary, ["plan", "--template", "polaroid", "--summary"], environment: environment)
        let full = try Subprocess.run(binary, ["plan", "--template", "polaroid"], environment: environment)
        #expect(summary.status == 0 && summary.output.hasPrefix("template: polaroid") && !summary.output.contains("[vout]"), "\(summary.combined)")
        #expect(full.status == 0 && full.output.hasPrefix(summary.output) && full.output.contains("[vout]"), "\(full.combined)")
        let mp4 = dir.appendingPathComponent("out.mp4").path
        let render = try Subprocess.run(binary, ["render", "--template", "polaroid", "-o", mp4], environment: environment)
        #expect(render.status == 1)
        #expect(render.errors.contains("rendc: error: polaroid shows product pictures: give them with --image FILE"), "\(render.combined)")
        #expect(!FileManager.default.fileExists(atPath: mp4))
    }

    /// docs/ffmpeg-export.md's example names its inputs relative to the shell's folder, and run.sh runs from its own
    /// folder: the export must name them absolutely (review9b: "No such file or directory").
    @Test func anExportMadeWithRelativePathsRunsFromItsOwnFolder() throws {
        let binary = try KillTest().rendcBinary()
        let dir = try Fixtures.temporaryDirectory("rendc-cli-export")
        defer { try? FileManager.default.removeItem(at: dir) }
        var environment = ProcessInfo.processInfo.environment
        environment["RENDC_ASSETS_DIR"] = dir.appendingPathComponent("assets").path
        let work = dir.appendingPathComponent("work").path
        try FileManager.default.createDirectory(atPath: work + "/in", withIntermediateDirectories: true)
        for (name, source) in [("in/a.png", "testsrc=s=320x240"), ("in/b.png", "smptebars=s=240x320")] {
            let made = try Subprocess.run(
                "/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", source, "-frames:v", "1", "-y", name], directory: work)
            #expect(made.status == 0, "\(made.combined)")
        }
        let song = try Subprocess.run(
            "/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=3", "-y", "in/song.wav"], directory: work)
        #expect(song.status == 0, "\(song.combined)")
        let plan = try Subprocess.run(
            binary,
            [
                "plan", "--template", "no-frame", "--image", "in/a.png", "--image", "in/b.png", "--audio", "in/song.wav", "--duration", "2",
                "--quality", "eco", "--summary", "--emit-ffmpeg", "export",
            ], environment: environment, directory: work)
        #expect(plan.status == 0, "\(plan.combined)")
        let graph = try String(contentsOfFile: work + "/export/graph.txt", encoding: .utf8)
        #expect(!graph.contains("filename=in/"), "inputs are named absolutely")
        let run = try Subprocess.run("/bin/sh", [work + "/export/run.sh"], environment: environment, directory: dir.path)
        #expect(run.status == 0, "\(run.combined.suffix(2000))")
    }

    /// Two music files that passed the upload check and then hurt the worker (review12). A 1 MB MP3 whose cover
    /// picture says 16000x16000: probing decoded it, about 1.07 GB each time the file was opened (now: the audio
    /// input does not probe its other streams, and every probing decoder has the pixel limit). An M4A whose stream
    /// starts at 59 s: the level profile was cut on the stream's own timestamps (2 s long), and the loop search
    /// read past its end and trapped, in `plan` and in the worker.
    @Test func aHugeCoverPictureAndAStreamThatStartsLateAreMusicLikeAnyOther() throws {
        let binary = try KillTest().rendcBinary()
        let dir = try Fixtures.temporaryDirectory("rendc-cli-music")
        defer { try? FileManager.default.removeItem(at: dir) }
        var environment = ProcessInfo.processInfo.environment
        environment["RENDC_ASSETS_DIR"] = dir.appendingPathComponent("assets").path
        environment["RENDC_CACHE_DIR"] = dir.appendingPathComponent("cache").path
        let work = dir.path
        // A PNG header of 16000x16000 RGB with a few rows of data: the decoder allocates the whole picture first.
        let png = """
            import struct, zlib, sys
            def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
            rows = zlib.compress(b'\\x00' * (1 + 16000 * 3) * 4)
            pic = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 16000, 16000, 8, 2, 0, 0, 0)) + chunk(b'IDAT', rows) + chunk(b'IEND', b'')
            frame = b'\\x00image/png\\x00\\x03\\x00' + pic
            body = b'APIC' + struct.pack('>I', len(frame)) + b'\\x00\\x00' + frame
            n = len(body)
            size = bytes([(n >> 21) & 127, (n >> 14) & 127, (n >> 7) & 127, n & 127])
            audio = open(sys.argv[1], 'rb').read()
            open(sys.argv[2], 'wb').write(b'ID3\\x03\\x00\\x00' + size + body + audio)
            """
        let tone = try Subprocess.run(
            "/usr/bin/ffmpeg",
            ["-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=6", "-c:a", "libmp3lame", "-id3v2_version", "0", "-y", "tone.mp3"], directory: work)
        #expect(tone.status == 0, "\(tone.combined)")
        let tagged = try Subprocess.run("/usr/bin/python3", ["-c", png, "tone.mp3", "cover.mp3"], directory: work)
        #expect(tagged.status == 0, "\(tagged.combined)")
        let probe = try FFprobe.probe(work + "/cover.mp3")
        #expect(probe.streams.contains { $0.codecType == "video" && $0.width == 16000 }, "the cover is there: \(probe.streams)")
        // Peak memory of the whole process, by GNU time: about 75 MB with the fix, over 1 GB without.
        let beats = try Subprocess.run("/usr/bin/time", ["-f", "peak %M", binary, "beats", "cover.mp3"], environment: environment, directory: work)
        #expect(beats.status == 0, "\(beats.combined)")
        let peak = beats.errors.split(separator: "\n").last { $0.hasPrefix("peak ") }.flatMap { Int($0.dropFirst(5)) } ?? Int.max
        #expect(peak < 400_000, "peak \(peak) kB")

        let late = try Subprocess.run(
            "/usr/bin/ffmpeg",
            [
                "-v", "error", "-f", "lavfi", "-i", "aevalsrc='if(lt(t,3),0,0.6*sin(2*PI*880*t)*exp(-30*mod(t-3,0.5)))':s=44100:d=20", "-ac", "2",
                "-c:a", "aac", "-output_ts_offset", "59", "-y", "late.m4a",
            ], directory: work)
        #expect(late.status == 0, "\(late.combined)")
        let picture = try Subprocess.run(
            "/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=s=320x240", "-frames:v", "1", "-y", "a.png"], directory: work)
        #expect(picture.status == 0, "\(picture.combined)")
        let plan = try Subprocess.run(
            binary, ["plan", "--template", "no-frame", "--image", "a.png", "--audio", "late.m4a", "--duration", "30", "--summary"],
            environment: environment, directory: work)
        #expect(plan.status == 0, "\(plan.combined.suffix(2000))")
        #expect(plan.combined.contains("the track loops"), "\(plan.combined.suffix(2000))")
    }

    @Test func migrateAndTenantCreateFromTheCommandLine() async throws {
        let binary = try KillTest().rendcBinary()
        let server = try PostgresServer.shared()
        let url = try server.createDatabase(prefix: "jobs_cli").absoluteString + "?sslmode=disable"
        func rendc(_ arguments: [String], webhookSecret: String? = nil) throws -> (status: Int32, output: String) {
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = url
            environment["RENDC_WEBHOOK_SECRET"] = webhookSecret
            // A busy test machine is not a down database: the 5 s default deadline is for production.
            environment["DB_QUERY_TIMEOUT"] = "120"
            environment["DB_CONNECT_TIMEOUT"] = "60"
            let result = try Subprocess.run(binary, arguments, environment: environment)
            return (result.status, result.output)
        }
        let first = try rendc(["migrate"])
        #expect(first.status == 0 && first.output.hasPrefix("applied migrations 1, 2, 3"), "\(first.output)")
        let second = try rendc(["migrate"])
        #expect(second.status == 0 && second.output.hasPrefix("schema is current"), "\(second.output)")
        let created = try rendc(["tenant", "create", "Shop One", "--json"])
        #expect(created.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(created.output.utf8)) as? [String: String]
        let key = try #require(object?["apiKey"])
        let tenantId = try #require(object?["tenantId"].flatMap(UUID.init(uuidString:)))
        var configuration = try DatabaseConfiguration(url: url)
        configuration.tls = .disable
        configuration.queryTimeout = 120  // a busy test machine is not a down database
        let resolved = try await JobStore.withRunningStore(configuration: configuration, logger: Logger(label: "test")) { store in
            try await store.tenant(forAPIKey: key)
        }
        #expect(resolved?.id == tenantId && resolved?.name == "Shop One")
        #expect(object?["webhookSecret"] == nil, "no RENDC_WEBHOOK_SECRET, no webhook secret")
        // With the deployment's webhook secret set, the new tenant's own signing secret is printed (generation 1).
        let master = "cli-webhook-master-secret-0123"
        let withSecret = try rendc(["tenant", "create", "Shop Two", "--json"], webhookSecret: master)
        let two = try JSONSerialization.jsonObject(with: Data(withSecret.output.utf8)) as? [String: String]
        let twoId = try #require(two?["tenantId"].flatMap(UUID.init(uuidString:)))
        #expect(two?["webhookSecret"] == WebhookSecrets(master: master).secret(tenantId: twoId, generation: 1))
        #expect(!withSecret.output.contains(master))
        let bad = try rendc(["tenant", "create", "  "])
        #expect(bad.status != 0)
    }
}
