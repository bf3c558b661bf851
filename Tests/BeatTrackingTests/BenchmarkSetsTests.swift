import Foundation
import Testing

/// The real-music sets of bench/beats (docs/beats.md) must not leak into each other: the corpus and validation set
/// judge the tracker, the training list teaches the activations (its sixth-round packages are the development set for
/// models trained without them), and frozen-bubble and hyperrogue are the independent check nobody tunes on.
@Suite struct BenchmarkSetsTests {
    static let bench = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("bench/beats")

    struct Row { var id: String; var package: String; var file: String }

    /// The rows of a corpus-format list: id, package, file, start, style (tab-separated, '#' comments).
    static func rows(_ name: String) throws -> [Row] {
        try String(contentsOf: bench.appendingPathComponent(name), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { line in
                let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                return Row(id: f[0], package: f.count > 1 ? f[1] : "", file: f.count > 2 ? f[2] : "")
            }
    }

    struct Reference: Decodable {
        struct Track: Decodable { var package: String; var file: String; var tempo: Double; var beats: [Double] }
        var tracks: [String: Track]
    }

    static func reference(_ name: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: bench.appendingPathComponent(name)))
    }

    @Test func setsAreDisjoint() throws {
        let corpus = try Self.rows("corpus.tsv"), training = try Self.rows("training.tsv")
        let independent = try Self.rows("independent.tsv")
        let validation = try Self.reference("validation.json").tracks
        #expect(independent.count >= 20)
        let held = Set(independent.map(\.package))
        #expect(held == ["frozen-bubble-data", "hyperrogue-music"])
        let others = corpus.map(\.package) + training.map(\.package) + validation.values.map(\.package)
        #expect(others.allSatisfy { !$0.contains("frozen-bubble") && !$0.contains("hyperrogue") && !$0.hasPrefix("fb-music") })
        // No excerpt id twice, and no music file both trained on and judged on.
        let ids = corpus.map(\.id) + training.map(\.id) + independent.map(\.id) + Array(validation.keys)
        #expect(Set(ids).count == ids.count)
        let judged = Set(corpus.map(\.file) + validation.values.map(\.file) + independent.map(\.file))
        #expect(training.allSatisfy { !judged.contains($0.file) }, "a training file is also in a judged set")
        #expect(Set(training.map(\.package)).isDisjoint(with: corpus.map(\.package) + validation.values.map(\.package)))
    }

    /// Every training row has madmom's beats (the TCN's targets) for the same package and file, and nothing else does.
    @Test func trainingReferenceCoversItsList() throws {
        let list = try Self.rows("training.tsv"), reference = try Self.reference("training_reference.json").tracks
        #expect(list.count >= 600)
        #expect(Set(list.map(\.id)) == Set(reference.keys))
        for row in list {
            guard let track = reference[row.id] else { continue }
            #expect(track.package == row.package && track.file == row.file, "\(row.id)")
            #expect(track.beats.count >= 10 && track.beats.allSatisfy { $0 >= 0 && $0 <= 30.05 }, "\(row.id)")
            #expect(zip(track.beats.dropFirst(), track.beats).allSatisfy { $0 > $1 }, "\(row.id): beats not increasing")
        }
    }

    @Test func independentReferenceCoversItsList() throws {
        let list = try Self.rows("independent.tsv"), reference = try Self.reference("independent.json").tracks
        #expect(Set(list.map(\.id)) == Set(reference.keys))
        for row in list {
            guard let track = reference[row.id] else { continue }
            #expect(track.package == row.package && track.file == row.file, "\(row.id)")
            #expect(track.beats.count >= 10 && track.beats.allSatisfy { $0 >= 0 && $0 <= 30 }, "\(row.id)")
            let gaps = zip(track.beats.dropFirst(), track.beats).map { $0 - $1 }.sorted()
            #expect(gaps.first ?? 0 > 0, "\(row.id): beats not increasing")
            // The stored tempo is the beats' own (median interval, within 4 %).
            #expect(abs(60 / gaps[gaps.count / 2] / track.tempo - 1) < 0.04, "\(row.id): tempo \(track.tempo)")
        }
    }
}
