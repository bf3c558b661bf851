import Digests
import Foundation

/// Beat analyses stored as JSON under a directory, keyed by a SHA-256 of the audio file's bytes, the maximum
/// duration analysed and the algorithm version: the same track is analysed once. A failed cache write is not an
/// error (the analysis is still returned).
public struct BeatCache: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func analysis(forFile path: String, maxDuration: Double?, tracker: BeatTracker) throws -> BeatAnalysis {
        try lookup(forFile: path, maxDuration: maxDuration, tracker: tracker).analysis
    }

    package struct Lookup: Sendable {
        package var analysis: BeatAnalysis
        /// True when the result was read from the cache (no decoding, no analysis).
        package var fromCache: Bool
        /// Why the result could not be stored, if it could not.
        package var writeError: String?
    }

    /// `contentHash`: the file's `SHA256Hex.ofFile`, when the caller has it already (then the file is not read again).
    /// `from`: analyse the track from there (`BeatTracker.analyze(file:from:maxDuration:)`); it is part of the key.
    package func lookup(
        forFile path: String, from start: Double = 0, maxDuration: Double?, tracker: BeatTracker, contentHash: String? = nil
    ) throws -> Lookup {
        let key = try cacheKey(forFile: path, from: start, maxDuration: maxDuration, contentHash: contentHash)
        let entry = URL(fileURLWithPath: directory).appendingPathComponent("beats-\(key).json")
        if let data = try? Data(contentsOf: entry), let cached = try? JSONDecoder().decode(BeatAnalysis.self, from: data) {
            return Lookup(analysis: cached, fromCache: true, writeError: nil)
        }
        let analysis = try tracker.analyze(file: path, from: start, maxDuration: maxDuration)
        var writeError: String?
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(analysis).write(to: entry, options: .atomic)
        } catch {
            writeError = "cannot write the beat cache entry \(entry.path): \(error)"
        }
        return Lookup(analysis: analysis, fromCache: false, writeError: writeError)
    }

    /// Hex SHA-256 over the file's content hash, the part analysed (start, when not 0, and maximum duration) and the
    /// algorithm version.
    package func cacheKey(forFile path: String, from start: Double = 0, maxDuration: Double?, contentHash: String? = nil) throws -> String {
        var isDirectory = false
        guard fileExists(path, isDirectory: &isDirectory) else { throw BeatTrackingError(.fileNotFound, path: path, "no such file") }
        guard !isDirectory else { throw BeatTrackingError(.unreadable, path: path, "cannot be read") }
        let content: String
        if let contentHash {
            content = contentHash
        } else {
            do { content = try SHA256Hex.ofFile(path) } catch { throw BeatTrackingError(.unreadable, path: path, "cannot be read") }
        }
        let window = start > 0 ? "|from=\(start)" : ""
        let suffix = window + "|max=\(maxDuration.map { String($0) } ?? "all")|rate=\(BeatTracker.analysisRate)|v=\(BeatTracker.algorithmVersion)"
        return SHA256Hex.of(content + suffix)
    }
}
