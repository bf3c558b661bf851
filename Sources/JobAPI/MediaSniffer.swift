import Foundation
import JobQueue
import MediaFormats

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

extension AssetType {
    /// Formats accepted for this type. MP4-family files are accepted as audio (an M4A is an MP4 with only sound).
    package var acceptedFormats: Set<MediaFormat> {
        switch self {
        case .image: [.jpeg, .png, .webp, .gif]
        case .audio: [.mp3, .m4a, .mp4, .ogg, .flac, .wav]
        case .overlay: [.mp4, .mov, .webm]
        case .frame: [.png]
        case .video: [.mp4, .mov, .webm]
        }
    }
}

/// Upload checking: the format from the first bytes, then the whole container structure (LibAV's `MediaInspector`,
/// the same check the decoder repeats before libavformat sees the file).
enum MediaSniffer {
    /// The format of a file from its first bytes (at least 12 are needed for most formats), or nil. Only a first
    /// guess: `inspect(path:)` decides whether an upload is accepted.
    static func format(of head: [UInt8]) -> MediaFormat? {
        Container.sniff(head).flatMap { format(of: $0, brand: head.count >= 12 ? String(decoding: head[8..<12], as: UTF8.self) : "") }
    }

    /// The upload format for a container (MP4-family files by their major brand), or nil for containers the
    /// decoder reads but uploads may not be (raw AAC, BMP, TIFF).
    static func format(of container: Container, brand: String) -> MediaFormat? {
        switch container {
        case .jpeg: .jpeg
        case .png: .png
        case .webp: .webp
        case .gif: .gif
        case .mp3: .mp3
        case .ogg: .ogg
        case .flac: .flac
        case .wav: .wav
        case .matroska: .webm
        case .mp4:
            switch brand.trimmingCharacters(in: .whitespaces) {
            case "M4A", "M4B", "M4P": .m4a
            case "qt": .mov
            default: .mp4
            }
        case .adts, .bmp, .tiff: nil
        }
    }

    /// Width and height read from an image's headers (the largest any header states), or nil when they are
    /// truncated or malformed.
    static func imageSize(of bytes: [UInt8], format: MediaFormat) -> (width: Int, height: Int)? {
        guard format.isImage, let found = try? MediaInspector.inspect(bytes: bytes, strict: false),
            let w = found.width, let h = found.height
        else { return nil }
        return (w, h)
    }

    /// What an accepted upload is.
    struct Upload: Equatable {
        var format: MediaFormat
        var width: Int?
        var height: Int?
        /// Pictures: how many frames (more than one: animated).
        var frames: Int
    }

    /// Checks a whole uploaded file for an asset of `type`: a recognised format accepted for that type, a container
    /// structure that holds together to the end of the file (an MP3 has MPEG frames after its ID3 tag, box and chunk
    /// sizes fit, no external references), float PCM without NaN or infinite samples, and for pictures a size from
    /// every header (the largest) within `maxImageDimension` a side and `MediaLimits.maximumPixels`; `video` and
    /// `overlay` clips need a video track whose stated size is within `maxVideoDimension` a side: the largest the
    /// track headers or, for H.264 and HEVC, any sequence parameter set (sample entry or in-band) states.
    /// Throws the API error to answer with: 415 for an unrecognised or unaccepted format, 422 for a file that is not
    /// what it claims or is too large.
    static func inspect(path: String, type: AssetType, maxImageDimension: Int, maxVideoDimension: Int = 4096) throws -> Upload {
        let accepted = type.acceptedFormats.map(\.rawValue).sorted().joined(separator: ", ")
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 32)).flatMap { $0.map { [UInt8]($0) } } ?? []
        guard let format = format(of: head) else {
            throw APIError(
                .unsupportedMediaType, .unsupportedMediaType, "the file is not a recognised \(type.rawValue) format (accepted: \(accepted))",
                field: "file")
        }
        guard type.acceptedFormats.contains(format) else {
            throw APIError(
                .unsupportedMediaType, .unsupportedMediaType, "\(format.rawValue) files cannot be \(type.rawValue) assets (accepted: \(accepted))",
                field: "file")
        }
        let inspection: Inspection
        do {
            inspection = try MediaInspector.inspect(path: path, strict: true, scanSamples: true)
        } catch let error as MediaError {
            throw APIError(.unprocessableContent, .unprocessable, "the file is not a valid \(format.rawValue) file: \(error.message)", field: "file")
        }
        if type == .audio, inspection.hasAudio == false {
            throw APIError(.unprocessableContent, .unprocessable, "the \(format.rawValue) file holds no audio track", field: "file")
        }
        if let width = inspection.coverWidth, let height = inspection.coverHeight,
            width > MediaLimits.maximumSide || height > MediaLimits.maximumSide || width * height > MediaLimits.maximumPixels
        {
            // The renderer never decodes cover art (an audio input discards its other streams, and every probing
            // decoder has the pixel limit); a cover no decoder would take is refused all the same, as any tool that
            // opens the file may try. Ordinary covers of any size a decoder takes are music like any other.
            throw APIError(
                .unprocessableContent, .unprocessable,
                "the cover picture is \(width)x\(height); at most \(MediaLimits.maximumPixels / 1_000_000) megapixels and \(MediaLimits.maximumSide) a side are allowed",
                field: "file")
        }
        if type == .overlay || type == .video {
            // A clip must hold a video track (an audio-only MP4 is an audio asset), and its picture size is limited
            // like an image's: the renderer decodes every frame at that size.
            guard inspection.hasVideo == true else {
                throw APIError(
                    .unprocessableContent, .unprocessable, "the \(format.rawValue) file holds no video track; a \(type.rawValue) asset needs one",
                    field: "file")
            }
            if let width = inspection.width, let height = inspection.height {
                try checkSize(width: width, height: height, maxImageDimension: maxVideoDimension, what: "video")
            }
            return Upload(format: format, width: inspection.width, height: inspection.height, frames: 1)
        }
        guard format.isImage else { return Upload(format: format, frames: 1) }
        guard let width = inspection.width, let height = inspection.height, width > 0, height > 0 else {
            throw APIError(.unprocessableContent, .unprocessable, "cannot read the image size from the \(format.rawValue) header", field: "file")
        }
        try checkSize(width: width, height: height, maxImageDimension: maxImageDimension, what: "image")
        return Upload(format: format, width: width, height: height, frames: inspection.frames)
    }

    /// 422 when a picture or video frame is over `maxImageDimension` a side or `MediaLimits.maximumPixels`.
    static func checkSize(width: Int, height: Int, maxImageDimension: Int, what: String) throws {
        guard width <= maxImageDimension, height <= maxImageDimension, width * height <= MediaLimits.maximumPixels else {
            let side = min(maxImageDimension, MediaLimits.maximumSide)
            throw APIError(
                .unprocessableContent, .unprocessable, "the \(what) is \(width)x\(height); at most \(side)x\(side) is allowed", field: "file")
        }
    }
}
