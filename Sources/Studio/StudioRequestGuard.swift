import Foundation
import HTTPTypes
import Hummingbird

/// The studio has no accounts: whoever can send it requests can read and write templates and render files. It
/// listens on loopback, so the requests to refuse are the ones a web page on another site makes the designer's
/// browser send:
/// - **DNS rebinding**: a page on `attacker.example` whose name then resolves to 127.0.0.1 talks to the studio as a
///   same-origin site, and the `Host` header is the only thing that tells. A request naming a host other than a
///   loopback name (or the interface the studio was told to bind) is refused.
/// - **Cross-site writes** (CSRF): a page can POST a form or a `text/plain` body anywhere without asking. Every
///   request that changes something must carry the `X-Rendc-Studio` header, which a page on another origin can only
///   send after a CORS preflight the studio never grants, and an `Origin`, when the browser sends one, must name an
///   allowed host too.
struct StudioRequestGuard: RouterMiddleware {
    typealias Context = BasicRequestContext

    static let header = HTTPField.Name("X-Rendc-Studio")!
    static let loopbackNames: Set<String> = ["127.0.0.1", "localhost", "::1"]

    /// Host names a request may address: loopback, plus the bound interface when it is a specific one. Bound to a
    /// wildcard address (`0.0.0.0`, `::`), the studio is reached at addresses it cannot list, so nil: then any IP
    /// address and `localhost` are accepted, and no other name. DNS rebinding needs a name (the attacker's own), so
    /// a page on another site still cannot become same-origin with the studio (review9b: with a wildcard bind any
    /// Host was accepted, and such a page could read and overwrite templates).
    let allowed: Set<String>?

    init(boundHost: String) {
        let bound = Self.hostName(boundHost) ?? boundHost.lowercased()
        allowed = ["0.0.0.0", "::", ""].contains(bound) ? nil : Self.loopbackNames.union([bound])
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var requestHost: String?
        if let authority = request.head.authority ?? request.headers[.init("Host")!] {
            guard let host = Self.hostName(authority), isAllowed(host) else {
                throw StudioError(
                    .forbidden,
                    allowed == nil
                        ? "this studio answers to IP addresses and localhost only (open http://ADDRESS:PORT/)"
                        : "this studio answers to its loopback address only (open http://127.0.0.1:PORT/)")
            }
            requestHost = host
        }
        if request.method != .get && request.method != .head {
            guard request.headers[Self.header] != nil else {
                throw StudioError(.forbidden, "a request that changes something needs the studio page's X-Rendc-Studio header")
            }
            if let origin = request.headers[.origin], origin != "null" {
                guard let url = URL(string: origin), let host = url.host.map(Self.hostName) ?? nil, isAllowed(host),
                    requestHost == nil || host == requestHost
                else {
                    throw StudioError(.forbidden, "requests from another site are refused")
                }
            }
        }
        return try await next(request, context)
    }

    func isAllowed(_ host: String) -> Bool {
        if let allowed { return allowed.contains(host) }
        return host == "localhost" || Self.isAddress(host)
    }

    /// An IPv4 address in dotted decimal, or an IPv6 address (hex digits, colons, an IPv4 tail): never a name.
    static func isAddress(_ host: String) -> Bool {
        if host.contains(":") {
            return host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { $0.count <= 3 && !$0.isEmpty && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }

    /// The host of a `Host`/authority value or a URL's host, lower-cased, without port or IPv6 brackets.
    static func hostName(_ authority: String) -> String? {
        var s = Substring(authority.lowercased())
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            return String(s[s.index(after: s.startIndex)..<close])
        }
        if s.filter({ $0 == ":" }).count == 1, let colon = s.firstIndex(of: ":") { s = s[..<colon] }
        return s.isEmpty ? nil : String(s)
    }
}
