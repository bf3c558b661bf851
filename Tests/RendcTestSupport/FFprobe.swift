import Foundation

/// ffprobe (Debian's ffmpeg package) as an independent checker of rendc's output: never used to render.
public enum FFprobe {
    public struct Stream: Sendable {
        public var codecType: String
        public var codecName: String
        public var width: Int?
        public var height: Int?
        public var pixelFormat: String?
        public var sampleRate: Int?
        public var channels: Int?
        public var frameRate: String?
    }
    public struct Info: Sendable {
        public var streams: [Stream]
        public var duration: Double
        public var video: Stream? { streams.first { $0.codecType == "video" } }
        public var audio: Stream? { streams.first { $0.codecType == "audio" } }
    }

    public static func probe(_ path: String) throws -> Info {
        let out = try run(["/usr/bin/ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", path])
        guard let json = try JSONSerialization.jsonObject(with: out) as? [String: Any] else { throw ProbeError(message: "ffprobe printed no JSON") }
        let streams = (json["streams"] as? [[String: Any]] ?? []).map { s in
            Stream(
                codecType: s["codec_type"] as? String ?? "", codecName: s["codec_name"] as? String ?? "",
                width: s["width"] as? Int, height: s["height"] as? Int, pixelFormat: s["pix_fmt"] as? String,
                sampleRate: (s["sample_rate"] as? String).flatMap(Int.init), channels: s["channels"] as? Int,
                frameRate: s["r_frame_rate"] as? String
            )
        }
        let duration = ((json["format"] as? [String: Any])?["duration"] as? String).flatMap(Double.init) ?? 0
        return Info(streams: streams, duration: duration)
    }

    /// Number of video frames, counted by decoding.
    public static func frameCount(_ path: String) throws -> Int {
        let out = try run([
            "/usr/bin/ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
            path,
        ])
        return Int(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Whether the MP4's index (moov) comes before the media data (faststart).
    public static func isFaststart(_ path: String) throws -> Bool {
        let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(ofLength: 1 << 16)
        guard let moov = head.range(of: Data("moov".utf8)) else { return false }
        guard let mdat = head.range(of: Data("mdat".utf8)) else { return true }
        return moov.lowerBound < mdat.lowerBound
    }

    struct ProbeError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    static func run(_ args: [String]) throws -> Data {
        let result = try Subprocess.run(args[0], Array(args.dropFirst()))
        guard result.status == 0 else { throw ProbeError(message: "\(args.joined(separator: " ")) failed (\(result.status))") }
        return Data(result.output.utf8)
    }
}
