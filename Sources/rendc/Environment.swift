import Foundation
import LayerCache
import Logging
import RenderPipeline
import FilterGraphBackend

/// Settings read once from the environment (and flags) at the top; everything below takes them as values.
struct RendcEnvironment {
    let env: [String: String]
    init(_ env: [String: String] = ProcessInfo.processInfo.environment) { self.env = env }

    /// The built-in `specs/` folder: RENDC_SPECS_DIR, else found beside the executable (a checkout or an install), else ./specs.
    var builtinSpecsDirectory: String {
        if let dir = env["RENDC_SPECS_DIR"], !dir.isEmpty { return dir }
        if let found = Self.findUpwards("specs", from: URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()) { return found }
        for candidate in ["/usr/local/share/rendc/specs", "/usr/share/rendc/specs"] where FileManager.default.fileExists(atPath: candidate) { return candidate }
        return Self.findUpwards("specs", from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) ?? "specs"
    }

    static func findUpwards(_ name: String, from start: URL) -> String? {
        var dir = start
        for _ in 0..<8 {
            let candidate = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), isDir.boolValue,
               FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) || name != "specs" || dir.path.hasPrefix("/usr") {
                return candidate.path
            }
            dir.deleteLastPathComponent()
        }
        return nil
    }

    /// Designer folders (flag, then RENDC_TEMPLATES, colon-separated) before the built-in templates.
    func templateDirectories(extra: [String]) -> [String] {
        let fromEnv = (env["RENDC_TEMPLATES"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        return extra + fromEnv + [builtinSpecsDirectory]
    }

    var assetsDirectory: String {
        if let dir = env["RENDC_ASSETS_DIR"], !dir.isEmpty { return dir }
        let specs = URL(fileURLWithPath: builtinSpecsDirectory)
        let beside = specs.deletingLastPathComponent().appendingPathComponent("assets/generated")
        if FileManager.default.isWritableFile(atPath: specs.deletingLastPathComponent().path) { return beside.path }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rendc/assets").path
    }

    var temporaryDirectory: String { env["VIDEO_TEMP_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory() }

    var maxDuration: Double { env["VIDEO_MAX_DURATION"].flatMap(Double.init) ?? 60 }

    var cacheDirectory: String {
        env["RENDC_CACHE_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? (assetsDirectory as NSString).deletingLastPathComponent + "/cache"
    }

    /// RENDC_CACHE_MB: megabytes of prepared layers a long-running process (the worker, the studio) keeps in memory,
    /// on top of a render's own memory; 256 unless set, 0 turns the in-memory cache off.
    var cacheMegabytes: Int { env["RENDC_CACHE_MB"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { max(0, $0) } ?? 256 }

    /// Prepared pictures and overlay loops: on disk under RENDC_CACHE_DIR/layers for every command, and in memory
    /// (RENDC_CACHE_MB) only for long-running processes (a one-shot `render` or `still` would not reuse them).
    func layerCache(longRunning: Bool) -> LayerCacheConfiguration {
        LayerCacheConfiguration(memoryBytes: longRunning ? cacheMegabytes << 20 : 0, directory: (cacheDirectory as NSString).appendingPathComponent("layers"))
    }

    func pipeline(extraTemplates: [String] = [], logger: Logger, longRunning: Bool = false) -> RenderPipeline {
        tuneMemoryAllocator()
        Backend.configureLogging(verbose: env["RENDC_LOG_LEVEL"] == "debug" || env["RENDC_LOG_LEVEL"] == "trace")
        return RenderPipeline(configuration: PipelineConfiguration(
            templateDirectories: templateDirectories(extra: extraTemplates), assetsDirectory: assetsDirectory,
            cacheDirectory: cacheDirectory, temporaryDirectory: temporaryDirectory, maxDuration: maxDuration,
            layerCache: layerCache(longRunning: longRunning)
        ), logger: logger)
    }
}

func makeLogger(_ label: String = "rendc") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["RENDC_LOG_LEVEL"] ?? "") ?? .info
    return logger
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Frame-sized buffers (megabytes each) come and go while a render prepares its layers, and libx264's threads
/// allocate in arenas of their own. With glibc's defaults the freed buffers stay in the heap and every thread
/// arena grows, so peak RSS ends ~100 MB above what is live. Large blocks are mmapped (returned on free) and
/// arenas are capped instead.
func tuneMemoryAllocator() {
    Backend.tuneAllocator()
}
