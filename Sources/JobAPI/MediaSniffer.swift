/// File formats recognised by their first bytes (never by file name or the client's Content-Type).
public enum MediaFormat: String, Sendable, CaseIterable, Codable {
    case jpeg, png, webp, gif
    case mp3, m4a, ogg, flac, wav
    case mp4, mov, webm

    public var contentType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .webp: "image/webp"
        case .gif: "image/gif"
        case .mp3: "audio/mpeg"
        case .m4a: "audio/mp4"
        case .ogg: "audio/ogg"
        case .flac: "audio/flac"
        case .wav: "audio/wav"
        case .mp4: "video/mp4"
        case .mov: "video/quicktime"
        case .webm: "video/webm"
        }
    }

    /// The usual file extension (`jpg` for JPEG).
    var fileExtension: String { self == .jpeg ? "jpg" : rawValue }

    var isImage: Bool { [.jpeg, .png, .webp, .gif].contains(self) }
}

/// The kinds of asset a tenant can upload (`video_processing_assets.asset_type`).
package enum AssetKind: String, Sendable, CaseIterable, Codable {
    /// Product photos referenced by `imageIds`.
    case image
    /// Music referenced by `audioFile`.
    case audio
    /// Looping overlay videos.
    case overlay
    /// Frame PNGs (with transparency) drawn over the video.
    case frame

    /// Formats accepted for this type. MP4-family files are accepted as audio (an M4A is an MP4 with only sound).
    package var acceptedFormats: Set<MediaFormat> {
        switch self {
        case .image: [.jpeg, .png, .webp, .gif]
        case .audio: [.mp3, .m4a, .mp4, .ogg, .flac, .wav]
        case .overlay: [.mp4, .mov, .webm]
        case .frame: [.png]
        }
    }
}

/// Magic-byte sniffing and header-only image dimension reading.
enum MediaSniffer {
    /// The format of a file from its first bytes (at least 12 are needed for most formats), or nil.
    static func format(of head: [UInt8]) -> MediaFormat? {
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
        if at(0, [0x1A, 0x45, 0xDF, 0xA3]) { return .webm }
        if at(4, ascii("ftyp")), head.count >= 12 {
            let brand = String(decoding: head[8..<12], as: UTF8.self)
            switch brand {
            case "M4A ", "M4B ", "M4P ": return .m4a
            case "qt  ": return .mov
            default: return .mp4
            }
        }
        if at(0, ascii("ID3")) { return .mp3 }
        // An MPEG audio frame header: 11 sync bits, a layer other than "reserved", a bitrate index other than "bad".
        if head.count >= 3, head[0] == 0xFF, head[1] & 0xE0 == 0xE0, head[1] & 0x06 != 0, head[2] & 0xF0 != 0xF0,
           head[1] & 0x18 != 0x08
        {
            return .mp3
        }
        return nil
    }

    /// Width and height read from an image header, or nil when the header is truncated or malformed.
    static func imageSize(of bytes: [UInt8], format: MediaFormat) -> (width: Int, height: Int)? {
        func be16(_ i: Int) -> Int? { i + 2 <= bytes.count ? Int(bytes[i]) << 8 | Int(bytes[i + 1]) : nil }
        func le16(_ i: Int) -> Int? { i + 2 <= bytes.count ? Int(bytes[i + 1]) << 8 | Int(bytes[i]) : nil }
        func be32(_ i: Int) -> Int? {
            guard i + 4 <= bytes.count else { return nil }
            return Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        }
        func le24(_ i: Int) -> Int? {
            guard i + 3 <= bytes.count else { return nil }
            return Int(bytes[i + 2]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i])
        }
        switch format {
        case .png:
            // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
            guard bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8),
                  let w = be32(16), let h = be32(20) else { return nil }
            return (w, h)
        case .gif:
            guard let w = le16(6), let h = le16(8) else { return nil }
            return (w, h)
        case .webp:
            guard bytes.count >= 30 else { return nil }
            let chunk = String(decoding: bytes[12..<16], as: UTF8.self)
            switch chunk {
            case "VP8 ":
                guard bytes[23] == 0x9D, bytes[24] == 0x01, bytes[25] == 0x2A,
                      let w = le16(26), let h = le16(28) else { return nil }
                return (w & 0x3FFF, h & 0x3FFF)
            case "VP8L":
                guard bytes[20] == 0x2F else { return nil }
                let b1 = Int(bytes[21]), b2 = Int(bytes[22]), b3 = Int(bytes[23]), b4 = Int(bytes[24])
                let w = 1 + (b1 | (b2 & 0x3F) << 8)
                let h = 1 + (b2 >> 6 | b3 << 2 | (b4 & 0x0F) << 10)
                return (w, h)
            case "VP8X":
                guard let w = le24(24), let h = le24(27) else { return nil }
                return (w + 1, h + 1)
            default:
                return nil
            }
        case .jpeg:
            var i = 2
            while i + 4 <= bytes.count {
                guard bytes[i] == 0xFF else { return nil }
                let marker = bytes[i + 1]
                if marker == 0xFF { i += 1; continue }  // fill byte
                if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
                guard let length = be16(i + 2), length >= 2 else { return nil }
                let isStartOfFrame = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
                if isStartOfFrame {
                    guard let h = be16(i + 5), let w = be16(i + 7) else { return nil }
                    return (w, h)
                }
                if marker == 0xDA || marker == 0xD9 { return nil }  // scan data before any frame header
                i += 2 + length
            }
            return nil
        default:
            return nil
        }
    }
}
