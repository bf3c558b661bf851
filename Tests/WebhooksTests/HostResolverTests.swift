import Foundation
import RendcTestSupport
import Testing
import Webhooks

/// A blocking lookup that never answers until released: a name server that does not reply. Counts the lookups
/// in it now and at most.
final class StuckLookup: @unchecked Sendable {
    /// The names that get stuck (the others are answered at once, and counted too).
    private let blocking: @Sendable (String) -> Bool
    init(blocking: @escaping @Sendable (String) -> Bool = { _ in true }) { self.blocking = blocking }

    private let lock = NSLock()
    private let gate = DispatchSemaphore(value: 0)
    private var inside = 0
    private(set) var mostAtOnce = 0
    private(set) var calls = 0
    private var released = false

    var lookup: HostResolver.Lookup {
        { [self] host in
            lock.withLock {
                calls += 1
                inside += 1
                mostAtOnce = max(mostAtOnce, inside)
            }
            defer { lock.withLock { inside -= 1 } }
            if blocking(host), !lock.withLock({ released }) { gate.wait() }
            if host.hasPrefix("internal.") { return [IPAddress("10.0.0.8")!] }
            return host == "hooks.example.com" ? [IPAddress("93.184.216.34")!] : []
        }
    }

    var current: (inside: Int, mostAtOnce: Int, calls: Int) { lock.withLock { (inside, mostAtOnce, calls) } }

    /// Lets every lookup through (now and later).
    func release() {
        let waiting = lock.withLock {
            released = true
            return inside
        }
        for _ in 0..<max(waiting, 64) { gate.signal() }
    }
}

/// Checks every URL at once; each one's outcome: "resolved" or the error's text.
func checkAtOnce(_ policy: WebhookTargetPolicy, _ urls: [String], owner: String? = nil) async -> [String] {
    await withTaskGroup(of: String.self) { group in
        for url in urls {
            group.addTask {
                do {
                    _ = try await policy.check(url, owner: owner)
                    return "resolved"
                } catch {
                    return "\(error)"
                }
            }
        }
        var all: [String] = []
        for await message in group { all.append(message) }
        return all
    }
}

/// DNS lookups under a deadline with a bounded number of threads (security review: getaddrinfo ran on a new
/// thread per call with no deadline, at submit and before every delivery).
@Suite struct HostResolverTests {
    @Test func aLookupThatNeverAnswersFailsWithAClearErrorAtItsDeadline() async throws {
        let stuck = StuckLookup()
        defer { stuck.release() }
        let policy = WebhookTargetPolicy(hostResolver: HostResolver(timeout: 0.3, maximumConcurrentLookups: 2, lookup: stuck.lookup))
        let error = await #expect(throws: WebhookTargetError.self) { try await policy.check("https://hooks.example.com/x") }
        #expect(error?.code == .lookupUnavailable, "the resolver's state, not the URL's fault")
        #expect(error?.message == "callbackUrl host 'hooks.example.com' did not resolve within 0.3 s", "\(String(describing: error))")
        #expect(stuck.current.inside == 1, "the lookup is still stuck: only the deadline explains the answer")
    }

    @Test func stuckLookupsUseAFewThreadsAndTheQueueIsBounded() async throws {
        let stuck = StuckLookup()
        // No written-off threads: the two stuck ones keep their places, so the queue behind them shows.
        let resolver = HostResolver(
            timeout: 0.5, maximumConcurrentLookups: 2, maximumWaiting: 4, maximumAbandonedLookups: 0, lookup: stuck.lookup)
        let policy = WebhookTargetPolicy(hostResolver: resolver)
        let messages = await checkAtOnce(policy, (0..<12).map { "https://hooks-\($0).example.com/" })
        // Twelve callers, two threads: the rest queued (four) or were refused at once; all got an answer.
        #expect(messages.count == 12)
        #expect(messages.allSatisfy { $0.contains("did not resolve within 0.5 s") || $0.contains("too many lookups are waiting") }, "\(messages)")
        #expect(messages.filter { $0.contains("too many lookups are waiting") }.count >= 6, "\(messages)")
        #expect(stuck.current.mostAtOnce == 2 && stuck.current.calls == 2, "never more than two lookup threads")
        #expect(resolver.runningLookups == 2)
        // The name server answers again: the stuck threads finish, skip the requests nobody waits for, and exit;
        // new lookups work.
        stuck.release()
        let target = try await policy.check("https://hooks.example.com/x")
        #expect(target.address == IPAddress("93.184.216.34"))
        #expect(stuck.current.calls == 3, "abandoned queued requests were not looked up")
        #expect(try await eventually(timeout: 30) { resolver.runningLookups == 0 }, "no thread left behind")
    }

    /// review9: one tenant's black-holed names took all four threads, and another tenant's valid callback timed
    /// out (and was answered 422). An owner now has two lookups at most, counted until its threads are done.
    @Test func oneOwnersStuckLookupsLeaveThreadsForOthers() async throws {
        let stuck = StuckLookup()
        // 2 s: tenant B's lookup must reach a thread before its deadline, even on a loaded machine.
        let resolver = HostResolver(timeout: 2, maximumConcurrentLookups: 4, maximumPerOwner: 2, lookup: stuck.lookup)
        let policy = WebhookTargetPolicy(hostResolver: resolver)
        let messages = await checkAtOnce(policy, (0..<8).map { "https://a\($0).slow.example/" }, owner: "tenant-a")
        #expect(messages.filter { $0.contains("this account's earlier lookups are still running") }.count == 6, "\(messages)")
        #expect(stuck.current.calls == 2, "only two of the eight reached a thread: \(stuck.current)")
        // Their deadline passed, but the two threads are still stuck: they still count against tenant A.
        #expect(resolver.lookups(of: "tenant-a") == 2)
        let again = await #expect(throws: WebhookTargetError.self) { try await policy.check("https://a9.slow.example/", owner: "tenant-a") }
        #expect(again?.code == .lookupUnavailable)
        // Tenant B gets a free thread at once (its lookup is stuck too, but it is looked up: a third call).
        _ = try? await policy.check("https://hooks.example.com/x", owner: "tenant-b")
        #expect(stuck.current.calls == 3)
        stuck.release()
        #expect(try await eventually(timeout: 30) { resolver.lookups(of: "tenant-a") == 0 && resolver.runningLookups == 0 })
        let target = try await policy.check("https://hooks.example.com/x", owner: "tenant-a")
        #expect(target.address == IPAddress("93.184.216.34"))
    }

    /// svc12 (left by review9): two owners holding their two stuck lookups each filled the four threads, and a
    /// third owner's lookup queued behind them until its own deadline (the API's 503 for everyone with a
    /// callback). A thread whose caller has given up is now written off and replaced. Contrast: the third owner's
    /// names are answered while all four stuck lookups are still stuck, which only a fifth thread can do; with no
    /// room for written-off threads the same call times out.
    @Test func twoOwnersStuckLookupsLeaveAThreadForAThird() async throws {
        let stuck = StuckLookup(blocking: { $0.hasSuffix(".blackhole.example") })
        defer { stuck.release() }
        // 2 s: the third owner's lookup must get a thread before its deadline on a loaded machine.
        let resolver = HostResolver(timeout: 2, maximumConcurrentLookups: 4, maximumPerOwner: 2, lookup: stuck.lookup)
        let policy = WebhookTargetPolicy(hostResolver: resolver)
        async let a = checkAtOnce(policy, ["https://a1.blackhole.example/", "https://a2.blackhole.example/"], owner: "tenant-a")
        async let b = checkAtOnce(policy, ["https://b1.blackhole.example/", "https://b2.blackhole.example/"], owner: "tenant-b")
        let messages = await a + b
        #expect(messages.count == 4 && messages.allSatisfy { $0.contains("did not resolve within 2 s") }, "\(messages)")
        #expect(stuck.current.inside == 4, "the four lookups are still stuck: \(stuck.current)")
        #expect(resolver.abandonedLookups == 4)
        #expect(resolver.lookups(of: "tenant-a") == 2 && resolver.lookups(of: "tenant-b") == 2, "still counted against their owners")

        let target = try await policy.check("https://hooks.example.com/x", owner: "tenant-c")
        #expect(target.address == IPAddress("93.184.216.34"))
        let refused = await #expect(throws: WebhookTargetError.self) {
            try await policy.check("https://internal.example.com/x", owner: "tenant-c")
        }
        #expect(refused?.code == .forbiddenAddress, "the real answer, not the resolver's state")
        #expect(stuck.current.inside == 4)
        #expect(resolver.runningLookups <= 4 + 4, "four written off, at most four live")

        // Written-off threads are bounded: a pool of two with room for two written off. Tenant A's two are written
        // off, tenant B's two then hold the pool, and the third owner waits out its deadline behind them.
        let small = HostResolver(timeout: 0.5, maximumConcurrentLookups: 2, maximumPerOwner: 2, maximumAbandonedLookups: 2, lookup: stuck.lookup)
        let smallPolicy = WebhookTargetPolicy(hostResolver: small)
        _ = await checkAtOnce(smallPolicy, ["https://a3.blackhole.example/", "https://a4.blackhole.example/"], owner: "tenant-a")
        _ = await checkAtOnce(smallPolicy, ["https://b3.blackhole.example/", "https://b4.blackhole.example/"], owner: "tenant-b")
        #expect(small.abandonedLookups == 2 && small.runningLookups == 4, "two written off, two holding the pool")
        let waited = await #expect(throws: WebhookTargetError.self) { try await smallPolicy.check("https://hooks.example.com/x", owner: "tenant-c") }
        #expect(waited?.code == .lookupUnavailable)

        stuck.release()
        #expect(try await eventually(timeout: 30) { resolver.runningLookups == 0 && resolver.abandonedLookups == 0 })
        #expect(try await eventually(timeout: 30) { small.runningLookups == 0 && small.abandonedLookups == 0 })
        #expect(resolver.lookups(of: "tenant-a") == 0 && resolver.lookups(of: "tenant-b") == 0)
    }

    @Test func cancellingTheCallerStopsItsWait() async throws {
        let stuck = StuckLookup()
        defer { stuck.release() }
        let resolver = HostResolver(timeout: 600, maximumConcurrentLookups: 1, lookup: stuck.lookup)
        let waiting = Task { try await resolver.resolve("hooks.example.com") }
        #expect(try await eventually(timeout: 30) { stuck.current.inside == 1 })
        waiting.cancel()
        // With a 600 s deadline and a lookup that never answers, only the cancellation can end the wait.
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
