import Foundation

/// What an input is opened for: it decides the containers allowed and the stream decoded.
package enum MediaKind: Sendable {
    case audio
    /// Overlay loops: a video, or a still or animated picture.
    case video
    case image

    package var noun: String {
        switch self {
        case .audio: "audio"
        case .video: "video"
        case .image: "image"
        }
    }
}
