import Logging
import Planner
import SpecLang

/// Where the pipeline finds templates and default assets, and where it may write.
public struct PipelineConfiguration: Sendable {
    /// Folders searched for `NAME.yaml`, first match wins (designer folders first, the built-in `specs/` last).
    public var templateDirectories: [String]
    /// Folder of the generated default assets (overlay loops, frame PNGs, music).
    public var assetsDirectory: String
    /// Folder for caches (beat analysis), or nil for none.
    public var cacheDirectory: String?
    /// Folder for temporary files.
    public var temporaryDirectory: String

    public init(templateDirectories: [String], assetsDirectory: String, cacheDirectory: String? = nil, temporaryDirectory: String) {
        self.templateDirectories = templateDirectories
        self.assetsDirectory = assetsDirectory
        self.cacheDirectory = cacheDirectory
        self.temporaryDirectory = temporaryDirectory
    }
}

/// The one composition both `rendc render` and the worker run: load template -> beats -> caption -> plan -> backend.
public final class RenderPipeline: Sendable {
    public let configuration: PipelineConfiguration
    let logger: Logger

    public init(configuration: PipelineConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }
}
