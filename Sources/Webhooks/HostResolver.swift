import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a host name lookup gave no answer. `description` names the host and the limit, nothing of this machine.
public struct HostLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable { case notFound, timedOut, busy }
        let base: Base
        /// The resolver answered: no such name, or no address.
        public static let notFound = Code(base: .notFound)
        /// No answer within the resolver's deadline.
        public static let timedOut = Code(base: .timedOut)
        /// Too many lookups were already waiting (the lookup threads are all stuck on slow names).
        public static let busy = Code(base: .busy)
        public var description: String { "\(base)" }
    }

    public var code: Code
    public var host: String
    public var message: String
    public init(_ code: Code, host: String, _ message: String) {
        self.code = code
        self.host = host
        self.message = message
    }
    public var description: String { message }
}

/// Looks host names up under a deadline, on a few threads of its own.
///
/// The system resolver (`getaddrinfo`) blocks and cannot be cancelled, and a name server that never answers holds
/// it for as long as its own timeouts and retries last. So a lookup runs on one of at most
/// `maximumConcurrentLookups` threads (never a new thread per call); callers wait at most `timeout` seconds, after
/// which they get ``HostLookupError/Code/timedOut`` while the stuck thread finishes in its own time. Lookups that
/// find every thread busy queue (at most `maximumWaiting` of them; more are refused at once with
/// ``HostLookupError/Code/busy``) and their deadline runs while they queue.
///
/// A lookup may name its `owner` (the API passes the tenant): an owner has at most `maximumPerOwner` lookups queued
/// or on a thread, counted until the thread is done with them (not when the caller stops waiting), so one account's
/// black-holed names cannot take every thread and make other accounts' lookups time out; past its share it gets
/// ``HostLookupError/Code/busy`` at once.
///
/// A thread whose caller stopped waiting (deadline or cancellation) while its lookup is still stuck is written off:
/// it no longer counts against `maximumConcurrentLookups`, so a new thread may start for the lookups queued behind
/// it, while at most `maximumAbandonedLookups` written-off threads exist at once (past that, the stuck threads hold
/// their places again). Without this, two accounts holding their two lookups each on black-holed names filled all
/// four threads, and every other account's lookup waited out its deadline behind them (found by review9). With the
/// defaults, 18 accounts must hold stuck lookups at once before anyone else waits (16 fill the room for 32
/// written-off threads, 2 more hold the 4 threads); a written-off thread costs its stack (256 KiB reserved) until
/// `getaddrinfo` gives up.
///
/// The lookup itself is injectable: tests pass one that blocks.
public final class HostResolver: Sendable, Equatable {
    /// A blocking lookup: the host's addresses, or a throw when it has none.
    public typealias Lookup = @Sendable (String) throws -> [IPAddress]

    public let timeout: Double
    public let maximumConcurrentLookups: Int
    public let maximumWaiting: Int
    public let maximumPerOwner: Int
    public let maximumAbandonedLookups: Int
    private let lookup: Lookup
    private let state = LockedState()

    /// The process-wide resolver behind ``WebhookTargetPolicy/resolve(_:)`` and the default policy: 5 s, 4 threads.
    public static let shared = HostResolver()

    public init(
        timeout: Double = 5, maximumConcurrentLookups: Int = 4, maximumWaiting: Int = 256, maximumPerOwner: Int = 2,
        maximumAbandonedLookups: Int = 32, lookup: @escaping Lookup = HostResolver.systemLookup
    ) {
        self.timeout = max(0.001, timeout)
        self.maximumConcurrentLookups = max(1, maximumConcurrentLookups)
        self.maximumWaiting = max(0, maximumWaiting)
        self.maximumPerOwner = max(1, maximumPerOwner)
        self.maximumAbandonedLookups = max(0, maximumAbandonedLookups)
        self.lookup = lookup
    }

    public static func == (a: HostResolver, b: HostResolver) -> Bool { a === b }

    /// Lookup threads running now (for tests and diagnostics).
    public var runningLookups: Int { state.withLock { $0.running } }

    /// Lookup threads written off now: their callers stopped waiting, their lookups still run (for tests).
    public var abandonedLookups: Int { state.withLock { $0.abandoned } }

    /// The host's addresses, or a ``HostLookupError`` (not found, timed out, busy). Cancelling the calling task
    /// stops the wait (CancellationError).
    public func resolve(_ host: String) async throws -> [IPAddress] {
        try await resolve(host, owner: nil)
    }

    /// ``resolve(_:)`` counted against `owner`'s share (nil: no share).
    public func resolve(_ host: String, owner: String?) async throws -> [IPAddress] {
        let request = Request(host: host, owner: owner)
        let limit = timeout
        let timer = Task { [self] in
            try? await Task.sleep(for: .milliseconds(Int64(limit * 1000)))
            if Task.isCancelled { return }
            if request.finish(
                .failure(HostLookupError(.timedOut, host: host, "'\(host.prefix(64))' did not resolve within \(Self.seconds(limit)) s")))
            {
                callerLeft(request)
            }
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[IPAddress], any Error>) in
                request.attach(continuation)
                enqueue(request)
            }
        } onCancel: {
            if request.finish(.failure(CancellationError())) { callerLeft(request) }
        }
    }

    /// `request`'s caller stopped waiting before its lookup answered. If the lookup is stuck on a thread, that
    /// thread is written off (within ``maximumAbandonedLookups``) and, when lookups are queued, a new thread starts.
    private func callerLeft(_ request: Request) {
        let startThread: Bool = state.withLock { state in
            guard request.onThread, !request.abandoned, state.abandoned < maximumAbandonedLookups else { return false }
            request.abandoned = true
            state.abandoned += 1
            guard state.queue.contains(where: { !$0.isFinished }), state.live < maximumConcurrentLookups else { return false }
            state.running += 1
            return true
        }
        if startThread { self.startThread() }
    }

    private func startThread() {
        let thread = Thread { [self] in drain() }
        thread.name = "host-lookup"
        thread.stackSize = 256 << 10
        thread.start()
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.3g", value)
    }

    /// Lookups of `owner` queued or on a thread now (for tests).
    public func lookups(of owner: String) -> Int { state.withLock { $0.perOwner[owner] ?? 0 } }

    private func enqueue(_ request: Request) {
        enum Next { case queued, startThread, busy, ownerBusy }
        let next: Next = state.withLock { state in
            // One look at each request: its deadline may finish it meanwhile, and one removed without being
            // released would count against its owner for ever.
            var waiting: [Request] = []
            for queued in state.queue {
                if queued.isFinished { state.release(queued) } else { waiting.append(queued) }
            }
            state.queue = waiting
            guard state.queue.count < maximumWaiting || state.live < maximumConcurrentLookups else { return .busy }
            if let owner = request.owner {
                guard state.perOwner[owner, default: 0] < maximumPerOwner else { return .ownerBusy }
                state.perOwner[owner, default: 0] += 1
            }
            state.queue.append(request)
            guard state.live < maximumConcurrentLookups else { return .queued }
            state.running += 1
            return .startThread
        }
        switch next {
        case .queued: break
        case .busy:
            request.finish(
                .failure(HostLookupError(.busy, host: request.host, "'\(request.host.prefix(64))' was not looked up: too many lookups are waiting")))
        case .ownerBusy:
            request.finish(
                .failure(
                    HostLookupError(
                        .busy, host: request.host,
                        "'\(request.host.prefix(64))' was not looked up: this account's earlier lookups are still running")))
        case .startThread:
            startThread()
        }
    }

    /// A lookup thread: answers queued requests (skipping those whose caller stopped waiting) until none is left.
    private func drain() {
        while true {
            let next: Request? = state.withLock { state in
                // A thread back from a written-off lookup leaves when the threads that replaced it suffice.
                while !state.queue.isEmpty && state.live <= maximumConcurrentLookups {
                    let request = state.queue.removeFirst()
                    if !request.isFinished {
                        request.onThread = true
                        return request
                    }
                    state.release(request)
                }
                state.running -= 1
                return nil
            }
            guard let next else { return }
            next.finish(Result { try lookup(next.host) })
            state.withLock { state in
                state.release(next)
                next.onThread = false
                if next.abandoned {
                    next.abandoned = false
                    state.abandoned -= 1
                }
            }
        }
    }

    /// The system resolver: getaddrinfo, IPv4 and IPv6, duplicates removed, in the resolver's order.
    @Sendable public static func systemLookup(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw HostLookupError(.notFound, host: host, "cannot resolve '\(host.prefix(64))'")
        }
        defer { freeaddrinfo(first) }
        var result: [IPAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            if let sa = current.pointee.ai_addr {
                if current.pointee.ai_family == AF_INET {
                    var v4 = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    if let a = IPAddress(bytes: withUnsafeBytes(of: &v4) { Array($0) }), !result.contains(a) { result.append(a) }
                } else if current.pointee.ai_family == AF_INET6 {
                    var v6 = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    if let a = IPAddress(bytes: withUnsafeBytes(of: &v6) { Array($0) }), !result.contains(a) { result.append(a) }
                }
            }
            node = current.pointee.ai_next
        }
        return result
    }

    /// One caller's lookup: answered once, by the lookup thread, the deadline or a cancellation, whichever is first.
    private final class Request: @unchecked Sendable {
        let host: String
        let owner: String?
        private let lock = NSLock()
        private var result: Result<[IPAddress], any Error>?
        private var continuation: CheckedContinuation<[IPAddress], any Error>?
        /// On a lookup thread now; written off (its caller left while it ran). Both guarded by the resolver's state
        /// lock, not `lock`.
        var onThread = false
        var abandoned = false

        init(host: String, owner: String?) {
            self.host = host
            self.owner = owner
        }

        var isFinished: Bool { lock.withLock { result != nil } }

        func attach(_ continuation: CheckedContinuation<[IPAddress], any Error>) {
            lock.lock()
            if let result {
                lock.unlock()
                continuation.resume(with: result)
            } else {
                self.continuation = continuation
                lock.unlock()
            }
        }

        /// Answers the caller unless it was answered already; true when this call answered it.
        @discardableResult
        func finish(_ value: Result<[IPAddress], any Error>) -> Bool {
            lock.lock()
            guard result == nil else {
                lock.unlock()
                return false
            }
            result = value
            let waiting = continuation
            continuation = nil
            lock.unlock()
            waiting?.resume(with: value)
            return true
        }
    }

    private struct State {
        /// Lookup threads alive, written-off ones included.
        var running = 0
        /// Threads whose caller left while their lookup still runs.
        var abandoned = 0
        var queue: [Request] = []
        /// Threads that count against `maximumConcurrentLookups`.
        var live: Int { running - abandoned }
        /// Each owner's lookups that are queued or on a thread.
        var perOwner: [String: Int] = [:]

        /// `request` left the queue or its thread finished it: it no longer counts against its owner.
        mutating func release(_ request: Request) {
            guard let owner = request.owner, let count = perOwner[owner] else { return }
            perOwner[owner] = count > 1 ? count - 1 : nil
        }
    }

    private final class LockedState: @unchecked Sendable {
        private let lock = NSLock()
        private var value = State()
        func withLock<R>(_ body: (inout State) -> R) -> R { lock.withLock { body(&value) } }
    }
}
