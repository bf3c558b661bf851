import Foundation
import JobAPI
import JobQueue
import ObjectStorage
import Webhooks

// The job service's sections: parsed by `serve`, `worker`, `migrate`, `tenant` and `doctor`, each when it needs them.

extension Settings {
    /// `DATABASE_URL`, else `DB_HOST` (localhost), `DB_PORT` (5432), `DB_NAME` (required), `DB_USER` (postgres),
    /// `DB_PASSWORD`, `DB_SSLMODE` (prefer); with either, `DB_CONNECT_TIMEOUT` (3) and `DB_QUERY_TIMEOUT` (5) seconds.
    public func database() throws -> DatabaseConfiguration {
        var configuration: DatabaseConfiguration
        if let url = reader.values["DATABASE_URL"], !url.isEmpty {
            do {
                configuration = try DatabaseConfiguration(url: url)
            } catch {
                // The URL may hold a password: never echo it.
                throw SettingError(variable: "DATABASE_URL", value: nil, expected: "\(error)")
            }
        } else {
            guard let name = reader.string("DB_NAME") else {
                throw SettingError(
                    variable: "DB_NAME", value: nil, expected: "set DATABASE_URL, or DB_NAME (with DB_HOST, DB_PORT, DB_USER, DB_PASSWORD)")
            }
            let port = try reader.integer("DB_PORT", default: 5432, range: 1...65535, what: "a port number")
            let host = reader.string("DB_HOST") ?? "localhost"
            configuration = DatabaseConfiguration(
                endpoint: host.hasPrefix("/") ? .unixSocket(path: host + "/.s.PGSQL.\(port)") : .tcp(host: host, port: port),
                username: reader.string("DB_USER") ?? "postgres", password: reader.values["DB_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 },
                database: name, tls: try reader.choice("DB_SSLMODE", default: DatabaseConfiguration.TLSMode.prefer))
        }
        configuration.connectTimeout = try reader.number("DB_CONNECT_TIMEOUT", default: configuration.connectTimeout, range: 0.1...3600)
        configuration.queryTimeout = try reader.number("DB_QUERY_TIMEOUT", default: configuration.queryTimeout, range: 0.1...3600)
        return configuration
    }

    /// The object store: `directory` (a flag) if given; S3 when any of `S3_BUCKET`, `S3_ENDPOINT`, `S3_ACCESS_KEY`,
    /// `S3_SECRET_KEY` is set (with `S3_REGION`, `S3_SESSION_TOKEN`, `S3_FORCE_PATH_STYLE`, `S3_PART_SIZE`);
    /// otherwise the local folder `RENDC_STORAGE_DIR` (./storage).
    public func storage(directory: String? = nil) throws -> StorageConfiguration {
        if let directory { return StorageConfiguration(backend: .local(directory: directory)) }
        let s3Names = ["S3_BUCKET", "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY"]
        guard s3Names.contains(where: { reader.string($0) != nil }) else {
            return StorageConfiguration(backend: .local(directory: reader.string("RENDC_STORAGE_DIR") ?? StorageConfiguration.defaultDirectory))
        }
        let missing = ["S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"].filter { reader.string($0) == nil }
        if !missing.isEmpty {
            throw SettingError(
                variable: missing.joined(separator: ", "), value: nil,
                expected: "S3 storage is configured (an S3_* setting is set) but \(missing.joined(separator: ", ")) "
                    + (missing.count == 1 ? "is" : "are")
                    + " missing; set them, or unset every S3_* setting to use the local directory RENDC_STORAGE_DIR")
        }
        let region = reader.string("S3_REGION") ?? StorageConfiguration.defaultRegion
        let endpoint = reader.string("S3_ENDPOINT")
        let configuration = S3Configuration(
            endpoint: endpoint ?? S3Configuration.awsEndpoint(region: region),
            region: region,
            bucket: reader.string("S3_BUCKET") ?? "",
            credentials: .init(
                accessKey: reader.string("S3_ACCESS_KEY") ?? "", secretKey: reader.string("S3_SECRET_KEY") ?? "",
                sessionToken: reader.string("S3_SESSION_TOKEN")),
            forcePathStyle: try reader.flag("S3_FORCE_PATH_STYLE", default: endpoint != nil),
            partSize: try reader.byteSize("S3_PART_SIZE", default: StorageConfiguration.defaultPartSize, minimum: 5 << 20))
        do {
            try configuration.validate()
        } catch let error as ObjectStoreError {
            throw SettingError(variable: error.key, value: nil, expected: error.message)
        } catch {
            throw SettingError(variable: "S3_*", value: nil, expected: "\(error)")
        }
        return StorageConfiguration(backend: .s3(configuration))
    }

    /// `RENDC_WEBHOOK_ALLOWED_HOSTS`: hosts or CIDRs (comma-separated) that callback URLs may reach although private.
    public func webhookTargets() throws -> WebhookTargetPolicy {
        do {
            return try WebhookTargetPolicy(allowList: reader.string("RENDC_WEBHOOK_ALLOWED_HOSTS") ?? "")
        } catch {
            throw SettingError(variable: "RENDC_WEBHOOK_ALLOWED_HOSTS", value: reader.string("RENDC_WEBHOOK_ALLOWED_HOSTS"), expected: "\(error)")
        }
    }

    /// `RENDC_URL_SIGNING_SECRET` (16+ bytes): signs download URLs.
    public func urlSigningSecret() throws -> [UInt8]? {
        try reader.secret("RENDC_URL_SIGNING_SECRET", minimumBytes: 16, hint: "use e.g. `openssl rand -hex 32`").map { Array($0.utf8) }
    }

    /// `RENDC_PUBLIC_URL`: the API's address as clients reach it (signed download URLs start with it).
    public func publicURL() throws -> String? { try reader.httpURL("RENDC_PUBLIC_URL") }

    /// `RENDC_HOST` (127.0.0.1) and `RENDC_PORT` or `PORT` (8080): where `serve` listens.
    public func listenAddress() throws -> (host: String, port: Int) {
        let port = try reader.integer(reader.string("RENDC_PORT") != nil ? "RENDC_PORT" : "PORT", default: 8080, range: 0...65535, what: "a port")
        return (reader.string("RENDC_HOST") ?? "127.0.0.1", port)
    }

    /// The base of download URLs: `RENDC_PUBLIC_URL`, else `http://RENDC_HOST:RENDC_PORT` as `serve` builds it, so a
    /// worker's webhook links and the API's own point at the same server (trial15b: the worker used port 8080
    /// whatever RENDC_PORT said).
    public func downloadBaseURL() throws -> String {
        if let url = try publicURL() { return url }
        let (host, port) = try listenAddress()
        return host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    /// `RENDC_SIGNED_URL_TTL` (3600, from 10 s to a week).
    public func signedURLLifetime() throws -> Int {
        try reader.integer("RENDC_SIGNED_URL_TTL", default: 3600, range: 10...7 * 24 * 3600, what: "seconds")
    }

    /// The HTTP API: `RENDC_HOST` (127.0.0.1), `RENDC_PORT` or `PORT` (8080), `RENDC_PUBLIC_URL`,
    /// `VIDEO_MAX_DURATION`, `VIDEO_MAX_FILE_SIZE` (100MB), `RENDC_MAX_IMAGE_DIMENSION` (8000),
    /// `RENDC_URL_SIGNING_SECRET` (required unless `development`: then random for this process),
    /// `RENDC_SIGNED_URL_TTL`, `RENDC_TRUST_GATEWAY_TENANT_HEADER` (false), `VIDEO_TEMP_DIR`,
    /// `RENDC_WEBHOOK_ALLOWED_HOSTS`, `RENDC_RATE_LIMIT_PER_MINUTE` (1200; 0 = off), `RENDC_HTTP_IDLE_TIMEOUT`
    /// (30 s; 0 = never) and `RENDC_HTTP_BODY_TIMEOUT` (600 s).
    public func api(development: Bool) throws -> APIConfiguration {
        let secret: [UInt8]
        if let configured = try urlSigningSecret() {
            secret = configured
        } else if development {
            var generator = SystemRandomNumberGenerator()
            secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        } else {
            throw SettingError(
                variable: "RENDC_URL_SIGNING_SECRET", value: nil,
                expected: "is required to sign download URLs (at least 16 bytes; `openssl rand -hex 32`); or run with --dev")
        }
        var api = APIConfiguration(urlSigningSecret: secret)
        (api.host, api.port) = try listenAddress()
        api.publicBaseURL = try publicURL()
        api.maxDurationSeconds = maxDuration
        api.maxFileSizeBytes = try reader.byteSize("VIDEO_MAX_FILE_SIZE", default: api.maxFileSizeBytes)
        api.maxImageDimension = try reader.integer("RENDC_MAX_IMAGE_DIMENSION", default: 8000, range: 16...65535, what: "pixels")
        api.maxVideoDimension = try reader.integer("RENDC_MAX_VIDEO_DIMENSION", default: 4096, range: 16...16383, what: "pixels")
        api.signedURLLifetime = try signedURLLifetime()
        api.trustGatewayTenantHeader = try reader.flag("RENDC_TRUST_GATEWAY_TENANT_HEADER")
        api.temporaryDirectory = temporaryDirectory
        api.defaultDurationSeconds = min(api.defaultDurationSeconds, api.maxDurationSeconds)
        api.webhookTargets = try webhookTargets()
        api.webhookSecrets = try webhookSecret().map { WebhookSecrets(master: $0) }
        api.rateLimitPerMinute = try reader.integer("RENDC_RATE_LIMIT_PER_MINUTE", default: api.rateLimitPerMinute, range: 0...1_000_000)
        let idle = try reader.number("RENDC_HTTP_IDLE_TIMEOUT", default: api.idleTimeoutSeconds ?? 0, range: 0...3600)
        api.idleTimeoutSeconds = idle == 0 ? nil : idle
        api.bodyTimeoutSeconds = try reader.number("RENDC_HTTP_BODY_TIMEOUT", default: api.bodyTimeoutSeconds, range: 1...86400)
        return api
    }

    /// `RENDC_ADMIN_TOKEN` (16+ characters): turns on the operators' dashboard at /admin.
    public func adminToken() throws -> String? {
        try reader.secret("RENDC_ADMIN_TOKEN", minimumBytes: 16, hint: "e.g. `openssl rand -hex 24`")
    }

    /// `RENDC_WEBHOOK_SECRET` (16+ bytes): the master secret each tenant's webhook signing secret is derived from
    /// (Webhooks' `WebhookSecrets`); the worker and the API need the same value. Without it no webhook is sent.
    public func webhookSecret() throws -> String? {
        try reader.secret("RENDC_WEBHOOK_SECRET", minimumBytes: 16, hint: "use e.g. `openssl rand -hex 32`")
    }

    /// `VIDEO_WORKER_CONCURRENCY` (2, from 1 to 64): jobs one worker renders at once.
    public func workerConcurrency() throws -> Int {
        try reader.integer("VIDEO_WORKER_CONCURRENCY", default: 2, range: 1...64)
    }

    /// `RENDC_WORKER_METRICS_HOST` (127.0.0.1) and `RENDC_WORKER_METRICS_PORT` (9464; 0 = no endpoint).
    public func workerMetricsAddress() throws -> (host: String, port: Int)? {
        let port = try reader.integer("RENDC_WORKER_METRICS_PORT", default: 9464, range: 0...65535, what: "a port")
        guard port > 0 else { return nil }
        return (reader.string("RENDC_WORKER_METRICS_HOST") ?? "127.0.0.1", port)
    }
}
