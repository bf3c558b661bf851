import Foundation

/// The container formats rendc reads, each with the one libavformat demuxer that may open it. Nothing else is ever
/// opened: no format is probed from the bytes by libavformat, so a playlist (HLS), a concat list, an image sequence
/// pattern or any other demuxer that opens further files or URLs cannot be reached, whatever an upload holds.
package enum Container: String, Sendable, CaseIterable {
    case mp3, adts, mp4, ogg, flac, wav, matroska
    case jpeg, png, webp, gif, bmp, tiff

    /// The libavformat demuxer for this container.
    package var demuxer: String {
        switch self {
        case .mp3: "mp3"
        case .adts: "aac"
        case .mp4: "mov"
        case .ogg: "ogg"
        case .flac: "flac"
        case .wav: "wav"
        case .matroska: "matroska"
        case .jpeg: "jpeg_pipe"
        case .png: "png_pipe"
        case .webp: "webp_pipe"
        case .gif: "gif"
        case .bmp: "bmp_pipe"
        case .tiff: "tiff_pipe"
        }
    }

    package var isImage: Bool { [.jpeg, .png, .webp, .gif, .bmp, .tiff].contains(self) }

    /// Containers that may carry each kind of input.
    package static func allowed(for kind: MediaKind) -> Set<Container> {
        switch kind {
        case .audio: [.mp3, .adts, .mp4, .ogg, .flac, .wav, .matroska]
        case .video: [.mp4, .matroska, .jpeg, .png, .webp, .gif, .bmp, .tiff]
        case .image: [.jpeg, .png, .webp, .gif, .bmp, .tiff]
        }
    }

    /// The container from a file's first bytes (16 are enough), or nil. Says nothing about the rest of the file:
    /// `MediaInspector.inspect` checks that.
    package static func sniff(_ head: [UInt8]) -> Container? {
        func at(_ offset: Int, _ bytes: [UInt8]) -> Bool {
            head.count >= offset + bytes.count && Array(head[offset..<offset + bytes.count]) == bytes
        }
        func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
        if at(0, [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if at(0, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if at(0, ascii("GIF87a")) || at(0, ascii("GIF89a")) { return .gif }
        if at(0, ascii("RIFF")) && at(8, ascii("WEBP")) { return .webp }
        if at(0, ascii("RIFF")) && at(8, ascii("WAVE")) { return .wav }
        if at(0, ascii("fLaC")) { return .flac }
        if at(0, ascii("OggS")) { return .ogg }
        if at(0, [0x1A, 0x45, 0xDF, 0xA3]) { return .matroska }
        if at(4, ascii("ftyp")) { return .mp4 }
        if at(0, ascii("ID3")) { return .mp3 }
        if at(0, [0x49, 0x49, 0x2A, 0x00]) || at(0, [0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if at(0, ascii("BM")) && head.count >= 18 && [12, 40, 52, 56, 64, 108, 124].contains(Int(head[14]) | Int(head[15]) << 8) { return .bmp }
        if head.count >= 7, ADTS.frameLength(Array(head.prefix(7))) != nil { return .adts }
        if head.count >= 4, MPEGAudio.frame(Array(head.prefix(4))) != nil { return .mp3 }
        return nil
    }
}

/// What reading a whole file's structure found.
package struct Inspection: Sendable, Equatable {
    package var container: Container
    /// For pictures: the largest width and height stated by any header (canvas, frame, every animation frame). For
    /// MP4/QuickTime and Matroska/WebM videos: the largest size a video track's headers state (`tkhd`, `stsd`;
    /// `PixelWidth`/`PixelHeight`) or the codec's own headers: H.264 and HEVC sequence parameter sets (the sample
    /// entry's `avcC`/`hvcC`, Matroska's `CodecPrivate`), AV1's sequence header (`av1C`), MPEG-4 Part 2 VOL headers
    /// (the MP4 sample entry's `esds`, Matroska's `CodecPrivate`), VP8/VP9 frame headers (the first cluster's blocks
    /// in Matroska), and with `scanSamples` those among an MP4's samples and in every block of every Matroska cluster
    /// (laced blocks too), and there the frame headers of MPEG-4 Part 2, H.263, Motion JPEG, PNG and ProRes: the decoder allocates frames
    /// by the codec's size, whatever the container says, and a stream may change its size wherever a new parameter
    /// set, key frame or picture comes.
    package var width: Int?
    package var height: Int?
    /// For pictures: how many frames the file holds (more than one: animated).
    package var frames: Int = 1
    /// What the file carries, when its headers say (MP4 track handlers, Ogg codec, every audio-only format).
    package var hasAudio: Bool?
    package var hasVideo: Bool?
    /// A short name for the codec or brand found (an Ogg stream's codec, an MP4 major brand, a Matroska DocType).
    package var detail: String?
    /// The largest cover picture an audio file embeds (ID3 `APIC`, FLAC `PICTURE`, MP4 `covr`), as the picture's
    /// own header states it: libavformat decodes it when it opens the file.
    package var coverWidth: Int?
    package var coverHeight: Int?

    package var pixels: Int? { width.flatMap { w in height.map { w * $0 } } }
}

/// Checks that a file is what its first bytes claim, all the way through: an MP3 has valid MPEG audio frames after
/// its ID3 tag; WAV, Ogg, FLAC, MP4, Matroska, PNG, GIF, WebP and JPEG structures are consistent and fit in the file;
/// picture sizes come from every header that states one, taking the largest. Pure Swift, no libav*: the upload
/// sniffer runs it before a file is stored, and `MediaInput` again before libavformat sees the file.
package enum MediaInspector {
    /// - Parameters:
    ///   - strict: true at upload: a structure that runs past the end of the file (a truncated upload) is refused.
    ///     False in the decoder, where a truncated tail is reported by the decode itself.
    ///   - scanSamples: also read every sample of float PCM (WAV) and refuse NaN or infinite values, and every
    ///     video sample of an MP4 for the sizes its codec headers state (they count in `width`/`height`).
    package static func inspect(path: String, strict: Bool, scanSamples: Bool = false) throws -> Inspection {
        let reader: ByteReader
        do { reader = try ByteReader(path: path) } catch let e as ByteReader.OpenError {
            throw MediaError(.openInput, code: .fileNotFound, path: path, e.message)
        }
        do {
            return try inspect(reader, strict: strict, scanSamples: scanSamples)
        } catch let e as Refusal {
            throw MediaError(.openInput, code: e.truncated ? .truncated : .refused, path: path, e.message)
        }
    }

    /// The same on bytes in memory.
    package static func inspect(bytes: [UInt8], strict: Bool, scanSamples: Bool = false) throws(Refusal) -> Inspection {
        try inspect(ByteReader(bytes: bytes), strict: strict, scanSamples: scanSamples)
    }

    /// Why a file was refused.
    package struct Refusal: Error, Sendable, CustomStringConvertible {
        package var message: String
        package var truncated = false
        init(_ message: String, truncated: Bool = false) {
            self.message = message
            self.truncated = truncated
        }
        package var description: String { message }
    }

    static func inspect(_ r: ByteReader, strict: Bool, scanSamples: Bool) throws(Refusal) -> Inspection {
        guard r.size > 0 else { throw Refusal("the file is empty") }
        guard let container = Container.sniff(r.read(0, 32)) else {
            throw Refusal("not a recognised media format (the first bytes match no accepted container)")
        }
        let checker = Checker(r: r, strict: strict, scanSamples: scanSamples)
        var result = Inspection(container: container)
        switch container {
        case .mp3: try checker.mp3(); result.hasAudio = true; result.hasVideo = false
        case .adts: try checker.adts(); result.hasAudio = true; result.hasVideo = false
        case .wav: try checker.wav(); result.hasAudio = true; result.hasVideo = false
        case .flac: try checker.flac(); result.hasAudio = true; result.hasVideo = false
        case .ogg:
            let codec = try checker.ogg()
            result.detail = codec
            result.hasAudio = codec != "theora"
            result.hasVideo = codec == "theora"
        case .mp4:
            let found = try checker.mp4()
            result.detail = found.brand
            result.hasAudio = found.audio
            result.hasVideo = found.video
            if found.video, found.width > 0, found.height > 0 { (result.width, result.height) = (found.width, found.height) }
        case .matroska:
            let (docType, tracks) = try checker.matroska()
            result.detail = docType
            if tracks.found {
                result.hasAudio = tracks.audio
                result.hasVideo = tracks.video
                if tracks.video, tracks.width > 0, tracks.height > 0 { (result.width, result.height) = (tracks.width, tracks.height) }
            }
        case .png, .gif, .webp, .jpeg, .bmp, .tiff:
            let size: Checker.Size
            switch container {
            case .png: size = try checker.png()
            case .gif: size = try checker.gif()
            case .webp: size = try checker.webp()
            case .jpeg: size = try checker.jpeg()
            case .bmp: size = try checker.bmp()
            default: size = try checker.tiff()
            }
            guard size.width > 0, size.height > 0 else {
                throw Refusal("the \(container.rawValue) header states an empty picture (\(size.width)x\(size.height))")
            }
            result.width = size.width
            result.height = size.height
            result.frames = size.frames
            result.hasAudio = false
            result.hasVideo = true
        }
        if checker.covers.found { (result.coverWidth, result.coverHeight) = (checker.covers.width, checker.covers.height) }
        return result
    }
}

// MARK: - Reading

/// Random access to a file's bytes (pread) or to bytes in memory, with a small cache for byte-by-byte walks.
final class ByteReader {
    struct OpenError: Error { var message: String }
    private let fd: Int32
    private let memory: [UInt8]?
    let size: Int
    private var cache: [UInt8] = []
    private var cacheStart = -1

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpenError(message: "file not found or not readable") }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw OpenError(message: "not a regular file")
        }
        self.fd = fd
        memory = nil
        size = Int(info.st_size)
    }

    init(bytes: [UInt8]) {
        fd = -1
        memory = bytes
        size = bytes.count
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Up to `count` bytes at `offset` (fewer at the end of the file, none past it). Small reads (headers of frames,
    /// pages, chunks and boxes, one after another) come from a 64 KiB window, not a system call each.
    func read(_ offset: Int, _ count: Int) -> [UInt8] {
        guard offset >= 0, offset < size, count > 0 else { return [] }
        let n = min(count, size - offset)
        if let memory { return Array(memory[offset..<offset + n]) }
        if n <= 1024 {
            if cacheStart < 0 || offset < cacheStart || offset + n > cacheStart + cache.count {
                cacheStart = offset
                cache = readDirect(offset, 65536)
                if cache.isEmpty { cacheStart = -1; return [] }
            }
            let start = offset - cacheStart
            return Array(cache[start..<min(cache.count, start + n)])
        }
        return readDirect(offset, n)
    }

    private func readDirect(_ offset: Int, _ count: Int) -> [UInt8] {
        guard fd >= 0, offset >= 0, offset < size else { return [] }
        let n = min(count, size - offset)
        var out = [UInt8](repeating: 0, count: n)
        var done = 0
        while done < n {
            let got = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, n - done, off_t(offset + done)) }
            if got <= 0 { break }
            done += got
        }
        return done == n ? out : Array(out.prefix(done))
    }

    /// One byte, or nil past the end (cached in 64 KiB windows for walks through many small blocks).
    func byte(_ offset: Int) -> UInt8? {
        guard offset >= 0, offset < size else { return nil }
        if let memory { return memory[offset] }
        if cacheStart < 0 || offset < cacheStart || offset >= cacheStart + cache.count {
            cacheStart = offset
            cache = readDirect(offset, 65536)
            if cache.isEmpty { cacheStart = -1; return nil }
        }
        return cache[offset - cacheStart]
    }

    /// Offset of the next `value` at or after `offset`, or nil (searches the cached window, then reads on).
    func find(_ value: UInt8, from offset: Int) -> Int? {
        var pos = max(0, offset)
        while pos < size {
            guard byte(pos) != nil else { return nil }  // loads the window holding `pos`
            let start = pos - cacheStart
            let hit: Int? = cache.withUnsafeBytes { raw in
                let base = raw.baseAddress! + start
                guard let p = memchr(base, Int32(value), raw.count - start) else { return nil }
                return base.distance(to: UnsafeRawPointer(p))
            }
            if let hit { return pos + hit }
            pos = cacheStart + cache.count
        }
        return nil
    }
}

extension Array where Element == UInt8 {
    func be16(_ i: Int) -> Int { i + 2 <= count ? Int(self[i]) << 8 | Int(self[i + 1]) : 0 }
    func be24(_ i: Int) -> Int { i + 3 <= count ? Int(self[i]) << 16 | Int(self[i + 1]) << 8 | Int(self[i + 2]) : 0 }
    func be32(_ i: Int) -> Int { i + 4 <= count ? be16(i) << 16 | be16(i + 2) : 0 }
    func be64(_ i: Int) -> Int { i + 8 <= count ? (be32(i) > Int(Int32.max) ? Int.max : be32(i) << 32 | be32(i + 4)) : 0 }
    func le16(_ i: Int) -> Int { i + 2 <= count ? Int(self[i]) | Int(self[i + 1]) << 8 : 0 }
    func le24(_ i: Int) -> Int { i + 3 <= count ? le16(i) | Int(self[i + 2]) << 16 : 0 }
    func le32(_ i: Int) -> Int { i + 4 <= count ? le16(i) | le16(i + 2) << 16 : 0 }
    func ascii(_ i: Int, _ n: Int) -> String {
        guard i + n <= count else { return "" }
        return String(decoding: self[i..<i + n], as: UTF8.self)
    }
    /// Four printable ASCII characters (a chunk or box type).
    func isFourCC(_ i: Int) -> Bool {
        i + 4 <= count && self[i..<i + 4].allSatisfy { (0x20...0x7E).contains($0) || $0 == 0xA9 }
    }
}

// MARK: - Frame headers

/// MPEG audio (layer I, II, III) frame headers.
enum MPEGAudio {
    struct Header: Equatable { var version: Int; var layer: Int; var sampleRate: Int; var length: Int }

    private static let bitrates: [[Int]] = [
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],  // V1 L1
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],  // V1 L2
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],  // V1 L3
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],  // V2 L1
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],  // V2 L2, L3
    ]

    private static let sampleRates: [[Int]] = [[44100, 48000, 32000], [22050, 24000, 16000], [11025, 12000, 8000]]

    /// The header at the start of `h` (4 bytes), or nil when it is not a valid, fixed-bitrate frame header.
    static func frame(_ h: [UInt8]) -> Header? {
        guard h.count >= 4, h[0] == 0xFF, h[1] & 0xE0 == 0xE0 else { return nil }
        let versionBits = Int(h[1] >> 3) & 3, layerBits = Int(h[1] >> 1) & 3
        let bitrateIndex = Int(h[2] >> 4), rateIndex = Int(h[2] >> 2) & 3, padding = Int(h[2] >> 1) & 1
        guard versionBits != 1, layerBits != 0, bitrateIndex != 0, bitrateIndex != 15, rateIndex != 3 else { return nil }
        let version = versionBits == 3 ? 1 : (versionBits == 2 ? 2 : 25)
        let layer = 4 - layerBits
        let table = version == 1 ? layer - 1 : (layer == 1 ? 3 : 4)
        let bitrate = bitrates[table][bitrateIndex] * 1000
        let rate = sampleRates[version == 1 ? 0 : (version == 2 ? 1 : 2)][rateIndex]
        let length: Int
        switch layer {
        case 1: length = (12 * bitrate / rate + padding) * 4
        case 2: length = 144 * bitrate / rate + padding
        default: length = (version == 1 ? 144 : 72) * bitrate / rate + padding
        }
        guard length >= 21 else { return nil }
        return Header(version: version, layer: layer, sampleRate: rate, length: length)
    }
}

/// ADTS (raw AAC) frame headers.
enum ADTS {
    static func frameLength(_ h: [UInt8]) -> Int? {
        guard h.count >= 7, h[0] == 0xFF, h[1] & 0xF6 == 0xF0, (h[2] >> 2) & 0x0F < 13 else { return nil }
        let length = Int(h[3] & 3) << 11 | Int(h[4]) << 3 | Int(h[5] >> 5)
        let header = h[1] & 1 == 1 ? 7 : 9
        return length > header ? length : nil
    }
}
