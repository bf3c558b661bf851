import Foundation
import Testing
import Webhooks

/// SSRF through `callbackUrl` (issue 10, finding 2): every URL the probe used, and their relatives, is refused.
@Suite struct WebhookTargetPolicyTests {
    let policy = WebhookTargetPolicy()

    /// Resolves nothing: a test must never depend on real DNS.
    static let noDNS: @Sendable (String) async throws -> [IPAddress] = { _ in throw WebhookTargetError(.unresolvable, "no DNS in tests") }

    @Test(arguments: [
        "http://127.0.0.1:5432/", "http://127.8.9.10/", "http://127.0.0.1./x",
        "http://10.1.2.3/", "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://100.127.255.254/",
        "http://224.0.0.1/", "http://239.255.255.250/", "http://255.255.255.255/", "http://0.0.0.0:8080/",
        "http://192.0.2.1/", "http://198.51.100.7/", "http://203.0.113.9/", "http://240.0.0.1/", "http://198.18.0.1/",
        "http://192.0.0.8/",
        "http://[::1]/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/", "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd12:3456::1]/",
        "http://[ff02::1]/", "http://[2001:db8::1]/", "http://[fec0::1]/", "http://[100::1]/",
        // IPv4-translated (SIIT, ::ffff:0:0:0/96), whatever it carries, and IPv4-mapped or -compatible public ones.
        "http://[::ffff:0:7f00:1]/", "http://[::ffff:0:127.0.0.1]/", "http://[::ffff:0:a00:1]/", "http://[::ffff:0:a9fe:a9fe]/",
        "http://[::ffff:0:8.8.8.8]/", "http://[::ffff:8.8.8.8]/", "http://[::8.8.8.8]/", "http://[64:ff9b::a00:1]/",
    ])
    func forbiddenAddressesAreRefused(_ url: String) async throws {
        let error = await #expect(throws: WebhookTargetError.self) { try await policy.check(url, resolver: Self.noDNS) }
        #expect(error?.code == .forbiddenAddress, "\(url): \(String(describing: error))")
        #expect(error?.message.contains("public addresses only") == true)
    }

    @Test(arguments: [
        "http://2130706433/", "http://0x7f.1/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/",
        "http://017700000001/", "http://127.0.0.01/",
    ])
    func numericHostsInOddSpellingsAreRefused(_ url: String) async throws {
        let error = await #expect(throws: WebhookTargetError.self) { try await policy.check(url, resolver: Self.noDNS) }
        #expect(error?.code == .malformed || error?.code == .forbiddenAddress, "\(url)")
    }

    @Test func schemesCredentialsAndControlCharactersAreRefused() async throws {
        let cases: [(String, WebhookTargetError.Code)] = [
            ("ftp://93.184.216.34/x", .scheme), ("file:///etc/passwd", .scheme), ("gopher://93.184.216.34/", .scheme),
            ("http://user:pass@93.184.216.34/", .credentials), ("http://user@93.184.216.34/", .credentials),
            ("http://93.184.216.34/a\r\nX-Injected: 1", .malformed), ("http://93.184.216.34/a b", .malformed),
            ("http://93.184.216.34/\n", .malformed), ("http://93.184.216.34/\u{85}", .malformed), ("/relative", .malformed),
            ("http://" + String(repeating: "a", count: 2100) + ".com/", .malformed), ("http://[fe80::1%25eth0]/", .malformed),
        ]
        for (url, code) in cases {
            let error = await #expect(throws: WebhookTargetError.self) { try await policy.check(url, resolver: Self.noDNS) }
            #expect(error?.code == code, "\(url.debugDescription.prefix(60)): \(String(describing: error))")
        }
    }

    @Test func publicAddressesPassAndNamesAreCheckedOnEveryAddressTheyResolveTo() async throws {
        let v4 = try await policy.check("https://93.184.216.34/hook", resolver: Self.noDNS)
        #expect(v4.address == IPAddress("93.184.216.34"))
        let v6 = try await policy.check("https://[2606:4700::1111]:8443/hook", resolver: Self.noDNS)
        #expect(v6.address == IPAddress("2606:4700::1111"))
        // NAT64 (DNS64 networks) and 6to4 with a public IPv4 address inside are public.
        let nat64 = try await policy.check("http://[64:ff9b::808:808]/", resolver: Self.noDNS)
        #expect(nat64.address.embeddedIPv4 == IPAddress("8.8.8.8"))
        #expect(try await policy.check("http://[2002:808:808::1]/", resolver: Self.noDNS).address.embeddedIPv4 == IPAddress("8.8.8.8"))

        let good = try await policy.check("https://Hooks.Example.COM./x") { host in
            #expect(host == "hooks.example.com")
            return [IPAddress("93.184.216.34")!, IPAddress("2606:2800:220:1::1")!]
        }
        #expect(good.address == IPAddress("93.184.216.34") && good.host == "hooks.example.com")
        // One internal address among public ones refuses the name (round-robin DNS cannot smuggle it in).
        let mixed = await #expect(throws: WebhookTargetError.self) {
            try await policy.check("https://hooks.example.com/x") { _ in [IPAddress("93.184.216.34")!, IPAddress("10.0.0.5")!] }
        }
        #expect(mixed?.code == .forbiddenAddress && mixed?.message.contains("a private address") == true)
        let rebound = await #expect(throws: WebhookTargetError.self) {
            try await policy.check("https://metadata.example.com/") { _ in [IPAddress("::ffff:169.254.169.254")!] }
        }
        #expect(rebound?.code == .forbiddenAddress)
        let nowhere = await #expect(throws: WebhookTargetError.self) { try await policy.check("https://nowhere.invalid/", resolver: Self.noDNS) }
        #expect(nowhere?.code == .unresolvable)
    }

    @Test func theAllowListAdmitsNamedHostsAndRanges() async throws {
        let allowed = try WebhookTargetPolicy(allowList: " 127.0.0.1/32, hooks.internal ,fd00::/8,10.1.2.3")
        #expect(allowed.allowedHosts == ["hooks.internal"])
        #expect(allowed.allowedRanges.map(\.description) == ["127.0.0.1/32", "fd00::/8", "10.1.2.3/32"])
        #expect(try await allowed.check("http://127.0.0.1:9999/hook", resolver: Self.noDNS).address == IPAddress("127.0.0.1"))
        #expect(try await allowed.check("http://10.1.2.3/", resolver: Self.noDNS).address == IPAddress("10.1.2.3"))
        #expect(try await allowed.check("http://[fd00::5]/", resolver: Self.noDNS).address == IPAddress("fd00::5"))
        #expect(try await allowed.check("http://hooks.internal/x") { _ in [IPAddress("192.168.9.9")!] }.address == IPAddress("192.168.9.9"))
        // Only what is listed: the rest of loopback and private space stays refused, and so do odd spellings.
        for url in ["http://127.0.0.2/", "http://10.1.2.4/", "http://[::1]/", "http://2130706433/", "http://0x7f.1/"] {
            await #expect(throws: WebhookTargetError.self, "\(url)") { try await allowed.check(url, resolver: Self.noDNS) }
        }
        // Credentials and schemes are refused even for allowed hosts.
        await #expect(throws: WebhookTargetError.self) { try await allowed.check("http://u:p@127.0.0.1/", resolver: Self.noDNS) }
        #expect(throws: WebhookTargetError.self) { try WebhookTargetPolicy(allowList: "127.0.0.1/33") }
        #expect(throws: WebhookTargetError.self) { try WebhookTargetPolicy(allowList: "http://x/") }
        #expect(try WebhookTargetPolicy(allowList: "").allowedRanges.isEmpty)
    }

    /// An IPv6 address carrying an IPv4 address is judged by the inner address and by its own range.
    @Test func embeddedIPv4AddressesAreClassifiedByTheInnerAddressToo() {
        #expect(IPAddress("::ffff:0:7f00:1")?.embeddedIPv4 == IPAddress("127.0.0.1"), "SIIT carries IPv4 too")
        #expect(IPAddress("::ffff:0:7f00:1")?.forbiddenClass == "a loopback address (inside an IPv6 address)")
        #expect(IPAddress("::ffff:0:a00:1")?.forbiddenClass == "a private address (inside an IPv6 address)")
        #expect(IPAddress("::ffff:0:8.8.8.8")?.forbiddenClass == "a reserved (IPv4-translated) address")
        #expect(IPAddress("::ffff:8.8.8.8")?.forbiddenClass == "a reserved (IPv4-mapped) address")
        #expect(IPAddress("::ffff:169.254.169.254")?.forbiddenClass == "a link-local address (inside an IPv6 address)")
        #expect(IPAddress("::1")?.forbiddenClass == "a loopback address" && IPAddress("::")?.forbiddenClass == "the unspecified address")
        #expect(IPAddress("2002:c0a8:101::1")?.forbiddenClass == "a private address (inside an IPv6 address)")
        #expect(IPAddress("64:ff9b::808:808")?.forbiddenClass == nil && IPAddress("2002:808:808::1")?.forbiddenClass == nil)
        // Only the exact SIIT prefix: ::ffff:1:0:0 is not one (and is in no forbidden range).
        #expect(IPAddress("::ffff:1:7f00:1")?.embeddedIPv4 == nil)
    }

    @Test func addressRangesMatchBitByBit() {
        let cgnat = CIDR("100.64.0.0/10")!
        #expect(cgnat.contains(IPAddress("100.64.0.0")!) && cgnat.contains(IPAddress("100.127.255.255")!))
        #expect(!cgnat.contains(IPAddress("100.128.0.0")!) && !cgnat.contains(IPAddress("100.63.255.255")!))
        #expect(!cgnat.contains(IPAddress("::ffff:100.64.0.1")!), "families never match each other")
        #expect(CIDR("0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        #expect(IPAddress("8.8.8.8")?.forbiddenClass == nil && IPAddress("2606:4700::1111")?.forbiddenClass == nil)
        #expect(IPAddress("::ffff:127.0.0.1")?.description == "::ffff:127.0.0.1")
        #expect(IPAddress("01.2.3.4") == nil && IPAddress("1.2.3") == nil && IPAddress("256.1.1.1") == nil)
    }
}
