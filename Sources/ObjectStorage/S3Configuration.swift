import Foundation

/// Where and how to reach an S3-compatible bucket. `description` never shows the secret key.
public struct S3Configuration: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// S3's smallest allowed part (every part but the last must be at least this big).
    public static let minimumPartSize = 5 * 1024 * 1024
    /// S3's largest part count per upload.
    public static let maximumPartCount = 10_000

    /// `scheme://host[:port]`, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000`.
    public var endpoint: String
    public var region: String
    public var bucket: String
    public var credentials: SigV4Signer.Credentials
    /// `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (needed by most self-hosted servers).
    public var forcePathStyle: Bool
    /// Files larger than this go up as a multipart upload of parts this size (at least 5 MiB).
    public var partSize: Int
    /// Tries per request, the first included; 5xx answers and connection failures are retried.
    public var maxAttempts: Int
    /// Backoff before the second try, doubled each time (with jitter), capped at `maximumBackoff`.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// Limit for one HTTP request (one part, or a whole small object).
    public var requestTimeout: Duration

    public init(
        endpoint: String, region: String, bucket: String, credentials: SigV4Signer.Credentials,
        forcePathStyle: Bool = true, partSize: Int = 8 * 1024 * 1024, maxAttempts: Int = 4,
        initialBackoff: Duration = .milliseconds(200), maximumBackoff: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(300)
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.credentials = credentials
        self.forcePathStyle = forcePathStyle
        self.partSize = partSize
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.requestTimeout = requestTimeout
    }

    /// AWS's own regional endpoint, `https://s3.{region}.amazonaws.com`.
    public static func awsEndpoint(region: String) -> String { "https://s3.\(region).amazonaws.com" }

    public var description: String {
        "S3Configuration(endpoint: \(endpoint), region: \(region), bucket: \(bucket), "
            + "accessKey: \(credentials.accessKey), secretKey: <redacted>, forcePathStyle: \(forcePathStyle), "
            + "partSize: \(partSize))"
    }
    public var debugDescription: String { description }

    /// The endpoint split into what requests need. Throws `.configuration` errors naming the bad setting.
    struct Endpoint: Sendable {
        var scheme: String
        var host: String
        var port: Int?

        /// `host[:port]` as the `Host` header carries it (port only when not the scheme's default).
        var hostHeader: String {
            guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return host }
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    func parsedEndpoint() throws -> Endpoint {
        func bad(_ message: String) -> ObjectStoreError {
            ObjectStoreError(code: .configuration, key: "S3_ENDPOINT", message: message)
        }
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { throw bad("not a URL with a scheme and a host: \(endpoint.debugDescription)") }
        guard scheme == "http" || scheme == "https" else { throw bad("scheme must be http or https, not \(scheme)") }
        guard components.path.isEmpty || components.path == "/" else {
            throw bad("must not have a path (put the bucket in S3_BUCKET): \(endpoint)")
        }
        guard components.query == nil, components.user == nil, components.password == nil else {
            throw bad("must not carry a query or user info")
        }
        return Endpoint(scheme: scheme, host: host, port: components.port)
    }

    /// Checks every setting; the error names the setting and what is wrong.
    public func validate() throws {
        func bad(_ setting: String, _ message: String) -> ObjectStoreError {
            ObjectStoreError(code: .configuration, key: setting, message: message)
        }
        // The region first: the default endpoint is built from it.
        if region.isEmpty { throw bad("S3_REGION", "is empty") }
        if !region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            throw bad("S3_REGION", "may hold only letters, digits and '-': \(region.debugDescription)")
        }
        _ = try parsedEndpoint()
        if bucket.count < 3 || bucket.count > 63
            || !bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") })
        {
            throw bad("S3_BUCKET", "must be 3-63 characters of a-z, 0-9, '.', '-': \(bucket.debugDescription)")
        }
        if credentials.accessKey.isEmpty { throw bad("S3_ACCESS_KEY", "is empty") }
        if credentials.secretKey.isEmpty { throw bad("S3_SECRET_KEY", "is empty") }
        if partSize < Self.minimumPartSize {
            throw bad("S3_PART_SIZE", "\(partSize) bytes is below S3's minimum part size of 5 MiB")
        }
        if maxAttempts < 1 { throw bad("maxAttempts", "must be at least 1") }
    }
}
