internal import CFFmpeg
import Foundation
import MediaFormats

/// Process-wide libav* logging: quiet (errors only) unless configured first.
package enum LibAVLogging {
    nonisolated(unsafe) private static var configured = false
    private static let defaultLevel: Void = {
        if !configured { av_log_set_level(AV_LOG_ERROR) }
    }()

    static func applyDefault() { _ = defaultLevel }

    /// Quiets libav's own console output to errors only (rendc reports progress and problems itself).
    package static func configure(verbose: Bool) {
        configured = true
        av_log_set_level(verbose ? AV_LOG_INFO : AV_LOG_ERROR)
    }
}

/// What the FFmpeg libraries linked into this process can do (for `rendc doctor`).
package enum FFmpegCapabilities {
    /// The libraries' versions, as (name, major, minor, micro).
    package static var libraryVersions: [(name: String, major: Int, minor: Int, micro: Int)] {
        let raw: [(String, UInt32)] = [
            ("libavutil", avutil_version()), ("libavcodec", avcodec_version()), ("libavformat", avformat_version()),
            ("libavfilter", avfilter_version()), ("libswscale", swscale_version()), ("libswresample", swresample_version()),
        ]
        return raw.map { (name: String, v: UInt32) -> (name: String, major: Int, minor: Int, micro: Int) in
            (name, Int(v >> 16), Int((v >> 8) & 0xFF), Int(v & 0xFF))
        }
    }

    /// FFmpeg's own version string.
    package static var versionInfo: String { av_version_info().map { String(cString: $0) } ?? "unknown" }

    package static func hasEncoder(_ name: String) -> Bool { avcodec_find_encoder_by_name(name) != nil }
    package static func hasDecoder(_ name: String) -> Bool { avcodec_find_decoder_by_name(name) != nil }
    package static func hasFilter(_ name: String) -> Bool { avfilter_get_by_name(name) != nil }

    /// Demuxers of the allow-list this FFmpeg lacks (each container rendc reads needs its own).
    package static var missingDemuxers: [String] {
        Container.allCases.map(\.demuxer).filter { av_find_input_format($0) == nil }
    }
}
