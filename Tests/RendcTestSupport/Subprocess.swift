import Foundation

/// Runs a command-line tool to its end (ffmpeg/ffprobe as independent makers and checkers, the rendc binary, Python
/// test scripts). Output goes through temporary files, so a tool that writes much to both streams cannot block.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var errors: String
        /// Standard output and standard error, in that order.
        public var combined: String { output + errors }
    }

    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil
    ) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rendc-subprocess-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        return Result(
            status: process.terminationStatus,
            output: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
            errors: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }
}
