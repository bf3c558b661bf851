import Foundation

/// The per-format structure checks behind `MediaInspector`.
struct Checker {
    typealias Refusal = MediaInspector.Refusal
    struct Size { var width = 0; var height = 0; var frames = 1 }

    let r: ByteReader
    let strict: Bool
    let scanSamples: Bool
    /// Cover art found in an audio file (`CoverPictures.swift`).
    let covers = CoverPictures()

    /// A structure running `end - r.size` bytes past the end of the file.
    func pastEnd(_ what: String) -> Refusal { Refusal("the file is truncated: \(what) runs past its end", truncated: true) }

    // MARK: Audio

    func mp3() throws(Refusal) {
        var pos = 0
        // One or more ID3v2 tags.
        while true {
            let h = r.read(pos, 10)
            guard h.count == 10, h.ascii(0, 3) == "ID3" else { break }
            guard (2...4).contains(h[3]), h[6..<10].allSatisfy({ $0 < 0x80 }) else { throw Refusal("the ID3 tag header is malformed") }
            let size = Int(h[6]) << 21 | Int(h[7]) << 14 | Int(h[8]) << 7 | Int(h[9])
            try noteID3Pictures(at: pos, header: h, size: size)
            pos += 10 + size + (h[5] & 0x10 != 0 ? 10 : 0)
            guard pos < r.size else { throw Refusal("the file holds an ID3 tag and no audio after it") }
        }
        // Some taggers pad with zeros after the tag.
        var zeros = 0
        while zeros < 65536, r.byte(pos) == 0 { pos += 1; zeros += 1 }
        // Then a chain of MPEG audio frames, each where the previous one says the next begins.
        var first: MPEGAudio.Header?
        var frames = 0
        // The decoder checks the first frames; an upload is walked frame by frame to its end.
        while (strict || frames < 8) && pos < r.size {
            let h = r.read(pos, 4)
            if frames > 0, h.count < 4 || h[0] != 0xFF {
                // Not a frame: the end of the audio (a short or zero-padded tail, a trailing tag) or damage.
                let tail = r.read(pos, 8)
                if h.count < 4 || tail.allSatisfy({ $0 == 0 }) { break }
                if tail.ascii(0, 3) == "TAG" || tail.ascii(0, 8) == "APETAGEX" || tail.ascii(0, 3) == "ID3" || tail.ascii(0, 6) == "LYRICS" { break }
            }
            guard let header = MPEGAudio.frame(h) else {
                if frames == 0 {
                    let text = r.read(pos, 10).allSatisfy { (0x20...0x7E).contains($0) || $0 == 0x0A || $0 == 0x0D }
                    throw Refusal(
                        "no MPEG audio frame follows the ID3 tag at byte \(pos)" + (text ? " (text follows it: a playlist or script, not audio)" : "")
                    )
                }
                throw Refusal("MPEG audio frame \(frames + 1) at byte \(pos) is not where frame \(frames) said it would be")
            }
            if let first, first.version != header.version || first.layer != header.layer || first.sampleRate != header.sampleRate {
                throw Refusal("MPEG audio frame \(frames + 1) changes version, layer or sample rate")
            }
            if first == nil { first = header }
            frames += 1
            pos += header.length
        }
        guard frames > 0 else { throw Refusal("the file holds no MPEG audio frames") }
        if strict && pos > r.size { throw pastEnd("MPEG audio frame \(frames)") }
    }

    func adts() throws(Refusal) {
        var pos = 0, frames = 0
        while frames < 8 && pos < r.size {
            guard let length = ADTS.frameLength(r.read(pos, 7)) else {
                throw Refusal("ADTS frame \(frames + 1) at byte \(pos) is not a valid AAC frame header")
            }
            frames += 1
            pos += length
        }
        guard frames > 0 else { throw Refusal("the file holds no AAC frames") }
    }

    func wav() throws(Refusal) {
        let h = r.read(0, 12)
        let riffEnd = 8 + h.le32(4)
        if strict && h.le32(4) != 0 && h.le32(4) != 0xFFFF_FFFF && riffEnd > r.size + 1 { throw pastEnd("the RIFF chunk") }
        var pos = 12
        var format: (tag: Int, channels: Int, rate: Int, align: Int, bits: Int, float: Bool)?
        var data: (offset: Int, size: Int)?
        var chunks = 0
        while pos + 8 <= r.size, chunks < 10_000 {
            let c = r.read(pos, 8)
            guard c.isFourCC(0) else { throw Refusal("a WAV chunk at byte \(pos) has no valid name") }
            let id = c.ascii(0, 4), size = c.le32(4)
            chunks += 1
            if id == "data" {
                guard format != nil else { throw Refusal("the WAV data chunk comes before its fmt chunk") }
                let available = r.size - pos - 8
                if size != 0xFFFF_FFFF && size != 0 && size > available && strict { throw pastEnd("the WAV data chunk") }
                data = (pos + 8, size == 0xFFFF_FFFF || size == 0 || size > available ? available : size)
                break
            }
            guard pos + 8 + size <= r.size else {
                if strict { throw pastEnd("the WAV '\(id.trimmingCharacters(in: .whitespaces))' chunk") }
                break
            }
            if id == "fmt " {
                guard size >= 16 else { throw Refusal("the WAV fmt chunk is too short") }
                let f = r.read(pos + 8, min(size, 40))
                var tag = f.le16(0)
                if tag == 0xFFFE, f.count >= 26 { tag = f.le16(24) }  // WAVE_FORMAT_EXTENSIBLE: the sub-format
                let bits = f.le16(14)
                format = (tag, f.le16(2), f.le32(4), f.le16(12), bits, tag == 3)
            }
            pos += 8 + size + (size & 1)
        }
        guard let format else { throw Refusal("the WAV file has no fmt chunk") }
        guard let data else { throw Refusal("the WAV file has no data chunk") }
        guard [1, 3, 6, 7].contains(format.tag) else { throw Refusal("WAV sample format \(format.tag) is not PCM or float") }
        guard (1...32).contains(format.channels) else { throw Refusal("the WAV file states \(format.channels) channels") }
        guard (1000...768_000).contains(format.rate) else { throw Refusal("the WAV file states a sample rate of \(format.rate) Hz") }
        let validBits: Set<Int> = format.float ? [32, 64] : (format.tag == 1 ? [8, 16, 24, 32] : [8])
        guard validBits.contains(format.bits), format.align == format.channels * format.bits / 8 else {
            throw Refusal("the WAV fmt chunk is inconsistent (\(format.bits) bits, \(format.channels) channels, block \(format.align))")
        }
        if scanSamples && format.float { try scanFloats(offset: data.offset, size: data.size, double: format.bits == 64) }
    }

    /// Refuses float samples that are NaN or infinite, or finite but absurd (beyond ±1000, +60 dBFS: review12 L1,
    /// ±3e38 overflowed the beat spectrum and pushed the loudness output over its true-peak ceiling).
    func scanFloats(offset: Int, size: Int, double: Bool) throws(Refusal) {
        let step = double ? 8 : 4
        var pos = offset
        let end = offset + size - size % step
        while pos < end {
            let chunk = r.read(pos, min(1 << 20, end - pos))
            if chunk.isEmpty { break }
            let bad: Int? = chunk.withUnsafeBytes { raw in
                let n = raw.count / step
                for i in 0..<n {
                    let value =
                        double
                        ? Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                        : Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
                    if !(abs(value) <= 1000) { return i }
                }
                return nil
            }
            if let bad {
                let sampleIndex = (pos - offset) / step + bad
                let at = pos + bad * step
                let finite =
                    double
                    ? Double(bitPattern: UInt64(r.read(at, 8).reversed().reduce(0) { $0 << 8 | UInt64($1) })).isFinite
                    : Float(bitPattern: UInt32(r.read(at, 4).reversed().reduce(0) { $0 << 8 | UInt32($1) })).isFinite
                if finite { throw Refusal("the audio holds absurd samples, beyond ±1000 (first at sample \(sampleIndex))") }
                throw Refusal("the audio holds NaN or infinite samples (first at sample \(sampleIndex))")
            }
            pos += chunk.count - chunk.count % step
        }
    }

    func flac() throws(Refusal) {
        var pos = 4, blocks = 0, last = false
        while !last {
            let h = r.read(pos, 4)
            guard h.count == 4 else { throw pastEnd("the FLAC metadata") }
            let type = Int(h[0] & 0x7F), length = h.be24(1)
            last = h[0] & 0x80 != 0
            if blocks == 0 {
                guard type == 0, length == 34 else { throw Refusal("the FLAC file does not start with its STREAMINFO block") }
                let info = r.read(pos + 4, 34)
                let rate = info.count == 34 ? Int(info[10]) << 12 | Int(info[11]) << 4 | Int(info[12]) >> 4 : 0
                guard rate > 0 else { throw Refusal("the FLAC STREAMINFO states no sample rate") }
            }
            guard type != 127 else { throw Refusal("FLAC metadata block \(blocks + 1) has the invalid type 127") }
            if type == 6 { try noteFLACPicture(r.read(pos + 4, length)) }
            if type == 4 { try noteVorbisCommentPictures(r.read(pos + 4, length)) }
            pos += 4 + length
            blocks += 1
            guard pos <= r.size else { throw pastEnd("FLAC metadata block \(blocks)") }
            guard blocks < 1024 else { throw Refusal("the FLAC file has more than 1024 metadata blocks") }
        }
        let sync = r.read(pos, 2)
        guard sync.count == 2, sync[0] == 0xFF, sync[1] & 0xFE == 0xF8 else {
            throw Refusal("no FLAC audio frame follows the metadata (byte \(pos))")
        }
    }

    /// Walks every Ogg page; returns the codec of the first stream. libavformat reads the header packets of every
    /// logical stream (a second track, each link of a chained file) and a Vorbis comment from whichever header packet
    /// is a comment (for Ogg FLAC, any header packet holding a `VORBIS_COMMENT` block), so every stream's header
    /// packets are gathered, across pages, until its first audio packet, and their covers read.
    func ogg() throws(Refusal) -> String {
        var pos = 0, pages = 0
        var codec = ""
        /// The streams whose header packets are still being read, by serial; a stream leaves at its first audio packet.
        var streams: [Int: OggHeaders] = [:]
        /// Serials that have begun (a page of one not seen yet begins a new stream, as in libavformat).
        var begun = Set<Int>()
        var streamCount = 0
        /// The bytes held in unfinished header packets, over every stream.
        var held = 0
        while pos < r.size {
            let h = r.read(pos, 27)
            guard h.count == 27 else {
                if strict { throw pastEnd("Ogg page \(pages + 1)") }
                break
            }
            guard h.ascii(0, 4) == "OggS", h[4] == 0 else { throw Refusal("Ogg page \(pages + 1) at byte \(pos) is not an Ogg page") }
            let segments = Int(h[26])
            let table = r.read(pos + 27, segments)
            let body = table.reduce(0) { $0 + Int($1) }
            let end = pos + 27 + segments + body
            guard table.count == segments, end <= r.size else {
                if strict { throw pastEnd("Ogg page \(pages + 1)") }
                break
            }
            let serial = h.le32(14)
            if pages == 0 { guard h[5] & 0x02 != 0 else { throw Refusal("the first Ogg page does not begin a stream") } }
            if h[5] & 0x02 != 0 || !begun.contains(serial) {
                streamCount += 1
                guard streamCount <= Self.maximumOggStreams else {
                    throw Refusal("the Ogg file begins more than \(Self.maximumOggStreams) logical streams")
                }
                let found = Self.oggCodec(r.read(pos + 27 + segments, 8))
                guard let found else {
                    if pages == 0 { throw Refusal("the Ogg stream is not Vorbis, Opus or FLAC audio") }
                    throw Refusal(
                        "Ogg logical stream \(streamCount) (page \(pages + 1), a second track or chained link) is not Vorbis, Opus, FLAC or Theora")
                }
                if pages == 0 { codec = found }
                held -= streams[serial]?.packet.count ?? 0
                streams[serial] = OggHeaders(codec: found, index: streamCount)
                begun.insert(serial)
            }
            if strict {
                var page = r.read(pos, end - pos)
                let stated = page.le32(22)
                page[22] = 0; page[23] = 0; page[24] = 0; page[25] = 0
                guard CRC.ogg(page) == UInt32(stated) else {
                    throw Refusal("Ogg page \(pages + 1) at byte \(pos) fails its CRC: the data is corrupt")
                }
            }
            // Taken out of the dictionary while it grows, so its bytes are never copied.
            if var stream = streams.removeValue(forKey: serial) {
                // Lacing: a segment under 255 bytes ends a packet, which may have begun on an earlier page.
                var at = pos + 27 + segments
                for v in table {
                    let length = Int(v)
                    held += length
                    guard held <= Self.maximumCommentPicture + (1 << 20) else {
                        if strict {
                            throw Refusal(
                                "the Ogg header packets are over \(Self.maximumCommentPicture >> 20) MiB, too large to check their covers")
                        }
                        held -= length + stream.packet.count
                        stream.packet = []
                        stream.done = true
                        break
                    }
                    stream.packet += r.read(at, length)
                    at += length
                    if length < 255 {
                        held -= stream.packet.count
                        try noteOggHeader(&stream)
                        stream.packet = []
                        if stream.done { break }
                    }
                }
                if !stream.done { streams[serial] = stream }
            }
            pos = end
            pages += 1
        }
        guard pages > 0 else { throw Refusal("the file holds no complete Ogg page") }
        return codec
    }

    /// The most logical streams (tracks and chained links) an Ogg file may begin, and the most header packets one
    /// stream may have before its first audio packet: the walk stays linear on a hostile file.
    static let maximumOggStreams = 1024
    static let maximumOggHeaderPackets = 1024

    /// An Ogg logical stream whose header packets are being read.
    struct OggHeaders {
        let codec: String
        /// Which stream it is (1 for the first) in the order the file begins them.
        let index: Int
        var packets = 0
        var packet: [UInt8] = []
        var done = false
    }

    /// The codec a stream's first packet names; nil for a codec whose headers are not checked.
    static func oggCodec(_ packet: [UInt8]) -> String? {
        if packet.ascii(1, 6) == "vorbis" && packet.first == 1 { return "vorbis" }
        if packet.ascii(0, 8) == "OpusHead" { return "opus" }
        if packet.ascii(1, 4) == "FLAC" && packet.first == 0x7F { return "flac" }
        if packet.ascii(1, 6) == "theora" && packet.first == 0x80 { return "theora" }
        return nil
    }

    /// One complete packet of a stream still in its headers: an audio packet ends them (as in libavformat's
    /// header parsers); a comment header's covers are read (Vorbis 03 "vorbis", Opus "OpusTags", Theora 81 "theora",
    /// FLAC a `VORBIS_COMMENT` or `PICTURE` block in any header packet).
    func noteOggHeader(_ s: inout OggHeaders) throws(Refusal) {
        let p = s.packet
        let header: Bool
        switch s.codec {
        case "vorbis": header = p.first.map { $0 & 1 == 1 } ?? true
        case "opus": header = p.isEmpty || p.ascii(0, 8) == "OpusHead" || p.ascii(0, 8) == "OpusTags"
        case "flac": header = p.first != 0xFF
        default: header = p.first.map { $0 & 0x80 != 0 } ?? true
        }
        guard header else {
            s.done = true
            return
        }
        s.packets += 1
        guard s.packets <= Self.maximumOggHeaderPackets else {
            if strict { throw Refusal("Ogg logical stream \(s.index) has over \(Self.maximumOggHeaderPackets) header packets") }
            s.done = true
            return
        }
        switch s.codec {
        case "vorbis" where p.count > 7 && p[0] == 3 && p.ascii(1, 6) == "vorbis":
            try noteVorbisCommentPictures(p, from: 7)
        case "opus" where p.ascii(0, 8) == "OpusTags":
            try noteVorbisCommentPictures(p, from: 8)
        case "theora" where p.count > 7 && p[0] == 0x81 && p.ascii(1, 6) == "theora":
            try noteVorbisCommentPictures(p, from: 7)
        case "flac" where p.count > 4 && p[0] & 0x7F == 4:
            try noteVorbisCommentPictures(p, from: 4)
        case "flac" where p.count > 4 && p[0] & 0x7F == 6:
            try noteFLACPicture(Array(p[4...]))
        default:
            break
        }
    }

    /// Whether a PNG chunk's CRC (over its type and data) matches.
    private func crcMatches(at pos: Int, length: Int) -> Bool {
        var crc: UInt32 = 0xFFFF_FFFF
        var offset = pos + 4
        var remaining = length + 4
        while remaining > 0 {
            let piece = r.read(offset, min(remaining, 1 << 20))
            if piece.isEmpty { return false }
            crc = CRC.png(piece, running: crc)
            offset += piece.count
            remaining -= piece.count
        }
        return crc ^ 0xFFFF_FFFF == UInt32(r.read(pos + 8 + length, 4).be32(0))
    }

    // MARK: MP4 / QuickTime

    struct MP4Found: StatedPictureSize {
        var brand: String; var audio = false; var video = false; var moov = false
        /// The largest picture size any track header (`tkhd`), visual sample entry (`stsd`) or H.264/HEVC sequence
        /// parameter set (in the sample entry's `avcC`/`hvcC` or among the samples) states.
        var width = 0; var height = 0
        /// The handler of the track being walked (`vide`, `soun`), when its `hdlr` came first.
        var handler = ""
        /// The track being walked: its id, its codec when its headers are read (`readSampleEntries`), and
        /// where its sample tables are (`stsz`, `stsc`, `stco`/`co64` bodies: offset and length).
        var track = MP4Track()
        /// The tracks whose codec headers are read, by id, for movie fragments (`moof`), which name their track.
        var codecTracks = CodecTracks()
        /// Default sample sizes of fragmented tracks (`trex`), by track id.
        var trexSizes: [Int: Int] = [:]
        /// The movie fragment being walked: where it starts, and the `traf` being walked.
        var moofStart = 0
        var fragment = (track: 0, base: 0, next: 0, defaultSize: -1)
        /// Bytes of video samples scanned for parameter sets: samples never overlap, so more than the file holds
        /// means tables that point at the same bytes again and again (work without end), and the file is refused.
        var sampleBytes = 0
    }

    struct MP4Track {
        var id = 0
        var codec: CodecHeaders.Codec?
        /// What the track's first video sample entry decodes as (a read codec, or a container-sized codec's type):
        /// libavformat may switch codecs at a later entry, so an upload whose entries differ is refused.
        var entryCodec: String?
        var lengthSize = 4
        var sizes: (offset: Int, length: Int)?
        var chunks: (offset: Int, length: Int)?
        var offsets: (offset: Int, length: Int, wide: Bool)?
    }

    /// Sample entry types of video tracks (read for their size even when the track's `hdlr` follows them).
    static let visualSampleEntries: Set<String> = [
        "avc1", "avc2", "avc3", "avc4", "hvc1", "hev1", "vvc1", "vvi1", "av01", "vp08", "vp09", "mp4v", "s263", "jpeg", "mjpa",
        "mjpb", "apch", "apcn", "apcs", "apco", "ap4h", "ap4x", "png ", "rle ", "raw ", "yuv2", "2vuy",
    ]

    func mp4() throws(Refusal) -> (brand: String, audio: Bool, video: Bool, width: Int, height: Int) {
        var found = MP4Found(brand: r.read(8, 4).ascii(0, 4).trimmingCharacters(in: .whitespaces))
        var boxes = 0
        try walkBoxes(from: 0, to: r.size, depth: 0, parent: "", found: &found, count: &boxes)
        guard found.moov else { throw Refusal("the MP4 file has no moov box (no track index)") }
        return (found.brand, found.audio, found.video, found.width, found.height)
    }

    private func walkBoxes(from start: Int, to end: Int, depth: Int, parent: String, found: inout MP4Found, count: inout Int) throws(Refusal) {
        var pos = start
        while pos + 8 <= end {
            count += 1
            guard count < 100_000 else { throw Refusal("the MP4 file has more than 100000 boxes") }
            let h = r.read(pos, 16)
            guard h.isFourCC(4) else { throw Refusal("the MP4 box at byte \(pos) has no valid type") }
            let type = h.ascii(4, 4)
            var size = h.be32(0), header = 8
            if size == 1 { size = h.be64(8); header = 16 } else if size == 0 { size = end - pos }
            guard size >= header else { throw Refusal("the MP4 '\(type)' box at byte \(pos) has an impossible size \(size)") }
            guard size <= end - pos else {
                if strict || depth > 0 || type == "moov" { throw pastEnd("the MP4 '\(type)' box") }
                return
            }
            let body = pos + header
            switch type {
            case "moov":
                found.moov = true
                try walkBoxes(from: body, to: pos + size, depth: depth + 1, parent: type, found: &found, count: &count)
            case "trak", "mdia", "minf", "dinf", "stbl", "mvex":
                if type == "trak" { (found.handler, found.track) = ("", MP4Track()) }
                if depth < 6 { try walkBoxes(from: body, to: pos + size, depth: depth + 1, parent: type, found: &found, count: &count) }
                if type == "trak", let codec = found.track.codec {
                    found.codecTracks[found.track.id] = (codec, found.track.lengthSize)
                    if scanSamples { try scanSampleTables(codec: codec, found: &found) }
                }
            case "udta" where parent == "moov", "meta" where parent == "moov":
                try noteMP4Covers(from: pos, to: pos + size, parent: parent)
            case "trex" where parent == "mvex":
                // A fragmented track's default sample size (used when neither `tfhd` nor `trun` states one).
                let d = r.read(body, 24)
                if d.count == 24 { found.trexSizes[d.be32(4)] = d.be32(16) }
            case "moof" where depth == 0:
                found.moofStart = pos
                try walkBoxes(from: body, to: pos + size, depth: depth + 1, parent: type, found: &found, count: &count)
            case "traf" where parent == "moof":
                found.fragment = (0, found.moofStart, found.moofStart, -1)
                try walkBoxes(from: body, to: pos + size, depth: depth + 1, parent: type, found: &found, count: &count)
            case "tfhd" where parent == "traf":
                let d = r.read(body, 40)
                let flags = d.be24(1)
                var p = 8
                found.fragment.track = d.be32(4)
                if flags & 0x01 != 0 { found.fragment.base = d.be64(p); found.fragment.next = found.fragment.base; p += 8 }
                if flags & 0x02 != 0 { p += 4 }
                if flags & 0x08 != 0 { p += 4 }
                if flags & 0x10 != 0 { found.fragment.defaultSize = d.be32(p) }
            case "trun" where parent == "traf":
                if scanSamples { try scanTrackRun(at: body, length: pos + size - body, found: &found) }
            case "stsz" where parent == "stbl":
                found.track.sizes = (body, pos + size - body)
            case "stsc" where parent == "stbl":
                found.track.chunks = (body, pos + size - body)
            case "stco" where parent == "stbl", "co64" where parent == "stbl":
                found.track.offsets = (body, pos + size - body, type == "co64")
            case "hdlr" where parent == "mdia", "hdlr" where parent == "minf":
                // libavformat takes the media type from the last handler of one (any `hdlr` of the track, the
                // media information's too: QuickTime's data handler there says `alis` or `url `, which it ignores).
                let handler = r.read(body + 8, 4).ascii(0, 4)
                guard parent == "mdia" || Self.mediaHandlers.contains(handler) else { break }
                if handler == "soun" { found.audio = true }
                if handler == "vide" { found.video = true }
                found.handler = handler
            case "tkhd" where parent == "trak":
                // Display size, 16.16 fixed point, after the times, ids, layer, volume and matrix.
                let version = r.read(body, 1).first ?? 0
                found.track.id = r.read(body + (version == 1 ? 20 : 12), 4).be32(0)
                let d = r.read(body + (version == 1 ? 88 : 76), 8)
                if d.count == 8 { found.note((d.be32(0) >> 16, d.be32(4) >> 16)) }
            case "stsd" where parent == "stbl":
                // Visual sample entries: size, type, 6 reserved, data reference index, 16 bytes, then width and height.
                var e = body + 8
                for _ in 0..<min(r.read(body + 4, 4).be32(0), 16) {
                    let entry = r.read(e, 36)
                    guard entry.count == 36, entry.be32(0) >= 8 else { break }
                    let type = entry.ascii(4, 4)
                    if found.handler == "soun" || found.handler == "m1a " {
                        // An audio track: libavformat looks its sample entries up among audio codecs only.
                        if Self.visualSampleEntries.contains(type) { found.note((entry.be16(32), entry.be16(34))) }
                    } else if found.handler == "vide" || Self.visualSampleEntries.contains(type) || scanSamples {
                        try readSampleEntry(at: e, type: type, length: min(entry.be32(0), pos + size - e), found: &found)
                    }
                    e += entry.be32(0)
                    guard e < pos + size else { break }
                }
            case "dref":
                // Data references must be the file itself (flag 1): never another file or URL.
                let entries = r.read(body + 4, 4).be32(0)
                var e = body + 8
                for _ in 0..<min(entries, 64) {
                    let entry = r.read(e, 12)
                    guard entry.count == 12, entry.be32(0) >= 12 else { throw Refusal("an MP4 data reference is malformed") }
                    if entry.be24(9) & 1 == 0 {
                        throw Refusal("the MP4 file refers to media outside itself (a '\(entry.ascii(4, 4))' data reference)")
                    }
                    e += entry.be32(0)
                    guard e <= pos + size else { throw Refusal("an MP4 data reference runs past its box") }
                }
            default:
                break
            }
            pos += size
        }
    }

    /// Handler types libavformat takes a track's media type from (`mov_read_hdlr`).
    static let mediaHandlers: Set<String> = ["vide", "soun", "m1a ", "subp", "clcp"]

    /// Video sample entry types whose frames state their own size, which the decoder follows (each read, as the
    /// libavcodec 5.1 sources say: `mpeg4videodec.c` `decode_vol_header`, `mjpegdec.c` `ff_mjpeg_decode_sof`
    /// (Motion JPEG B's too: `mjpegbdec.c`), `pngdec.c` `decode_ihdr`, `proresdec2.c` `decode_frame_header`, `ituh263dec.c`
    /// `ff_h263_decode_picture_header`; each then calls `ff_set_dimensions`). The MPEG-4, Motion JPEG, PNG,
    /// ProRes and H.263 types are those `isom_tags.c` maps to those codecs.
    static let readSampleEntries: [String: CodecHeaders.Codec] = [
        "avc1": .h264, "avc2": .h264, "avc3": .h264, "avc4": .h264, "hvc1": .hevc, "hev1": .hevc, "vp08": .vp8, "vp09": .vp9,
        "av01": .av1, "mp4v": .mpeg4, "DIVX": .mpeg4, "XVID": .mpeg4, "3IV2": .mpeg4, "jpeg": .mjpeg, "mjpa": .mjpeg,
        "AVDJ": .mjpeg, "AVRn": .mjpeg, "dmb1": .mjpeg, "mjpb": .mjpegB, "png ": .png, "MNG ": .png, "apch": .prores, "apcn": .prores,
        "apcs": .prores, "apco": .prores, "ap4h": .prores, "ap4x": .prores, "h263": .h263, "s263": .h263, "H263": .h263,
    ]

    /// Video sample entry types whose decoder takes the picture size from the container alone (the `stsd` entry
    /// checked above): QuickTime Animation (`qtrle.c` bounds every frame by `avctx->height`; its frame header
    /// only picks lines within it) and uncompressed video (`rawdec.c` lays frames out by `avctx->width` and
    /// `avctx->height`).
    static let containerSizedEntries: Set<String> = ["rle ", "raw ", "yuv2", "2vuy", "yuvs"]

    /// Sample entry types of tracks that are not video (audio, text, timecodes, metadata): accepted in a track
    /// whose handler is not `vide`. Any other type there could be a video codec libavformat knows by another
    /// name (it looks every type of such a track up among video codecs), and is refused at upload.
    static let otherSampleEntries: Set<String> = [
        "mp4a", "Opus", "fLaC", "ac-3", "ec-3", "alac", "lpcm", "sowt", "twos", ".mp3", "ulaw", "alaw", "tmcd", "text", "tx3g",
        "c608", "c708", "wvtt", "stpp", "sbtt", "stxt", "mett", "metx", "mebx", "mp4s", "rtp ", "srtp", "gpmd", "camm", "fdsc",
        "djmd", "dbgi",
    ]

    /// Names for the codecs an upload may hold, in its refusals.
    static let acceptedVideoCodecs =
        "H.264, HEVC, VP8, VP9, AV1, MPEG-4 Part 2, H.263, Motion JPEG (A and B), PNG, ProRes, QuickTime Animation or uncompressed video is"

    /// A video sample entry (or one of a track that is not audio): notes the size it states, reads the codec's own
    /// configuration (`readCodecConfiguration`), and at upload refuses an entry whose frames' size cannot be
    /// read, one whose `esds` names a codec other than its type's (libavformat follows the `esds`), and a track
    /// whose entries decode as different codecs.
    private func readSampleEntry(at entry: Int, type: String, length: Int, found: inout MP4Found) throws(Refusal) {
        let video = found.handler == "vide" || Self.visualSampleEntries.contains(type)
        var codec = Self.readSampleEntries[type]
        if let objectType = esdsObjectType(entry: entry, length: length) {
            switch objectType {
            case 0x20: codec = .mpeg4
            case 0x6C: codec = .mjpeg
            case 0x6D: codec = .png
            case 0x21 where codec == .h264, 0x23 where codec == .hevc: break
            default:
                if scanSamples && (video || codec != nil) {
                    throw Refusal(
                        "the MP4 sample entry '\(type)' names another codec in its esds (object type 0x\(String(objectType, radix: 16)))")
                }
            }
        }
        if codec != nil || video { found.note((r.read(entry + 32, 2).be16(0), r.read(entry + 34, 2).be16(0))) }
        if let codec { readCodecConfiguration(entry: entry, codec: codec, length: length, found: &found) }
        guard scanSamples else { return }
        let decodesAs: String
        if let codec {
            decodesAs = "\(codec)"
        } else if Self.containerSizedEntries.contains(type) {
            decodesAs = type
        } else if found.handler == "vide" {
            throw Refusal("the video codec '\(type.trimmingCharacters(in: .whitespaces))' is not accepted in uploads: \(Self.acceptedVideoCodecs)")
        } else if Self.otherSampleEntries.contains(type) {
            return
        } else {
            throw Refusal("an MP4 track of type '\(type.trimmingCharacters(in: .whitespaces))' is not accepted in uploads (it could be video)")
        }
        if let first = found.track.entryCodec, first != decodesAs {
            throw Refusal("an MP4 video track's sample entries are of different codecs (\(first), \(decodesAs))")
        }
        found.track.entryCodec = decodesAs
    }

    /// The object type of an `esds` box among a sample entry's boxes (after its 78 bytes of visual fields): the
    /// ES descriptor, then the decoder configuration descriptor's first byte, as libavformat's `ff_mov_read_esds`
    /// reads them. Nil when there is none.
    private func esdsObjectType(entry: Int, length: Int) -> Int? {
        var pos = entry + 86
        while pos + 8 <= entry + length {
            let h = r.read(pos, 8)
            let size = h.be32(0)
            guard size >= 8, pos + size <= entry + length else { return nil }
            if h.ascii(4, 4) == "esds" {
                let b = r.read(pos + 12, min(size - 12, 512))
                var p = 0
                func descriptor() -> Int? {  // a tag and its length (up to four 7-bit bytes); returns the tag
                    guard p < b.count else { return nil }
                    let tag = Int(b[p])
                    p += 1
                    for _ in 0..<4 {
                        guard p < b.count else { return nil }
                        p += 1
                        if b[p - 1] & 0x80 == 0 { break }
                    }
                    return tag
                }
                if descriptor() == 3 {
                    guard p + 3 <= b.count else { return nil }
                    let flags = b[p + 2]
                    p += 3
                    if flags & 0x80 != 0 { p += 2 }
                    if flags & 0x40 != 0, p < b.count { p += 1 + Int(b[p]) }
                    if flags & 0x20 != 0 { p += 2 }
                } else {
                    p += 2
                }
                guard descriptor() == 4, p < b.count else { return nil }
                return Int(b[p])
            }
            pos += size
        }
        return nil
    }

    /// A sample entry's codec configuration among the boxes after its 78 bytes of visual fields: an H.264 or HEVC
    /// entry's parameter sets (`avcC`, `hvcC`; the sizes they state, and the NAL length size its samples use),
    /// AV1's sequence header (`av1C`), MPEG-4 Part 2's VOL headers (in its `esds` or `glbl`: any box there).
    private func readCodecConfiguration(entry: Int, codec: CodecHeaders.Codec, length: Int, found: inout MP4Found) {
        found.track.codec = codec
        switch codec {
        case .h264, .hevc: break
        case .vp8, .vp9, .mjpeg, .mjpegB, .png, .prores, .h263:
            // Sizes only in the frames: the samples are scanned at upload (VP8/VP9's `vpcC` states none).
            return
        case .mpeg4:
            // libavcodec parses the extradata (the esds decoder specific information, or `glbl`) before the first
            // frame: every VOL start code among the entry's boxes.
            noteMPEG4Sizes(from: entry + 86, to: entry + length, into: &found)
            return
        case .av1:
            // AV1: the av1C record's configuration OBUs carry the sequence header; samples may carry more (scanned).
            var pos = entry + 86
            while pos + 8 <= entry + length {
                let h = r.read(pos, 8)
                let size = h.be32(0)
                guard size >= 8, pos + size <= entry + length else { return }
                if h.ascii(4, 4) == "av1C", size > 12 {
                    for s in CodecHeaders.av1SequenceHeaderSizes(r.read(pos + 12, min(size - 12, 1 << 16))[...]) { found.note(s) }
                }
                pos += size
            }
            return
        }
        var pos = entry + 86
        let end = entry + length
        while pos + 8 <= end {
            let h = r.read(pos, 8)
            let size = h.be32(0)
            guard size >= 8, pos + size <= end else { return }
            let name = h.ascii(4, 4)
            if (name == "avcC" && codec == .h264) || (name == "hvcC" && codec == .hevc) {
                let body = r.read(pos + 8, min(size - 8, 1 << 16))
                if let config = codec.configuration(body) {
                    found.track.lengthSize = config.lengthSize
                    for sps in config.sps { found.note(codec.spsSize(sps)) }
                }
            }
            pos += size
        }
    }

    /// Reads every sample of a video track whose codec headers are read (from `stsz`, `stsc` and `stco`/`co64`):
    /// H.264/HEVC parameter sets sent in-band (the decoder takes a new size from one wherever it comes), VP8/VP9
    /// frame headers, AV1 sequence headers, MPEG-4 Part 2 VOL headers, JPEG frame headers, PNG IHDR chunks,
    /// ProRes frame headers and H.263 picture headers (`noteFrameSizes`). At upload only (`scanSamples`): the decoder's `max_pixels` guards
    /// a render.
    private func scanSampleTables(codec: CodecHeaders.Codec, found: inout MP4Found) throws(Refusal) {
        guard let sizes = found.track.sizes, let chunks = found.track.chunks, let offsets = found.track.offsets else { return }
        let fixed = r.read(sizes.offset + 4, 4).be32(0)
        let samples = min(r.read(sizes.offset + 8, 4).be32(0), fixed == 0 ? max(0, (sizes.length - 12) / 4) : r.size)
        let runs = min(r.read(chunks.offset + 4, 4).be32(0), max(0, (chunks.length - 8) / 12))
        let chunkCount = min(r.read(offsets.offset + 4, 4).be32(0), max(0, (offsets.length - 8) / (offsets.wide ? 8 : 4)))
        var sample = 0
        for run in 0..<runs where sample < samples {
            let entry = r.read(chunks.offset + 8 + 12 * run, 12)
            let first = entry.be32(0), perChunk = entry.be32(4)
            let next = run + 1 < runs ? r.read(chunks.offset + 8 + 12 * (run + 1), 4).be32(0) : chunkCount + 1
            let last = min(next, chunkCount + 1)
            guard first >= 1, last > first else { continue }
            for chunk in first..<last where sample < samples {
                var pos =
                    offsets.wide
                    ? r.read(offsets.offset + 8 + 8 * (chunk - 1), 8).be64(0) : r.read(offsets.offset + 8 + 4 * (chunk - 1), 4).be32(0)
                for _ in 0..<perChunk {
                    guard sample < samples, pos < r.size else { break }
                    let length = fixed != 0 ? fixed : r.read(sizes.offset + 12 + 4 * sample, 4).be32(0)
                    try scanSample(at: pos, length: length, codec: codec, lengthSize: found.track.lengthSize, found: &found)
                    pos += length
                    sample += 1
                }
            }
        }
    }

    /// The same for one track run of a movie fragment (`trun`, its data where `tfhd` and the run say).
    private func scanTrackRun(at body: Int, length: Int, found: inout MP4Found) throws(Refusal) {
        guard let track = found.codecTracks[found.fragment.track] else { return }
        let h = r.read(body, 12)
        let flags = h.be24(1), samples = h.be32(4)
        var p = body + 8
        var pos = found.fragment.next
        guard found.fragment.base < r.size else { return }
        if flags & 0x001 != 0 { pos = found.fragment.base + Int(Int32(truncatingIfNeeded: h.be32(8))); p += 4 }
        if flags & 0x004 != 0 { p += 4 }
        let fields = [0x100, 0x200, 0x400, 0x800].filter { flags & $0 != 0 }.count
        let defaultSize = found.fragment.defaultSize >= 0 ? found.fragment.defaultSize : found.trexSizes[found.fragment.track] ?? 0
        for _ in 0..<samples {
            guard pos >= 0, pos < r.size, p + 4 * fields <= body + length else { break }
            var size = defaultSize
            if flags & 0x200 != 0 { size = r.read(p + (flags & 0x100 != 0 ? 4 : 0), 4).be32(0) }
            guard size > 0 || fields > 0 else { break }
            p += 4 * fields
            try scanSample(at: pos, length: size, codec: track.codec, lengthSize: track.lengthSize, found: &found)
            pos += size
        }
        found.fragment.next = pos
    }

    /// Notes the sizes one MP4 sample states (`frameSizes`), counting its bytes against the file's.
    private func scanSample(at start: Int, length: Int, codec: CodecHeaders.Codec, lengthSize: Int, found: inout MP4Found) throws(Refusal) {
        let end = min(start + length, r.size)
        found.sampleBytes += max(0, end - start)
        guard found.sampleBytes <= r.size else { throw Refusal("the MP4 video track's samples cover more bytes than the file holds") }
        noteFrameSizes(at: start, length: end - start, codec: codec, lengthSize: lengthSize, into: &found)
    }

    /// The sizes one frame's bytes (an MP4 sample, a Matroska block's frame) state: the SPS NAL units among its NAL
    /// units (each after a `lengthSize`-byte length), for VP8/VP9 the frame headers, for AV1 the sequence headers
    /// among its first OBUs, for ProRes and Motion JPEG B the frame header, for PNG the IHDR. Only lengths and the
    /// first bytes of each are read, but for MPEG-4 Part 2, H.263 and Motion JPEG, whose headers may come anywhere
    /// in the frame: their start codes and markers are searched for with `memchr` through the whole frame.
    private func noteFrameSizes<Found: StatedPictureSize>(
        at start: Int, length: Int, codec: CodecHeaders.Codec, lengthSize: Int, into found: inout Found
    ) {
        let end = min(start + max(0, length), r.size)
        guard start < end else { return }
        switch codec {
        case .vp8:
            found.note(CodecHeaders.vp8FrameSize(r.read(start, min(end - start, 16))))
            return
        case .vp9:
            for size in vp9FrameSizes(at: start, length: end - start) { found.note(size) }
            return
        case .av1:
            for size in CodecHeaders.av1SequenceHeaderSizes(r.read(start, min(end - start, 512))[...]) { found.note(size) }
            return
        case .mpeg4:
            noteMPEG4Sizes(from: start, to: end, into: &found)
            return
        case .mjpeg:
            noteJPEGSizes(from: start, to: end, into: &found)
            return
        case .png:
            notePNGSize(from: start, to: end, into: &found)
            return
        case .prores:
            found.note(CodecHeaders.proresFrameSize(r.read(start, min(end - start, 28))))
            return
        case .h263:
            noteH263Sizes(from: start, to: end, into: &found)
            return
        case .mjpegB:
            noteMotionJPEGBSizes(from: start, to: end, into: &found)
            return
        case .h264, .hevc:
            break
        }
        var pos = start
        while pos + lengthSize < end {
            var n = 0
            for i in 0..<lengthSize { n = n << 8 | Int(r.byte(pos + i) ?? 0) }
            pos += lengthSize
            guard n > 0, pos + n <= end else { return }
            if let first = r.byte(pos), codec.isSPS(first) { found.note(codec.spsSize(r.read(pos, min(n, 4096)))) }
            pos += n
        }
    }

    /// Calls `body(bytes, i, offset)` for each offset in `start..<end` whose byte is `value` (found with `memchr`):
    /// `bytes[i]` is that byte, and `bytes` holds up to 40 more after it (never past `end`). The range is read 1 MiB
    /// at a time, so the work is in proportion to it, whatever its bytes.
    private func forEachByte(_ value: UInt8, from start: Int, to end: Int, _ body: (_ bytes: [UInt8], _ i: Int, _ offset: Int) -> Void) {
        var pos = max(0, start)
        while pos < end {
            let n = min(1 << 20, end - pos)
            let chunk = r.read(pos, min(n + 40, end - pos))
            if chunk.isEmpty { return }
            var hits: [Int] = []
            chunk.withUnsafeBytes { raw in
                let count = min(n, raw.count)
                var i = 0
                while i < count, let p = memchr(raw.baseAddress! + i, Int32(value), count - i) {
                    let at = raw.baseAddress!.distance(to: UnsafeRawPointer(p))
                    hits.append(at)
                    i = at + 1
                }
            }
            for i in hits { body(chunk, i, pos + i) }
            pos += n
        }
    }

    /// The sizes MPEG-4 Part 2 VOL headers in `start..<end` state: every start code `00 00 01 20` to `00 00 01 2F`
    /// (libavcodec's `ff_mpeg4_decode_picture_header` looks for them at every byte up to the frame's VOP, and a
    /// packed frame's second VOP is read from where the first ends: the whole range is searched).
    private func noteMPEG4Sizes<Found: StatedPictureSize>(from start: Int, to end: Int, into found: inout Found) {
        forEachByte(0x01, from: start, to: end) { b, i, at in
            guard at - 2 >= start, i + 1 < b.count, b[i + 1] & 0xF0 == 0x20,
                (i >= 2 ? b[i - 1] == 0 && b[i - 2] == 0 : r.byte(at - 1) == 0 && r.byte(at - 2) == 0)
            else { return }
            found.note(CodecHeaders.mpeg4VOLSize(Array(b[(i + 2)...])))
        }
    }

    /// The sizes H.263 picture headers in `start..<end` state: every picture start code (`00 00 8x`, byte-aligned),
    /// as libavcodec's decoder takes the first anywhere in a frame.
    private func noteH263Sizes<Found: StatedPictureSize>(from start: Int, to end: Int, into found: inout Found) {
        forEachByte(0x00, from: start, to: end) { b, i, _ in
            guard i + 2 < b.count, b[i + 1] == 0, b[i + 2] & 0xFC == 0x80 else { return }
            found.note(CodecHeaders.h263PictureSize(Array(b[i..<min(b.count, i + 16)])))
        }
    }

    /// The sizes a Motion JPEG B frame states (no markers: a 40-byte header, `mjpg` at byte 4, gives offsets of the
    /// segments). As `mjpegbdec.c` reads it: the frame header where the offset at byte 28 points (taken only when
    /// within the field), decoded by `ff_mjpeg_decode_sof` (so a field under 3/4 of the container's height counts
    /// doubled, as in Motion JPEG); then, for an interlaced frame, the second field's header at the offset at byte 16.
    private func noteMotionJPEGBSizes<Found: StatedPictureSize>(from start: Int, to end: Int, into found: inout Found) {
        var field = start
        for _ in 0..<2 {
            let h = r.read(field, 40)
            guard field < end, h.count == 40, h.ascii(4, 4) == "mjpg" else { return }
            func offset(_ at: Int) -> Int { h.be32(at) < end - field ? h.be32(at) : 0 }
            if offset(28) > 0, let size = CodecHeaders.jpegFrameHeaderSize(r.read(field + offset(28), min(7, end - field - offset(28)))) {
                found.note((size.width, size.height < found.height * 3 / 4 ? size.height * 2 : size.height))
            }
            guard offset(16) > 0 else { return }
            field = start + offset(16)
        }
    }

    /// The sizes JPEG frame headers in `start..<end` state (a Motion JPEG sample: one picture, or two fields).
    /// libavcodec's MJPEG decoder finds markers at every `FF` of the frame (`ff_mjpeg_find_marker`), so every one
    /// is looked at. A first picture less than 3/4 as tall as the container says is taken for one field of an
    /// interlaced frame and decoded at twice its height (`ff_mjpeg_decode_sof`): so that height counts too.
    private func noteJPEGSizes<Found: StatedPictureSize>(from start: Int, to end: Int, into found: inout Found) {
        forEachByte(0xFF, from: start, to: end) { b, i, _ in
            guard i + 1 < b.count, CodecHeaders.isDecodedFrameHeader(b[i + 1]),
                let size = CodecHeaders.jpegFrameHeaderSize(Array(b[(i + 2)..<min(b.count, i + 9)]))
            else { return }
            let interlaced = size.height < found.height * 3 / 4
            found.note((size.width, interlaced ? size.height * 2 : size.height))
        }
    }

    /// The size a PNG sample's IHDR states: its chunks are walked from the signature to the first IDAT, as
    /// libavcodec's PNG decoder reads them (`decode_frame_common`; the size is set at the first IDAT), and every
    /// IHDR before it counts.
    private func notePNGSize<Found: StatedPictureSize>(from start: Int, to end: Int, into found: inout Found) {
        var pos = start + 8
        while pos + 8 <= end {
            let c = r.read(pos, 16)
            let length = c.be32(0), type = c.ascii(4, 4)
            if type == "IHDR", c.count == 16 { found.note((c.be32(8), c.be32(12))) }
            if type == "IDAT" || type == "IEND" || length > 0x7FFF_FFFF { return }
            pos += 12 + length
        }
    }

    // MARK: Matroska / WebM

    /// Reads an EBML variable-length number at `pos`: (value, length), with all-ones meaning unknown (nil).
    private func vint(_ b: [UInt8], _ pos: Int, keepMarker: Bool = false) -> (value: Int?, length: Int)? {
        guard pos < b.count, b[pos] != 0 else { return nil }
        let length = b[pos].leadingZeroBitCount + 1
        guard length <= 8, pos + length <= b.count else { return nil }
        var value = Int(keepMarker ? b[pos] : b[pos] & (0xFF >> length))
        var allOnes = value == (0xFF >> length)
        for i in 1..<length {
            value = value << 8 | Int(b[pos + i])
            allOnes = allOnes && b[pos + i] == 0xFF
        }
        return (allOnes && !keepMarker ? nil : value, length)
    }

    /// The Matroska codec IDs whose own headers state the picture size (and are read): those `matroska.c`'s
    /// `ff_mkv_codec_tags` (libavformat 5.1) maps to these codecs. libavformat takes the first tag the ID starts with;
    /// an ID is looked up whole here, so one with anything after it is not read (and refused at upload).
    static let matroskaCodecs: [String: CodecHeaders.Codec] = [
        "V_MPEG4/ISO/AVC": .h264, "V_MPEGH/ISO/HEVC": .hevc, "V_VP8": .vp8, "V_VP9": .vp9, "V_AV1": .av1,
        "V_MPEG4/ISO/ASP": .mpeg4, "V_MPEG4/ISO/AP": .mpeg4, "V_MPEG4/ISO/SP": .mpeg4, "V_MJPEG": .mjpeg, "V_PRORES": .prores,
    ]

    /// The codecs read in a Matroska track that names its codec by a FourCC (`V_MS/VFW/FOURCC`, `V_QUICKTIME`):
    /// those whose frames state their size, read as in an MP4. H.264, HEVC, VP8, VP9 and AV1 have codec IDs of
    /// their own, which muxers write; under a FourCC they are not read.
    static let matroskaFourCCCodecs: [CodecHeaders.Codec] = [.mpeg4, .mjpeg, .mjpegB, .png, .prores, .h263]

    /// `V_MS/VFW/FOURCC` FourCCs (the `BITMAPINFOHEADER`'s `biCompression`) and the codec libavformat 5.1 decodes
    /// them as: `matroskadec.c` looks them up in `riff.c`'s `ff_codec_bmp_tags`, then in `isom_tags.c`'s
    /// `ff_codec_movvideo_tags`; the list is what `av_codec_get_id` answered for every tag of those tables with
    /// Debian's libavformat 5.1.9, kept for the codecs read (ffmpeg itself writes PNG as `MPNG` and H.263 as
    /// `H263` this way). Any other FourCC is not read.
    static let vfwFourCCs: [String: CodecHeaders.Codec] = {
        var codecs: [String: CodecHeaders.Codec] = [:]
        let lists: [(CodecHeaders.Codec, String)] = [
            (
                .mpeg4,
                "SN40 DX50 BLZ0 DIV1 PLV1 DMK2 M4S2 3IV2 M4T3 G264 MNM4 GTM4 DYM4 FMP4 GMP4 QMP4 RMP4 SMP4 UMP4 ZMP4 GLV4 HDX4 EM4A "
                    + "M4CC XVID DCOD WV1F SEDG DIGI VIDM DXGM MVXM SIPP MP4S FFDS DM4V PM4V SM4V EPHV GEOV WAWV FVFW ULDX XVIX GEOX VSPX "
                    + "DIVX DreX mp4v"
            ),
            (
                .mjpeg,
                "AVI1 dmb1 MSC2 AVI2 JR24 CJPG IJPG LJPG MJPG ZJPG QIVG AVDJ SLMJ MTSJ JPGL MMJP MVJP ACDV IJLV mjpa jpeg"
            ),
            (.mjpegB, "mjpb"), (.png, "png_ MNG_ PNG1 MPNG"), (.prores, "ap4h apch apcn apco apcs ap4x"),
            (.h263, "H263 L263 M263 T263 U263 X263 h263 VSM4 VX1K lsvm ZyGo"),
        ]
        for (codec, names) in lists {  // `_` stands for a space in a FourCC
            for name in names.split(separator: " ") { codecs[name.replacingOccurrences(of: "_", with: " ")] = codec }
        }
        return codecs
    }()

    /// What a Matroska video track's codec ID (and, for a FourCC, its `CodecPrivate`) makes of it, as
    /// `matroska_parse_tracks` (libavformat 5.1 `matroskadec.c:2567-2655`) picks the codec: read (its frames or
    /// configuration state the size, the `codec` readers), sized by the container (`PixelWidth`/`PixelHeight`:
    /// uncompressed video and QuickTime Animation, whose decoders are bounded by the container's size), or unread
    /// (named in the refusal).
    enum MatroskaVideoCodec: Equatable {
        case read(CodecHeaders.Codec)
        case sizedByContainer
        case unread(String)
    }

    static func matroskaVideoCodec(_ id: String, codecPrivate: [UInt8]) -> MatroskaVideoCodec {
        if let codec = matroskaCodecs[id] { return .read(codec) }
        // libavcodec's raw video decoder lays frames out by the container's size (`rawdec.c:196`, `:221`).
        if id == "V_UNCOMPRESSED" { return .sizedByContainer }
        func named(_ fourCC: String) -> String {
            let printable = String(fourCC.unicodeScalars.map { (0x20..<0x7F).contains($0.value) ? Character($0) : "?" })
            return "\(id) \(printable)"
        }
        let fourCC: String
        let known: [String: CodecHeaders.Codec]
        if id == "V_MS/VFW/FOURCC", codecPrivate.count >= 40 {
            // `matroskadec.c:2587-2597`: the FourCC at byte 16 of the BITMAPINFOHEADER; its size fields are not used.
            fourCC = codecPrivate.ascii(16, 4)
            known = vfwFourCCs
        } else if id == "V_QUICKTIME", codecPrivate.count >= 21 {
            // `get_qt_codec` (`:2400-2426`): a sample description, size then FourCC; private data that starts with a
            // video FourCC itself is taken as one without its size. That FourCC is taken only when it is one of the
            // codecs read; otherwise the size must be the private data's own (as a sample description states it),
            // which no FourCC libavformat could shift on is (its first byte is zero).
            known = readSampleEntries.filter { matroskaFourCCCodecs.contains($0.value) }
            let first = codecPrivate.ascii(0, 4)
            if known[first] != nil || containerSizedEntries.contains(first) {
                fourCC = first
            } else if codecPrivate.be32(0) == codecPrivate.count {
                fourCC = codecPrivate.ascii(4, 4)
            } else {
                return .unread(named(first))
            }
            if containerSizedEntries.contains(fourCC) { return .sizedByContainer }
        } else {
            return .unread(id)
        }
        if let codec = known[fourCC], matroskaFourCCCodecs.contains(codec) { return .read(codec) }
        if id == "V_MS/VFW/FOURCC", ["raw ", "yuv2", "2vuy", "yuvs", "rle "].contains(fourCC) { return .sizedByContainer }
        return .unread(named(fourCC))
    }

    /// The tracks whose codec headers are read, by track id (MP4) or number (Matroska): codec and NAL length size.
    typealias CodecTracks = [Int: (codec: CodecHeaders.Codec, lengthSize: Int)]

    /// What a Matroska/WebM file's `Tracks` say: which kinds of track it holds and the largest video size.
    struct MatroskaTracks: StatedPictureSize {
        var found = false; var audio = false; var video = false; var width = 0; var height = 0
        /// The bytes header stripping took off the front of each frame, by track number (put back before reading).
        var stripped: [Int: [UInt8]] = [:]
    }

    /// What a track's `ContentEncodings` do to its frames: nothing, header stripping (`ContentCompAlgo` 3: the same
    /// bytes, `ContentCompSettings`, were cut from the front of every frame, and libavformat puts them back), or
    /// anything else (zlib, bzip2, LZO, encryption, several encodings, another scope), whose frames are not read.
    enum MatroskaEncoding: Equatable { case none, strippedHeader([UInt8]), other }
    /// The most bytes header stripping may take off each frame for the upload to be read (mkvmerge strips 1-4).
    static let maximumStrippedHeader = 64

    /// The encoding in a `ContentEncodings` element's body, `b[start..<end]`: header stripping only when it is the one
    /// encoding, a compression (type 0) of the frames alone (scope 1) with no encryption, as `matroskadec.c` applies.
    func matroskaEncoding(_ b: [UInt8], _ start: Int, _ end: Int) -> MatroskaEncoding {
        var encodings = 0
        var result = MatroskaEncoding.other
        forEachElement(b, start, end) { id, encodingStart, encodingEnd in
            guard id == 0x6240 else { return }
            encodings += 1
            var scope = 1, type = 0, algorithm = 0, settings: [UInt8] = [], compressed = false, encrypted = false
            forEachElement(b, encodingStart, encodingEnd) { fieldId, fieldStart, fieldEnd in
                switch fieldId {
                case 0x5032: scope = Self.uint(b, fieldStart, fieldEnd)
                case 0x5033: type = Self.uint(b, fieldStart, fieldEnd)
                case 0x5035: encrypted = true
                case 0x5034:
                    compressed = true
                    forEachElement(b, fieldStart, fieldEnd) { compressionId, valueStart, valueEnd in
                        if compressionId == 0x4254 { algorithm = Self.uint(b, valueStart, valueEnd) }
                        if compressionId == 0x4255 { settings = Array(b[valueStart..<valueEnd]) }
                    }
                default: break
                }
            }
            result = compressed && !encrypted && type == 0 && scope == 1 && algorithm == 3 ? .strippedHeader(settings) : .other
        }
        return encodings == 0 ? .none : encodings == 1 ? result : .other
    }

    func matroska() throws(Refusal) -> (docType: String, tracks: MatroskaTracks) {
        let b = r.read(0, 4096)
        guard let headerSize = vint(b, 4), let size = headerSize.value, size < 4000 else { throw Refusal("the EBML header is malformed") }
        let bodyStart = 4 + headerSize.length, bodyEnd = bodyStart + size
        guard bodyEnd <= b.count else { throw Refusal("the EBML header is malformed") }
        var pos = bodyStart
        var docType = ""
        while pos < bodyEnd {
            guard let id = vint(b, pos, keepMarker: true), let len = vint(b, pos + id.length), let n = len.value else {
                throw Refusal("an EBML header element is malformed")
            }
            let data = pos + id.length + len.length
            guard data + n <= bodyEnd else { throw Refusal("an EBML header element runs past the header") }
            if id.value == 0x4282 { docType = b.ascii(data, n).trimmingCharacters(in: CharacterSet(charactersIn: "\0")) }
            pos = data + n
        }
        guard docType == "webm" || docType == "matroska" else { throw Refusal("the EBML document type '\(docType)' is not Matroska or WebM") }
        let segment = r.read(bodyEnd, 12)
        guard segment.be32(0) == 0x1853_8067, let segmentSize = vint(segment, 4) else {
            throw Refusal("no Matroska segment follows the EBML header")
        }
        if strict, let n = segmentSize.value, bodyEnd + 4 + segmentSize.length + n > r.size { throw pastEnd("the Matroska segment") }
        let segmentStart = bodyEnd + 4 + segmentSize.length
        return (docType, try matroskaTracks(from: segmentStart, to: segmentSize.value.map { min(r.size, segmentStart + $0) } ?? r.size))
    }

    /// Walks the segment's top-level elements up to the first cluster for `Tracks`, and reads each `TrackEntry`'s
    /// `TrackType` (1 video, 2 audio) and `Video` `PixelWidth`/`PixelHeight`. Bounded: 256 elements, 1 MiB of tracks.
    /// The codec's own size too: H.264/HEVC parameter sets, AV1's sequence header and MPEG-4 Part 2 VOL headers in
    /// `CodecPrivate`, and for VP8/VP9 (whose sizes are only in their frames) the frame headers of the first
    /// cluster's blocks. With `scanSamples` (an upload) every block of every cluster is read, as an MP4's samples
    /// are (`noteFrameSizes`, for every codec of `matroskaVideoCodec`): parameter sets sent in-band, and a stream
    /// that changes size after its first cluster, state their size there. So that nothing the decoder would read is
    /// skipped, an upload is refused when a video track's codec is neither read nor sized by the container, when an
    /// H.264/HEVC track has no readable configuration, when its frames are under `ContentEncodings`, and when the
    /// walk meets a malformed element or one of unknown size (libavformat would resynchronise past it).
    private func matroskaTracks(from start: Int, to end: Int) throws(Refusal) -> MatroskaTracks {
        var tracks = MatroskaTracks()
        var codecTracks = CodecTracks()  // by track number
        var unread: String?  // at upload: a video track whose size the walk cannot read
        var pos = start
        var count = 0
        while scanSamples || count < 256 {
            count += 1
            let h = r.read(pos, 12)
            guard pos < end else { break }
            guard let id = vint(h, 0, keepMarker: true), let len = vint(h, id.length) else {
                if scanSamples { throw Refusal("a Matroska element before the first cluster is malformed") }
                break
            }
            let data = pos + id.length + len.length
            if id.value == 0x1F43_B675 {  // a Cluster: Tracks come before the media
                if scanSamples {
                    if let unread { throw Refusal(unread) }
                    try scanClusters(from: pos, to: end, codecTracks, &tracks)
                } else {
                    let vpx = codecTracks.filter { $0.value.codec == .vp8 || $0.value.codec == .vp9 }
                    if !vpx.isEmpty { _ = try readBlocks(cluster: data, end: len.value.map { min(end, data + $0) } ?? end, vpx, &tracks, limit: 64) }
                }
                break
            }
            guard let n = len.value else {  // an element of unknown size other than a cluster: stop
                if scanSamples { throw Refusal("a Matroska element before the first cluster has no size") }
                break
            }
            if id.value == 0x1654_AE6B {
                tracks.found = true
                if scanSamples && n > 1 << 20 { throw Refusal("the Matroska track list is over 1 MiB") }
                let b = r.read(data, min(n, 1 << 20))
                forEachElement(b, 0, b.count) { entryId, entryStart, entryEnd in
                    guard entryId == 0xAE else { return }
                    var type = 0, number = 0
                    var codec = "", configuration: [UInt8] = [], configurationAt = 0
                    var encoding = MatroskaEncoding.none
                    forEachElement(b, entryStart, entryEnd) { fieldId, fieldStart, fieldEnd in
                        if fieldId == 0x83 { type = Self.uint(b, fieldStart, fieldEnd) }
                        if fieldId == 0xD7 { number = Self.uint(b, fieldStart, fieldEnd) }
                        if fieldId == 0x86 { codec = b.ascii(fieldStart, fieldEnd - fieldStart) }
                        if fieldId == 0x63A2 { (configuration, configurationAt) = (Array(b[fieldStart..<fieldEnd]), data + fieldStart) }
                        if fieldId == 0x6D80 { encoding = matroskaEncoding(b, fieldStart, fieldEnd) }
                        if fieldId == 0xE0 {
                            forEachElement(b, fieldStart, fieldEnd) { videoId, videoStart, videoEnd in
                                if videoId == 0xB0 { tracks.width = max(tracks.width, Self.uint(b, videoStart, videoEnd)) }
                                if videoId == 0xBA { tracks.height = max(tracks.height, Self.uint(b, videoStart, videoEnd)) }
                            }
                        }
                    }
                    if type == 1 { tracks.video = true }
                    guard type == 1 else {
                        if type == 2 { tracks.audio = true }
                        return
                    }
                    switch encoding {
                    case .none: break
                    case .strippedHeader(let bytes) where bytes.count > Self.maximumStrippedHeader:
                        // Put back before every frame, they would cost the walk that much a frame (writers strip a few).
                        unread = "a Matroska video track strips \(bytes.count) bytes off every frame (at most \(Self.maximumStrippedHeader) are read)"
                    case .strippedHeader(let bytes):
                        // `matroskadec.c` puts the stripped bytes back before the decoder sees a frame: so does the walk.
                        if number > 0 { tracks.stripped[number] = bytes }
                    case .other:
                        // `matroskadec.c:2561` decompresses (zlib, bzip2, LZO) before the decoder sees a frame: the
                        // blocks' bytes are not the frames' (no muxer of ffmpeg's writes this).
                        unread = "a Matroska video track's frames are compressed or encrypted (ContentEncodings), so their size cannot be read"
                    }
                    switch Self.matroskaVideoCodec(codec, codecPrivate: configuration) {
                    case .read(let headers):
                        // The codec's own size: an H.264 or HEVC track's CodecPrivate is its avcC or hvcC; an AV1
                        // track's is its av1C, 4 bytes then configuration OBUs (the sequence header); MPEG-4 Part 2's
                        // extradata (the CodecPrivate, after a BITMAPINFOHEADER or whole) may hold VOL headers, which
                        // libavcodec reads before the first frame: every VOL start code in it counts.
                        let config = headers.configuration(configuration)
                        for sps in config?.sps ?? [] { tracks.note(headers.spsSize(sps)) }
                        if headers == .av1, configuration.count > 4 {
                            for size in CodecHeaders.av1SequenceHeaderSizes(configuration[4...]) { tracks.note(size) }
                        }
                        if headers == .mpeg4, !configuration.isEmpty {
                            noteMPEG4Sizes(from: configurationAt, to: configurationAt + configuration.count, into: &tracks)
                        }
                        if number > 0 {
                            codecTracks[number] = (headers, config?.lengthSize ?? 4)
                        } else {
                            unread = "a video track has no track number, so its blocks cannot be read"
                        }
                        if config == nil && (headers == .h264 || headers == .hevc) {
                            unread = "the \(headers == .h264 ? "H.264" : "HEVC") track has no readable codec configuration (CodecPrivate)"
                        }
                    case .sizedByContainer:
                        break
                    case .unread(let named):
                        let name = String(named.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }.prefix(48))
                        unread = "the video codec '\(name)' is not accepted in uploads: \(Self.acceptedVideoCodecs)"
                    }
                }
            }
            pos = data + n
        }
        return tracks
    }

    /// Every cluster from `start` to `end`, and every block in them (`readBlocks`). A cluster of unknown size ends
    /// where the next top-level element begins. Bounded by the file: each step moves past an element's header.
    /// Malformed or unknown-size elements are refused (this runs at upload only).
    private func scanClusters(
        from start: Int, to end: Int, _ codecTracks: CodecTracks, _ tracks: inout MatroskaTracks
    ) throws(Refusal) {
        var pos = start
        while pos < end {
            let h = r.read(pos, 12)
            guard let id = vint(h, 0, keepMarker: true), let len = vint(h, id.length) else {
                throw Refusal("a Matroska element after the first cluster is malformed")
            }
            let data = pos + id.length + len.length
            if id.value == 0x1F43_B675 {
                let clusterEnd = len.value.map { min(end, data + $0) } ?? end
                let stop = try readBlocks(cluster: data, end: clusterEnd, codecTracks, &tracks, limit: Int.max)
                pos = len.value == nil ? stop : clusterEnd  // past the cluster's header either way
                continue
            }
            guard let n = len.value else { throw Refusal("a Matroska element after the first cluster has no size") }
            pos = data + n
        }
    }

    /// The frame sizes in one cluster's blocks (`SimpleBlock`, or `Block` in a `BlockGroup`) of the tracks in
    /// `codecTracks`; at most `limit` elements (the first cluster, when only VP8/VP9 are read: 64). Returns where
    /// the walk stopped: the end, or the next top-level element (a cluster of unknown size ends there). At upload
    /// (`scanSamples`) a malformed element or one of unknown size is refused; otherwise the walk stops there.
    private func readBlocks(
        cluster start: Int, end: Int, _ codecTracks: CodecTracks, _ tracks: inout MatroskaTracks,
        limit: Int
    ) throws(Refusal) -> Int {
        func malformed(_ what: String) throws(Refusal) -> Int {
            if scanSamples { throw Refusal("a Matroska cluster holds \(what)") }
            return end
        }
        var pos = start
        var count = 0
        while pos < end, count < limit {
            count += 1
            let h = r.read(pos, 12)
            guard let id = vint(h, 0, keepMarker: true), let idValue = id.value, let len = vint(h, id.length) else {
                return try malformed("a malformed element")
            }
            switch idValue {
            case 0x1F43_B675, 0x1C53_BB6B, 0x1254_C367, 0x1654_AE6B, 0x1941_A469, 0x1043_A770, 0x114D_9B74, 0x1549_A966:
                return pos  // a top-level element: the cluster is over (it may have had no size)
            default:
                break
            }
            guard let n = len.value else { return try malformed("an element of unknown size") }
            let data = pos + id.length + len.length
            switch idValue {
            case 0xA3:
                noteBlock(at: data, length: min(n, end - data), codecTracks, &tracks)
            case 0xA0:  // a BlockGroup: its Block (the group's children walked by their headers, not read whole)
                var p = data
                let groupEnd = min(end, data + n)
                while p < groupEnd {
                    let c = r.read(p, 12)
                    guard let childId = vint(c, 0, keepMarker: true), let childLen = vint(c, childId.length), let m = childLen.value else {
                        return try malformed("a malformed block group")
                    }
                    let childData = p + childId.length + childLen.length
                    if childId.value == 0xA1 { noteBlock(at: childData, length: min(m, groupEnd - childData), codecTracks, &tracks) }
                    p = childData + m
                }
            default:
                break
            }
            pos = data + n
        }
        return min(pos, end)
    }

    /// One block: its track number, timecode and flags, then one frame, or several when laced (Xiph, EBML or
    /// fixed-size lacing: the frames' sizes before them); each frame's stated sizes are noted (`noteFrameSizes`).
    /// Sizes that do not fit the block end it. Each Xiph or EBML size takes at least a byte of the block and fixed
    /// lacing needs a byte a frame, so a lace count of 256 over a handful of bytes cannot make the work grow faster
    /// than the file.
    private func noteBlock(
        at start: Int, length: Int, _ codecTracks: CodecTracks, _ tracks: inout MatroskaTracks
    ) {
        let head = r.read(start, 12)
        guard let track = vint(head, 0), let number = track.value, let codec = codecTracks[number], head.count > track.length + 2 else { return }
        let end = start + length
        var pos = start + track.length + 3  // track number, 16-bit timecode, flags
        guard pos < end else { return }
        let lacing = head[track.length + 2] & 0x06
        var sizes: [Int] = []
        if lacing != 0 {
            guard let count = r.byte(pos).map({ Int($0) + 1 }) else { return }
            pos += 1
            switch lacing {
            case 0x02:  // Xiph: each size but the last as bytes of 255 and a last byte under 255
                for _ in 0..<(count - 1) {
                    var size = 0
                    while true {
                        guard pos < end, let byte = r.byte(pos) else { return }
                        pos += 1
                        size += Int(byte)
                        if byte != 255 { break }
                    }
                    sizes.append(size)
                }
            case 0x06:  // EBML: the first size, then signed differences
                for i in 0..<(count - 1) {
                    guard pos < end, let v = vint(r.read(pos, 8), 0), let value = v.value else { return }
                    pos += v.length
                    let bias = (1 << (7 * v.length - 1)) - 1
                    let size = i == 0 ? value : sizes[i - 1] + (value - bias)
                    guard size >= 0, size <= length else { return }  // each within the block: no overflow below
                    sizes.append(size)
                }
            default:  // fixed: equal parts
                let each = (end - pos) / count
                guard each > 0 else { return }
                sizes = Array(repeating: each, count: count - 1)
            }
        }
        for size in sizes {
            guard pos + size <= end else { return }
            if size > 0 { noteFrame(at: pos, length: size, codec, stripped: tracks.stripped[number], &tracks) }
            pos += size
        }
        noteFrame(at: pos, length: end - pos, codec, stripped: tracks.stripped[number], &tracks)
    }

    /// One frame of a Matroska block (`noteFrameSizes`). A ProRes frame there usually lacks the 8 bytes (size and
    /// `icpf`) that start it in a MOV: libavformat puts them back before the decoder sees it unless bytes 4-7 say
    /// `icpf` (`matroskadec.c:3609-3611`, `matroska_parse_prores` at `:3449-3468`), so the frame header is read
    /// where it then stands. A frame whose header was stripped is read with the `stripped` bytes put back in front
    /// of it, as libavformat gives it to the decoder (the frame is copied into memory: bounded by the upload's size).
    private func noteFrame(
        at start: Int, length: Int, _ track: (codec: CodecHeaders.Codec, lengthSize: Int), stripped: [UInt8]? = nil,
        _ tracks: inout MatroskaTracks
    ) {
        if let stripped, !stripped.isEmpty {
            let frame = Checker(r: ByteReader(bytes: stripped + r.read(start, length)), strict: strict, scanSamples: scanSamples)
            frame.noteFrame(at: 0, length: frame.r.size, track, &tracks)
            return
        }
        if track.codec == .prores, length > 0, r.read(start + 4, 4) != Array("icpf".utf8) {
            let header = [0, 0, 0, 0] + Array("icpf".utf8) + r.read(start, min(length, 20))
            tracks.note(CodecHeaders.proresFrameSize(header))
            return
        }
        noteFrameSizes(at: start, length: length, codec: track.codec, lengthSize: track.lengthSize, into: &tracks)
    }

    /// The sizes the VP9 frames of one block or sample state: a superframe (several frames, an index at the end
    /// whose last byte, repeated at its start, gives the count and field size) is split. Reads each frame's first
    /// 64 bytes and the block's last 34.
    private func vp9FrameSizes(at start: Int, length: Int) -> [(width: Int, height: Int)] {
        let tail = r.read(start + max(0, length - 34), min(length, 34))
        var ranges = [(0, length)]
        if let marker = tail.last, marker & 0xE0 == 0xC0 {
            let count = Int(marker & 0x7) + 1, bytes = Int((marker >> 3) & 0x3) + 1, indexSize = 2 + bytes * count
            if tail.count >= indexSize, tail[tail.count - indexSize] == marker {
                ranges = []
                var offset = 0, entry = tail.count - indexSize + 1
                for _ in 0..<count {
                    var frameSize = 0
                    for i in 0..<bytes { frameSize |= Int(tail[entry + i]) << (8 * i) }
                    entry += bytes
                    guard frameSize > 0, offset + frameSize <= length - indexSize else { break }
                    ranges.append((offset, frameSize))
                    offset += frameSize
                }
            }
        }
        return ranges.compactMap { CodecHeaders.vp9FrameSize(r.read(start + $0.0, min($0.1, 64))) }
    }

    /// Calls `body(id, dataStart, dataEnd)` for each EBML element in `b[start..<end]` (stops at a malformed one).
    private func forEachElement(_ b: [UInt8], _ start: Int, _ end: Int, _ body: (Int, Int, Int) -> Void) {
        var pos = start, count = 0
        while pos < end, count < 4096 {
            count += 1
            guard let id = vint(b, pos, keepMarker: true), let len = vint(b, pos + id.length), let n = len.value, let idValue = id.value else {
                return
            }
            let data = pos + id.length + len.length
            guard data + n <= end else { return }
            body(idValue, data, data + n)
            pos = data + n
        }
    }

    /// A big-endian unsigned integer element (at most 8 bytes; larger ones read as Int.max).
    private static func uint(_ b: [UInt8], _ start: Int, _ end: Int) -> Int {
        guard end - start <= 8 else { return Int.max }
        var value = 0
        for i in start..<end {
            guard value <= Int.max >> 8 else { return Int.max }
            value = value << 8 | Int(b[i])
        }
        return value
    }

    // MARK: Pictures

    func png() throws(Refusal) -> Size {
        var pos = 8, chunks = 0
        var size = Size(frames: 0)
        var sawData = false
        while true {
            let c = r.read(pos, 12)
            guard c.count >= 8 else {
                if strict { throw pastEnd("the PNG chunks (no IEND)") }
                break
            }
            let length = c.be32(0)
            guard c.isFourCC(4), length < 0x8000_0000 else { throw Refusal("PNG chunk \(chunks + 1) at byte \(pos) is malformed") }
            let type = c.ascii(4, 4)
            if chunks == 0 {
                guard type == "IHDR", length == 13 else { throw Refusal("the PNG file does not start with its IHDR header") }
                let d = r.read(pos + 8, 13)
                size.width = max(size.width, d.be32(0)); size.height = max(size.height, d.be32(4))
            }
            if type == "fcTL", length >= 26 {
                // An APNG frame: its own size and offset.
                let d = r.read(pos + 8, 26)
                size.width = max(size.width, d.be32(4) + d.be32(12)); size.height = max(size.height, d.be32(8) + d.be32(16))
                size.frames += 1
            }
            if type == "IDAT" { sawData = true }
            if strict, pos + 12 + length <= r.size, !crcMatches(at: pos, length: length) {
                throw Refusal("PNG chunk \(chunks + 1) ('\(type)') at byte \(pos) fails its CRC: the data is corrupt")
            }
            chunks += 1
            guard pos + 12 + length <= r.size else {
                if strict { throw pastEnd("the PNG '\(type)' chunk") }
                break
            }
            if type == "IEND" { break }
            pos += 12 + length
            guard chunks < 1_000_000 else { throw Refusal("the PNG file has too many chunks") }
        }
        guard sawData || !strict else { throw Refusal("the PNG file has no image data") }
        size.frames = max(1, size.frames)
        return size
    }

    func gif() throws(Refusal) -> Size {
        let h = r.read(0, 13)
        guard h.count == 13 else { throw pastEnd("the GIF header") }
        var size = Size(width: h.le16(6), height: h.le16(8), frames: 0)
        var pos = 13 + (h[10] & 0x80 != 0 ? 3 << (Int(h[10] & 7) + 1) : 0)
        func skipSubBlocks(_ p: inout Int) throws(Refusal) {
            while true {
                guard let n = r.byte(p) else { throw pastEnd("a GIF data block") }
                p += 1 + Int(n)
                if n == 0 { return }
            }
        }
        loop: while true {
            guard let block = r.byte(pos) else {
                if strict { throw pastEnd("the GIF blocks (no trailer)") }
                break
            }
            switch block {
            case 0x21:
                pos += 2
                do { try skipSubBlocks(&pos) } catch { if strict { throw error }; break loop }
            case 0x2C:
                let d = r.read(pos, 10)
                guard d.count == 10 else { throw pastEnd("a GIF image descriptor") }
                size.width = max(size.width, d.le16(1) + d.le16(5)); size.height = max(size.height, d.le16(3) + d.le16(7))
                size.frames += 1
                pos += 10 + (d[9] & 0x80 != 0 ? 3 << (Int(d[9] & 7) + 1) : 0) + 1
                do { try skipSubBlocks(&pos) } catch { if strict { throw error }; break loop }
            case 0x3B:
                break loop
            default:
                if !strict { break loop }  // header-only reading: what the screen says
                throw Refusal("the GIF file has an unknown block (0x\(String(block, radix: 16))) at byte \(pos)")
            }
        }
        guard size.frames > 0 || !strict else { throw Refusal("the GIF file holds no image") }
        size.frames = max(1, size.frames)
        return size
    }

    func webp() throws(Refusal) -> Size {
        let riffSize = r.read(4, 4).le32(0)
        let end = 8 + riffSize
        if end > r.size && strict { throw pastEnd("the RIFF chunk") }
        var size = Size(frames: 0)
        var bitstreams = 0
        func bitstream(_ type: String, at data: Int, length: Int) throws(Refusal) {
            let d = r.read(data, 10)
            switch type {
            case "VP8 ":
                guard d.count == 10, d[3] == 0x9D, d[4] == 0x01, d[5] == 0x2A else { throw Refusal("the WebP VP8 frame header is malformed") }
                size.width = max(size.width, d.le16(6) & 0x3FFF); size.height = max(size.height, d.le16(8) & 0x3FFF)
            default:  // VP8L
                guard d.count >= 5, d[0] == 0x2F else { throw Refusal("the WebP VP8L header is malformed") }
                let b1 = Int(d[1]), b2 = Int(d[2]), b3 = Int(d[3]), b4 = Int(d[4])
                size.width = max(size.width, 1 + (b1 | (b2 & 0x3F) << 8))
                size.height = max(size.height, 1 + (b2 >> 6 | b3 << 2 | (b4 & 0x0F) << 10))
            }
            bitstreams += 1
        }
        var pos = 12
        // The decoder (lenient) reads what is there whatever the RIFF size says; uploads must agree with it.
        let limit = strict ? min(end, r.size) : r.size
        while pos + 8 <= limit {
            let c = r.read(pos, 8)
            guard c.isFourCC(0) else { throw Refusal("a WebP chunk at byte \(pos) has no valid name") }
            let type = c.ascii(0, 4), length = c.le32(4), data = pos + 8
            guard data + length <= limit else {
                if strict { throw pastEnd("the WebP '\(type)' chunk") }
                if type == "VP8 " || type == "VP8L" { try bitstream(type, at: data, length: length) }
                break
            }
            switch type {
            case "VP8X":
                let d = r.read(data, 10)
                size.width = max(size.width, d.le24(4) + 1); size.height = max(size.height, d.le24(7) + 1)
            case "VP8 ", "VP8L":
                try bitstream(type, at: data, length: length)
                size.frames = max(size.frames, 1)
            case "ANMF":
                let d = r.read(data, 16)
                size.width = max(size.width, d.le24(0) * 2 + d.le24(6) + 1)
                size.height = max(size.height, d.le24(3) * 2 + d.le24(9) + 1)
                size.frames += 1
                var sub = data + 16
                while sub + 8 <= data + length {
                    let s = r.read(sub, 8)
                    let subType = s.ascii(0, 4), subLength = s.le32(4)
                    guard sub + 8 + subLength <= data + length else { throw Refusal("a WebP animation frame's chunk runs past the frame") }
                    if subType == "VP8 " || subType == "VP8L" { try bitstream(subType, at: sub + 8, length: subLength) }
                    sub += 8 + subLength + (subLength & 1)
                }
            default:
                break
            }
            pos = data + length + (length & 1)
        }
        guard bitstreams > 0 || (!strict && size.width > 0) else { throw Refusal("the WebP file holds no VP8 or VP8L picture") }
        size.frames = max(1, size.frames)
        return size
    }

    /// The JPEG's largest frame size; `toTheEnd`: its picture data must reach the end marker (an upload; a music
    /// file's cover is only sized, never decoded).
    func jpeg(toTheEnd: Bool = true) throws(Refusal) -> Size {
        var size = Size(frames: 0)
        var pos = 2
        func startOfFrame(_ marker: UInt8) -> Bool { (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) }
        func frameHeader(at p: Int) throws(Refusal) {
            let d = r.read(p, 9)
            guard d.count == 9 else { throw pastEnd("a JPEG frame header") }
            let h = d.be16(5), w = d.be16(7)
            guard w > 0, h > 0 else { throw Refusal("a JPEG frame header states an empty or deferred size (\(w)x\(h))") }
            size.width = max(size.width, w); size.height = max(size.height, h)
            size.frames += 1
        }
        // Header segments up to the first scan.
        var inScan = false
        var segments = 0
        while !inScan {
            guard let ff = r.byte(pos) else { throw pastEnd("the JPEG headers") }
            guard ff == 0xFF else { throw Refusal("the JPEG segment at byte \(pos) does not start with a marker") }
            guard let marker = r.byte(pos + 1) else { throw pastEnd("the JPEG headers") }
            if marker == 0xFF { pos += 1; continue }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { pos += 2; continue }
            if marker == 0xD9 { break }
            let length = r.read(pos + 2, 2).be16(0)
            guard length >= 2 else { throw Refusal("a JPEG segment at byte \(pos) has an impossible length") }
            if startOfFrame(marker) { try frameHeader(at: pos) }
            if marker == 0xDA { inScan = true }
            pos += 2 + length
            segments += 1
            guard pos <= r.size else { throw pastEnd("a JPEG segment") }
            guard segments < 100_000 else { throw Refusal("the JPEG file has too many segments") }
        }
        guard size.frames > 0 else { throw Refusal("the JPEG file has no frame header (no picture size)") }
        // Through the entropy-coded data: every later marker, so a second frame (of another size) cannot hide there,
        // to the end marker: a JPEG cut short has none, and the decoder cannot finish its picture (trial15b: a
        // truncated upload was taken, and its job failed only when it ran).
        var ended = !inScan
        while inScan, let ff = r.find(0xFF, from: pos) {
            guard let marker = r.byte(ff + 1) else { break }
            if marker == 0x00 || marker == 0xFF || (0xD0...0xD7).contains(marker) { pos = ff + 1; continue }
            if marker == 0xD9 {
                ended = true
                break
            }
            if marker == 0xD8 { pos = ff + 2; continue }
            let length = r.read(ff + 2, 2).be16(0)
            guard length >= 2 else { throw Refusal("a JPEG segment at byte \(ff) has an impossible length") }
            if startOfFrame(marker) { try frameHeader(at: ff) }
            pos = ff + 2 + length
        }
        guard ended || !toTheEnd else { throw Refusal("the file is truncated: the JPEG's picture data ends before its end marker", truncated: true) }
        return size
    }

    func bmp() throws(Refusal) -> Size {
        let h = r.read(0, 26)
        guard h.count == 26 else { throw pastEnd("the BMP header") }
        if h.le32(14) == 12 { return Size(width: h.le16(18), height: h.le16(20)) }
        let w = Int(Int32(truncatingIfNeeded: h.le32(18))), hh = Int(Int32(truncatingIfNeeded: h.le32(22)))
        return Size(width: abs(w), height: abs(hh))
    }

    func tiff() throws(Refusal) -> Size {
        let little = r.read(0, 1) == [0x49]
        func u16(_ b: [UInt8], _ i: Int) -> Int { little ? b.le16(i) : b.be16(i) }
        func u32(_ b: [UInt8], _ i: Int) -> Int { little ? b.le32(i) : b.be32(i) }
        let ifd = u32(r.read(4, 4), 0)
        let count = u16(r.read(ifd, 2), 0)
        guard ifd >= 8, count > 0, count < 4096 else { throw Refusal("the TIFF directory is malformed") }
        let entries = r.read(ifd + 2, count * 12)
        guard entries.count == count * 12 else { throw pastEnd("the TIFF directory") }
        var size = Size()
        for e in 0..<count {
            let o = e * 12
            let tag = u16(entries, o), type = u16(entries, o + 2)
            let value = type == 3 ? u16(entries, o + 8) : u32(entries, o + 8)
            if tag == 256 { size.width = value }
            if tag == 257 { size.height = value }
        }
        return size
    }
}

/// The two CRC-32 variants containers use.
enum CRC {
    private static let reflected: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    private static let direct: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n) << 24
        for _ in 0..<8 { c = c & 0x8000_0000 != 0 ? (c << 1) ^ 0x04C1_1DB7 : c << 1 }
        return c
    }

    /// PNG's (and zlib's) CRC-32, continued from `running` (start with 0xFFFFFFFF, finish by inverting).
    static func png(_ bytes: [UInt8], running: UInt32) -> UInt32 {
        var c = running
        for b in bytes { c = reflected[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c
    }

    /// Ogg's page CRC (polynomial 0x04C11DB7, not reflected, no inversion).
    static func ogg(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0
        for b in bytes { c = (c << 8) ^ direct[Int(((c >> 24) ^ UInt32(b)) & 0xFF)] }
        return c
    }
}

/// A walk of a container that keeps the largest picture size any of its headers states.
protocol StatedPictureSize {
    var width: Int { get set }
    var height: Int { get set }
}

extension StatedPictureSize {
    /// Takes `size` into the largest width and height seen (nil: nothing stated).
    mutating func note(_ size: (width: Int, height: Int)?) {
        guard let size else { return }
        width = max(width, size.width)
        height = max(height, size.height)
    }
}
