import Crypto
import Digests
import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) as a pure value: canonical request, string to sign, signing key,
/// Authorization header and presigned query strings. No I/O, no clock: the caller passes the time, so every step is
/// testable against AWS's published vectors.
public struct SigV4Signer: Sendable {
    public struct Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
        public var accessKey: String
        public var secretKey: String
        /// Temporary credentials' token (`x-amz-security-token`), when there is one.
        public var sessionToken: String?

        public init(accessKey: String, secretKey: String, sessionToken: String? = nil) {
            self.accessKey = accessKey
            self.secretKey = secretKey
            self.sessionToken = sessionToken
        }

        /// Never shows the secret or the token; the access key id is shown, as AWS itself does in error messages.
        public var description: String {
            "Credentials(accessKey: \(accessKey), secretKey: <redacted>\(sessionToken == nil ? "" : ", sessionToken: <redacted>"))"
        }
        public var debugDescription: String { description }
    }

    /// How the path becomes the canonical URI.
    public enum PathCanonicalization: Sendable, Equatable {
        /// Amazon S3: the path is percent-encoded once, as is: no dot-segment removal, no slash merging.
        case s3
        /// Every other service (and the generic test suite): remove `.`/`..` segments, merge repeated slashes,
        /// then percent-encode the path as it appears on the request line (so an already-encoded path is encoded
        /// again, which AWS calls double encoding).
        case normalized
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct QueryItem: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The parts of an HTTP request that SigV4 covers. `path` and query items are not yet percent-encoded.
    /// Every header given is signed.
    public struct Request: Sendable, Equatable {
        public var method: String
        public var path: String
        public var query: [QueryItem]
        public var headers: [Header]
        /// Lower-case hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` (S3).
        public var payloadHash: String

        public init(method: String, path: String, query: [QueryItem] = [], headers: [Header], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty string.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public var credentials: Credentials
    public var region: String
    public var service: String
    public var pathCanonicalization: PathCanonicalization

    public init(
        credentials: Credentials, region: String, service: String,
        pathCanonicalization: PathCanonicalization? = nil
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.pathCanonicalization = pathCanonicalization ?? (service == "s3" ? .s3 : .normalized)
    }

    // MARK: The four steps

    /// Step 1: the canonical request.
    public func canonicalRequest(_ request: Request) -> String {
        let headers = Self.canonicalHeaders(request.headers)
        return [
            request.method.uppercased(),
            canonicalURI(request.path),
            Self.canonicalQueryString(request.query),
            headers.map { "\($0.name):\($0.value)\n" }.joined(),
            headers.map(\.name).joined(separator: ";"),
            request.payloadHash,
        ].joined(separator: "\n")
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    public func credentialScope(date: Date) -> String {
        "\(SigV4Date(date).day)/\(region)/\(service)/aws4_request"
    }

    /// Step 2: the string to sign.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        [
            Self.algorithm,
            SigV4Date(date).timestamp,
            credentialScope(date: date),
            Self.hexSHA256(Data(canonicalRequest.utf8)),
        ].joined(separator: "\n")
    }

    /// Step 3: the signing key, HMAC chain over date, region, service and `aws4_request`.
    public func signingKey(date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretKey).utf8))
        for part in [SigV4Date(date).day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// Step 4: the signature (lower-case hex).
    public func signature(stringToSign: String, date: Date) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(date: date))
        return Self.hex(Data(mac))
    }

    /// The `Authorization` header value for `request` (which must already carry `x-amz-date` and `host`).
    public func authorization(for request: Request, date: Date) -> String {
        let canonical = canonicalRequest(request)
        let sts = stringToSign(canonicalRequest: canonical, date: date)
        let signedHeaders = Self.canonicalHeaders(request.headers).map(\.name).joined(separator: ";")
        return "\(Self.algorithm) Credential=\(credentials.accessKey)/\(credentialScope(date: date)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature(stringToSign: sts, date: date))"
    }

    /// Adds `x-amz-date` (and `x-amz-security-token` when there is a session token) to `request`'s headers and
    /// returns the headers to send, `Authorization` included.
    public func signedHeaders(for request: Request, date: Date) -> [Header] {
        var request = request
        request.headers.removeAll { $0.name.lowercased() == "authorization" }
        if !request.headers.contains(where: { $0.name.lowercased() == "x-amz-date" }) {
            request.headers.append(Header("x-amz-date", SigV4Date(date).timestamp))
        }
        if let token = credentials.sessionToken,
            !request.headers.contains(where: { $0.name.lowercased() == "x-amz-security-token" })
        {
            request.headers.append(Header("x-amz-security-token", token))
        }
        return request.headers + [Header("Authorization", authorization(for: request, date: date))]
    }

    /// Query-string authentication (a presigned URL). `host` is the `Host` header the client will send
    /// (with `:port` when not the scheme's default). Returns the full, encoded query string, signature last.
    public func presignedQuery(
        method: String, path: String, host: String, query: [QueryItem] = [], expiresIn: Int, date: Date
    ) -> String {
        var items = query
        items.append(QueryItem("X-Amz-Algorithm", Self.algorithm))
        items.append(QueryItem("X-Amz-Credential", "\(credentials.accessKey)/\(credentialScope(date: date))"))
        items.append(QueryItem("X-Amz-Date", SigV4Date(date).timestamp))
        items.append(QueryItem("X-Amz-Expires", String(expiresIn)))
        if let token = credentials.sessionToken {
            items.append(QueryItem("X-Amz-Security-Token", token))
        }
        items.append(QueryItem("X-Amz-SignedHeaders", "host"))
        let request = Request(
            method: method, path: path, query: items, headers: [Header("host", host)],
            payloadHash: Self.unsignedPayload)
        let sts = stringToSign(canonicalRequest: canonicalRequest(request), date: date)
        let signature = signature(stringToSign: sts, date: date)
        return Self.canonicalQueryString(items) + "&X-Amz-Signature=" + signature
    }

    // MARK: Canonical forms

    /// The canonical URI: the path encoded as `pathCanonicalization` says (`/` kept).
    public func canonicalURI(_ path: String) -> String {
        var path = path.isEmpty ? "/" : path
        if pathCanonicalization == .normalized {
            path = Self.normalizedPath(path)
        }
        return Self.uriEncode(path, encodeSlash: false)
    }

    /// Removes `.` and `..` segments and merges repeated slashes; keeps a trailing slash.
    static func normalizedPath(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments {
            switch segment {
            case ".": continue
            case "..": if !output.isEmpty { output.removeLast() }
            default: output.append(segment)
            }
        }
        var result = "/" + output.joined(separator: "/")
        let last = segments.last
        if path.hasSuffix("/") || last == "." || last == "..", result != "/" {
            result += "/"
        }
        return result
    }

    static func canonicalQueryString(_ items: [QueryItem]) -> String {
        items
            .map { (uriEncode($0.name, encodeSlash: true), uriEncode($0.value, encodeSlash: true)) }
            .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lower-case names, sorted; values trimmed with inner runs of spaces collapsed; repeated names joined by `,`.
    static func canonicalHeaders(_ headers: [Header]) -> [Header] {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(canonicalHeaderValue(header.value))
        }
        return order.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { Header($0, values[$0, default: []].joined(separator: ",")) }
    }

    static func canonicalHeaderValue(_ value: String) -> String {
        var result = ""
        var pendingSpace = false
        for character in value {
            if character == " " || character == "\t" || character == "\n" || character == "\r" {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.append(character)
            }
        }
        return result
    }

    /// RFC 3986 percent-encoding of every byte except the unreserved `A-Z a-z 0-9 - . _ ~` (and `/` when
    /// `encodeSlash` is false), upper-case hex, as SigV4 requires.
    public static func uriEncode(_ string: String, encodeSlash: Bool) -> String {
        var result = ""
        result.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where !encodeSlash:
                result.append("/")
            default:
                result.append("%")
                result.append(hexDigits[Int(byte >> 4)])
                result.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return result
    }

    private static let hexDigits: [Character] = Array("0123456789ABCDEF")

    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 { bytes.hexString }

    public static func hexSHA256(_ data: Data) -> String { SHA256Hex.of(data) }
}

/// The two SigV4 renderings of an instant, in UTC: `20150830T123600Z` and `20150830`.
struct SigV4Date: Sendable {
    let timestamp: String
    let day: String

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = seconds / 86_400
        var secondsOfDay = seconds % 86_400
        if secondsOfDay < 0 {
            secondsOfDay += 86_400
            days -= 1
        }
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let dayOfMonth = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        day = pad(year, 4) + pad(month, 2) + pad(dayOfMonth, 2)
        timestamp =
            day + "T" + pad(secondsOfDay / 3600, 2) + pad(secondsOfDay / 60 % 60, 2)
            + pad(secondsOfDay % 60, 2) + "Z"
    }
}
