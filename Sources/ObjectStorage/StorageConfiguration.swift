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

/// The object store `configuration` describes. S3 stores use `HTTPClient.shared`. A local store is swept of the
/// temporary files a killed process left behind (older than an hour) before it is returned.
public func makeStore(configuration: StorageConfiguration, logger: Logger) throws -> any ObjectStore {
    switch configuration.backend {
    case .local(let directory):
        let store = LocalDirectoryStore(root: directory)
        let swept = store.sweepStaleTemporaries()
        if swept.removed > 0 || swept.failed > 0 {
            logger.notice(
                "removed temporary files left by an interrupted write", metadata: ["removed": "\(swept.removed)", "failed": "\(swept.failed)"])
        }
        return store
    case .s3(let s3):
        return try S3Store(configuration: s3, logger: logger)
    }
}
