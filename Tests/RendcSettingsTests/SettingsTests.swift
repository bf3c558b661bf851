import Foundation
import JobAPI
import JobQueue
import RendcSettings
import Testing

/// The one settings reader: every variable parsed with the same rules, every error naming its variable and never
/// showing a secret.
@Suite struct SettingsTests {
    static let secret = "0123456789abcdef0123"

    @Test func sharedSettingsAndTheirDefaults() throws {
        let settings = try Settings(environment: ["RENDC_SPECS_DIR": "/opt/specs"])
        #expect(settings.maxDuration == 60)
        #expect(settings.logLevel == .info)
        #expect(settings.specsDirectory == "/opt/specs")
        #expect(settings.pipeline(extraTemplates: ["/a"]).templateDirectories == ["/a", "/opt/specs"])
        let tuned = try Settings(environment: [
            "RENDC_SPECS_DIR": "/opt/specs", "RENDC_TEMPLATES": "/x:/y", "VIDEO_MAX_DURATION": " 45 ", "RENDC_LOG_LEVEL": "DEBUG",
            "VIDEO_TEMP_DIR": "/scratch", "RENDC_CACHE_DIR": "/cache",
        ])
        #expect(tuned.maxDuration == 45 && tuned.verbose)
        #expect(tuned.pipeline(extraTemplates: ["/a"]).templateDirectories == ["/a", "/x", "/y", "/opt/specs"])
        #expect(tuned.pipeline().temporaryDirectory == "/scratch" && tuned.pipeline().cacheDirectory == "/cache")
        #expect(tuned.workerTemporaryDirectory == "/scratch")
        #expect(try Settings(environment: [:]).workerTemporaryDirectory.hasSuffix("/rendc-worker"), "never the shared temp folder itself")
    }

    /// VIDEO_MAX_DURATION used to be range-checked by `serve` and silently defaulted by `worker`; now one rule holds
    /// for every command, and the API gets the same value the renderer does.
    @Test(arguments: ["sixty", "0", "3601", "nan", "-5"])
    func aBadMaxDurationFailsEveryCommandAlike(value: String) throws {
        #expect(throws: SettingError(variable: "VIDEO_MAX_DURATION", value: value, expected: "expected seconds from 1 to 3600")) {
            try Settings(environment: ["VIDEO_MAX_DURATION": value])
        }
        let settings = try Settings(environment: ["VIDEO_MAX_DURATION": "90", "RENDC_URL_SIGNING_SECRET": Self.secret])
        #expect(try settings.api(development: false).maxDurationSeconds == settings.pipeline().maxDuration)
    }

    @Test func theAPIReadsTheSeedsVariables() throws {
        let api = try Settings(environment: [
            "RENDC_URL_SIGNING_SECRET": Self.secret, "VIDEO_MAX_DURATION": "45", "VIDEO_MAX_FILE_SIZE": "100MB", "RENDC_PORT": "9090",
            "RENDC_TRUST_GATEWAY_TENANT_HEADER": "true", "RENDC_PUBLIC_URL": "https://api.example.com/",
            "RENDC_RATE_LIMIT_PER_MINUTE": "0", "RENDC_HTTP_IDLE_TIMEOUT": "0", "RENDC_HTTP_BODY_TIMEOUT": "60",
        ]).api(development: false)
        #expect(api.maxDurationSeconds == 45)
        #expect(api.maxFileSizeBytes == 104_857_600)
        #expect(api.port == 9090)
        #expect(api.trustGatewayTenantHeader)
        #expect(api.publicBaseURL == "https://api.example.com/")
        #expect(api.urlSigningSecret == Array(Self.secret.utf8))
        #expect(api.rateLimitPerMinute == 0 && api.idleTimeoutSeconds == nil && api.bodyTimeoutSeconds == 60)
    }

    /// The worker's webhook links and the API's own point at the same server: RENDC_PUBLIC_URL, else the address
    /// `serve` listens on (trial15b: the worker used port 8080 whatever RENDC_PORT said).
    @Test func downloadLinksUseTheServersAddress() throws {
        #expect(try Settings(environment: ["RENDC_PORT": "18095"]).downloadBaseURL() == "http://127.0.0.1:18095")
        #expect(try Settings(environment: ["PORT": "9000", "RENDC_HOST": "10.1.2.3"]).downloadBaseURL() == "http://10.1.2.3:9000")
        #expect(try Settings(environment: [:]).downloadBaseURL() == "http://127.0.0.1:8080")
        #expect(try Settings(environment: ["RENDC_HOST": "::1"]).downloadBaseURL() == "http://[::1]:8080")
        #expect(
            try Settings(environment: ["RENDC_PORT": "18095", "RENDC_PUBLIC_URL": "https://videos.example.com"]).downloadBaseURL()
                == "https://videos.example.com")
        let api = try Settings(environment: ["RENDC_PORT": "18095", "RENDC_HOST": "0.0.0.0"]).api(development: true)
        #expect(api.host == "0.0.0.0" && api.port == 18095)
    }

    @Test func theSigningSecretIsRequiredAndNeverShown() throws {
        #expect(throws: SettingError.self) { try Settings(environment: [:]).api(development: false) }
        do {
            _ = try Settings(environment: ["RENDC_URL_SIGNING_SECRET": "short-secret"]).api(development: false)
            Issue.record("a 12-byte secret was accepted")
        } catch let error as SettingError {
            #expect(error.variable == "RENDC_URL_SIGNING_SECRET")
            #expect(!error.description.contains("short-secret"), "\(error)")
        }
        let dev = try Settings(environment: [:]).api(development: true)
        #expect(dev.urlSigningSecret.count == 32)
        #expect(!dev.trustGatewayTenantHeader)
        #expect(dev.maxFileSizeBytes == 100 * 1024 * 1024 && dev.maxDurationSeconds == 60)
    }

    @Test(arguments: [
        ("RENDC_TRUST_GATEWAY_TENANT_HEADER", "maybe"), ("RENDC_PORT", "99999"), ("RENDC_PUBLIC_URL", "ftp://x"),
        ("VIDEO_MAX_FILE_SIZE", "lots"), ("RENDC_RATE_LIMIT_PER_MINUTE", "-1"), ("RENDC_HTTP_BODY_TIMEOUT", "0"),
        ("RENDC_WEBHOOK_ALLOWED_HOSTS", "10.0.0.0/99"), ("RENDC_SIGNED_URL_TTL", "5"),
    ])
    func badAPISettingsNameTheVariable(variable: String, value: String) {
        do {
            _ = try Settings(environment: ["RENDC_URL_SIGNING_SECRET": Self.secret, variable: value]).api(development: false)
            Issue.record("\(variable)=\(value) was accepted")
        } catch let error as SettingError {
            #expect(error.variable == variable)
            #expect(error.description.hasPrefix("\(variable)="), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func databaseFromTheSeedsVariablesOrAURL() throws {
        let seed = try Settings(environment: ["DB_HOST": "pg", "DB_NAME": "sass_store", "DB_USER": "u", "DB_PASSWORD": "p", "DB_PORT": "5433"])
            .database()
        #expect(seed.endpoint == .tcp(host: "pg", port: 5433))
        #expect(seed.database == "sass_store" && seed.username == "u" && seed.password == "p")
        let url = try Settings(environment: ["DATABASE_URL": "postgres://x@h/d", "DB_NAME": "ignored"]).database()
        #expect(url.database == "d")
        #expect(url.connectTimeout == 3 && url.queryTimeout == 5, "a down database answers within seconds by default")
        let tuned = try Settings(environment: ["DATABASE_URL": "postgres://x@h/d", "DB_CONNECT_TIMEOUT": "1.5", "DB_QUERY_TIMEOUT": "20"]).database()
        #expect(tuned.connectTimeout == 1.5 && tuned.queryTimeout == 20)
        let socket = try Settings(environment: ["DB_HOST": "/run/postgresql", "DB_NAME": "jobs", "DB_SSLMODE": "disable"]).database()
        #expect(socket.endpoint == .unixSocket(path: "/run/postgresql/.s.PGSQL.5432") && socket.tls == .disable)
    }

    @Test func badDatabaseSettingsNameTheVariableAndHideThePassword() {
        for (environment, variable) in [
            ([String: String](), "DB_NAME"), (["DB_NAME": "x", "DB_PORT": "abc"], "DB_PORT"),
            (["DB_NAME": "x", "DB_SSLMODE": "bogus"], "DB_SSLMODE"),
            (["DATABASE_URL": "postgres://x@h/d", "DB_QUERY_TIMEOUT": "soon"], "DB_QUERY_TIMEOUT"),
            (["DATABASE_URL": "mysql://user:hunter2-secret@h/d"], "DATABASE_URL"),
        ] {
            do {
                _ = try Settings(environment: environment).database()
                Issue.record("\(environment) was accepted")
            } catch let error as SettingError {
                #expect(error.variable == variable, "\(error)")
                #expect(!error.description.contains("hunter2"), "\(error)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func workerSettings() throws {
        #expect(try Settings(environment: [:]).workerConcurrency() == 2)
        #expect(try Settings(environment: ["VIDEO_WORKER_CONCURRENCY": "8"]).workerConcurrency() == 8)
        #expect(throws: SettingError.self) { try Settings(environment: ["VIDEO_WORKER_CONCURRENCY": "0"]).workerConcurrency() }
        #expect(try Settings(environment: ["RENDC_WORKER_METRICS_PORT": "0"]).workerMetricsAddress() == nil)
        #expect(try Settings(environment: [:]).workerMetricsAddress()?.port == 9464)
        // Used to fall back to 9464 silently.
        #expect(throws: SettingError.self) { try Settings(environment: ["RENDC_WORKER_METRICS_PORT": "http"]).workerMetricsAddress() }
        #expect(try Settings(environment: ["RENDC_METRICS": "off"]).metricsEnabled() == false)
        #expect(try Settings(environment: ["RENDC_WEBHOOK_SECRET": ""]).webhookSecret() == nil)
        #expect(throws: SettingError.self) { try Settings(environment: ["RENDC_ADMIN_TOKEN": "short"]).adminToken() }
        // Prepared layers: in memory only for long-running processes, on disk for every command.
        let cache = try Settings(environment: ["RENDC_CACHE_MB": "64", "RENDC_CACHE_DIR": "/c"])
        #expect(cache.pipeline(longRunning: true).layerCache.memoryBytes == 64 << 20)
        #expect(cache.pipeline().layerCache.memoryBytes == 0 && cache.pipeline().layerCache.directory == "/c/layers")
        #expect(throws: SettingError(variable: "RENDC_CACHE_MB", value: "lots", expected: "expected megabytes from 0 to 1048576")) {
            try Settings(environment: ["RENDC_CACHE_MB": "lots"])
        }
    }
}
