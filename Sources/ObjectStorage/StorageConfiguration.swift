import Foundation
import Logging

/// Which object store rendc uses, parsed once from the environment by the CLI and passed down.
///
/// S3 is chosen when any of `S3_BUCKET`, `S3_ENDPOINT`, `S3_ACCESS_KEY`, `S3_SECRET_KEY` is set; otherwise objects go
/// to the local directory `RENDC_STORAGE_DIR` (default `./storage`). `description` never shows secrets.
public struct StorageConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Backend: Sendable {
        case local(directory: String)
        case s3(S3Configuration)
    }

    public static let defaultDirectory = "./storage"
    public static let defaultRegion = "us-east-1"
    public static let defaultPartSize = 8 * 1024 * 1024

    /// The settings this type reads, for `.env.example` and `rendc doctor`.
    public static let settingNames = [
        "RENDC_STORAGE_DIR", "S3_ENDPOINT", "S3_REGION", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY",
        "S3_SESSION_TOKEN", "S3_FORCE_PATH_STYLE", "S3_PART_SIZE",
    ]

    public var backend: Backend

    public init(backend: Backend) {
        self.backend = backend
    }

    /// Parses the settings from `environment` (the CLI passes `ProcessInfo.processInfo.environment`).
    /// Throws `ObjectStoreError` with code `.configuration` naming the setting that is missing or malformed.
    public init(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func bad(_ name: String, _ message: String) -> ObjectStoreError {
            ObjectStoreError(code: .configuration, key: name, message: message)
        }
        let s3Names = ["S3_BUCKET", "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY"]
        guard s3Names.contains(where: { value($0) != nil }) else {
            backend = .local(directory: value("RENDC_STORAGE_DIR") ?? Self.defaultDirectory)
            return
        }
        let missing = ["S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"].filter { value($0) == nil }
        if !missing.isEmpty {
            throw bad(
                missing.joined(separator: ", "),
                "S3 storage is configured (an S3_* setting is set) but \(missing.joined(separator: ", ")) "
                    + (missing.count == 1 ? "is" : "are") + " missing; set them, or unset every S3_* setting to "
                    + "use the local directory RENDC_STORAGE_DIR")
        }
        let region = value("S3_REGION") ?? Self.defaultRegion
        let endpoint = value("S3_ENDPOINT")
        var forcePathStyle = endpoint != nil
        if let raw = value("S3_FORCE_PATH_STYLE") {
            guard let parsed = Self.parseBool(raw) else {
                throw bad("S3_FORCE_PATH_STYLE", "expected true or false, got \(raw.debugDescription)")
            }
            forcePathStyle = parsed
        }
        var partSize = Self.defaultPartSize
        if let raw = value("S3_PART_SIZE") {
            guard let parsed = Self.parseByteSize(raw) else {
                throw bad("S3_PART_SIZE", "expected a size such as 8MiB, 16MB or 8388608, got \(raw.debugDescription)")
            }
            partSize = parsed
        }
        let configuration = S3Configuration(
            endpoint: endpoint ?? S3Configuration.awsEndpoint(region: region),
            region: region,
            bucket: value("S3_BUCKET") ?? "",
            credentials: .init(
                accessKey: value("S3_ACCESS_KEY") ?? "", secretKey: value("S3_SECRET_KEY") ?? "",
                sessionToken: value("S3_SESSION_TOKEN")),
            forcePathStyle: forcePathStyle,
            partSize: partSize)
        try configuration.validate()
        backend = .s3(configuration)
    }

    public var description: String {
        switch backend {
        case .local(let directory): "local directory \(directory)"
        case .s3(let configuration): "S3 \(configuration)"
        }
    }
    public var debugDescription: String { description }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }

    /// `8388608`, `8MiB`, `8MB` (decimal), `512KiB`, `1GiB`... Returns bytes, nil when malformed.
    static func parseByteSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let multipliers: [String: Int] = [
            "": 1, "b": 1, "k": 1_000, "kb": 1_000, "kib": 1 << 10, "m": 1_000_000, "mb": 1_000_000,
            "mib": 1 << 20, "g": 1_000_000_000, "gb": 1_000_000_000, "gib": 1 << 30,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let (result, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : result
    }
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
