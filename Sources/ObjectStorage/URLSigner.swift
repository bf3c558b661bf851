import Digests
import Crypto
import Foundation

/// Mints and checks the API's download URLs: `/files/{key}?expires={unix seconds}&signature={hex HMAC-SHA256}`.
/// The signature covers the key and the expiry, so neither can be changed; the secret never leaves the server.
/// Only the job endpoint mints URLs, and only for the calling tenant's own job outputs.
public struct URLSigner: Sendable {
    private let secret: [UInt8]

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// The hex signature of `key` valid until `expires` (Unix seconds).
    public func signature(key objectKey: String, expires: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.message(key: objectKey, expires: expires), using: key)
        return mac.hexString
    }

    /// The path and query of the download URL the API and the workers' webhooks hand out for `objectKey`, valid
    /// until `expires`: `/files?key=<key, percent-encoded>&expires=...&signature=...` (one form for both: trial15b
    /// found the webhook's links in the older path form below, which the server still serves).
    public func signedQueryPath(key objectKey: String, expires: Int) -> String {
        Self.queryPath(key: objectKey, expires: expires, signature: signature(key: objectKey, expires: expires))
    }

    /// `/files?key=<key, percent-encoded>&expires=...&signature=...` with a signature already made.
    public static func queryPath(key objectKey: String, expires: Int, signature: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let escaped = objectKey.addingPercentEncoding(withAllowedCharacters: allowed) ?? objectKey
        return "/files?key=\(escaped)&expires=\(expires)&signature=\(signature)"
    }

    /// The older path form of a download URL, `/files/<key>?expires=...&signature=...`: still served, so links
    /// minted before keep working; new links use ``signedQueryPath(key:expires:)``.
    public func signedPath(key objectKey: String, expires: Int) -> String {
        let escaped = objectKey.components(separatedBy: "/")
            .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowedSegment) ?? $0 }
            .joined(separator: "/")
        return "/files/\(escaped)?expires=\(expires)&signature=\(signature(key: objectKey, expires: expires))"
    }

    public enum Verdict: Sendable, Equatable {
        case valid
        case badSignature
        case expired
    }

    /// Checks a signature in constant time (for signatures of the right length), then the expiry.
    public func verify(key objectKey: String, expires: Int, signature: String, now: Date = Date()) -> Verdict {
        guard let given = Self.hexBytes(signature), given.count == SHA256.byteCount else { return .badSignature }
        let valid = HMAC<SHA256>.isValidAuthenticationCode(
            given, authenticating: Self.message(key: objectKey, expires: expires), using: key)
        guard valid else { return .badSignature }
        return Double(expires) < now.timeIntervalSince1970 ? .expired : .valid
    }

    private static func message(key: String, expires: Int) -> Data {
        Data("rendc-file-v1\n\(key)\n\(expires)".utf8)
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension CharacterSet {
    /// Unreserved characters plus sub-delims allowed in a path segment (RFC 3986), without `/`.
    static let urlPathAllowedSegment: CharacterSet = {
        var set = CharacterSet.urlPathAllowed
        set.remove(charactersIn: "/;?#")
        return set
    }()
}

/// Download links for stored objects, as the API's job endpoint and the worker's webhooks hand them out: the
/// store's own presigned URL when it makes one (S3), else `baseURL` + a `/files/...` path signed with
/// ``URLSigner``. Every link expires after `lifetime` seconds.
public struct DownloadLinks: Sendable {
    public var signer: URLSigner?
    /// The API's public base URL (`RENDC_PUBLIC_URL`), without a trailing slash.
    public var baseURL: String
    public var lifetime: Int
    let objectStore: any ObjectStore

    public init(objectStore: any ObjectStore, signer: URLSigner?, baseURL: String, lifetime: Int) {
        self.objectStore = objectStore
        self.signer = signer
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.lifetime = lifetime
    }

    /// A link to `key` and when it expires; nil when the store cannot presign and no signing secret is set.
    public func link(for key: String, now: Date = Date()) async throws -> (url: String, expiresAt: Date)? {
        let expires = Int(now.timeIntervalSince1970) + lifetime
        let expiresAt = Date(timeIntervalSince1970: Double(expires))
        if let presigned = try await objectStore.presignedGetURL(key: key, expiresIn: lifetime) {
            return (presigned.absoluteString, expiresAt)
        }
        guard let signer else { return nil }
        return (baseURL + signer.signedQueryPath(key: key, expires: expires), expiresAt)
    }
}
