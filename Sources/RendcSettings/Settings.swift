import Foundation
import JobAPI
import JobQueue
import LayerCache
import Logging
import ObjectStorage
import RenderPipeline
import Webhooks

/// Every setting rendc reads, parsed once from the environment by the command that runs and passed down as
/// values. This target is the only code that knows environment variable names; no library target reads the
/// environment. Flags override the variables they name; commands apply them to these values.
///
/// The settings every command shares are parsed at once (a malformed `VIDEO_MAX_DURATION` fails every command
/// alike); the service sections (database, storage, API, webhooks, worker) are parsed by the commands that use them.
public struct Settings: Sendable {
    let reader: SettingsReader

    /// `RENDC_LOG_LEVEL` (info).
    public var logLevel: Logger.Level
    /// The built-in `specs/` folder: `RENDC_SPECS_DIR`, else found beside the executable, else ./specs.
    public var specsDirectory: String
    /// `RENDC_TEMPLATES`: designer folders (colon-separated), searched before the built-in specs.
    public var templateDirectories: [String]
    /// `RENDC_ASSETS_DIR`: generated built-in assets (demo track, overlay loops).
    public var assetsDirectory: String
    /// `RENDC_CACHE_DIR`: beat analyses and other caches kept between runs.
    public var cacheDirectory: String
    /// `VIDEO_TEMP_DIR` (the system temporary folder): per-render and upload scratch files.
    public var temporaryDirectory: String
    /// `VIDEO_MAX_DURATION` (60, from 1 to 3600 seconds): the longest video a job or render may ask for.
    public var maxDuration: Double
    /// `RENDC_CACHE_MB` (256; 0 = none): megabytes of prepared layers a long-running process (the worker, the studio)
    /// keeps in memory, on top of a render's own memory.
    public var cacheMegabytes: Int
    /// `RENDC_CACHE_DISK_MB` (4096; 0 = no limit): megabytes the prepared layers in `RENDC_CACHE_DIR/layers` may take
    /// on disk; past it the entries used longest ago are removed.
    public var cacheDiskMegabytes: Int

    /// Parses the shared settings. `executablePath` and `currentDirectory` locate the built-in specs when
    /// `RENDC_SPECS_DIR` is unset.
    public init(
        environment: [String: String], executablePath: String = CommandLine.arguments.first ?? "rendc",
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws {
        let reader = SettingsReader(environment)
        self.reader = reader
        logLevel = try reader.choice("RENDC_LOG_LEVEL", default: Logger.Level.info)
        specsDirectory = reader.string("RENDC_SPECS_DIR") ?? Self.findSpecs(executablePath: executablePath, currentDirectory: currentDirectory)
        templateDirectories = (reader.string("RENDC_TEMPLATES") ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        if let dir = reader.string("RENDC_ASSETS_DIR") {
            assetsDirectory = dir
        } else {
            let root = URL(fileURLWithPath: specsDirectory).deletingLastPathComponent()
            assetsDirectory =
                FileManager.default.isWritableFile(atPath: root.path)
                ? root.appendingPathComponent("assets/generated").path
                : FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rendc/assets").path
        }
        cacheDirectory = reader.string("RENDC_CACHE_DIR") ?? (assetsDirectory as NSString).deletingLastPathComponent + "/cache"
        temporaryDirectory = reader.string("VIDEO_TEMP_DIR") ?? NSTemporaryDirectory()
        maxDuration = try reader.number("VIDEO_MAX_DURATION", default: 60, range: 1...3600)
        cacheMegabytes = try reader.integer("RENDC_CACHE_MB", default: 256, range: 0...1_048_576, what: "megabytes")
        cacheDiskMegabytes = try reader.integer("RENDC_CACHE_DISK_MB", default: 4096, range: 0...1_073_741_824, what: "megabytes")
    }

    /// The process's own environment.
    public static func fromProcess() throws -> Settings {
        try Settings(environment: ProcessInfo.processInfo.environment)
    }

    /// The worker's scratch folder: `VIDEO_TEMP_DIR` when set, else `rendc-worker` in the system temporary folder
    /// (the worker sweeps stale job folders in it, so it is never the shared temporary folder itself).
    public var workerTemporaryDirectory: String {
        reader.string("VIDEO_TEMP_DIR") ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("rendc-worker")
    }

    /// Whether `VIDEO_TEMP_DIR` is set (else ``temporaryDirectory`` is the system's).
    public var temporaryDirectoryIsSet: Bool { reader.string("VIDEO_TEMP_DIR") != nil }

    /// `RENDC_LOG_LEVEL` is debug or trace.
    public var verbose: Bool { logLevel <= .debug }

    /// The renderer's configuration: `extraTemplates` (flags) first, then `RENDC_TEMPLATES`, then the built-ins.
    /// Prepared layers are cached on disk under `RENDC_CACHE_DIR/layers` for every command, and in memory only for
    /// `longRunning` processes (a one-shot `render` or `still` would not reuse them).
    public func pipeline(extraTemplates: [String] = [], longRunning: Bool = false) -> PipelineConfiguration {
        // Absolute, so that media a template names beside itself stay found from any folder (an exported run.sh runs
        // from its own).
        let directories = (extraTemplates + templateDirectories + [specsDirectory]).map {
            URL(fileURLWithPath: $0).standardizedFileURL.path
        }
        return PipelineConfiguration(
            templateDirectories: directories, assetsDirectory: assetsDirectory,
            cacheDirectory: cacheDirectory, temporaryDirectory: temporaryDirectory, maxDuration: maxDuration,
            layerCache: LayerCacheConfiguration(
                memoryBytes: longRunning ? cacheMegabytes << 20 : 0, directory: (cacheDirectory as NSString).appendingPathComponent("layers"),
                diskBytes: cacheDiskMegabytes << 20))
    }

    /// `RENDC_METRICS` (true): whether this process exports Prometheus metrics.
    public func metricsEnabled() throws -> Bool { try reader.flag("RENDC_METRICS", default: true) }

    static func findSpecs(executablePath: String, currentDirectory: String) -> String {
        let beside = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        if let found = findUpwards("specs", from: beside) { return found }
        for candidate in ["/usr/local/share/rendc/specs", "/usr/share/rendc/specs"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return findUpwards("specs", from: URL(fileURLWithPath: currentDirectory)) ?? "specs"
    }

    /// A `specs` folder in `start` or one of its parents, beside a Package.swift (a checkout) or under /usr.
    static func findUpwards(_ name: String, from start: URL) -> String? {
        var dir = start
        for _ in 0..<8 {
            let candidate = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), isDir.boolValue,
                FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) || dir.path.hasPrefix("/usr")
            {
                return candidate.path
            }
            dir.deleteLastPathComponent()
        }
        return nil
    }
}
