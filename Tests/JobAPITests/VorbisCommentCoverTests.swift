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

    static let quiet = ["-hide_banner", "-loglevel", "error", "-y"]

    /// What ffprobe says the file's streams are (`codec_name,width,height` a line): libavformat's own view.
    static func probed(_ path: String) throws -> String {
        let run = try Subprocess.run(
            "/usr/bin/ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", path])
        return run.output
    }

    /// review13 finding 1: libavformat reads the comment header of every logical stream (a second track, a chained
    /// link) and shows its `METADATA_BLOCK_PICTURE` as an attached picture, so the upload reads them all.
    @Test func aCoverInAnyOggStreamIsRead() throws {
        let value = Self.pictureComment(C.png(16000, 16000))
        let two = C.directory.appendingPathComponent("two-streams.ogg").path
        let made = try Subprocess.run(
            "/usr/bin/ffmpeg",
            Self.quiet + [
                "-f", "lavfi", "-i", "sine=d=1", "-f", "lavfi", "-i", "sine=d=1", "-map", "0", "-map", "1", "-c:a", "libvorbis",
                "-metadata:s:a:1", "METADATA_BLOCK_PICTURE=\(value)", two,
            ])
        try #require(made.status == 0, "\(made.errors)")
        let showntwo = try Self.probed(two)
        #expect(showntwo.contains("png,16000,16000"), "libavformat shows no cover: \(showntwo)")
        #expect(try MediaInspector.inspect(path: two, strict: true).coverWidth == 16000)
        #expect(throws: APIError.self) { try MediaSniffer.inspect(path: two, type: .audio, maxImageDimension: 8000, maxVideoDimension: 4096) }
        // A chained file (a plain link, then a link whose comment holds the cover; ffmpeg gives both the same serial).
        let plain = C.directory.appendingPathComponent("chain-plain.ogg").path
        let cover = C.directory.appendingPathComponent("chain-cover.ogg").path
        for (path, extra) in [(plain, [String]()), (cover, ["-metadata", "METADATA_BLOCK_PICTURE=\(value)"])] {
            let run = try Subprocess.run("/usr/bin/ffmpeg", Self.quiet + ["-f", "lavfi", "-i", "sine=d=1", "-c:a", "libvorbis"] + extra + [path])
            try #require(run.status == 0, "\(run.errors)")
        }
        let chained = try Data(contentsOf: URL(fileURLWithPath: plain)) + Data(contentsOf: URL(fileURLWithPath: cover))
        #expect(try MediaInspector.inspect(bytes: [UInt8](chained), strict: true).coverWidth == 16000)
        // The contrast: two plain streams, and a plain file chained to itself, are good uploads with no cover.
        let twoPlain = C.directory.appendingPathComponent("two-plain.ogg").path
        let madePlain = try Subprocess.run(
            "/usr/bin/ffmpeg",
            Self.quiet + ["-f", "lavfi", "-i", "sine=d=1", "-f", "lavfi", "-i", "sine=d=1", "-map", "0", "-map", "1", "-c:a", "libvorbis", twoPlain])
        try #require(madePlain.status == 0, "\(madePlain.errors)")
        #expect(try MediaSniffer.inspect(path: twoPlain, type: .audio, maxImageDimension: 8000, maxVideoDimension: 4096).format == .ogg)
        let plainTwice = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain)))
        let twice = try MediaInspector.inspect(bytes: plainTwice + plainTwice, strict: true)
        #expect(twice.coverWidth == nil && twice.detail == "vorbis", "\(twice)")
    }

    /// An Ogg page of `serial` holding whole `packets`, with its CRC.
    static func oggPage(_ packets: [[UInt8]], serial: Int, sequence: Int, flags: UInt8 = 0) -> [UInt8] {
        var table: [UInt8] = []
        for p in packets { table += [UInt8](repeating: 255, count: p.count / 255) + [UInt8(p.count % 255)] }
        var page = Array("OggS".utf8) + [0, flags] + [UInt8](repeating: 0, count: 8) + le32(serial) + le32(sequence) + le32(0)
        page += [UInt8(table.count)] + table + packets.joined()
        let crc = Int(CRC.ogg(page))
        page.replaceSubrange(22..<26, with: le32(crc))
        return page
    }

    /// The packets of an Ogg file with one stream, and where its audio pages begin (after its first `headers` packets).
    static func oggPackets(_ b: [UInt8], headers: Int) -> (packets: [[UInt8]], audioAt: Int) {
        var packets: [[UInt8]] = [], current: [UInt8] = [], pos = 0
        while pos + 27 <= b.count, packets.count < headers {
            let segments = Int(b[pos + 26])
            var at = pos + 27 + segments
            for i in 0..<segments {
                let length = Int(b[pos + 27 + i])
                current += b[at..<at + length]
                at += length
                if length < 255 { packets.append(current); current = [] }
            }
            pos = at
        }
        return (packets, pos)
    }

    /// review13 finding 2: libavformat's Ogg FLAC parser reads a `VORBIS_COMMENT` block in any header packet, so a
    /// PADDING packet before the comment (its count raised in the first packet) must not hide the cover.
    @Test func aCommentAfterPaddingInOggFLACIsRead() throws {
        let made = C.directory.appendingPathComponent("cover.oga").path
        let run = try Subprocess.run(
            "/usr/bin/ffmpeg",
            Self.quiet + [
                "-f", "lavfi", "-i", "sine=d=1", "-c:a", "flac", "-metadata", "METADATA_BLOCK_PICTURE=\(Self.pictureComment(C.png(16000, 16000)))",
                made,
            ])
        try #require(run.status == 0, "\(run.errors)")
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: made)))
        let (packets, audioAt) = Self.oggPackets(original, headers: 2)
        try #require(packets.count == 2 && packets[1].first.map { $0 & 0x7F } == 4)
        let serial = Int(original[14]) | Int(original[15]) << 8 | Int(original[16]) << 16 | Int(original[17]) << 24
        /// The file with `padding` PADDING packets between the first packet and the comment, and audio pages renumbered.
        func padded(_ padding: Int) -> [UInt8] {
            var first = packets[0]
            let count = (Int(first[7]) << 8 | Int(first[8])) + padding
            first[7] = UInt8(count >> 8 & 0xFF); first[8] = UInt8(count & 0xFF)
            var out = Self.oggPage([first], serial: serial, sequence: 0, flags: 2)
            for i in 0..<padding { out += Self.oggPage([[1, 0, 0, 4, 0, 0, 0, 0]], serial: serial, sequence: 1 + i) }
            out += Self.oggPage([packets[1]], serial: serial, sequence: 1 + padding)
            var pos = audioAt, sequence = 2 + padding
            while pos + 27 <= original.count {
                let segments = Int(original[pos + 26])
                let end = pos + 27 + segments + original[(pos + 27)..<(pos + 27 + segments)].reduce(0) { $0 + Int($1) }
                var page = Array(original[pos..<end])
                page.replaceSubrange(18..<22, with: Self.le32(sequence))
                page.replaceSubrange(22..<26, with: Self.le32(0))
                page.replaceSubrange(22..<26, with: Self.le32(Int(CRC.ogg(page))))
                out += page
                pos = end
                sequence += 1
            }
            return out
        }
        let path = C.directory.appendingPathComponent("padded.oga").path
        try Data(padded(1)).write(to: URL(fileURLWithPath: path))
        let shownpath = try Self.probed(path)
        #expect(shownpath.contains("png,16000,16000"), "libavformat shows no cover: \(shownpath)")
        #expect(try MediaInspector.inspect(path: path, strict: true).coverWidth == 16000)
        #expect(throws: APIError.self) { try MediaSniffer.inspect(path: path, type: .audio, maxImageDimension: 8000, maxVideoDimension: 4096) }
        // Bounded: over 1024 header packets is refused, not walked on.
        do {
            _ = try MediaInspector.inspect(bytes: padded(1030), strict: true)
            Issue.record("an Ogg FLAC with 1030 PADDING packets was accepted")
        } catch {
            #expect(error.message.contains("over 1024 header packets"), "\(error.message)")
        }
        // A second stream in a codec whose comments are not read (Speex here) is refused, not skipped.
        let speex = Array("Speex   ".utf8) + [UInt8](repeating: 0, count: 72)
        let mixed =
            Self.oggPage([packets[0]], serial: serial, sequence: 0, flags: 2) + Self.oggPage([speex], serial: serial + 1, sequence: 0, flags: 2)
        do {
            _ = try MediaInspector.inspect(
                bytes: mixed + Array(padded(0).dropFirst(Self.oggPage([packets[0]], serial: serial, sequence: 0, flags: 2).count)), strict: true)
            Issue.record("an Ogg with a Speex second stream was accepted")
        } catch {
            #expect(error.message.contains("logical stream 2") && error.message.contains("not Vorbis, Opus, FLAC or Theora"), "\(error.message)")
        }
    }
}
