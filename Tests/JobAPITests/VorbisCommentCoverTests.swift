import Foundation
import RendcTestSupport
import Testing

@testable import JobAPI
@testable import MediaFormats

/// Covers in a `METADATA_BLOCK_PICTURE` Vorbis comment (FLAC, Ogg Vorbis, Opus, audio13 item 3): libavformat decodes
/// them as attached pictures when it opens the file, like the ID3, FLAC and MP4 covers, so the upload reads their size
/// with the same limits; hostile base64 and lying lengths get a clear refusal, never a crash.
@Suite(.ownThreads) struct VorbisCommentCoverTests {
    typealias C = CoverArtUploadTests

    /// The base64 of a FLAC PICTURE block holding `picture`; `dataLength` overrides the length it states.
    static func pictureComment(_ picture: [UInt8], dataLength: Int? = nil) -> String {
        let mime = Array("image/png".utf8)
        let block =
            C.be(3, 4) + C.be(mime.count, 4) + mime + C.be(0, 4) + C.be(1, 4) + C.be(1, 4) + C.be(32, 4) + C.be(0, 4)
            + C.be(dataLength ?? picture.count, 4) + picture
        return Data(block).base64EncodedString()
    }

    static func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }

    /// A Vorbis comment block: vendor, then `comments` (each `KEY=value`); `stated` overrides the first's length.
    static func commentBlock(_ comments: [[UInt8]], stated: Int? = nil) -> [UInt8] {
        var out = le32(4) + Array("test".utf8) + le32(comments.count)
        for (i, c) in comments.enumerated() { out += le32(i == 0 ? (stated ?? c.count) : c.count) + c }
        return out
    }

    /// A FLAC: STREAMINFO, a VORBIS_COMMENT block `comment`, then a frame sync.
    static func flac(comment: [UInt8]) -> [UInt8] {
        var info = [UInt8](repeating: 0, count: 34)
        info[10] = 0x0A; info[11] = 0xC4; info[12] = 0x42
        return Array("fLaC".utf8) + [0] + C.be(34, 3) + info + [0x80 | 4] + C.be(comment.count, 3) + comment + [0xFF, 0xF8, 0x69, 0x08, 0, 0]
    }

    static func flac(_ width: Int, _ height: Int) -> [UInt8] {
        flac(comment: commentBlock([Array("METADATA_BLOCK_PICTURE=\(pictureComment(C.png(width, height)))".utf8)]))
    }

    @Test func aCommentCoverIsReadAndRefusedOverTheLimit() throws {
        // The contrast: the same file with a 600x500 cover is a good upload, and its size is read.
        let small = try MediaInspector.inspect(bytes: Self.flac(600, 500), strict: true)
        #expect(small.coverWidth == 600 && small.coverHeight == 500, "\(small)")
        #expect((try? C.outcome(Self.flac(6000, 6000), "big.flac").get()) != nil)
        guard case .failure(let error) = C.outcome(Self.flac(16000, 16000), "huge.flac") else {
            Issue.record("a FLAC with a 16000x16000 comment cover was accepted"); return
        }
        #expect(error.status == .unprocessableContent && error.field == "file", "\(error)")
        #expect(error.message.contains("cover picture is 16000x16000"), "\(error.message)")
        // The key is matched without regard to case, as libavformat does.
        let lower = Self.flac(comment: Self.commentBlock([Array("metadata_block_picture=\(Self.pictureComment(C.png(700, 300)))".utf8)]))
        #expect(try MediaInspector.inspect(bytes: lower, strict: true).coverWidth == 700)
    }

    /// What ffmpeg writes for `-metadata METADATA_BLOCK_PICTURE=…` in Ogg Vorbis, Opus and FLAC (libavformat then
    /// shows a 16000x16000 attached picture): the comment header spans Ogg pages and is reassembled.
    @Test func commentCoversMuxedByFFmpegAreRead() throws {
        let quiet = ["-hide_banner", "-loglevel", "error", "-y"]
        // A PNG chunk of 20 kB makes the comment span several Ogg pages (255 bytes a segment, 255 segments a page).
        var png = C.png(16000, 16000)
        png.insert(contentsOf: C.be(20000, 4) + Array("tEXt".utf8) + [UInt8](repeating: 0x41, count: 20000) + C.be(0, 4), at: 33)
        let value = Self.pictureComment(png)
        for (ext, codec) in [("ogg", "libvorbis"), ("opus", "libopus"), ("flac", "flac")] {
            let path = C.directory.appendingPathComponent("comment-cover.\(ext)").path
            let made = try Subprocess.run(
                "/usr/bin/ffmpeg", quiet + ["-f", "lavfi", "-i", "sine=d=1", "-c:a", codec, "-metadata", "METADATA_BLOCK_PICTURE=\(value)", path])
            try #require(made.status == 0, "\(ext): \(made.errors)")
            let found = try MediaInspector.inspect(path: path, strict: true)
            #expect(found.coverWidth == 16000 && found.coverHeight == 16000, "\(ext): \(found)")
            #expect(throws: APIError.self, "\(ext)") {
                try MediaSniffer.inspect(path: path, type: .audio, maxImageDimension: 8000, maxVideoDimension: 4096)
            }
            // The same file without the comment has no cover.
            let plain = C.directory.appendingPathComponent("no-cover.\(ext)").path
            let madePlain = try Subprocess.run("/usr/bin/ffmpeg", quiet + ["-f", "lavfi", "-i", "sine=d=1", "-c:a", codec, plain])
            try #require(madePlain.status == 0, "\(ext): \(madePlain.errors)")
            #expect(try MediaInspector.inspect(path: plain, strict: true).coverWidth == nil, "\(ext)")
        }
    }

    /// Malformed base64, a comment longer than its block, a picture block whose lengths lie, and base64 over the
    /// 48 MiB checked: each a clear refusal at upload (or, lying picture lengths, no cover) and never a crash.
    @Test func hostileCommentCoversAreRefusedClearly() throws {
        func refusal(_ bytes: [UInt8]) -> String? {
            do {
                _ = try MediaInspector.inspect(bytes: bytes, strict: true)
                return nil
            } catch { return error.message }
        }
        let malformed = Self.flac(comment: Self.commentBlock([Array("METADATA_BLOCK_PICTURE=@@not base64@@".utf8)]))
        #expect(refusal(malformed)?.contains("is not a base64 FLAC picture block") == true, "\(String(describing: refusal(malformed)))")
        let lying = Self.flac(comment: Self.commentBlock([Array("TITLE=x".utf8)], stated: 1 << 30))
        #expect(refusal(lying)?.contains("Vorbis comment 1 states 1073741824 bytes") == true, "\(String(describing: refusal(lying)))")
        // MIME and data lengths that run past the block: no cover is found, nothing crashes.
        let mime = Array("image/png".utf8)
        let badMIME = Data(C.be(3, 4) + C.be(0x7FFF_FFFF, 4) + mime + [UInt8](repeating: 0, count: 40)).base64EncodedString()
        let pastEnd = Self.pictureComment(C.png(600, 600), dataLength: 0xFFFF_FFFF)
        for value in [badMIME, pastEnd] {
            let file = Self.flac(comment: Self.commentBlock([Array("METADATA_BLOCK_PICTURE=\(value)".utf8)]))
            #expect(throws: Never.self) { _ = try MediaInspector.inspect(bytes: file, strict: false) }
        }
        // The stated data length over the picture's bytes still reads the picture's own header.
        let read = try MediaInspector.inspect(
            bytes: Self.flac(comment: Self.commentBlock([Array("METADATA_BLOCK_PICTURE=\(pastEnd)".utf8)])), strict: true)
        #expect(read.coverWidth == 600)
        // Over 48 MiB of base64 is refused unread (a FLAC block holds 16 MiB at most, so the block is given directly).
        let huge = Self.commentBlock([Array("METADATA_BLOCK_PICTURE=".utf8) + [UInt8](repeating: 0x41, count: (48 << 20) + 4)])
        let checker = Checker(r: ByteReader(bytes: huge), strict: true, scanSamples: false)
        do {
            try checker.noteVorbisCommentPictures(huge)
            Issue.record("48 MiB of base64 was accepted")
        } catch {
            #expect(error.message.contains("over the 48 MiB checked"), "\(error.message)")
        }
    }
}
