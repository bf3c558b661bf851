import ArgumentParser
import BeatTracking
import Foundation

/// `rendc beats song.mp3`: tempo, confidence and beat times of an audio file.
struct BeatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beats",
        abstract: "Print the tempo, confidence and beat times of an audio file.",
        discussion: "Several files may be given (the accuracy benchmark does); --json then prints one object a line."
    )

    @Argument(help: "Audio file(s): anything libavformat reads (MP3, M4A/AAC, OGG, Opus, FLAC, WAV).")
    var files: [String]

    @Option(
        name: .customLong("max-duration"),
        help: "Analyse at most this many seconds from the start (default 600: memory grows with the length analysed, about 0.5 GB an hour).")
    var maxDuration: Double = 600

    @Flag(help: "Print JSON (with the wall-clock and CPU seconds of the analysis) instead of text.")
    var json = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give an audio file") }
        if !(maxDuration > 0) { throw ValidationError("--max-duration must be a positive number of seconds") }
    }

    func run() throws {
        let tracker = BeatTracker()
        var failed = false
        for file in files {
            let start = DispatchTime.now().uptimeNanoseconds
            let startCPU = clock()
            let analysis: BeatAnalysis
            do {
                analysis = try tracker.analyze(file: file, maxDuration: maxDuration)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                failed = true
                continue
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let cpuSeconds = Double(clock() - startCPU) / Double(CLOCKS_PER_SEC)
            if json {
                print(Self.json(file: file, analysis: analysis, seconds: seconds, cpuSeconds: cpuSeconds))
            } else {
                print(Self.text(file: file, analysis: analysis, seconds: seconds))
            }
        }
        if failed { throw ExitCode.failure }
    }

    static func text(file: String, analysis: BeatAnalysis, seconds: Double) -> String {
        var lines = ["\(file):"]
        lines.append("  tempo:      \(analysis.beats.isEmpty ? "none found" : String(format: "%.1f BPM", analysis.tempo))")
        lines.append("  confidence: \(String(format: "%.2f", analysis.confidence))")
        lines.append(
            "  analysed:   \(String(format: "%.1f", analysis.analysedDuration)) s of \(String(format: "%.1f", analysis.trackDuration)) s in \(String(format: "%.3f", seconds)) s"
        )
        lines.append("  beats (\(analysis.beats.count)):")
        var row: [String] = []
        for beat in analysis.beats {
            row.append(String(format: "%.3f", beat))
            if row.count == 8 { lines.append("    " + row.joined(separator: " ")); row = [] }
        }
        if !row.isEmpty { lines.append("    " + row.joined(separator: " ")) }
        if !analysis.reliableSpans.isEmpty {
            let spans = analysis.reliableSpans.map { String(format: "%.2f-%.2f s", $0.lowerBound, $0.upperBound) }
            lines.append("  reliable:   \(spans.joined(separator: ", "))\(analysis.isPartial ? " (partial: beats only there)" : "")")
        }
        return lines.joined(separator: "\n")
    }

    static func json(file: String, analysis: BeatAnalysis, seconds: Double, cpuSeconds: Double) -> String {
        struct Output: Encodable {
            var file: String
            var tempo: Double
            var confidence: Double
            var beats: [Double]
            /// Sections (seconds, `[start, end]`) where the beats can be trusted; `partial`: beats only there.
            var reliableSpans: [[Double]]
            var partial: Bool
            var analysedDuration: Double
            var trackDuration: Double
            var analysisSeconds: Double
            var cpuSeconds: Double
        }
        let output = Output(
            file: file, tempo: analysis.tempo, confidence: analysis.confidence, beats: analysis.beats,
            reliableSpans: analysis.reliableSpans.map { [$0.lowerBound, $0.upperBound] },
            partial: analysis.isPartial, analysedDuration: analysis.analysedDuration, trackDuration: analysis.trackDuration,
            analysisSeconds: seconds, cpuSeconds: cpuSeconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(output) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
