import Foundation
import LayerCache
import Logging
import RendcSettings
import RenderPipeline
import FilterGraphBackend

/// The settings of this process: parsed once, at the top of the command that runs, and passed down as values.
/// A malformed variable stops the command with one line naming it.
func loadSettings() throws -> Settings {
    try Settings.fromProcess()
}

extension Settings {
    /// A logger at `RENDC_LOG_LEVEL`, or at `override` (a `--log-level` flag) when given.
    func logger(_ label: String = "rendc", override: Logger.Level? = nil) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = override ?? logLevel
        return logger
    }

    /// The renderer, with `extraTemplates` (flags) searched first. Tunes this process's allocator for rendering.
    /// `longRunning` processes (the worker, the studio) also keep prepared layers in memory (`RENDC_CACHE_MB`).
    func renderPipeline(extraTemplates: [String] = [], logger: Logger, longRunning: Bool = false) -> RenderPipeline {
        Backend.tuneAllocator()
        Backend.configureLogging(verbose: verbose)
        return RenderPipeline(configuration: pipeline(extraTemplates: extraTemplates, longRunning: longRunning), logger: logger)
    }
}

extension RenderPipeline {
    /// A warning when no template parses in the folders searched (serve and worker would refuse or fail every job;
    /// trial15b: serve started silently with none), naming the folders and the variable to set.
    func warnWhenNoTemplates(_ logger: Logger) {
        guard ((try? templates()) ?? []).isEmpty else { return }
        logger.warning(
            "no template parses in the template folders: every job will be refused; set RENDC_SPECS_DIR to the folder of the template .yaml files (rendc doctor checks it)",
            metadata: ["searched": "\(configuration.templateDirectories.joined(separator: ", "))"])
    }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
