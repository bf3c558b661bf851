import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as bytes (4 or 16), with the address classes a webhook must never reach.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the canonical text forms only: dotted-decimal IPv4 (four parts, no leading zeros, no hex or octal)
    /// and RFC 4291 IPv6 (brackets allowed, zone ids refused).
    public init?(_ text: String) {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        guard !text.isEmpty, !text.contains("%") else { return nil }
        if text.contains(":") {
            var storage = in6_addr()
            guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &storage) { Array($0) }
            return
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part == "0" || !part.hasPrefix("0"), let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        self.bytes = bytes
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var storage = in6_addr()
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &storage, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(cString: buffer)
    }

    /// The IPv4 address an IPv6 address carries (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`,
    /// IPv4-translated (SIIT) `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`), or nil.
    public var embeddedIPv4: IPAddress? {
        guard !isIPv4 else { return nil }
        let b = bytes
        if b[0..<10].allSatisfy({ $0 == 0 }) && (b[10] == 0xff && b[11] == 0xff || b[10] == 0 && b[11] == 0) {
            return IPAddress(bytes: Array(b[12..<16]))
        }
        if b[0..<8].allSatisfy({ $0 == 0 }) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0 {
            return IPAddress(bytes: Array(b[12..<16]))
        }
        if Array(b[0..<12]) == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return IPAddress(bytes: Array(b[12..<16])) }
        if b[0] == 0x20 && b[1] == 0x02 { return IPAddress(bytes: Array(b[2..<6])) }
        return nil
    }

    /// Why a webhook may not go to this address (loopback, private, ...), or nil for a public unicast address.
    /// An IPv6 address that carries an IPv4 address is judged by both: the inner address (a loopback or private
    /// IPv4 address is refused in any wrapping) and the outer range (IPv4-mapped, IPv4-compatible and
    /// IPv4-translated addresses are not globally reachable, whatever they carry; NAT64 and 6to4 with a public
    /// inner address are).
    public var forbiddenClass: String? {
        if isIPv4 {
            for (range, name) in Self.forbiddenV4 where range.contains(self) { return name }
            return nil
        }
        for (range, name) in Self.specialV6 where range.contains(self) { return name }
        if let inner = embeddedIPv4, let reason = inner.forbiddenClass { return "\(reason) (inside an IPv6 address)" }
        for (range, name) in Self.forbiddenV6 where range.contains(self) { return name }
        return nil
    }

    /// Single IPv6 addresses named before any embedded IPv4 address is looked at (`::1` is not "0.0.0.1").
    static let specialV6: [(CIDR, String)] = [("::/128", "the unspecified address"), ("::1/128", "a loopback address")]
        .map { (CIDR($0.0)!, $0.1) }

    static let forbiddenV4: [(CIDR, String)] = [
        ("0.0.0.0/8", "an unspecified ('this network') address"), ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"), ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"), ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "a reserved (IETF protocol) address"), ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a reserved (6to4 relay) address"), ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a reserved (benchmarking) address"), ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"), ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"), ("240.0.0.0/4", "a reserved address"),
    ].map { (CIDR($0.0)!, $0.1) }

    static let forbiddenV6: [(CIDR, String)] = [
        ("::/128", "the unspecified address"), ("::1/128", "a loopback address"),
        ("::/96", "a reserved (IPv4-compatible) address"), ("::ffff:0:0/96", "a reserved (IPv4-mapped) address"),
        ("::ffff:0:0:0/96", "a reserved (IPv4-translated) address"),
        ("64:ff9b:1::/48", "a reserved (local NAT64) address"), ("100::/64", "a reserved (discard) address"),
        ("2001:db8::/32", "a documentation address"), ("2001::/23", "a reserved (IETF protocol) address"),
        ("3fff::/20", "a documentation address"), ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"), ("fec0::/10", "a reserved (site-local) address"),
        ("ff00::/8", "a multicast address"),
    ].map { (CIDR($0.0)!, $0.1) }
}

/// An address range such as `10.0.0.0/8` or `fd00::/8`; a bare address is a range of one.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let base: IPAddress
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let base = IPAddress(parts[0]) else { return nil }
        let maximum = base.bytes.count * 8
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), (0...maximum).contains(prefix) else { return nil }
            self.prefix = prefix
        } else {
            self.prefix = maximum
        }
        self.base = base
    }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == base.bytes.count else { return false }
        var remaining = prefix
        for (a, b) in zip(address.bytes, base.bytes) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if a & mask != b & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String { "\(base)/\(prefix)" }
}

/// Why a callback URL is refused. `message` names the rule and is safe to show the client (it names the URL's own
/// host and the address class, nothing of this machine).
public struct WebhookTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable { case malformed, scheme, credentials, forbiddenAddress, unresolvable, lookupUnavailable }
        let base: Base
        public static let malformed = Code(base: .malformed)
        public static let scheme = Code(base: .scheme)
        public static let credentials = Code(base: .credentials)
        public static let forbiddenAddress = Code(base: .forbiddenAddress)
        public static let unresolvable = Code(base: .unresolvable)
        /// The lookup gave no answer in time, or was not run (too many in progress): nothing is known of the host
        /// yet, so this is the resolver's state, not the URL's fault (the API answers 503, a delivery retries).
        public static let lookupUnavailable = Code(base: .lookupUnavailable)
        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// A callback URL that passed the policy, with the address its POSTs must connect to.
public struct WebhookTarget: Sendable, Equatable {
    public var url: URL
    public var host: String
    /// The checked address: deliveries connect here (DNS is not asked again), so a name that re-resolves to an
    /// internal address between check and connect (DNS rebinding) cannot redirect the POST.
    public var address: IPAddress
}

/// Where webhooks may go. Refuses loopback, private, link-local, CGNAT, multicast, broadcast, unspecified, reserved
/// and documentation addresses (IPv4 and IPv6, including IPv4 inside IPv6), numeric hosts in odd spellings
/// (`2130706433`, `0x7f.1`), schemes other than http(s), credentials in the URL, and CR, LF, spaces or other
/// control characters anywhere. An operator allows private targets with `allowedHosts` (host names, compared
/// without case) and `allowedRanges` (CIDRs): the CLI fills both from `RENDC_WEBHOOK_ALLOWED_HOSTS`.
public struct WebhookTargetPolicy: Sendable, Equatable {
    public var allowedHosts: Set<String>
    public var allowedRanges: [CIDR]
    /// Looks host names up (under a deadline, on a bounded number of threads) for ``check(_:)``.
    public var hostResolver: HostResolver
    public static let maximumURLBytes = 2048

    public init(allowedHosts: Set<String> = [], allowedRanges: [CIDR] = [], hostResolver: HostResolver = .shared) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.allowedRanges = allowedRanges
        self.hostResolver = hostResolver
    }

    /// Parses `RENDC_WEBHOOK_ALLOWED_HOSTS`: comma-separated host names, addresses and CIDRs.
    public init(allowList text: String) throws {
        var hosts: Set<String> = []
        var ranges: [CIDR] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            if let range = CIDR(item) {
                ranges.append(range)
            } else if item.range(of: #"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"#, options: .regularExpression) != nil,
                !item.allSatisfy({ $0.isNumber || $0 == "." })
            {
                hosts.insert(item.lowercased())
            } else {
                throw WebhookTargetError(
                    .malformed, "RENDC_WEBHOOK_ALLOWED_HOSTS entry '\(item.prefix(80))' is neither a host name nor an address or CIDR")
            }
        }
        self.init(allowedHosts: hosts, allowedRanges: ranges)
    }

    /// Checks the URL's text without DNS: scheme, credentials, characters, and a host that is a name or a
    /// canonical address (an address literal is also checked against the forbidden ranges). Returns the parsed
    /// URL and its host (brackets removed, lower case).
    public func checkSyntax(_ text: String) throws -> (url: URL, host: String) {
        guard text.utf8.count <= Self.maximumURLBytes else {
            throw WebhookTargetError(.malformed, "callbackUrl is longer than \(Self.maximumURLBytes) bytes")
        }
        if text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
            throw WebhookTargetError(.malformed, "callbackUrl must not contain spaces, CR, LF or other control characters")
        }
        guard let components = URLComponents(string: text), let url = components.url,
            let scheme = components.scheme?.lowercased()
        else {
            throw WebhookTargetError(.malformed, "callbackUrl is not an absolute URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw WebhookTargetError(.scheme, "callbackUrl must use http or https")
        }
        guard components.user == nil, components.password == nil, !(components.percentEncodedHost ?? "").contains("@") else {
            throw WebhookTargetError(.credentials, "callbackUrl must not contain credentials (user:password@)")
        }
        guard var host = components.percentEncodedHost, !host.isEmpty else {
            throw WebhookTargetError(.malformed, "callbackUrl has no host")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        host = host.lowercased()
        if host.hasSuffix(".") { host = String(host.dropLast()) }
        if let address = IPAddress(host) {
            if !isAllowed(host: host, address: address), let reason = address.forbiddenClass {
                throw WebhookTargetError(.forbiddenAddress, "callbackUrl points to \(reason); webhooks go to public addresses only")
            }
        } else if host.contains(":") || host.contains("%") {
            throw WebhookTargetError(.malformed, "callbackUrl host is not a valid address")
        } else if Self.looksNumeric(host) {
            throw WebhookTargetError(
                .malformed, "callbackUrl host '\(host.prefix(64))' is a number in a non-standard form; write IPv4 addresses as four decimal parts")
        } else if host.range(of: #"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$"#, options: .regularExpression) == nil {
            throw WebhookTargetError(.malformed, "callbackUrl host is not a valid host name")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw WebhookTargetError(.malformed, "callbackUrl port is out of range")
        }
        return (url, host)
    }

    /// The full check with this policy's ``hostResolver``: see ``check(_:resolver:)``. `owner` (the API passes
    /// the tenant) is counted against its share of the resolver's threads.
    public func check(_ text: String, owner: String? = nil) async throws -> WebhookTarget {
        let resolver = hostResolver
        return try await check(text, resolver: { try await resolver.resolve($0, owner: owner) })
    }

    /// The full check: syntax, then every address the host resolves to must be allowed (one bad address refuses
    /// the URL, so round-robin DNS cannot smuggle one in). Returns the target with the address to connect to.
    /// A lookup that does not answer within the resolver's deadline, or is not run (busy), is
    /// `.lookupUnavailable` and says so; a name that does not resolve is `.unresolvable`.
    public func check(_ text: String, resolver: @Sendable (String) async throws -> [IPAddress]) async throws -> WebhookTarget {
        let (url, host) = try checkSyntax(text)
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            do {
                addresses = try await resolver(host)
            } catch let error as HostLookupError where error.code == .timedOut || error.code == .busy {
                throw WebhookTargetError(.lookupUnavailable, "callbackUrl host \(error.message)")
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw WebhookTargetError(.unresolvable, "callbackUrl host '\(host.prefix(64))' does not resolve")
            }
        }
        guard let first = addresses.first else {
            throw WebhookTargetError(.unresolvable, "callbackUrl host '\(host.prefix(64))' does not resolve")
        }
        for address in addresses where !isAllowed(host: host, address: address) {
            if let reason = address.forbiddenClass {
                throw WebhookTargetError(
                    .forbiddenAddress, "callbackUrl host '\(host.prefix(64))' resolves to \(reason); webhooks go to public addresses only")
            }
        }
        return WebhookTarget(url: url, host: host, address: first)
    }

    func isAllowed(host: String, address: IPAddress) -> Bool {
        allowedHosts.contains(host) || allowedRanges.contains { $0.contains(address) }
    }

    /// Digits, dots and hex letters with an `x`, or a lone number: what `inet_aton` would read as an address.
    static func looksNumeric(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.allSatisfy { part in
            let p = part.lowercased()
            if p.hasPrefix("0x") { return p.dropFirst(2).allSatisfy(\.isHexDigit) }
            return !p.isEmpty && p.allSatisfy(\.isNumber)
        }
    }

    /// The host's addresses from the process-wide ``HostResolver/shared`` (system resolver, 5 s deadline, a few
    /// threads).
    @Sendable public static func resolve(_ host: String) async throws -> [IPAddress] {
        try await HostResolver.shared.resolve(host)
    }
}
