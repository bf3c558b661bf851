import Foundation
import Testing

/// A trait for suites whose tests block a thread: renders, `ffprobe` and other subprocesses, raw socket reads.
///
/// Swift's global concurrent executor on Linux has as many threads as cores: two in CI. A synchronous render in a
/// test holds one of them for seconds, and two such tests at once hold them all, so every async test in the run
/// stalls: a server in one test cannot answer its client, a database reply waits, a browser times out. That is how
/// tests that prove a mechanism failed on a busy machine without any timing assertion in them.
///
/// Each test case of a suite marked `.ownThreads` runs on a small pool of threads of its own (its child tasks, such as
/// an in-process server, inherit the pool), so what it blocks is its own. At most four such test cases a core (eight
/// in CI) run at once: many of them mostly wait (on a browser, a subprocess, a socket), and the cap keeps dozens of
/// renders from holding memory together. Waiting for a turn is asynchronous and holds no thread.
public struct OwnThreadsTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else { return try await function() }
        await OwnThreadsTrait.turns.acquire()
        let executor = ThreadPoolTaskExecutor(threads: 4, name: test.name)
        defer {
            executor.shutdown()
            OwnThreadsTrait.turns.release()
        }
        // A child task that starts on the executor: `withTaskExecutorPreference` alone would run a synchronous test
        // body on the caller's thread, since nothing in it suspends to hop.
        // The group waits for the child, so `function` does not outlive this call.
        try await withoutActuallyEscaping(function) { body in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask(executorPreference: executor) { try await body() }
                try await group.waitForAll()
            }
        }
    }

    /// Whether the calling code runs on threads of a test case's own (the test of this trait checks it).
    public static var isOnOwnThread: Bool { Thread.current.threadDictionary[ThreadPoolTaskExecutor.marker] as? Bool == true }

    static let turns = AsyncSemaphore(permits: max(8, 4 * ProcessInfo.processInfo.activeProcessorCount))
}

extension Trait where Self == OwnThreadsTrait {
    /// Run each test case on threads of its own (see ``OwnThreadsTrait``).
    public static var ownThreads: Self { OwnThreadsTrait() }
}

/// A counting semaphore whose waiters suspend instead of blocking a thread.
final class AsyncSemaphore: @unchecked Sendable {
    private let lock = NSLock()
    private var permits: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { self.permits = permits }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if permits > 0 {
                permits -= 1
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    func release() {
        lock.lock()
        if waiters.isEmpty {
            permits += 1
            lock.unlock()
        } else {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume()
        }
    }
}

/// A task executor on dedicated threads. After ``shutdown()`` the threads end once their queue is empty; a job that
/// still arrives later (a straggling child task) gets a thread of its own, so nothing is ever dropped.
final class ThreadPoolTaskExecutor: TaskExecutor, @unchecked Sendable {
    static let marker = "rendc.test.ownThreads"
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var running: Int
    private var stopping = false

    init(threads: Int, name: String) {
        running = threads
        for index in 0..<threads {
            let thread = Thread { [self] in
                Thread.current.threadDictionary[Self.marker] = true
                work()
            }
            thread.name = "test \(name) #\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        if running == 0 {
            condition.unlock()
            let thread = Thread { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
            thread.stackSize = 8 << 20
            thread.start()
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                running -= 1
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
