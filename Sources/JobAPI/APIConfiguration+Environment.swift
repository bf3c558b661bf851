import Foundation

extension APIConfiguration {
    /// Builds the configuration from environment variables (the caller passes them in; this library never reads
    /// the process environment):
    ///
    /// | variable | default |
    /// | --- | --- |
    /// | `RENDC_HOST`, `RENDC_PORT` (or `PORT`) | `127.0.0.1`, `8080` |
    /// | `RENDC_PUBLIC_URL` | `http://{host}:{port}` |
    /// | `VIDEO_MAX_DURATION` (seconds) | `60` |
    /// | `VIDEO_MAX_FILE_SIZE` (`100MB` or bytes) | `100MB` |
    /// | `RENDC_MAX_IMAGE_DIMENSION` (pixels) | `8000` |
    /// | `RENDC_URL_SIGNING_SECRET` (at least 16 bytes) | required unless `development` |
    /// | `RENDC_SIGNED_URL_TTL` (seconds) | `3600` |
    /// | `RENDC_TRUST_GATEWAY_TENANT_HEADER` (`true`/`false`) | `false` |
    /// | `VIDEO_TEMP_DIR` | the system temporary folder |
    ///
    /// With `development` true a missing signing secret is replaced by a random one for this process (download
    /// URLs then stop working at restart).
    public static func fromEnvironment(_ env: [String: String], development: Bool = false) throws -> APIConfiguration {
        func value(_ name: String) -> String? {
            guard let text = env[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        func number(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws -> Double {
            guard let text = value(name) else { return fallback }
            guard let parsed = Double(text), parsed.isFinite, range.contains(parsed) else {
                throw ConfigurationValueError(setting: name, value: text, message: "expected a number from \(formatSeconds(range.lowerBound)) to \(formatSeconds(range.upperBound))")
            }
            return parsed
        }
        func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let text = value(name) else { return fallback }
            guard let parsed = Int(text), range.contains(parsed) else {
                throw ConfigurationValueError(setting: name, value: text, message: "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return parsed
        }
        func flag(_ name: String) throws -> Bool {
            guard let text = value(name)?.lowercased() else { return false }
            switch text {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigurationValueError(setting: name, value: text, message: "expected true or false")
            }
        }

        let secret: [UInt8]
        if let text = env["RENDC_URL_SIGNING_SECRET"], !text.isEmpty {
            guard text.utf8.count >= 16 else {
                throw ConfigurationValueError(setting: "RENDC_URL_SIGNING_SECRET", value: "(hidden)", message: "must be at least 16 bytes; use e.g. `openssl rand -hex 32`")
            }
            secret = Array(text.utf8)
        } else if development {
            var generator = SystemRandomNumberGenerator()
            secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        } else {
            throw ConfigurationValueError(setting: "RENDC_URL_SIGNING_SECRET", value: "", message: "is required to sign download URLs (at least 16 bytes; `openssl rand -hex 32`); or run with --dev")
        }
        var configuration = APIConfiguration(urlSigningSecret: secret)
        configuration.host = value("RENDC_HOST") ?? configuration.host
        configuration.port = try integer(value("RENDC_PORT") != nil ? "RENDC_PORT" : "PORT", default: 8080, range: 0...65535)
        if let url = value("RENDC_PUBLIC_URL") {
            guard let components = URLComponents(string: url), let scheme = components.scheme, ["http", "https"].contains(scheme.lowercased()),
                  components.host?.isEmpty == false else {
                throw ConfigurationValueError(setting: "RENDC_PUBLIC_URL", value: url, message: "expected an absolute http(s) URL such as https://api.example.com")
            }
            configuration.publicBaseURL = url
        }
        configuration.maxDurationSeconds = try number("VIDEO_MAX_DURATION", default: 60, range: 1...3600)
        if let text = value("VIDEO_MAX_FILE_SIZE") {
            configuration.maxFileSizeBytes = try ByteSize.parse(text, setting: "VIDEO_MAX_FILE_SIZE")
        }
        configuration.maxImageDimension = try integer("RENDC_MAX_IMAGE_DIMENSION", default: 8000, range: 16...65535)
        configuration.signedURLLifetime = try integer("RENDC_SIGNED_URL_TTL", default: 3600, range: 10...7 * 24 * 3600)
        configuration.trustGatewayTenantHeader = try flag("RENDC_TRUST_GATEWAY_TENANT_HEADER")
        if let dir = value("VIDEO_TEMP_DIR") { configuration.temporaryDirectory = dir }
        configuration.defaultDurationSeconds = min(configuration.defaultDurationSeconds, configuration.maxDurationSeconds)
        return configuration
    }
}
