import Foundation
import Logging

/// Which object store rendc uses: a local folder or an S3 bucket. The CLI's `Settings` builds it from the
/// environment and passes it down. `description` never shows secrets.
public struct StorageConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Backend: Sendable {
        case local(directory: String)
        case s3(S3Configuration)
    }

    public static let defaultDirectory = "./storage"
    public static let defaultRegion = "us-east-1"
    public static let defaultPartSize = 8 * 1024 * 1024

    public var backend: Backend

    public init(backend: Backend) {
        self.backend = backend
    }

    public var description: String {
        switch backend {
        case .local(let directory): "local directory \(directory)"
        case .s3(let configuration): "S3 \(configuration)"
        }
    }
    public var debugDescription: String { description }
}

/// The object store `configuration` describes. S3 stores use `HTTPClient.shared`.
public func makeStore(configuration: StorageConfiguration, logger: Logger) throws -> any ObjectStore {
    switch configuration.backend {
    case .local(let directory):
        return LocalDirectoryStore(root: directory)
    case .s3(let s3):
        return try S3Store(configuration: s3, logger: logger)
    }
}
