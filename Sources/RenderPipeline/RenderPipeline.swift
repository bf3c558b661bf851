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

// Public surface the worker and the API build on (bodies land with issue 3).
extension RenderPipeline {
    /// Installed templates, by name, with their one-line descriptions.
    public func templates() throws -> [TemplateInfo] {
        throw PipelineError.notImplemented
    }

    /// Resolves a request into a plan without decoding media heavier than headers.
    public func plan(_ request: RenderRequest) throws -> RenderPlan {
        throw PipelineError.notImplemented
    }

    /// Renders synchronously on the calling thread. `progress` is called at most a few times a second;
    /// `shouldCancel` is polled every frame and stops the render with `PipelineError.cancelled`.
    /// No partial output is left on failure or cancellation.
    public func render(
        _ request: RenderRequest,
        progress: @Sendable (RenderProgress) -> Void = { _ in },
        shouldCancel: @Sendable () -> Bool = { false }
    ) throws -> RenderResult {
        throw PipelineError.notImplemented
    }
}

public struct TemplateInfo: Sendable, Equatable {
    public var name: String
    public var description: String
    public var path: String
}

public enum PipelineError: Error, Sendable, Equatable {
    case notImplemented
    case cancelled
}
