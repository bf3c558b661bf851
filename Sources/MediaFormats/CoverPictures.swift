import Foundation

/// The largest picture embedded in an audio file (cover art), as its own header states it.
///
/// libavformat turns cover art into an attached-picture stream and decodes it while probing the file
/// (`avformat_find_stream_info`), at the size the picture's own header states: a 1 MB PNG that says 16000x16000
/// costs about 1 GB each time the file is opened. So the upload reads that size (the PNG IHDR, the JPEG frame
/// header, or the GIF, WebP, BMP or TIFF header), never decoding the picture, and refuses it over the limits.
final class CoverPictures {
    private(set) var width = 0
    private(set) var height = 0
    var found: Bool { width > 0 || height > 0 }

    func note(_ size: Checker.Size) {
        width = max(width, size.width)
        height = max(height, size.height)
    }
}

extension Checker {
    /// Notes the size of one embedded picture's bytes. Bytes that are no picture format rendc knows are left alone
    /// (libavcodec cannot decode them either); a picture whose header is malformed is refused at upload.
    func noteCover(_ bytes: [UInt8]) throws(Refusal) {
        guard let container = Container.sniff(Array(bytes.prefix(32))), container.isImage else { return }
        let picture = Checker(r: ByteReader(bytes: bytes), strict: false, scanSamples: false)
        do {
            switch container {
            case .png: covers.note(try picture.png())
            case .jpeg: covers.note(try picture.jpeg(toTheEnd: false))
            case .gif: covers.note(try picture.gif())
            case .webp: covers.note(try picture.webp())
            case .bmp: covers.note(try picture.bmp())
            default: covers.note(try picture.tiff())
            }
        } catch {
            if strict { throw Refusal("the cover picture (\(container.rawValue)) is malformed: \(error)") }
        }
    }

    /// The pictures (`APIC`, or `PIC` in ID3v2.2) of the ID3v2 tag whose 10-byte header is at `tag`.
    func noteID3Pictures(at tag: Int, header h: [UInt8], size: Int) throws(Refusal) {
        let version = h[3], flags = h[5]
        var body = r.read(tag + 10, size)
        // Tag-wide unsynchronisation (ID3v2.2 and 2.3): every FF 00 stands for FF.
        if flags & 0x80 != 0 && version < 4 { body = Self.resynchronised(body) }
        var pos = 0
        if flags & 0x40 != 0 && version == 3 { pos = 4 + body.be32(0) }
        if flags & 0x40 != 0 && version == 4 { pos = Self.syncsafe(body, 0) }
        let headerLength = version == 2 ? 6 : 10
        while pos >= 0, pos + headerLength <= body.count, body[pos] != 0 {
            let id = body.ascii(pos, version == 2 ? 3 : 4)
            let length = version == 2 ? body.be24(pos + 3) : version == 3 ? body.be32(pos + 4) : Self.syncsafe(body, pos + 4)
            let frameFlags = version == 2 ? 0 : body.be16(pos + 8)
            let start = pos + headerLength
            guard length > 0, start + length <= body.count else { break }
            if id == "APIC" || id == "PIC" {
                var data = Array(body[start..<start + length])
                let compressedOrEncrypted = version == 3 ? frameFlags & 0x00C0 != 0 : version == 4 ? frameFlags & 0x000C != 0 : false
                if compressedOrEncrypted {
                    if strict { throw Refusal("the ID3 tag holds a compressed or encrypted cover picture, which cannot be checked") }
                } else {
                    if version == 4 && frameFlags & 0x0001 != 0 { data = Array(data.dropFirst(4)) }  // data length indicator
                    if version == 4 && frameFlags & 0x0002 != 0 { data = Self.resynchronised(data) }
                    if let picture = Self.apicPicture(data, v22: version == 2) { try noteCover(picture) }
                }
            }
            pos = start + length
        }
    }

    /// The picture bytes of an APIC (or v2.2 PIC) frame: after the text encoding, the MIME type (v2.2: a 3-letter
    /// format), the picture type and the description (ended by one zero byte, or two in UTF-16).
    static func apicPicture(_ d: [UInt8], v22: Bool) -> [UInt8]? {
        guard d.count > 4 else { return nil }
        let encoding = d[0]
        var p = 1
        if v22 {
            p += 3
        } else {
            while p < d.count, d[p] != 0 { p += 1 }
            p += 1
        }
        p += 1  // the picture type
        if encoding == 1 || encoding == 2 {
            while p + 1 < d.count, d[p] != 0 || d[p + 1] != 0 { p += 2 }
            p += 2
        } else {
            while p < d.count, d[p] != 0 { p += 1 }
            p += 1
        }
        return p < d.count ? Array(d[p...]) : nil
    }

    /// A FLAC `PICTURE` block's picture (the same layout as a `METADATA_BLOCK_PICTURE` comment, once decoded).
    func noteFLACPicture(_ b: [UInt8]) throws(Refusal) {
        var p = 4
        p += 4 + b.be32(p)  // MIME type
        guard p + 4 <= b.count else { return }
        p += 4 + b.be32(p)  // description
        p += 16  // width, height, depth, colours: what the block says, not what the decoder will find
        guard p + 4 <= b.count else { return }
        let length = b.be32(p)
        p += 4
        guard length > 0, p < b.count else { return }
        try noteCover(Array(b[p..<min(b.count, p + length)]))
    }

    /// The most base64 text a `METADATA_BLOCK_PICTURE` comment may hold (48 MiB, a 36 MiB picture block): more is
    /// refused at upload (and left alone in the decoder) rather than decoded into memory.
    static let maximumCommentPicture = 48 << 20

    /// The covers in a Vorbis comment block (FLAC's `VORBIS_COMMENT`, an Ogg stream's comment header after its
    /// packet type): each `METADATA_BLOCK_PICTURE` value is the base64 of a FLAC `PICTURE` block, which libavformat
    /// decodes to an attached picture when it opens the file. Only the picture's header is read. Every length is
    /// checked against the block before it is used; a block that lies ends the walk (a malformed picture comment is
    /// refused at upload).
    func noteVorbisCommentPictures(_ b: [UInt8], from start: Int = 0) throws(Refusal) {
        let key = Array("METADATA_BLOCK_PICTURE=".utf8)
        var p = start
        guard p + 4 <= b.count else { return }
        let vendor = b.le32(p)
        guard vendor <= b.count - p - 4 else { return }
        p += 4 + vendor
        guard p + 4 <= b.count else { return }
        let count = b.le32(p)
        p += 4
        var n = 0
        while n < count, p + 4 <= b.count {
            let length = b.le32(p)
            p += 4
            guard length <= b.count - p else {
                if strict { throw Refusal("Vorbis comment \(n + 1) states \(length) bytes where \(b.count - p) remain") }
                return
            }
            defer { p += length; n += 1 }
            guard length > key.count,
                zip(b[p..<p + key.count], key).allSatisfy({ (($0 >= 0x61 && $0 <= 0x7A) ? $0 - 0x20 : $0) == $1 })
            else { continue }
            let text = b[(p + key.count)..<(p + length)]
            guard text.count <= Self.maximumCommentPicture else {
                if strict {
                    throw Refusal(
                        "the METADATA_BLOCK_PICTURE comment is \(text.count >> 20) MiB, over the \(Self.maximumCommentPicture >> 20) MiB checked")
                }
                continue
            }
            guard let block = Data(base64Encoded: Data(text), options: .ignoreUnknownCharacters), block.count >= 32 else {
                if strict { throw Refusal("the cover picture in a METADATA_BLOCK_PICTURE comment is not a base64 FLAC picture block") }
                continue
            }
            try noteFLACPicture([UInt8](block))
        }
    }

    /// Cover art in an MP4's user data (`udta` / `meta` / `ilst` / `covr` / `data`), walked by box sizes only:
    /// `ilst` items are named with bytes such as ©, which no other MP4 box uses.
    func noteMP4Covers(from start: Int, to end: Int, parent: String, depth: Int = 0) throws(Refusal) {
        var pos = start
        var boxes = 0
        while pos + 8 <= end, depth < 6, boxes < 10_000 {
            boxes += 1
            let h = r.read(pos, 12)
            let size = h.be32(0), type = h.ascii(4, 4)
            guard size >= 8, size <= end - pos else { return }
            let body = pos + 8
            switch type {
            case "meta":
                // ISO's `meta` is a full box (4 bytes of version and flags); QuickTime's is not.
                let full = h.be32(8) == 0
                try noteMP4Covers(from: body + (full ? 4 : 0), to: pos + size, parent: type, depth: depth + 1)
            case "udta", "ilst", "covr":
                try noteMP4Covers(from: body, to: pos + size, parent: type, depth: depth + 1)
            case "data" where parent == "covr":
                // The data type and locale, then the picture.
                if size > 16 { try noteCover(r.read(body + 8, size - 16)) }
            default:
                break
            }
            pos += size
        }
    }

    static func syncsafe(_ b: [UInt8], _ i: Int) -> Int {
        guard i + 4 <= b.count else { return 0 }
        return Int(b[i] & 0x7F) << 21 | Int(b[i + 1] & 0x7F) << 14 | Int(b[i + 2] & 0x7F) << 7 | Int(b[i + 3] & 0x7F)
    }

    /// Undoes ID3 unsynchronisation: the zero byte inserted after every FF is dropped.
    static func resynchronised(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            out.append(b[i])
            if b[i] == 0xFF, i + 1 < b.count, b[i + 1] == 0 { i += 1 }
            i += 1
        }
        return out
    }
}
