import Foundation
import RendcTestSupport
import Testing

@testable import JobAPI
@testable import MediaFormats

/// Cover art is decoded by libavformat whenever it opens a music file, at the size the picture's own header states
/// (review12 H2: a 1.5 MB MP3 with a 16000x16000 PNG cost about 1 GB each open). The upload reads that size from the
/// ID3 `APIC`, the FLAC `PICTURE` block or the MP4 `covr` box and refuses it over the limit, naming it.
@Suite(.ownThreads) struct CoverArtUploadTests {
    static func be(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(v >> (8 * (n - 1 - $0)) & 0xFF) } }

    /// A PNG that states `width` x `height` in its IHDR and holds a few bytes of data (never decoded here).
    static func png(_ width: Int, _ height: Int) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = ~CRC.png(body, running: 0xFFFF_FFFF)
            return be(data.count, 4) + body + be(Int(crc), 4)
        }
        let ihdr = be(width, 4) + be(height, 4) + [8, 6, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00])
            + chunk("IEND", [])
    }

    /// A JPEG whose baseline frame header states `width` x `height` (one component, no real scan data).
    static func jpeg(_ width: Int, _ height: Int) -> [UInt8] {
        [0xFF, 0xD8] + [0xFF, 0xC0] + be(11, 2) + [8] + be(height, 2) + be(width, 2) + [1, 1, 0x11, 0]
            + [0xFF, 0xDA] + be(8, 2) + [1, 1, 0, 0, 63, 0] + [0x12, 0x34] + [0xFF, 0xD9]
    }

    /// An MP3: an ID3v2.3 tag with one APIC frame holding `picture`, then three MPEG frames.
    static func mp3(cover picture: [UInt8], mime: String) -> [UInt8] {
        let apic = [0] + Array(mime.utf8) + [0, 3] + Array("cover".utf8) + [0] + picture
        let frame = Array("APIC".utf8) + be(apic.count, 4) + [0, 0] + apic
        let n = frame.count
        let tag = Array("ID3".utf8) + [3, 0, 0] + [UInt8(n >> 21 & 0x7F), UInt8(n >> 14 & 0x7F), UInt8(n >> 7 & 0x7F), UInt8(n & 0x7F)]
        return tag + frame + Array(TestAudio.mp3Stub().dropFirst(10))
    }

    /// A FLAC: STREAMINFO, a PICTURE block holding `picture`, then a frame sync.
    static func flac(cover picture: [UInt8]) -> [UInt8] {
        var info = [UInt8](repeating: 0, count: 34)
        info[10] = 0x0A; info[11] = 0xC4; info[12] = 0x42  // 44100 Hz, 2 channels, 16 bits
        let mime = Array("image/png".utf8)
        let block = be(3, 4) + be(mime.count, 4) + mime + be(0, 4) + be(1, 4) + be(1, 4) + be(32, 4) + be(0, 4) + be(picture.count, 4) + picture
        return Array("fLaC".utf8) + [0] + be(34, 3) + info + [0x80 | 6] + be(block.count, 3) + block + [0xFF, 0xF8, 0x69, 0x08, 0, 0]
    }

    /// An audio-only M4A whose `moov/udta/meta/ilst/covr/data` holds `picture`, with a `©nam` item beside it.
    static func m4a(cover picture: [UInt8]) -> [UInt8] {
        func rawBox(_ type: [UInt8], _ body: [UInt8]) -> [UInt8] { be(8 + body.count, 4) + type + body }
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] { rawBox(Array(type.utf8), body) }
        let name = rawBox([0xA9] + Array("nam".utf8), box("data", be(1, 4) + be(0, 4) + Array("song".utf8)))
        let covr = box("covr", box("data", be(14, 4) + be(0, 4) + picture))
        let meta = box("meta", be(0, 4) + box("hdlr", be(0, 8) + Array("mdirappl".utf8) + be(0, 9)) + box("ilst", name + covr))
        let hdlr = box("hdlr", be(0, 8) + Array("soun".utf8) + [UInt8](repeating: 0, count: 13))
        let moov = box("moov", box("trak", box("mdia", hdlr)) + box("udta", meta))
        return box("ftyp", Array("M4A ".utf8) + be(0, 4)) + moov + box("mdat", [])
    }

    static let directory: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rendc-cover-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }()

    static func outcome(_ bytes: [UInt8], _ name: String) -> Result<MediaSniffer.Upload, APIError> {
        let path = directory.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            return .success(try MediaSniffer.inspect(path: path, type: .audio, maxImageDimension: 8000, maxVideoDimension: 4096))
        } catch let error as APIError {
            return .failure(error)
        } catch {
            Issue.record("not an API error: \(error)")
            return .failure(APIError(.internalServerError, .internalError, "\(error)"))
        }
    }

    @Test func aCoverPictureOverTheLimitIsRefusedAtUploadNamingItsSize() throws {
        let files: [(String, (Int, Int) -> [UInt8])] = [
            ("png.mp3", { Self.mp3(cover: Self.png($0, $1), mime: "image/png") }),
            ("jpeg.mp3", { Self.mp3(cover: Self.jpeg($0, $1), mime: "image/jpeg") }),
            ("png.flac", { Self.flac(cover: Self.png($0, $1)) }),
            ("png.m4a", { Self.m4a(cover: Self.png($0, $1)) }),
        ]
        for (name, make) in files {
            // The contrast: the same file with a 600x600 cover is a good upload, and its cover's size is read.
            #expect((try? Self.outcome(make(600, 600), name).get()) != nil, "\(name) with a 600x600 cover")
            // A large but decodable cover (36 megapixels, over RENDC_MAX_VIDEO_DIMENSION) is music like any other: the
            // renderer never decodes it.
            #expect((try? Self.outcome(make(6000, 6000), name).get()) != nil, "\(name) with a 6000x6000 cover")
            let small = try MediaInspector.inspect(bytes: make(600, 500), strict: true)
            #expect(small.coverWidth == 600 && small.coverHeight == 500, "\(name): \(small)")
            guard case .failure(let error) = Self.outcome(make(16000, 16000), name) else {
                Issue.record("\(name) with a 16000x16000 cover was accepted"); continue
            }
            #expect(error.status == .unprocessableContent && error.code == .unprocessable && error.field == "file", "\(error)")
            #expect(error.message.contains("cover picture is 16000x16000"), "\(name): \(error.message)")
        }
    }

    /// Real taggers' layouts: ffmpeg muxes a 64x48 PNG cover into an MP3 (ID3v2.4), a FLAC and an M4A.
    @Test func coverPicturesMuxedByFFmpegAreRead() throws {
        let cover = Self.directory.appendingPathComponent("cover.png").path
        let quiet = ["-hide_banner", "-loglevel", "error", "-y"]
        let made = try Subprocess.run("/usr/bin/ffmpeg", quiet + ["-f", "lavfi", "-i", "testsrc2=s=64x48", "-frames:v", "1", cover])
        try #require(made.status == 0, "\(made.errors)")
        for ext in ["mp3", "flac", "m4a"] {
            let path = Self.directory.appendingPathComponent("muxed.\(ext)").path
            let muxed = try Subprocess.run(
                "/usr/bin/ffmpeg",
                quiet + [
                    "-f", "lavfi", "-i", "sine=d=1", "-i", cover, "-map", "0", "-map", "1", "-c:v", "copy", "-disposition:v", "attached_pic", path,
                ])
            try #require(muxed.status == 0, "\(ext): \(muxed.errors)")
            let found = try MediaInspector.inspect(path: path, strict: true)
            #expect(found.coverWidth == 64 && found.coverHeight == 48, "\(ext): \(found)")
            #expect(throws: Never.self) { try MediaSniffer.inspect(path: path, type: .audio, maxImageDimension: 8000, maxVideoDimension: 4096) }
        }
    }
}

/// Float PCM that is finite but absurd (review12 L1: a square wave at ±3e38 overflowed the beat spectrum and left the
/// loudness output above its true-peak ceiling) is refused at upload; loud but plausible float audio is not.
@Suite struct FloatSampleRangeTests {
    static func wav(_ samples: [Float]) -> [UInt8] {
        func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
        let data = samples.flatMap { s -> [UInt8] in
            let b = s.bitPattern
            return [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)]
        }
        let fmt: [UInt8] = [3, 0, 1, 0] + le32(8000) + le32(32000) + [4, 0, 32, 0]
        let body = Array("WAVEfmt ".utf8) + le32(16) + fmt + Array("data".utf8) + le32(data.count) + data
        return Array("RIFF".utf8) + le32(body.count) + body
    }

    @Test func absurdFloatSamplesAreRefusedAtUpload() throws {
        // +10.5 dBFS and +59 dBFS peaks are float headroom: accepted.
        _ = try MediaInspector.inspect(bytes: Self.wav([0.5, -3.3, 900, -0.1]), strict: true, scanSamples: true)
        do {
            _ = try MediaInspector.inspect(bytes: Self.wav([0.5, 0.25, 3e38, -3e38]), strict: true, scanSamples: true)
            Issue.record("±3e38 samples accepted")
        } catch { #expect(error.message.contains("absurd samples") && error.message.contains("sample 2"), "\(error.message)") }
        do {
            _ = try MediaInspector.inspect(bytes: Self.wav([0.5, .infinity]), strict: true, scanSamples: true)
            Issue.record("infinity accepted")
        } catch { #expect(error.message.contains("NaN or infinite"), "\(error.message)") }
    }
}
