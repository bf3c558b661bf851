import Foundation
import Webhooks

/// Everything the HTTP API needs to know about its deployment. The CLI's `Settings` builds it from the
/// environment; nothing in this library reads environment variables.
public struct APIConfiguration: Sendable {
    /// Interface to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    public var host: String
    public var port: Int
    /// Scheme, host and port clients use to reach this server (`http://127.0.0.1:8080`); signed download URLs
    /// start with it. Nil: `http://{host}:{port}`.
    public var publicBaseURL: String?
    /// Longest video a job may ask for (`VIDEO_MAX_DURATION`), in seconds.
    public var maxDurationSeconds: Double
    /// Largest upload accepted (`VIDEO_MAX_FILE_SIZE`), in bytes. Larger uploads get 413.
    public var maxFileSizeBytes: Int
    /// Largest image width or height accepted, read from the file header. Larger images get 422.
    public var maxImageDimension: Int
    /// Largest width or height of an uploaded `video` or `overlay` clip, from its track headers
    /// (`RENDC_MAX_VIDEO_DIMENSION`, 4096). Lower than the image limit: a clip is decoded at that size every frame
    /// (a 7680x7680 clip took a render from 0.39 to 1.0 GB RSS), and the output is 1080x1920. Larger: 422.
    public var maxVideoDimension: Int = 4096
    /// Secret for the HMAC-SHA256 signatures of download URLs (`RENDC_URL_SIGNING_SECRET`). At least 16 bytes.
    public var urlSigningSecret: [UInt8]
    /// How long a minted download URL stays valid, in seconds.
    public var signedURLLifetime: Int
    /// Accept the seed's bare `x-tenant-id` header as the caller's identity. Only for deployments behind a gateway
    /// that authenticates callers and strips the header from outside requests. Off by default.
    public var trustGatewayTenantHeader: Bool
    /// How long an API key -> tenant lookup is cached, in seconds (0 disables the cache).
    public var apiKeyCacheSeconds: Double
    /// Folder for upload spooling (`VIDEO_TEMP_DIR`).
    public var temporaryDirectory: String
    /// Accepted job priorities (higher runs first).
    public var priorityRange: ClosedRange<Int>
    /// Video length assumed when neither the request nor the template says.
    public var defaultDurationSeconds: Double
    /// Largest JSON request body, in bytes.
    public var maxJSONBodyBytes: Int
    /// Where `callbackUrl` may point (`RENDC_WEBHOOK_ALLOWED_HOSTS` adds private targets); checked at submit.
    public var webhookTargets = WebhookTargetPolicy()
    /// Derives each tenant's webhook signing secret from `RENDC_WEBHOOK_SECRET` (served at
    /// `GET /api/v1/webhook-secret`). Nil: webhooks are off and those endpoints answer 503.
    public var webhookSecrets: WebhookSecrets? = nil
    /// Requests a minute per API key (`RENDC_RATE_LIMIT_PER_MINUTE`); 0 turns the limit off.
    public var rateLimitPerMinute: Int = 1200
    /// A connection that sends nothing for this long is closed (`RENDC_HTTP_IDLE_TIMEOUT`): a stalled request
    /// head, a stalled body, or an idle keep-alive connection. Nil: never.
    public var idleTimeoutSeconds: Double? = 30
    /// The longest a request body may take to arrive, in seconds (`RENDC_HTTP_BODY_TIMEOUT`); then 408.
    public var bodyTimeoutSeconds: Double = 600
    /// How often a request holding an `Idempotency-Key` renews it while it works (a key not renewed for a minute
    /// is taken as abandoned).
    public var idempotencyRenewalSeconds: Double = 10

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        publicBaseURL: String? = nil,
        maxDurationSeconds: Double = 60,
        maxFileSizeBytes: Int = 100 * 1024 * 1024,
        maxImageDimension: Int = 8000,
        urlSigningSecret: [UInt8],
        signedURLLifetime: Int = 3600,
        trustGatewayTenantHeader: Bool = false,
        apiKeyCacheSeconds: Double = 30,
        temporaryDirectory: String = NSTemporaryDirectory(),
        priorityRange: ClosedRange<Int> = -100...100,
        defaultDurationSeconds: Double = 30,
        maxJSONBodyBytes: Int = 256 * 1024
    ) {
        self.host = host
        self.port = port
        self.publicBaseURL = publicBaseURL
        self.maxDurationSeconds = maxDurationSeconds
        self.maxFileSizeBytes = maxFileSizeBytes
        self.maxImageDimension = maxImageDimension
        self.urlSigningSecret = urlSigningSecret
        self.signedURLLifetime = signedURLLifetime
        self.trustGatewayTenantHeader = trustGatewayTenantHeader
        self.apiKeyCacheSeconds = apiKeyCacheSeconds
        self.temporaryDirectory = temporaryDirectory
        self.priorityRange = priorityRange
        self.defaultDurationSeconds = defaultDurationSeconds
        self.maxJSONBodyBytes = maxJSONBodyBytes
    }

    /// The base of signed URLs, without a trailing slash.
    var baseURL: String {
        var base = publicBaseURL ?? "http://\(host):\(port)"
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
