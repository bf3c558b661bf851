import Foundation
import JobQueue
import Logging
import RendcTestSupport
import RenderPipeline
import Testing
@testable import JobAPI
import FilterGraphBackend
@testable import LibAV
@testable import MediaFormats

/// The hostile-input corpus (issue 10): made at test time by `Tests/HostileCorpus/make_corpus.py`, then every file is
/// put through the upload sniffer and through the backend's decoding. Each must end as a clear refusal (415/422 at
/// upload) or a clear error naming the file at decode (or decode cleanly, for damage that leaves valid media), never
/// a crash or a hang.
enum HostileCorpus {
    struct Corpus: Sendable {
        let directory: URL
        let victim: String
        let files: [String]
        let bases: [String]
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    }

    static let corpus: Corpus = {
        let directory = try! Fixtures.temporaryDirectory("rendc-hostile")
        // The victim: another tenant's audio that the HLS-in-ID3 upload names by file:// URL.
        let victim = directory.appendingPathComponent(".base/audio-base.wav").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [Fixtures.packageRoot.appendingPathComponent("Tests/HostileCorpus/make_corpus.py").path, directory.path, victim]
        try! p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "make_corpus.py failed")
        let files = try! FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
        let bases = try! FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(".base").path).sorted().map {
            ".base/" + $0
        }
        return Corpus(directory: directory, victim: victim, files: files, bases: bases)
    }()

    static func assetKind(_ name: String) -> AssetType {
        let file = (name as NSString).lastPathComponent
        if file.hasPrefix("image-") { return .image }
        if file.hasPrefix("audio-") { return .audio }
        return .overlay
    }

    enum Outcome { case accepted, refused(APIError) }

    static func sniff(_ path: String, _ kind: AssetType) throws -> Outcome {
        do {
            _ = try MediaSniffer.inspect(path: path, type: kind, maxImageDimension: 8000)
            return .accepted
        } catch let error as APIError {
            return .refused(error)
        }
    }

    /// Decodes the whole file the way the backend does: pictures to RGBA; audio and video every frame.
    static func decode(_ path: String, _ kind: AssetType) throws {
        switch kind {
        case .image, .frame:
            let image = try ImageFile.decode(path: path)
            #expect(image.width * image.height <= MediaLimits.maximumPixels)
        case .audio, .overlay, .video:
            let input = try MediaInput(path: path, mediaType: kind == .audio ? .audio : .video)
            let frame = try Frame()
            var frames = 0
            while try input.decode(into: frame), frames < 100_000 { frame.unref(); frames += 1 }
        }
    }

    static let pipelineRoot = try! Fixtures.temporaryDirectory("rendc-hostile-render")
    static let pipeline = RenderPipeline(
        configuration: PipelineConfiguration(
            templateDirectories: [Fixtures.packageRoot.appendingPathComponent("Tests/RenderTests/Templates").path],
            assetsDirectory: pipelineRoot.appendingPathComponent("assets").path, temporaryDirectory: pipelineRoot.path, maxDuration: 60
        ), logger: Logger(label: "test"))
}

@Suite(.ownThreads) struct HostileCorpusTests {
    let corpus = HostileCorpus.corpus

    @Test func theValidBaseFilesAreAcceptedAndDecode() throws {
        // The contrast: the checks refuse the hostile files below, not everything.
        #expect(corpus.bases.count == 7)
        for name in corpus.bases {
            let path = corpus.path(name)
            let kind = HostileCorpus.assetKind(name)
            if case .refused(let error) = try HostileCorpus.sniff(path, kind) { Issue.record("\(name) refused: \(error)") }
            #expect(throws: Never.self, "\(name)") { try HostileCorpus.decode(path, kind) }
        }
    }

    @Test func everyCorpusFileIsRefusedOrFailsNamingTheFile() throws {
        #expect(corpus.files.count >= 60)
        var refusedAtUpload = 0, failedAtDecode = 0
        var acceptedAtUpload: [String] = []
        for name in corpus.files {
            let path = corpus.path(name)
            let kind = HostileCorpus.assetKind(name)
            switch try HostileCorpus.sniff(path, kind) {
            case .refused(let error):
                refusedAtUpload += 1
                #expect([415, 422].contains(error.status.code), "\(name): \(error)")
                #expect(!error.message.isEmpty && !error.message.contains(corpus.directory.path), "\(name): \(error.message)")
            case .accepted:
                acceptedAtUpload.append(name)
            }
            do {
                try HostileCorpus.decode(path, kind)
            } catch let error as MediaError {
                failedAtDecode += 1
                #expect(error.description.contains(path), "\(name): \(error)")
                #expect(error.isPermanent, "\(name): bad input must not be retried: \(error)")
            }
        }
        // Nearly every mutation is caught at upload; the decoder is the second line.
        #expect(
            refusedAtUpload >= corpus.files.count * 3 / 4,
            "refused at upload: \(refusedAtUpload) of \(corpus.files.count); accepted: \(acceptedAtUpload)")
        #expect(failedAtDecode >= corpus.files.count / 2, "failed at decode: \(failedAtDecode) of \(corpus.files.count)")
    }

    /// Issue 10, finding 1: an "MP3" that is an ID3 tag and an HLS playlist naming another tenant's file.
    @Test(arguments: ["audio-hls-in-id3.mp3", "audio-hls-in-id3-padded.mp3", "audio-hls-no-tag.mp3", "audio-ffconcat.mp3"])
    func playlistsDressedAsMP3AreRefusedAtUploadAndAtDecode(name: String) throws {
        let path = corpus.path(name)
        guard case .refused(let refusal) = try HostileCorpus.sniff(path, .audio) else {
            Issue.record("\(name) was accepted as audio")
            return
        }
        #expect([415, 422].contains(refusal.status.code))
        if name.contains("id3") { #expect(refusal.message.contains("no MPEG audio frame follows the ID3 tag"), "\(refusal.message)") }
        // If it reached a worker anyway: refused before libavformat opens anything.
        let error = try #require(throws: MediaError.self) { _ = try MediaInput(path: path, mediaType: .audio) }
        #expect(error.code == .refused || error.code == .unreadable, "\(error)")
        #expect(error.isPermanent && error.description.contains(name))
        // And the whole pipeline (plan, then render) fails as bad input naming the file, with nothing written.
        let out = HostileCorpus.pipelineRoot.appendingPathComponent("\(name).mp4").path
        let failure = try #require(throws: PipelineError.self) {
            _ = try HostileCorpus.pipeline.render(
                RenderRequest(
                    template: "png-frame-bottom", images: [corpus.path(".base/image-base.png")], audio: path, duration: 1, quality: .eco, output: out)
            )
        }
        #expect(failure.kind == .input && failure.description.contains(name), "\(failure)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// The same attack files through the real HTTP upload route: refused, and nothing stored.
    @Test func attackFilesAreRefusedByTheUploadRoute() async throws {
        let attacks: [(String, String)] = [
            ("audio-hls-in-id3.mp3", "audio"), ("audio-hls-in-id3-padded.mp3", "audio"), ("audio-nan.wav", "audio"),
            ("image-webp-dimension-lie.webp", "image"), ("image-png-bomb.png", "image"), ("image-jpeg-second-frame.jpg", "image"),
        ]
        let corpus = self.corpus
        try await withAPI { api in
            for (name, type) in attacks {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: corpus.path(name))))
                let response = try await api.upload(bytes, type: type, filename: name, key: api.keyA)
                #expect(response.status == .unprocessableContent, "\(name): \(response.status)")
                #expect(try errorOf(response).code == "unprocessable_content")
            }
            // A valid file of each kind still goes in (the contrast).
            for (name, type) in [(".base/audio-base.mp3", "audio"), (".base/image-base.webp", "image")] {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: corpus.path(name))))
                #expect(try await api.upload(bytes, type: type, filename: "ok", key: api.keyA).status == .created, "\(name)")
            }
            #expect(try await api.store.assets(tenantId: api.tenantA).count == 2)
        }
    }

    /// The demuxer allow-list itself: a container never chosen by probing, so a playlist cannot be opened even as
    /// the kind of file it claims to be.
    @Test func onlyTheAllowListedDemuxersExist() {
        #expect(Container.allCases.map(\.demuxer).allSatisfy { !["hls", "concat", "image2", "applehttp", "sdp", "rtsp"].contains($0) })
        #expect(Container.allowed(for: .audio).allSatisfy { !$0.isImage })
        #expect(FFmpegCapabilities.missingDemuxers.isEmpty)
    }

    /// Issue 10, finding 5: headers that disagree about the size; the largest wins and is over the limit.
    @Test(arguments: [
        "image-webp-dimension-lie.webp", "image-webp-dimension-lie-lossless.webp", "image-png-bomb.png",
        "image-gif-frame-lie.gif", "image-jpeg-second-frame.jpg",
    ])
    func picturesLyingAboutTheirSizeAreRefusedBeforeDecoding(name: String) throws {
        let path = corpus.path(name)
        guard case .refused(let refusal) = try HostileCorpus.sniff(path, .image) else {
            Issue.record("\(name) was accepted")
            return
        }
        #expect(refusal.status.code == 422)
        #expect(refusal.message.contains("9000x9000") || refusal.message.contains("60000x60000"), "\(refusal.message)")
        let error = try #require(throws: MediaError.self) { _ = try ImageFile.decode(path: path) }
        #expect(error.code == .tooLarge, "\(error)")
        #expect(error.description.contains(name) && error.isPermanent)
    }

    /// trial15b: a JPEG cut short was taken at upload (its job failed when it ran), and one whose picture data was
    /// overwritten (valid headers, `FF 00` pairs where the scan was) rendered as a block of one colour and completed.
    @Test func aCutOrDamagedJPEGIsRefusedAtUploadOrAtDecode() throws {
        let jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: corpus.path(".base/image-base.jpg"))))
        let sos = try #require((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA })
        let scan = sos + 2 + (Int(jpeg[sos + 2]) << 8 | Int(jpeg[sos + 3]))
        let directory = try Fixtures.temporaryDirectory("rendc-jpeg-damage")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Cut inside the picture data: refused at upload, as the other formats' truncations are.
        let cut = directory.appendingPathComponent("cut.jpg").path
        FileManager.default.createFile(atPath: cut, contents: Data(jpeg[..<(scan + (jpeg.count - scan) / 2)]))
        guard case .refused(let refusal) = try HostileCorpus.sniff(cut, .image) else {
            Issue.record("a JPEG cut in its picture data was accepted")
            return
        }
        #expect(refusal.status.code == 422 && refusal.message.contains("ends before its end marker"), "\(refusal.message)")
        // The picture data overwritten, the end marker kept: the structure holds, so upload takes it; the decoder
        // refuses it instead of concealing it with one colour.
        var damaged = jpeg
        for i in scan..<(jpeg.count - 2) { damaged[i] = (i - scan) % 2 == 0 ? 0xFF : 0x00 }
        let garbage = directory.appendingPathComponent("garbage.jpg").path
        FileManager.default.createFile(atPath: garbage, contents: Data(damaged))
        if case .refused(let error) = try HostileCorpus.sniff(garbage, .image) { Issue.record("refused at upload after all: \(error)") }
        let error = try #require(throws: MediaError.self) { _ = try ImageFile.decode(path: garbage) }
        #expect(error.code == .corrupt && error.isPermanent && error.description.contains("garbage.jpg"), "\(error)")
        // The untouched picture still decodes (the contrast).
        #expect(throws: Never.self) { _ = try ImageFile.decode(path: corpus.path(".base/image-base.jpg")) }
    }

    @Test func webPSizeIsTheLargestOfCanvasAndFrame() throws {
        let found = try MediaInspector.inspect(path: corpus.path("image-webp-dimension-lie.webp"), strict: true)
        #expect(found.width == 9000 && found.height == 9000)
        let honest = try MediaInspector.inspect(path: corpus.path(".base/image-base.webp"), strict: true)
        #expect(honest.width == 96 && honest.height == 64)
    }

    /// Issue 10, finding 7: NaN/Inf samples are refused at upload, and at decode as permanent bad input naming the file
    /// (not "AAC encoding failed: Invalid argument" after three retries).
    @Test(arguments: ["audio-nan.wav", "audio-inf.wav"])
    func nonFiniteSamplesAreBadInput(name: String) throws {
        let path = corpus.path(name)
        guard case .refused(let refusal) = try HostileCorpus.sniff(path, .audio) else {
            Issue.record("\(name) was accepted")
            return
        }
        #expect(refusal.message.contains("NaN or infinite"), "\(refusal.message)")
        let error = try #require(throws: MediaError.self) { try HostileCorpus.decode(path, .audio) }
        #expect(error.code == .invalidSamples && error.isPermanent)
        #expect(error.description.contains(path) && error.description.contains("NaN or infinite"), "\(error)")
        let out = HostileCorpus.pipelineRoot.appendingPathComponent("\(name).mp4").path
        let failure = try #require(throws: PipelineError.self) {
            _ = try HostileCorpus.pipeline.render(
                RenderRequest(
                    template: "png-frame-bottom", images: [corpus.path(".base/image-base.png")], audio: path, duration: 1, quality: .eco, output: out)
            )
        }
        #expect(failure.kind == .input, "\(failure)")
        #expect(failure.description.contains(name) && failure.description.contains("NaN or infinite"), "\(failure)")
        #expect(!failure.description.contains("AAC encoding failed"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

/// Every owner frees its C object, also when an initialiser throws part-way.
@Suite struct LibAVOwnershipTests {
    @Test func theCounterSeesAnObjectThatIsKept() throws {
        var kept: Frame?
        let live = try LiveObjects.countingLiveObjects { kept = try Frame() }
        #expect(live == 1 && kept != nil)
    }

    @Test func failedInitialisersFreeWhatTheyMade() throws {
        let corpus = HostileCorpus.corpus
        let out = Fixtures.temporaryFile("rendc-leak", extension: "mp4")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let settings = MP4Settings(
            width: 64, height: 64, fps: 10, videoCodec: "libx264", preset: "ultrafast", crf: 30, tune: nil,
            x264Params: nil, gop: 10, audioCodec: "no-such-encoder", audioSampleRate: 48000, audioBitrate: 64000,
            audioChannels: 2, faststart: true)
        var failures = 0
        let live = LiveObjects.countingLiveObjects {
            // Fails after the muxer, the H.264 encoder and the packet exist.
            do { _ = try MP4Writer(path: out, settings: settings) } catch { failures += 1 }
            // Fails after the frames, the graph, the sink, the opened input and its decoder exist.
            do {
                _ = try AudioGraph(
                    chain: "[in]no_such_filter[out]", inputPath: corpus.path(".base/audio-base.mp3"), sampleRate: 48000, frameSize: 1024)
            } catch { failures += 1 }
            // Fails after libavformat opened the file (no video stream in an MP3 read as video is refused earlier;
            // a truncated MP4 fails in stream probing).
            do { _ = try MediaInput(path: corpus.path("video-mp4-half.mp4"), mediaType: .video) } catch { failures += 1 }
            do { _ = try ImageFile.decode(path: corpus.path("image-png-half.png")) } catch { failures += 1 }
        }
        #expect(failures == 4)
        #expect(live == 0, "\(live) libav* objects outlived their failed initialisers")
    }
}

extension TestAudio {
    /// An ID3 tag followed by three (silent) MPEG-1 layer III frames: the smallest MP3 the upload sniffer accepts.
    static func mp3Stub() -> [UInt8] {
        let tag = Array("ID3".utf8) + [3, 0, 0, 0, 0, 0, 0]
        let frame = [0xFF, 0xFB, 0x90, 0x64] + [UInt8](repeating: 0, count: 413)  // 128 kb/s, 44.1 kHz: 417 bytes
        return tag + frame + frame + frame
    }

    /// An MP4 box structure with one video track (no samples): what the sniffer checks for an overlay.
    static func mp4VideoStub() -> [UInt8] {
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let size = 8 + body.count
            return [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] + Array(type.utf8) + body
        }
        let hdlr = box("hdlr", [0, 0, 0, 0] + [0, 0, 0, 0] + Array("vide".utf8) + [UInt8](repeating: 0, count: 13))
        let moov = box("moov", box("trak", box("mdia", hdlr)))
        return box("ftyp", Array("isom".utf8) + [0, 0, 2, 0] + Array("isom".utf8)) + moov + box("mdat", [])
    }
}

/// The structure checks on small hand-made files, each with a valid twin (so a check that refused everything fails).
@Suite struct MediaInspectorTests {
    func refusal(_ bytes: [UInt8], strict: Bool = true) -> String? {
        do { _ = try MediaInspector.inspect(bytes: bytes, strict: strict); return nil } catch { return error.message }
    }

    @Test func mp3NeedsAChainOfFramesAfterItsTag() {
        let good = TestAudio.mp3Stub()
        #expect(refusal(good) == nil)
        // The frame length is wrong by one byte: the second header is not where the first says.
        #expect(refusal(Array(good.prefix(10 + 417)) + [0] + Array(good.suffix(834)))?.contains("frame 2") == true)
        let playlist = Array(good.prefix(10)) + Array("#EXTM3U\nfile:///etc/passwd\n".utf8)
        #expect(refusal(playlist)?.contains("playlist or script") == true)
    }

    @Test func mp4DataReferencesMustStayInsideTheFile() {
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let size = 8 + body.count
            return [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] + Array(type.utf8) + body
        }
        func file(selfContained: Bool) -> [UInt8] {
            let url = box("url ", [0, 0, 0, selfContained ? 1 : 0] + (selfContained ? [] : Array("file:///etc/passwd\0".utf8)))
            let dref = box("dref", [0, 0, 0, 0, 0, 0, 0, 1] + url)
            let hdlr = box("hdlr", [UInt8](repeating: 0, count: 8) + Array("soun".utf8) + [UInt8](repeating: 0, count: 13))
            let moov = box("moov", box("trak", box("mdia", hdlr + box("minf", box("dinf", dref)))))
            return box("ftyp", Array("M4A ".utf8) + [0, 0, 0, 0]) + moov + box("mdat", [])
        }
        #expect(refusal(file(selfContained: true)) == nil)
        #expect(refusal(file(selfContained: false))?.contains("refers to media outside itself") == true)
    }

    @Test func wavChunksMustFitAndFloatsMustBeFinite() throws {
        func wav(_ samples: [Float], claimedBytes: Int? = nil) -> [UInt8] {
            func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
            let data = samples.flatMap { s -> [UInt8] in
                let b = s.bitPattern; return [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)]
            }
            let fmt: [UInt8] = [3, 0, 1, 0] + le32(8000) + le32(32000) + [4, 0, 32, 0]
            let body = Array("WAVEfmt ".utf8) + le32(16) + fmt + Array("data".utf8) + le32(claimedBytes ?? data.count) + data
            return Array("RIFF".utf8) + le32(body.count) + body
        }
        #expect(refusal(wav([0.5, -0.5, 0.25])) == nil)
        #expect(try MediaInspector.inspect(bytes: wav([0.5, .nan]), strict: true, scanSamples: false).container == .wav)
        do {
            _ = try MediaInspector.inspect(bytes: wav([0.5, .nan]), strict: true, scanSamples: true)
            Issue.record("NaN accepted")
        } catch { #expect(error.message.contains("NaN or infinite")) }
        // A data chunk claiming more than the file holds: refused at upload, tolerated by the decoder.
        #expect(refusal(wav([0.1, 0.2], claimedBytes: 4000))?.contains("truncated") == true)
        #expect(refusal(wav([0.1, 0.2], claimedBytes: 4000), strict: false) == nil)
    }

    @Test func oggMustBeAudioAndPagesMustChain() {
        // (The CRC comes from the code under test; ffmpeg's Ogg file in the corpus checks it against real pages.)
        func page(_ packet: [UInt8], first: Bool) -> [UInt8] {
            var page = Array("OggS".utf8) + [0, first ? 2 : 0] + [UInt8](repeating: 0, count: 20) + [1, UInt8(packet.count)] + packet
            let crc = CRC.ogg(page)
            page[22] = UInt8(crc & 0xFF); page[23] = UInt8(crc >> 8 & 0xFF); page[24] = UInt8(crc >> 16 & 0xFF); page[25] = UInt8(crc >> 24)
            return page
        }
        let vorbis = page([1] + Array("vorbis".utf8) + [0, 0, 0], first: true) + page([3, 4, 5], first: false)
        #expect(refusal(vorbis) == nil)
        #expect(refusal([UInt8](vorbis.dropLast(2)))?.contains("truncated") == true)
        var flipped = vorbis
        flipped[flipped.count - 1] ^= 0x10  // in the second page's payload
        #expect(refusal(flipped)?.contains("CRC") == true)
        #expect(refusal(flipped, strict: false) == nil)
        let theoraAsAudio = page([0x80] + Array("theora".utf8), first: true)
        #expect((try? MediaInspector.inspect(bytes: theoraAsAudio, strict: true))?.hasAudio == false)
        #expect(refusal(page(Array("#EXTM3U\n".utf8), first: true))?.contains("not Vorbis") == true)
    }
}

/// Issue: uploads of type `video` skipped the content checks: an audio-only MP4 was accepted as a product clip (the
/// job failed later) and a 7680x7680 clip was accepted (a render with it peaked at 1.0 GB RSS instead of 0.39 GB).
/// Real clips made by the ffmpeg CLI, and hand-made MP4 boxes for sizes too costly to encode in a test.
@Suite(.ownThreads) struct VideoUploadChecksTests {
    static let clips: URL = {
        let directory = try! Fixtures.temporaryDirectory("rendc-video-upload")
        let picture = ["-f", "lavfi", "-i", "testsrc2=s=96x64:d=0.5:r=10"], tone = ["-f", "lavfi", "-i", "sine=f=440:d=0.5:sample_rate=22050"]
        let wide = ["-f", "lavfi", "-i", "testsrc2=s=4128x64:d=0.2:r=10"], fragmented = ["-movflags", "frag_keyframe+empty_moov+default_base_moof"]
        let narrow = ["-f", "lavfi", "-i", "testsrc2=s=1080x48:d=0.2:r=10"], x264 = ["-c:v", "libx264", "-preset", "ultrafast"]
        let x265 = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"]
        let recipes: [String: [String]] = [
            "clip.mp4": picture + tone + ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"],
            "clip.webm": picture + tone + ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libvorbis", "-shortest"],
            "audio-only.mp4": tone + ["-c:a", "aac", "-f", "mp4"],
            "audio-only.webm": tone + ["-c:a", "libvorbis", "-f", "webm"],
            // Codec-level sizes: two frames each, 4128 columns (over the default limit of 4096), or 1080 (coded as 1088).
            "wide.mp4": wide + ["-c:v", "libx264", "-preset", "ultrafast"],
            "wide.mkv": wide + ["-c:v", "libx264", "-preset", "ultrafast", "-f", "matroska"],
            "wide-hevc.mp4": wide + x265,
            "wide-inband.mp4": wide + ["-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "repeat-headers=1"],
            "wide-fragmented.mp4": wide + ["-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "repeat-headers=1"] + fragmented,
            "clip-fragmented.mp4": picture + ["-c:v", "libx264", "-preset", "ultrafast"] + fragmented,
            "cropped.mp4": narrow + x264,
            // Every kind of SPS x264 and x265 write (see theSequenceParameterSetsOfEveryProfileGiveTheRealSize).
            "high.mp4": narrow + ["-c:v", "libx264", "-preset", "veryfast"],
            "high-matrices.mp4": narrow + x264 + ["-x264-params", "cqm=jvt"],
            "high10.mp4": narrow + x264 + ["-pix_fmt", "yuv420p10le"],
            "high422.mp4": narrow + x264 + ["-pix_fmt", "yuv422p"],
            "high444.mp4": narrow + x264 + ["-pix_fmt", "yuv444p"],
            "interlaced.mp4": narrow + x264 + ["-x264-params", "interlaced=1"],
            "hevc-window.mp4": ["-f", "lavfi", "-i", "testsrc2=s=1078x48:d=0.2:r=10"] + x265,
            "hevc-main10.mp4": narrow + x265 + ["-pix_fmt", "yuv420p10le"],
            // VP8, VP9 and AV1, whose sizes are in their frame headers or sequence header (see theVPxAndAV1...).
            "wide-vp8.webm": wide + ["-c:v", "libvpx", "-deadline", "realtime"],
            "wide-vp9.webm": wide + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
            "wide-vp9.mp4": wide + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
            "wide-av1.mkv": wide + ["-c:v", "libaom-av1", "-cpu-used", "8", "-usage", "realtime", "-f", "matroska"],
            "wide-av1.mp4": wide + ["-c:v", "libaom-av1", "-cpu-used", "8", "-usage", "realtime"],
            "clip-vp9.webm": picture + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
            // 30 frames, inter frames after the key frame, every sample read in the MP4: none may give a bogus size.
            "clip-vp9-inter.mp4": ["-f", "lavfi", "-i", "testsrc2=s=96x64:d=3:r=10", "-c:v", "libvpx-vp9", "-deadline", "good", "-cpu-used", "8"],
            "clip-av1.mkv": picture + ["-c:v", "libaom-av1", "-cpu-used", "8", "-usage", "realtime", "-f", "matroska"],
            // Motion JPEG pictures 1400 high, taken for fields when the container says 2000 (see aMotionJPEGField...).
            "field-mjpeg.mov": ["-f", "lavfi", "-i", "testsrc2=s=96x1400:d=0.3:r=10", "-c:v", "mjpeg"],
            // Sorenson Video in a MOV (its frames state their size, which uploads do not read: refused).
            "clip-svq1.mov": ["-f", "lavfi", "-i", "testsrc2=s=128x96:d=0.5:r=10", "-c:v", "svq1"],
        ]
        for (name, arguments) in recipes {
            let result = try! Subprocess.run(
                "/usr/bin/ffmpeg",
                ["-hide_banner", "-nostats", "-loglevel", "error", "-y"] + arguments + [directory.appendingPathComponent(name).path])
            precondition(result.status == 0, "ffmpeg could not make \(name): \(result.errors)")
        }
        // Streams that grow after their first cluster: 1 s at 96x64 then 1 s at 4128x64 (a key frame every 5 frames,
        // H.264 with its parameter sets in-band), joined without re-encoding, so the container and the first
        // cluster state 96x64; a new cluster every 200 ms.
        let mixed = ["-hide_banner", "-nostats", "-loglevel", "error", "-y"]
        for (name, codec) in [
            ("mixed.mkv", ["-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "repeat-headers=1:keyint=5"]),
            ("mixed-vp8.webm", ["-c:v", "libvpx", "-deadline", "realtime", "-g", "5"]),
            ("mixed-vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "5"]),
        ] {
            let part = name.hasSuffix(".mkv") ? ["-f", "h264"] : ["-f", "webm"]
            var parts: [String] = []
            for size in ["96x64", "4128x64"] {
                let path = directory.appendingPathComponent("part-\(size)-\(name)").path
                let made = try! Subprocess.run(
                    "/usr/bin/ffmpeg", mixed + ["-f", "lavfi", "-i", "testsrc2=s=\(size):d=1:r=10"] + codec + part + [path])
                precondition(made.status == 0, "ffmpeg could not make a part of \(name): \(made.errors)")
                parts.append(path)
            }
            let list = directory.appendingPathComponent("\(name).txt")
            try! parts.map { "file '\($0)'\n" }.joined().write(to: list, atomically: true, encoding: .utf8)
            let input =
                name.hasSuffix(".mkv")
                ? ["-r", "10", "-f", "h264", "-i", "concat:" + parts.joined(separator: "|")] : ["-f", "concat", "-safe", "0", "-i", list.path]
            let joined = try! Subprocess.run(
                "/usr/bin/ffmpeg", mixed + input + ["-c", "copy", "-cluster_time_limit", "200", directory.appendingPathComponent(name).path])
            precondition(joined.status == 0, "ffmpeg could not join \(name): \(joined.errors)")
        }
        // The same in MP4/MOV for codecs whose every frame states its size (an MPEG-4 Part 2 VOL header in-band, a
        // JPEG SOF, a PNG IHDR, a ProRes frame header, an H.263 picture header), and QuickTime Animation, whose
        // frames do not: 1 s at 96x64 then 1 s at 4128x64 (H.263: 128x96 then 704x576, two of its five sizes),
        // joined without re-encoding, so the container (tkhd, stsd, esds) states the first size.
        let wideParts = ["96x64", "4128x64"]
        for (name, codec, sizes) in [
            ("mixed-mpeg4.mp4", ["-c:v", "mpeg4"], wideParts), ("mixed-mjpeg.mov", ["-c:v", "mjpeg", "-q:v", "8"], wideParts),
            ("mixed-png.mov", ["-c:v", "png"], wideParts), ("mixed-qtrle.mov", ["-c:v", "qtrle"], wideParts),
            ("mixed-prores.mov", ["-c:v", "prores_ks", "-profile:v", "4", "-pix_fmt", "yuva444p10le"], wideParts),
            ("mixed-h263.mov", ["-c:v", "h263"], ["128x96", "704x576"]),
        ] {
            let raw = name.hasSuffix(".mp4")  // MPEG-4 parts as raw streams, their VOL headers in-band
            var parts: [String] = []
            for size in sizes {
                let path = directory.appendingPathComponent("part-\(size)-\(name)").path + (raw ? ".m4v" : "")
                let made = try! Subprocess.run(
                    "/usr/bin/ffmpeg", mixed + ["-f", "lavfi", "-i", "testsrc2=s=\(size):d=1:r=10"] + codec + (raw ? ["-f", "m4v"] : []) + [path])
                precondition(made.status == 0, "ffmpeg could not make a part of \(name): \(made.errors)")
                parts.append(path)
            }
            let list = directory.appendingPathComponent("\(name).txt")
            try! parts.map { "file '\($0)'\n" }.joined().write(to: list, atomically: true, encoding: .utf8)
            let input =
                raw ? ["-r", "10", "-f", "m4v", "-i", "concat:" + parts.joined(separator: "|")] : ["-f", "concat", "-safe", "0", "-i", list.path]
            let joined = try! Subprocess.run("/usr/bin/ffmpeg", mixed + input + ["-c", "copy", directory.appendingPathComponent(name).path])
            precondition(joined.status == 0, "ffmpeg could not join \(name): \(joined.errors)")
            // The same parts joined into Matroska (MPEG-4 Part 2 as V_MPEG4/ISO/ASP, Motion JPEG as V_MJPEG, ProRes as
            // V_PRORES without its frames' icpf atoms, PNG and H.263 as V_MS/VFW/FOURCC, QuickTime Animation as
            // V_QUICKTIME), and the first part alone.
            let mkv = String(name.dropLast(4)) + ".mkv"
            for (inputs, output) in [(input, mkv), ((raw ? ["-r", "10", "-f", "m4v"] : []) + ["-i", parts[0]], "part-\(sizes[0])-\(mkv)")] {
                let made = try! Subprocess.run("/usr/bin/ffmpeg", mixed + inputs + ["-c", "copy", directory.appendingPathComponent(output).path])
                precondition(made.status == 0, "ffmpeg could not make \(output): \(made.errors)")
            }
        }
        return directory
    }()

    static func path(_ name: String) -> String { clips.appendingPathComponent(name).path }

    static func outcome(_ path: String, _ type: AssetType, maxVideoDimension: Int = 4096) -> Result<MediaSniffer.Upload, APIError> {
        do {
            return .success(try MediaSniffer.inspect(path: path, type: type, maxImageDimension: 8000, maxVideoDimension: maxVideoDimension))
        } catch let error as APIError {
            return .failure(error)
        } catch {
            Issue.record("not an API error: \(error)")
            return .failure(APIError(.internalServerError, .internalError, "\(error)"))
        }
    }

    /// An MP4 with one video track whose `tkhd` and `stsd` state the given sizes (no samples: only the headers), with
    /// a sample entry of each of `entries`' types.
    static func mp4(tkhd: (Int, Int), stsd: (Int, Int), entries: [String] = ["avc1"]) -> [UInt8] {
        func be(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(v >> (8 * (n - 1 - $0)) & 0xFF) } }
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] { be(8 + body.count, 4) + Array(type.utf8) + body }
        let tkhd = box("tkhd", [UInt8](repeating: 0, count: 76) + be(tkhd.0 << 16, 4) + be(tkhd.1 << 16, 4))
        let entry = entries.map { type in
            be(86, 4) + Array(type.utf8) + [UInt8](repeating: 0, count: 6) + be(1, 2) + [UInt8](repeating: 0, count: 16)
                + be(stsd.0, 2) + be(stsd.1, 2) + [UInt8](repeating: 0, count: 50)
        }
        let stsd = box("stsd", be(0, 4) + be(entries.count, 4) + entry.joined())
        let hdlr = box("hdlr", [0, 0, 0, 0] + [0, 0, 0, 0] + Array("vide".utf8) + [UInt8](repeating: 0, count: 13))
        let moov = box("moov", box("trak", tkhd + box("mdia", hdlr + box("minf", box("stbl", stsd)))))
        return box("ftyp", Array("isom".utf8) + [0, 0, 2, 0] + Array("isom".utf8)) + moov + box("mdat", [])
    }

    static func write(_ bytes: [UInt8], _ name: String) -> String {
        let path = clips.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @Test func aVideoOrOverlayAssetNeedsAVideoTrack() throws {
        for type in [AssetType.video, .overlay] {
            for name in ["audio-only.mp4", "audio-only.webm"] {
                guard case .failure(let error) = Self.outcome(Self.path(name), type) else {
                    Issue.record("\(name) accepted as \(type.rawValue)"); continue
                }
                #expect(error.status == .unprocessableContent && error.code == .unprocessable && error.field == "file", "\(error)")
                #expect(error.message.contains("holds no video track"), "\(error.message)")
            }
            // The contrast: real clips with a video track pass, with their size read from the track headers.
            for name in ["clip.mp4", "clip.webm"] {
                let upload = try Self.outcome(Self.path(name), type).get()
                #expect(upload.width == 96 && upload.height == 64, "\(name): \(upload)")
            }
        }
        // The audio-only MP4 is a good audio asset.
        #expect((try? Self.outcome(Self.path("audio-only.mp4"), .audio).get()) != nil)
    }

    @Test func theVideoSizeLimitAppliesAtUpload() throws {
        for name in ["clip.mp4", "clip.webm"] {
            guard case .failure(let error) = Self.outcome(Self.path(name), .video, maxVideoDimension: 95) else {
                Issue.record("\(name) (96x64) accepted over a limit of 95"); continue
            }
            #expect(error.status == .unprocessableContent && error.message.contains("96x64"), "\(error.message)")
            #expect(throws: Never.self) { try Self.outcome(Self.path(name), .video, maxVideoDimension: 96).get() }
        }
        // The clip of the report, 7680x7680: refused under the default limit, as is one whose sample entry alone says
        // so; a portrait 1080x1920 clip passes.
        let huge = Self.write(Self.mp4(tkhd: (7680, 7680), stsd: (7680, 7680)), "huge.mp4")
        let lying = Self.write(Self.mp4(tkhd: (1080, 1920), stsd: (7680, 7680)), "lying.mp4")
        let portrait = Self.write(Self.mp4(tkhd: (1080, 1920), stsd: (1080, 1920)), "portrait.mp4")
        for (path, type) in [(huge, AssetType.video), (lying, .video), (huge, .overlay)] {
            guard case .failure(let error) = Self.outcome(path, type) else { Issue.record("\(path) accepted as \(type)"); continue }
            #expect(error.message == "the video is 7680x7680; at most 4096x4096 is allowed", "\(error.message)")
        }
        let upload = try Self.outcome(portrait, .video).get()
        #expect(upload.width == 1080 && upload.height == 1920)
    }

    // MARK: The codec's own size

    /// MP4 boxes by path (`moov/trak/.../avc1/avcC`), with the sample entries' child boxes, for the rewrites below.
    static func boxes(_ b: [UInt8], from: Int = 0, to: Int? = nil, path: String = "") -> [(path: String, offset: Int, size: Int)] {
        var out: [(path: String, offset: Int, size: Int)] = []
        var pos = from
        let end = to ?? b.count
        while pos + 8 <= end {
            let size = Int(b[pos]) << 24 | Int(b[pos + 1]) << 16 | Int(b[pos + 2]) << 8 | Int(b[pos + 3])
            let type = String(decoding: b[(pos + 4)..<(pos + 8)], as: UTF8.self)
            guard size >= 8, pos + size <= end else { break }
            let here = path.isEmpty ? type : path + "/" + type
            out.append((here, pos, size))
            switch type {
            case "moov", "trak", "mdia", "minf", "stbl": out += boxes(b, from: pos + 8, to: pos + size, path: here)
            case "stsd": out += boxes(b, from: pos + 16, to: pos + size, path: here)
            case "avc1", "hvc1", "mp4v": out += boxes(b, from: pos + 86, to: pos + size, path: here)
            default: break
            }
            pos += size
        }
        return out
    }

    static func put(_ value: Int, _ n: Int, into b: inout [UInt8], at offset: Int) {
        for i in 0..<n { b[offset + i] = UInt8(value >> (8 * (n - 1 - i)) & 0xFF) }
    }

    /// The clip with its container's sizes (every `tkhd` and visual sample entry) rewritten; the samples untouched.
    static func withContainerSize(_ clip: [UInt8], _ width: Int, _ height: Int) -> [UInt8] {
        var b = clip
        for box in boxes(clip) {
            if box.path.hasSuffix("trak/tkhd") {
                let at = box.offset + 8 + (b[box.offset + 8] == 1 ? 88 : 76)
                put(width << 16, 4, into: &b, at: at)
                put(height << 16, 4, into: &b, at: at + 4)
            }
            if ["avc1", "hvc1", "vp08", "vp09", "av01", "jpeg"].contains(where: { box.path.hasSuffix("stsd/" + $0) }) {
                put(width, 2, into: &b, at: box.offset + 32)
                put(height, 2, into: &b, at: box.offset + 34)
            }
        }
        return b
    }

    /// `clip` with its `avcC` (the parameter sets the sample entry declares) replaced by `donor`'s, every enclosing
    /// box's size adjusted. The clip's `moov` must come after its media (or its fragments' offsets be relative to
    /// their `moof`), so that no sample moves.
    static func withParameterSets(of donor: [UInt8], in clip: [UInt8]) throws -> [UInt8] {
        let from = try #require(boxes(donor).first { $0.path.hasSuffix("/avcC") })
        let to = try #require(boxes(clip).first { $0.path.hasSuffix("/avcC") })
        var b = Array(clip[..<to.offset]) + Array(donor[from.offset..<(from.offset + from.size)]) + Array(clip[(to.offset + to.size)...])
        for box in boxes(clip) where box.offset < to.offset && box.offset + box.size >= to.offset + to.size {
            put(box.size + from.size - to.size, 4, into: &b, at: box.offset)
        }
        return b
    }

    /// Issue: the container's size was checked, not the codec's. A clip whose track headers say 1280x64 but whose
    /// H.264 (or HEVC) parameter sets say 4128x64 passed upload and was only refused, or decoded at that size, at
    /// render time. The sequence parameter sets are read now: in the sample entry (`avcC`, `hvcC`) and among the
    /// samples (in-band, as `repeat-headers` sends them; in movie fragments too), nothing decoded.
    @Test func theCodecsOwnSizeIsCheckedAtUpload() throws {
        func read(_ name: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: Self.clips.appendingPathComponent(name))) }
        let refusedAt4128 = "the video is 4128x64; at most 4096x4096 is allowed"
        // The sample entry's parameter sets, H.264 and HEVC: the container rewritten to 1280x64.
        for name in ["wide.mp4", "wide-hevc.mp4"] {
            let lying = Self.write(Self.withContainerSize(try read(name), 1280, 64), "lying-" + name)
            guard case .failure(let error) = Self.outcome(lying, .video) else { Issue.record("\(name) as 1280x64 accepted"); continue }
            #expect(error.status == .unprocessableContent && error.code == .unprocessable && error.field == "file")
            #expect(error.message == refusedAt4128, "\(error.message)")
            // Not by the container's numbers: under a limit of 4200 the same file passes, at the codec's size.
            let upload = try Self.outcome(lying, .overlay, maxVideoDimension: 4200).get()
            #expect(upload.width == 4128 && upload.height == 64, "\(upload)")
        }
        // In-band: the sample entry says 96x64 (the small clip's avcC), the container says 96x64, the samples carry
        // the 4128x64 SPS; as one file and as movie fragments.
        let small = try read("clip.mp4")
        for name in ["wide-inband.mp4", "wide-fragmented.mp4"] {
            let hidden = Self.write(Self.withContainerSize(try Self.withParameterSets(of: small, in: try read(name)), 96, 64), "hidden-" + name)
            guard case .failure(let error) = Self.outcome(hidden, .video) else { Issue.record("\(name) with 96x64 headers accepted"); continue }
            #expect(error.message == refusedAt4128, "\(name): \(error.message)")
        }
        // The contrast: the untouched small clips pass at their own size (the SPS's cropped size, 96x64), as does a
        // fragmented clip within the limit.
        for name in ["clip.mp4", "clip-fragmented.mp4"] {
            let upload = try Self.outcome(Self.path(name), .video).get()
            #expect(upload.width == 96 && upload.height == 64, "\(name): \(upload)")
        }
        // H.264 codes 1080 columns as 1088 and crops 8: the cropped size is the one compared with the limit.
        let cropped = try Self.outcome(Self.path("cropped.mp4"), .video, maxVideoDimension: 1080).get()
        #expect(cropped.width == 1080 && cropped.height == 48, "\(cropped)")
        // Matroska: the H.264 track's CodecPrivate is its avcC; PixelWidth rewritten from 4128 to 1280.
        var mkv = try read("wide.mkv")
        let pixelWidth: [UInt8] = [0xB0, 0x82, 0x10, 0x20]
        let at = try #require((0..<(mkv.count - 4)).first { Array(mkv[$0..<($0 + 4)]) == pixelWidth })
        mkv[at + 2] = 0x05
        mkv[at + 3] = 0x00
        guard case .failure(let error) = Self.outcome(Self.write(mkv, "lying.mkv"), .video) else {
            Issue.record("the Matroska clip as 1280x64 accepted")
            return
        }
        #expect(error.message == refusedAt4128, "\(error.message)")
        #expect(try Self.outcome(Self.path("wide.mkv"), .video, maxVideoDimension: 4200).get().width == 4128)
    }

    /// VP8 and VP9 state their size only in their frames (a key frame's header: in a WebM's first cluster, in an
    /// MP4's samples), AV1 in its sequence header (in av1C: Matroska's CodecPrivate, MP4's sample entry). Clips of
    /// 4128 columns with the container rewritten to 1280 are refused at 4128; untouched they pass under a limit of
    /// 4200 at 4128, and small clips at their own size.
    @Test func theVPxAndAV1FrameSizesAreCheckedAtUpload() throws {
        func read(_ name: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: Self.clips.appendingPathComponent(name))) }
        let refusedAt4128 = "the video is 4128x64; at most 4096x4096 is allowed"
        for name in ["wide-vp8.webm", "wide-vp9.webm", "wide-vp9.mp4", "wide-av1.mkv", "wide-av1.mp4"] {
            var clip = try read(name)
            if name.hasSuffix(".mp4") {
                clip = Self.withContainerSize(clip, 1280, 64)
            } else {
                let pixelWidth: [UInt8] = [0xB0, 0x82, 0x10, 0x20]  // PixelWidth 4128
                let at = try #require((0..<(clip.count - 4)).first { Array(clip[$0..<($0 + 4)]) == pixelWidth }, "\(name)")
                clip[at + 2] = 0x05
                clip[at + 3] = 0x00
            }
            let lying = Self.write(clip, "lying-" + name)
            guard case .failure(let error) = Self.outcome(lying, .video) else {
                Issue.record("\(name) as 1280x64 accepted")
                continue
            }
            #expect(error.status == .unprocessableContent && error.field == "file", "\(name)")
            #expect(error.message == refusedAt4128, "\(name): \(error.message)")
            let upload = try Self.outcome(Self.path(name), .video, maxVideoDimension: 4200).get()
            #expect(upload.width == 4128 && upload.height == 64, "\(name): \(upload)")
        }
        for name in ["clip.webm", "clip-vp9.webm", "clip-vp9-inter.mp4", "clip-av1.mkv"] {
            let upload = try Self.outcome(Self.path(name), .video, maxVideoDimension: 96).get()
            #expect(upload.width == 96 && upload.height == 64, "\(name): \(upload)")
        }
        // The VP8 parser alone: a key frame's 14-bit width and height after the start code; an inter frame has none.
        let vp8 = CodecHeaders.vp8FrameSize([0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x20, 0x10, 0x40, 0x00])
        #expect(vp8?.width == 4128 && vp8?.height == 64)
        #expect(CodecHeaders.vp8FrameSize([0x51, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x20, 0x10, 0x40, 0x00]) == nil, "an inter frame")
    }

    /// Issue: only a Matroska file's first cluster was read, so a stream that changes size later (a new parameter
    /// set sent in-band, a VP8/VP9 key frame of another size: the decoder follows both) passed at its first size.
    /// At upload every block of every cluster is read now. Each clip below says 96x64 in its track and first
    /// cluster and decodes at 4128x64 after 1 s.
    /// A clip whose container says 96x64 and whose frames grow to 4128x64: refused at upload at its grown size,
    /// accepted when the limit allows it, and 96x64 to the render-time header check.
    static func expectRefusedAtItsGrownSize(_ name: String, _ type: AssetType) throws {
        guard case .failure(let error) = outcome(path(name), type) else {
            Issue.record("\(name) accepted")
            return
        }
        #expect(error.status == .unprocessableContent && error.field == "file", "\(name)")
        #expect(error.message == "the video is 4128x64; at most 4096x4096 is allowed", "\(name): \(error.message)")
        #expect(try outcome(path(name), .video, maxVideoDimension: 4200).get().width == 4128, "\(name)")
        let header = try MediaInspector.inspect(path: path(name), strict: false)
        #expect(header.width == 96 && header.height == 64, "\(name): \(header)")
    }

    @Test func aStreamThatGrowsAfterItsFirstClusterIsRefusedAtUpload() throws {
        // The render-time check reads the headers and first cluster only (the decoder's own limit guards it).
        for name in ["mixed.mkv", "mixed-vp8.webm", "mixed-vp9.webm"] { try Self.expectRefusedAtItsGrownSize(name, .video) }
        // The contrast: the 96x64 parts, several clusters and key frames each, pass at their own size.
        for name in ["mixed-vp8.webm", "mixed-vp9.webm"] {
            let upload = try Self.outcome(Self.path("part-96x64-" + name), .video, maxVideoDimension: 96).get()
            #expect(upload.width == 96 && upload.height == 64, "\(name): \(upload)")
        }
    }

    /// Issue (docs/security.md): an MP4/MOV video track of MPEG-4 Part 2, Motion JPEG, PNG, ProRes or H.263 was
    /// checked by its `tkhd`/`stsd` sizes only, but libavcodec takes every frame's size from the frame (a VOL
    /// header, a SOF, an IHDR, a ProRes frame header, an H.263 picture header) and follows it. Each clip below
    /// states 96x64 in its container and decodes at 4128x64 after 1 s: refused at upload at that size. The contrast: its 96x64 part alone passes at 96x64. A
    /// QuickTime Animation clip joined the same way decodes every frame at its container's 96x64 (ffprobe says so),
    /// so its size is the container's, and it passes.
    @Test func framesOfMPEG4MotionJPEGPNGProResAndH263AreReadAtUpload() throws {
        for name in ["mixed-mpeg4.mp4", "mixed-mjpeg.mov", "mixed-png.mov", "mixed-prores.mov"] {
            // The render-time check reads the container only (the decoder's own limit guards it).
            try Self.expectRefusedAtItsGrownSize(name, .overlay)
            let part = Self.path("part-96x64-" + name) + (name.hasSuffix(".mp4") ? ".m4v" : "")
            if !name.hasSuffix(".mp4") {
                let upload = try Self.outcome(part, .overlay, maxVideoDimension: 96).get()
                #expect(upload.width == 96 && upload.height == 64, "\(name): \(upload)")
            }
        }
        // The MPEG-4 contrast in MP4: the first second of the joined clip, copied (VOL in its esds and in-band).
        let firstSecond = Self.path("first-second-mpeg4.mp4")
        let cut = try Subprocess.run(
            "/usr/bin/ffmpeg",
            ["-hide_banner", "-loglevel", "error", "-y", "-i", Self.path("mixed-mpeg4.mp4"), "-c", "copy", "-frames:v", "10", firstSecond])
        #expect(cut.status == 0, "\(cut.errors)")
        let small = try Self.outcome(firstSecond, .video, maxVideoDimension: 96).get()
        #expect(small.width == 96 && small.height == 64, "\(small)")
        // H.263: 704x576 frames after 1 s behind a 128x96 container, refused under a limit of 700; its first part passes.
        guard case .failure(let h263) = Self.outcome(Self.path("mixed-h263.mov"), .video, maxVideoDimension: 700) else {
            Issue.record("mixed-h263.mov accepted under a limit of 700")
            return
        }
        #expect(h263.message == "the video is 704x576; at most 700x700 is allowed", "\(h263.message)")
        let h263Part = try Self.outcome(Self.path("part-128x96-mixed-h263.mov"), .video, maxVideoDimension: 128).get()
        #expect(h263Part.width == 128 && h263Part.height == 96, "\(h263Part)")
        // QuickTime Animation: every frame decodes at the container's size, and the upload passes at it.
        let frames = try Subprocess.run(
            "/usr/bin/ffprobe",
            ["-v", "quiet", "-select_streams", "v", "-show_entries", "frame=width,height", "-of", "csv=p=0", Self.path("mixed-qtrle.mov")])
        let sizes = frames.output.split(separator: "\n").map(String.init)
        #expect(sizes.count == 20 && Set(sizes) == ["96,64"], "\(sizes)")
        let qtrle = try Self.outcome(Self.path("mixed-qtrle.mov"), .overlay, maxVideoDimension: 96).get()
        #expect(qtrle.width == 96 && qtrle.height == 64, "\(qtrle)")
    }

    /// Issue (media12): a Matroska video track of MPEG-4 Part 2 (`V_MPEG4/ISO/ASP`), Motion JPEG (`V_MJPEG`), ProRes
    /// (`V_PRORES`), PNG or H.263 (`V_MS/VFW/FOURCC`) was refused at upload whatever its frames said, and one of
    /// QuickTime Animation (`V_QUICKTIME`) too. The MP4/MOV joined clips copied into Matroska state 96x64 in their
    /// track headers (and MPEG-4's CodecPrivate) and decode at 4128x64 after 1 s (H.263: 704x576): refused at that
    /// size. The contrast: each first part alone passes at its own size (and decodes), and QuickTime Animation (whose decoder is
    /// bounded by the container) at the container's. ffmpeg writes ProRes frames into Matroska without the 8 bytes
    /// (size, `icpf`) before their frame header: found only where libavformat puts them back.
    @Test func matroskaFramesOfMPEG4MotionJPEGProResPNGAndH263AreReadAtUpload() throws {
        for name in ["mixed-mpeg4.mkv", "mixed-mjpeg.mkv", "mixed-png.mkv", "mixed-prores.mkv"] {
            try Self.expectRefusedAtItsGrownSize(name, .video)
            let part = try Self.outcome(Self.path("part-96x64-" + name), .video, maxVideoDimension: 96).get()
            #expect(part.width == 96 && part.height == 64, "\(name): \(part)")
            try HostileCorpus.decode(Self.path("part-96x64-" + name), .video)  // and the backend's decoder takes it
        }
        guard case .failure(let h263) = Self.outcome(Self.path("mixed-h263.mkv"), .video, maxVideoDimension: 700) else {
            Issue.record("mixed-h263.mkv accepted under a limit of 700")
            return
        }
        #expect(h263.message == "the video is 704x576; at most 700x700 is allowed", "\(h263.message)")
        let h263Part = try Self.outcome(Self.path("part-128x96-mixed-h263.mkv"), .video, maxVideoDimension: 128).get()
        #expect(h263Part.width == 128 && h263Part.height == 96, "\(h263Part)")
        try HostileCorpus.decode(Self.path("part-128x96-mixed-h263.mkv"), .video)
        let qtrle = try Self.outcome(Self.path("mixed-qtrle.mkv"), .overlay, maxVideoDimension: 96).get()
        #expect(qtrle.width == 96 && qtrle.height == 64, "\(qtrle)")
    }

    /// A JPEG picture's first bytes: SOI, then a baseline frame header stating `width`x64.
    static func jpegFrame(width: Int) -> [UInt8] {
        [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x40, UInt8(width >> 8), UInt8(width & 0xFF), 0x03] + [UInt8](repeating: 0, count: 8)
    }

    /// A Matroska track that names its codec by a FourCC is read as the codec libavformat gives it: a
    /// `V_MS/VFW/FOURCC` track by its BITMAPINFOHEADER's FourCC, a `V_QUICKTIME` track by its sample description's
    /// (or by the FourCC it starts with, which libavformat takes for one without its size). Hand-made files of one
    /// Motion JPEG block stating 4128x64 are read at that size (in a 96x64 track), and with a 96x64 block at 96x64
    /// (MPEG-4 Part 2: a VOL header in the extradata after the BITMAPINFOHEADER); FourCCs of
    /// codecs not read, a sample description of the wrong size, a codec ID with more after it and a track whose
    /// frames are compressed (ContentEncodings) are refused, whatever their frames.
    @Test func matroskaTracksNamedByAFourCCAreReadAsLibavformatDecodesThem() throws {
        func upload(_ codec: String, _ codecPrivate: [UInt8]?, width: Int = 4128, extra: [UInt8] = []) -> String? {
            let block = Self.simpleBlock(Self.jpegFrame(width: width))
            let file = Self.handMade(codec: codec, codecPrivate: codecPrivate, extra: extra, clusters: [block])
            do {
                let header = try MediaInspector.inspect(bytes: file, strict: true, scanSamples: true)
                return "\(header.width ?? 0)x\(header.height ?? 0)"
            } catch { return error.message }
        }
        func bitmapInfo(_ fourCC: String) -> [UInt8] {
            [40, 0, 0, 0, 96, 0, 0, 0, 64, 0, 0, 0, 1, 0, 24, 0] + Array(fourCC.utf8) + [UInt8](repeating: 0, count: 20)
        }
        func sampleDescription(_ fourCC: String, size: Int = 86) -> [UInt8] {
            [0, 0, 0, UInt8(size)] + Array(fourCC.utf8) + [UInt8](repeating: 0, count: 78)
        }
        for (codec, codecPrivate) in [
            ("V_MJPEG", nil), ("V_MS/VFW/FOURCC", bitmapInfo("MJPG")), ("V_MS/VFW/FOURCC", bitmapInfo("jpeg")),
            ("V_QUICKTIME", sampleDescription("jpeg")), ("V_QUICKTIME", Array(sampleDescription("mjpa").dropFirst(4))),
        ] as [(String, [UInt8]?)] {
            let label = "\(codec) \(codecPrivate.map { String(decoding: $0.prefix(24), as: UTF8.self) } ?? "")"
            #expect(upload(codec, codecPrivate) == "4128x64", "\(label)")
            #expect(upload(codec, codecPrivate, width: 96) == "96x64", "\(label)")
        }
        // MPEG-4 Part 2 under a FourCC: the VOL header ffmpeg wrote for a 4128x64 stream, as extradata after the
        // BITMAPINFOHEADER (libavcodec reads it before the first frame), stating its size whatever the frames say.
        let m4v = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.path("part-4128x64-mixed-mpeg4.mp4.m4v"))))
        try #require(m4v.count > 48)
        let vol = Array(m4v.prefix(32))  // visual object sequence, visual object, video object, VOL
        #expect(upload("V_MS/VFW/FOURCC", bitmapInfo("XVID") + vol, width: 96) == "4128x64")
        #expect(upload("V_MS/VFW/FOURCC", bitmapInfo("XVID"), width: 96) == "96x64")
        let notRead = " is not accepted in uploads: " + Self.acceptedCodecs
        #expect(upload("V_MS/VFW/FOURCC", bitmapInfo("cvid"), width: 96) == "the video codec 'V_MS/VFW/FOURCC cvid'" + notRead)
        #expect(upload("V_MS/VFW/FOURCC", bitmapInfo("H264"), width: 96) == "the video codec 'V_MS/VFW/FOURCC H264'" + notRead)
        #expect(upload("V_QUICKTIME", sampleDescription("SVQ3"), width: 96) == "the video codec 'V_QUICKTIME SVQ3'" + notRead)
        #expect(upload("V_QUICKTIME", sampleDescription("jpeg", size: 90), width: 96) == "the video codec 'V_QUICKTIME ???Z'" + notRead)
        #expect(upload("V_MJPEGX", nil, width: 96) == "the video codec 'V_MJPEGX'" + notRead)
        // ContentEncodings > ContentEncoding > ContentCompression (zlib): the blocks are not the frames.
        let zlib = Self.element([0x6D, 0x80], Self.element([0x62, 0x40], Self.element([0x50, 0x34], Self.element([0x42, 0x54], [0]))))
        #expect(
            upload("V_MJPEG", nil, width: 96, extra: zlib)
                == "a Matroska video track's frames are compressed or encrypted (ContentEncodings), so their size cannot be read")
    }

    /// svc13: a Matroska track with header stripping (`ContentCompAlgo` 3: the bytes every frame starts with are kept
    /// once, in `ContentCompSettings`) was refused; libavformat puts them back before the decoder, and the upload
    /// check now does too. The Motion JPEG frame's first 4 bytes (SOI and the SOF marker) are stripped: read with them
    /// put back, the frame states 4128x64 (and a 96x64 one 96x64); read as stored it states nothing. Other encodings
    /// (zlib, header stripping of CodecPrivate too, two encodings, encryption) are still refused.
    @Test func matroskaHeaderStrippingIsReadAsLibavformatDoes() throws {
        func encodings(_ encoding: [[UInt8]]) -> [UInt8] { Self.element([0x6D, 0x80], encoding.flatMap { Self.element([0x62, 0x40], $0) }) }
        func stripping(_ bytes: [UInt8], algorithm: UInt8 = 3) -> [UInt8] {
            Self.element([0x50, 0x34], Self.element([0x42, 0x54], [algorithm]) + Self.element([0x42, 0x55], bytes))
        }
        func upload(width: Int, _ extra: [UInt8]) -> String? {
            let frame = Self.jpegFrame(width: width)
            let file = Self.handMade(codec: "V_MJPEG", extra: extra, clusters: [Self.simpleBlock(Array(frame.dropFirst(4)))])
            do {
                let header = try MediaInspector.inspect(bytes: file, strict: true, scanSamples: true)
                return "\(header.width ?? 0)x\(header.height ?? 0)"
            } catch { return error.message }
        }
        let header = Array(Self.jpegFrame(width: 96).prefix(4))
        #expect(upload(width: 4128, encodings([stripping(header)])) == "4128x64")
        #expect(upload(width: 96, encodings([stripping(header)])) == "96x64")
        // As stored (a header stripping of nothing), the frame has no SOF: only the track's 96x64 is stated.
        #expect(upload(width: 4128, encodings([stripping([])])) == "96x64")
        let refused = "a Matroska video track's frames are compressed or encrypted (ContentEncodings), so their size cannot be read"
        #expect(upload(width: 96, encodings([stripping(header, algorithm: 0)])) == refused)  // zlib
        #expect(upload(width: 96, encodings([Self.element([0x50, 0x32], [3]) + stripping(header)])) == refused)  // CodecPrivate too
        #expect(upload(width: 96, encodings([stripping(header), stripping(header)])) == refused)
        #expect(upload(width: 96, encodings([stripping(header) + Self.element([0x50, 0x35], [])])) == refused)
        // Put back before every frame, a long stripped header would make a file of many tiny frames costly to read.
        #expect(
            upload(width: 96, encodings([stripping(header + [UInt8](repeating: 0, count: 61))]))
                == "a Matroska video track strips 65 bytes off every frame (at most 64 are read)")
    }

    static let acceptedCodecs =
        "H.264, HEVC, VP8, VP9, AV1, MPEG-4 Part 2, H.263, Motion JPEG (A and B), PNG, ProRes, QuickTime Animation or uncompressed video is"

    /// libavcodec's MJPEG decoder takes a first picture less than 3/4 as tall as the container says for one field
    /// of an interlaced frame, and decodes frames twice its height (`ff_mjpeg_decode_sof`). A clip of 96x1400 JPEGs
    /// whose container says 96x2000 decodes at 96x2800 (ffprobe says so): under a limit of 2000 its container and its
    /// SOFs pass, its frames do not, and it is refused at 2800. The contrast: untouched (container 96x1400), it
    /// passes at 96x1400 under a limit of 1400.
    @Test func aMotionJPEGFieldCountsAtTwiceItsHeight() throws {
        let clip = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.path("field-mjpeg.mov"))))
        let tall = Self.write(Self.withContainerSize(clip, 96, 2000), "field-2000.mov")
        #expect(try FFprobe.probe(tall).video?.height == 2800)
        guard case .failure(let error) = Self.outcome(tall, .overlay, maxVideoDimension: 2000) else {
            Issue.record("field-2000.mov accepted under a limit of 2000")
            return
        }
        #expect(error.message == "the video is 96x2800; at most 2000x2000 is allowed", "\(error.message)")
        let untouched = try Self.outcome(Self.path("field-mjpeg.mov"), .overlay, maxVideoDimension: 1400).get()
        #expect(untouched.width == 96 && untouched.height == 1400, "\(untouched)")
    }

    /// `clip` (an ffmpeg-made Motion JPEG MOV, its samples one after another in its `mdat`) with every sample
    /// rewritten as Motion JPEG B, which FFmpeg cannot encode: a 40-byte header (`mjpg`, the field size, then the
    /// offsets of the quantisation tables, Huffman tables, frame header, scan header and scan data), the segments
    /// without their markers, the scan data without its `00` stuffing, then zeros to the sample's old length. Its
    /// sample entry is typed `mjpb`.
    static func asMotionJPEGB(_ clip: [UInt8]) throws -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(v >> (24 - 8 * $0) & 0xFF) } }
        var b = clip
        let mdat = try #require(boxes(clip).first { $0.path == "mdat" })
        let entry = try #require(boxes(clip).first { $0.path.hasSuffix("stsd/jpeg") })
        b.replaceSubrange((entry.offset + 4)..<(entry.offset + 8), with: Array("mjpb".utf8))
        var starts = (mdat.offset + 8..<(mdat.offset + mdat.size - 2)).filter { clip[$0] == 0xFF && clip[$0 + 1] == 0xD8 && clip[$0 + 2] == 0xFF }
        starts.append(mdat.offset + mdat.size)
        for (start, end) in zip(starts, starts.dropFirst()) {
            let jpeg = Array(clip[start..<end])
            try #require(jpeg.suffix(2) == [0xFF, 0xD9], "a sample ends with its EOI")
            var segments: [UInt8: [UInt8]] = [:]
            var p = 2
            while jpeg[p + 1] != 0xDA {
                let length = Int(jpeg[p + 2]) << 8 | Int(jpeg[p + 3])
                segments[jpeg[p + 1], default: []] += jpeg[(p + 2)..<(p + 2 + length)]
                p += 2 + length
            }
            let scanLength = Int(jpeg[p + 2]) << 8 | Int(jpeg[p + 3])
            segments[0xDA] = Array(jpeg[(p + 2)..<(p + 2 + scanLength)])
            var data: [UInt8] = []
            var i = p + 2 + scanLength
            while i < jpeg.count - 2 {
                data.append(jpeg[i])
                i += jpeg[i] == 0xFF && jpeg[i + 1] == 0 ? 2 : 1
            }
            var body: [UInt8] = []
            var offsets: [Int] = []
            for marker: UInt8 in [0xDB, 0xC4, 0xC0, 0xDA] {
                offsets.append(40 + body.count)
                body += try #require(segments[marker], "segment \(marker)")
            }
            offsets.append(40 + body.count)
            body += data
            let size = 40 + body.count
            let frame = [0, 0, 0, 0] + Array("mjpg".utf8) + be32(size) + be32(size) + be32(0) + offsets.flatMap(be32) + body
            try #require(frame.count <= jpeg.count)
            b.replaceSubrange(start..<end, with: frame + [UInt8](repeating: 0, count: jpeg.count - frame.count))
        }
        return b
    }

    /// Motion JPEG B has no markers: its header points at its frame header, which libavcodec decodes like a JPEG's
    /// (`mjpegbdec.c`) and follows. The joined Motion JPEG clip rewritten as Motion JPEG B (container 96x64) decodes
    /// its last 10 frames at 4128x64 (ffprobe, the independent check that the rewrite is real Motion JPEG B) and is
    /// refused at upload at that size; its 96x64 part rewritten the same way passes at 96x64.
    @Test func motionJPEGBFramesAreReadAtUpload() throws {
        let mixed = Self.write(
            try Self.asMotionJPEGB(try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.path("mixed-mjpeg.mov"))))), "mixed-mjpb.mov")
        let frames = try Subprocess.run(
            "/usr/bin/ffprobe", ["-v", "quiet", "-select_streams", "v", "-show_entries", "frame=width,height", "-of", "csv=p=0", mixed])
        let sizes = frames.output.split(separator: "\n").map(String.init)
        #expect(sizes == Array(repeating: "96,64", count: 10) + Array(repeating: "4128,64", count: 10), "\(sizes)")
        guard case .failure(let error) = Self.outcome(mixed, .video) else {
            Issue.record("mixed-mjpb.mov accepted")
            return
        }
        #expect(error.message == "the video is 4128x64; at most 4096x4096 is allowed", "\(error.message)")
        #expect(try MediaInspector.inspect(path: mixed, strict: false).width == 96, "render time: the container's size")
        let part = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.path("part-96x64-mixed-mjpeg.mov"))))
        let small = try Self.outcome(Self.write(try Self.asMotionJPEGB(part), "small-mjpb.mov"), .video, maxVideoDimension: 96).get()
        #expect(small.width == 96 && small.height == 64, "\(small)")
    }

    /// An MP4/MOV video track of a codec whose frames' size the upload check does not read (Sorenson Video, and
    /// any type it does not know) is refused at upload, as in Matroska; so is a track whose handler is not `vide` but whose
    /// type libavformat could decode as video, and a sample entry whose `esds` names another codec (libavformat
    /// decodes what the `esds` says: an MPEG-4 stream in an entry typed `rle ` is still read as MPEG-4).
    @Test func mp4TracksOfOtherVideoCodecsAreRefusedAtUpload() throws {
        func read(_ name: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: Self.clips.appendingPathComponent(name))) }
        func refusal(_ bytes: [UInt8], _ name: String) -> String? {
            guard case .failure(let error) = Self.outcome(Self.write(bytes, name), .video) else { return nil }
            #expect(error.status == .unprocessableContent && error.field == "file", "\(name)")
            return error.message
        }
        let accepted =
            "H.264, HEVC, VP8, VP9, AV1, MPEG-4 Part 2, H.263, Motion JPEG (A and B), PNG, ProRes, QuickTime Animation or uncompressed video is"
        let svq1 = try read("clip-svq1.mov")
        #expect(refusal(svq1, "svq1.mov") == "the file is not a valid mov file: the video codec 'SVQ1' is not accepted in uploads: " + accepted)
        #expect(try MediaInspector.inspect(bytes: svq1, strict: false).width == 128, "render time: the container's size, as before")
        // clip.mp4 with its video handler renamed 'meta' and its entry 'cvid' (Cinepak, which libavformat would
        // still decode as video); with 'tmcd' (a timecode, not video) it passes.
        let clip = try read("clip.mp4")
        func retyped(handler: String, entry: String) throws -> [UInt8] {
            var b = clip
            let hdlr = try #require(
                Self.boxes(clip).first { $0.path.hasSuffix("mdia/hdlr") && clip[($0.offset + 16)..<($0.offset + 20)] == [0x76, 0x69, 0x64, 0x65] })
            b.replaceSubrange((hdlr.offset + 16)..<(hdlr.offset + 20), with: Array(handler.utf8))
            let avc1 = try #require(Self.boxes(clip).first { $0.path.hasSuffix("stsd/avc1") })
            b.replaceSubrange((avc1.offset + 4)..<(avc1.offset + 8), with: Array(entry.utf8))
            return b
        }
        let notValid = "the file is not a valid mp4 file: "
        let meta = refusal(try retyped(handler: "meta", entry: "cvid"), "cvid.mp4")
        #expect(meta == notValid + "an MP4 track of type 'cvid' is not accepted in uploads (it could be video)", "\(meta ?? "accepted")")
        let vide = refusal(try retyped(handler: "vide", entry: "cvid"), "cvid-vide.mp4")
        #expect(vide == notValid + "the video codec 'cvid' is not accepted in uploads: " + accepted, "\(vide ?? "accepted")")
        let timecode = try MediaInspector.inspect(bytes: try retyped(handler: "meta", entry: "tmcd"), strict: true, scanSamples: true)
        #expect(timecode.hasVideo == false && timecode.hasAudio == true, "\(timecode)")
        // The MPEG-4 clip's entry typed 'rle ' (a codec sized by its container): its esds still says MPEG-4, so its
        // VOL headers are read; the same with the esds naming H.264 (object type 0x21) is refused.
        let mpeg4 = try read("mixed-mpeg4.mp4")
        let entry = try #require(Self.boxes(mpeg4).first { $0.path.hasSuffix("stsd/mp4v") })
        let esds = try #require(Self.boxes(mpeg4).first { $0.path.hasSuffix("mp4v/esds") })
        var rle = mpeg4
        rle.replaceSubrange((entry.offset + 4)..<(entry.offset + 8), with: Array("rle ".utf8))
        #expect(refusal(rle, "mpeg4-as-rle.mov") == "the video is 4128x64; at most 4096x4096 is allowed")
        try #require(mpeg4[esds.offset + 25] == 0x20, "ffmpeg's esds: 4-byte descriptor lengths, the object type at byte 25")
        rle[esds.offset + 25] = 0x21
        #expect(refusal(rle, "mpeg4-as-h264.mov") == notValid + "the MP4 sample entry 'rle ' names another codec in its esds (object type 0x21)")
        // libavformat may take a later sample entry's codec (a first 'jpeg' entry lets any other follow): a track
        // whose entries are of different codecs is refused; two entries of one codec pass.
        let mixed = refusal(Self.mp4(tkhd: (96, 64), stsd: (96, 64), entries: ["jpeg", "avc1"]), "two-codecs.mp4")
        #expect(mixed == notValid + "an MP4 video track's sample entries are of different codecs (mjpeg, h264)", "\(mixed ?? "accepted")")
        #expect(refusal(Self.mp4(tkhd: (96, 64), stsd: (96, 64), entries: ["jpeg", "mjpa"]), "one-codec.mp4") == nil)
    }

    /// An EBML element with an 8-byte size (any body length).
    static func element(_ id: [UInt8], _ body: [UInt8]) -> [UInt8] {
        let n = body.count
        return id + [0x01, 0, 0, 0, UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + body
    }

    /// A hand-made WebM/Matroska file: one video track (number 1, `codec`, 96x64 in its header) and `clusters`, each
    /// the bodies of its elements (a timecode is put first).
    static func handMade(codec: String = "V_VP8", codecPrivate: [UInt8]? = nil, extra: [UInt8] = [], clusters: [[UInt8]]) -> [UInt8] {
        let header = element([0x1A, 0x45, 0xDF, 0xA3], element([0x42, 0x82], Array("webm".utf8)))
        let video = element([0xE0], element([0xB0], [0x60]) + element([0xBA], [0x40]))
        let fields =
            element([0xD7], [1]) + element([0x83], [1]) + element([0x86], Array(codec.utf8)) + (codecPrivate.map { element([0x63, 0xA2], $0) } ?? [])
            + extra
        let body = clusters.map { element([0x1F, 0x43, 0xB6, 0x75], element([0xE7], [0]) + $0) }.joined()
        return header + element([0x18, 0x53, 0x80, 0x67], element([0x16, 0x54, 0xAE, 0x6B], element([0xAE], fields + video)) + body)
    }

    /// A 16-byte VP8 key frame header stating `width`x64, and an inter frame (which states no size).
    static func vp8KeyFrame(width: Int) -> [UInt8] {
        [0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, UInt8(width & 0xFF), UInt8(width >> 8), 0x40, 0x00] + [UInt8](repeating: 0, count: 6)
    }
    static let vp8InterFrame: [UInt8] = [0x51, 0x42, 0x00] + [UInt8](repeating: 0, count: 13)

    /// A SimpleBlock of track 1 (a key frame, `flags` for the lacing) around `payload`.
    static func simpleBlock(_ payload: [UInt8], flags: UInt8 = 0x80) -> [UInt8] { element([0xA3], [0x81, 0x00, 0x00, flags] + payload) }

    /// A laced block holds several frames, their sizes before them (Xiph, EBML or fixed-size lacing): each frame is
    /// read. A hand-made WebM whose VP8 track says 96x64 and whose one block laces an inter frame and a 4128x64 key
    /// frame; with that key frame replaced by a 96x64 one, the same file passes (so the sizes, not the lacing, refuse it).
    @Test func everyFrameOfALacedBlockIsRead() throws {
        func file(lacing: UInt8, width: Int) -> [UInt8] {
            let frames = [Self.vp8InterFrame, Self.vp8KeyFrame(width: width)]  // 16 bytes each
            let sizes: [UInt8] =
                switch lacing {
                case 0x02: [16]  // Xiph: the first frame's size
                case 0x06: [0x90]  // EBML: the first frame's size as a 1-byte number
                default: []  // fixed: equal parts
                }
            return Self.handMade(clusters: [Self.simpleBlock([UInt8(frames.count - 1)] + sizes + frames.joined(), flags: 0x80 | lacing)])
        }
        for lacing: UInt8 in [0x02, 0x06, 0x04] {
            let wide = try MediaInspector.inspect(bytes: file(lacing: lacing, width: 4128), strict: true, scanSamples: true)
            #expect(wide.width == 4128 && wide.height == 64, "lacing \(lacing): \(wide)")
            let small = try MediaInspector.inspect(bytes: file(lacing: lacing, width: 96), strict: true, scanSamples: true)
            #expect(small.width == 96 && small.height == 64, "lacing \(lacing): \(small)")
        }
    }

    /// A VP9 superframe packs several frames in one block, an index at its end giving their sizes: each frame's
    /// header is read. A hand-made WebM (track: 96x64) whose one block is a superframe of libvpx's 96x64 key frame
    /// and its 4128x64 one; the contrast, a superframe of the small key frame twice, passes at 96x64.
    @Test func everyFrameOfAVP9SuperframeIsRead() throws {
        func keyFrame(_ name: String) throws -> [UInt8] {  // the first frame of the clip, out of an IVF file
            let ivf = Self.clips.appendingPathComponent(name + ".ivf").path
            let made = try Subprocess.run(
                "/usr/bin/ffmpeg",
                ["-hide_banner", "-loglevel", "error", "-y", "-i", Self.path(name), "-c", "copy", "-frames:v", "1", "-f", "ivf", ivf])
            #expect(made.status == 0, "\(made.errors)")
            let b = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ivf)))
            let size = Int(b[32]) | Int(b[33]) << 8 | Int(b[34]) << 16 | Int(b[35]) << 24
            return Array(b[44..<(44 + size)])
        }
        func superframe(_ frames: [[UInt8]]) -> [UInt8] {  // 4-byte sizes
            let marker = UInt8(0xC0 | 3 << 3 | (frames.count - 1))
            let sizes = frames.flatMap { f in (0..<4).map { UInt8(f.count >> (8 * $0) & 0xFF) } }
            return frames.joined() + [marker] + sizes + [marker]
        }
        func file(_ block: [UInt8]) -> [UInt8] { Self.handMade(codec: "V_VP9", clusters: [Self.simpleBlock(block)]) }
        let small = try keyFrame("clip-vp9.webm"), wide = try keyFrame("wide-vp9.webm")
        let grown = try MediaInspector.inspect(bytes: file(superframe([small, wide])), strict: true, scanSamples: true)
        #expect(grown.width == 4128 && grown.height == 64, "\(grown)")
        let same = try MediaInspector.inspect(bytes: file(superframe([small, small])), strict: true, scanSamples: true)
        #expect(same.width == 96 && same.height == 64, "\(same)")
    }

    /// A review's hostile Matroska files (each with a 96x64 track that decodes a 4128x64 frame, or one that made the
    /// walk trap or work without end). Refused at upload, and none traps at upload or render time.
    @Test func hostileMatroskaBlockStructuresAreRefusedAtUpload() throws {
        func upload(_ b: [UInt8]) -> String? {
            do { _ = try MediaInspector.inspect(bytes: b, strict: true, scanSamples: true); return nil } catch { return error.message }
        }
        func renderTime(_ b: [UInt8]) { _ = try? MediaInspector.inspect(bytes: b, strict: false) }
        let small = Self.simpleBlock(Self.vp8KeyFrame(width: 96)), wide = Self.vp8KeyFrame(width: 4128)
        // EBML lace sizes whose running sum passed Int.max (a trap: the server process went down), on VP8 and VP9.
        for codec in ["V_VP8", "V_VP9"] {
            let overflow = Self.handMade(
                codec: codec,
                clusters: [
                    Self.simpleBlock(
                        [0xFF] + Array([[UInt8]](repeating: [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE], count: 255).joined()), flags: 0x86)
                ])
            #expect(upload(overflow) == nil, "\(codec): a block whose laces do not fit is left, not refused")
            renderTime(overflow)
        }
        // Many tiny blocks whose lace counts promise 256 frames each: the work stays in proportion to the bytes.
        let tiny = Array(
            [[UInt8]](repeating: Self.simpleBlock([0xFF, 0x80], flags: 0x86) + Self.simpleBlock([0xFF], flags: 0x84), count: 20_000).joined())
        #expect(upload(Self.handMade(clusters: [small, tiny])) == nil)
        // The big key frame in a BlockGroup after 16 empty Void elements (the walk stopped after 16 children).
        let group = Self.element(
            [0xA0], Array([[UInt8]](repeating: [0xEC, 0x80], count: 16).joined()) + Self.element([0xA1], [0x81, 0x00, 0x00, 0x00] + wide))
        #expect(try MediaInspector.inspect(bytes: Self.handMade(clusters: [small, group]), strict: true, scanSamples: true).width == 4128)
        // A cluster whose first element is malformed, with a whole cluster inside (libavformat resynchronises to it).
        let inner = Self.element([0x1F, 0x43, 0xB6, 0x75], Self.element([0xE7], [0]) + Self.simpleBlock(wide))
        let resync = Self.handMade(clusters: [small, [0x00, 0x00, 0x00, 0x00] + inner])
        #expect(upload(resync) == "a Matroska cluster holds a malformed element")
        renderTime(resync)
        // Codecs whose size the walk does not read: the decoder would take them.
        let vfw = Self.handMade(codec: "V_MS/VFW/FOURCC", codecPrivate: [UInt8](repeating: 0, count: 40), clusters: [small])
        #expect(upload(vfw) == "the video codec 'V_MS/VFW/FOURCC ????' is not accepted in uploads: " + Self.acceptedCodecs)
        let annexB = Self.handMade(codec: "V_MPEG4/ISO/AVC", clusters: [Self.simpleBlock([0, 0, 0, 1, 0x67, 0x42])])
        #expect(upload(annexB) == "the H.264 track has no readable codec configuration (CodecPrivate)")
        // The contrast: the same structure with a small frame and nothing hostile passes.
        #expect(
            upload(
                Self.handMade(clusters: [small, Self.element([0xA0], Self.element([0xA1], [0x81, 0x00, 0x00, 0x00] + Self.vp8KeyFrame(width: 96)))]))
                == nil)
    }

    /// The parameter set parser against what x264 and x265 write: the profiles with the extra High-profile fields
    /// (chroma format, bit depth, scaling matrices), interlaced coding (heights in field pairs) and cropping (1080
    /// columns coded as 1088; HEVC's conformance window). Each must give the picture's real size from the SPS alone.
    @Test func theSequenceParameterSetsOfEveryProfileGiveTheRealSize() throws {
        let cases: [(name: String, codec: CodecHeaders.Codec, size: (Int, Int))] = [
            ("cropped.mp4", .h264, (1080, 48)), ("high.mp4", .h264, (1080, 48)), ("high-matrices.mp4", .h264, (1080, 48)),
            ("high10.mp4", .h264, (1080, 48)), ("high422.mp4", .h264, (1080, 48)), ("high444.mp4", .h264, (1080, 48)),
            ("interlaced.mp4", .h264, (1080, 48)), ("wide-hevc.mp4", .hevc, (4128, 64)), ("hevc-window.mp4", .hevc, (1078, 48)),
            ("hevc-main10.mp4", .hevc, (1080, 48)),
        ]
        for (name, codec, size) in cases {
            let clip = try [UInt8](Data(contentsOf: Self.clips.appendingPathComponent(name)))
            let config = try #require(Self.boxes(clip).first { $0.path.hasSuffix(codec == .h264 ? "/avcC" : "/hvcC") }, "\(name)")
            let body = Array(clip[(config.offset + 8)..<(config.offset + config.size)])
            let sets = try #require(codec == .h264 ? CodecHeaders.avcConfiguration(body) : CodecHeaders.hevcConfiguration(body), "\(name)")
            #expect(sets.sps.count == 1 && sets.lengthSize == 4, "\(name)")
            for sps in sets.sps {
                let parsed = codec == .h264 ? CodecHeaders.h264SPSSize(sps) : CodecHeaders.hevcSPSSize(sps)
                #expect(parsed?.width == size.0 && parsed?.height == size.1, "\(name): \(String(describing: parsed))")
            }
            // And the upload check at exactly that size passes.
            guard case .success(let upload) = Self.outcome(Self.path(name), .video, maxVideoDimension: max(size.0, size.1)) else {
                Issue.record("\(name) refused at its own size")
                continue
            }
            #expect(upload.width == size.0 && upload.height == size.1, "\(name): \(upload)")
        }
    }

    /// Sample tables that point at the same bytes again and again would make the in-band scan work without end (a
    /// 1 KB file listing a thousand 100-byte samples at one offset): refused, while the same file listing one passes.
    @Test func sampleTablesCoveringMoreThanTheFileAreRefused() throws {
        func be(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(v >> (8 * (n - 1 - $0)) & 0xFF) } }
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] { be(8 + body.count, 4) + Array(type.utf8) + body }
        let clip = try [UInt8](Data(contentsOf: Self.clips.appendingPathComponent("clip.mp4")))
        let avcC = try #require(Self.boxes(clip).first { $0.path.hasSuffix("/avcC") })
        func file(samples: Int) -> [UInt8] {
            let head = box("ftyp", Array("isom".utf8) + [0, 0, 2, 0] + Array("isom".utf8))
            let mdat = box("mdat", be(96, 4) + [0x65] + [UInt8](repeating: 0x11, count: 95))
            let entry =
                be(86 + avcC.size, 4) + Array("avc1".utf8) + [UInt8](repeating: 0, count: 6) + be(1, 2) + [UInt8](repeating: 0, count: 16)
                + be(96, 2) + be(64, 2) + [UInt8](repeating: 0, count: 50) + Array(clip[avcC.offset..<(avcC.offset + avcC.size)])
            let tables =
                box("stsd", be(0, 4) + be(1, 4) + entry) + box("stsz", be(0, 4) + be(100, 4) + be(samples, 4))
                + box("stsc", be(0, 4) + be(1, 4) + be(1, 4) + be(1, 4) + be(1, 4))
                + box("stco", be(0, 4) + be(samples, 4) + (0..<samples).flatMap { _ in be(head.count + 8, 4) })
            let tkhd = box("tkhd", [UInt8](repeating: 0, count: 76) + be(96 << 16, 4) + be(64 << 16, 4))
            let hdlr = box("hdlr", [0, 0, 0, 0] + [0, 0, 0, 0] + Array("vide".utf8) + [UInt8](repeating: 0, count: 13))
            return head + mdat + box("moov", box("trak", tkhd + box("mdia", hdlr + box("minf", box("stbl", tables)))))
        }
        #expect(throws: Never.self) { try Self.outcome(Self.write(file(samples: 1), "one-sample.mp4"), .video).get() }
        guard case .failure(let error) = Self.outcome(Self.write(file(samples: 1000), "same-bytes.mp4"), .video) else {
            Issue.record("a thousand samples at one offset accepted")
            return
        }
        #expect(error.status == .unprocessableContent && error.message.contains("cover more bytes than the file holds"), "\(error.message)")
    }

    @Test func theUploadRouteRefusesThemWith422AndStoresNothing() async throws {
        try await withAPI { api in
            let audioOnly = try [UInt8](Data(contentsOf: Self.clips.appendingPathComponent("audio-only.mp4")))
            let huge = Self.mp4(tkhd: (7680, 7680), stsd: (7680, 7680))
            for (bytes, name) in [(audioOnly, "audio-only.mp4"), (huge, "huge.mp4")] {
                let response = try await api.upload(bytes, type: "video", filename: name, key: api.keyA)
                #expect(response.status == .unprocessableContent, "\(name): \(String(buffer: response.body))")
                #expect(try errorOf(response) == ("unprocessable_content", "file"))
            }
            #expect(try await api.store.assets(tenantId: api.tenantA).isEmpty)
            let clip = try [UInt8](Data(contentsOf: Self.clips.appendingPathComponent("clip.mp4")))
            let accepted = try await api.upload(clip, type: "video", filename: "clip.mp4", key: api.keyA)
            #expect(accepted.status == .created, "\(String(buffer: accepted.body))")
            let asset = try #require(try jsonObject(accepted)["asset"] as? [String: Any])
            #expect(asset["width"] as? Int == 96 && asset["height"] as? Int == 64)
        }
    }

    @Test func decodingAnAudioOnlyFileAsVideoSaysSoInPlainWords() throws {
        do {
            _ = try MediaInput(path: Self.path("audio-only.mp4"), mediaType: .video)
            Issue.record("an audio-only MP4 opened as video")
        } catch let error as MediaError {
            #expect(error.message.contains("has no video or image stream"), "\(error.message)")
            #expect(!error.description.contains("no a "), "\(error.description)")
        }
    }
}
