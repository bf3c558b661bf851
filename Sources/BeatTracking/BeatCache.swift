import Digests
import Crypto
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

    package func lookup(forFile path: String, maxDuration: Double?, tracker: BeatTracker) throws -> Lookup {
        let key = try cacheKey(forFile: path, maxDuration: maxDuration)
        let entry = URL(fileURLWithPath: directory).appendingPathComponent("beats-\(key).json")
        if let data = try? Data(contentsOf: entry), let cached = try? JSONDecoder().decode(BeatAnalysis.self, from: data) {
            return Lookup(analysis: cached, fromCache: true, writeError: nil)
        }
        let analysis = try tracker.analyze(file: path, maxDuration: maxDuration)
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

    /// Hex SHA-256 over the file's bytes, the maximum duration and the algorithm version.
    package func cacheKey(forFile path: String, maxDuration: Double?) throws -> String {
        var isDirectory = false
        guard fileExists(path, isDirectory: &isDirectory) else { throw BeatTrackingError(.fileNotFound, path: path, "no such file") }
        guard !isDirectory, let handle = FileHandle(forReadingAtPath: path) else {
            throw BeatTrackingError(.unreadable, path: path, "cannot be read")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data
            do {
                guard let read = try handle.read(upToCount: 1 << 20) else { break }
                chunk = read
            } catch {
                throw BeatTrackingError(.unreadable, path: path, "cannot be read (\(error))")
            }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        let suffix = "|max=\(maxDuration.map { String($0) } ?? "all")|rate=\(BeatTracker.analysisRate)|v=\(BeatTracker.algorithmVersion)"
        hasher.update(data: Data(suffix.utf8))
        return hasher.finalize().hexString
    }
}
