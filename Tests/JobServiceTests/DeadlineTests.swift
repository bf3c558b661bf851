import Foundation
import Testing

@testable import JobQueue

/// `withDeadline`, what every database step's timeout runs on: the caller is answered at the deadline even when the
/// body ignores cancellation (as a postgres-nio statement already sent does).
@Suite struct DeadlineTests {
    /// A wait that only `open()` ends, whatever cancellation says.
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var waiters: [CheckedContinuation<Void, Never>] = []
        private var isOpen = false
        var opened: Bool { lock.withLock { isOpen } }

        func wait() async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if isOpen {
                    lock.unlock()
                    continuation.resume()
                } else {
                    waiters.append(continuation)
                    lock.unlock()
                }
            }
        }

        func open() {
            let waiting = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
                isOpen = true
                defer { waiters = [] }
                return waiters
            }
            for waiter in waiting { waiter.resume() }
        }
    }

    @Test func theDeadlineAnswersWithoutWaitingForABodyThatIgnoresCancellation() async throws {
        let gate = Gate(), finished = Gate()
        // A regression fails instead of hanging: a watchdog opens the gate after 30 s.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            gate.open()
        }
        let value = try await withDeadline(seconds: 0.2) { () async throws -> Int in
            await gate.wait()
            finished.open()
            return 1
        }
        // Answered while the body still waits: the gate opens only now.
        #expect(value == nil)
        #expect(!gate.opened && !finished.opened)
        watchdog.cancel()
        gate.open()
        await finished.wait()  // the body then ends on its own
    }

    @Test func aBodyWithinTheDeadlineGivesItsValueOrItsError() async throws {
        #expect(try await withDeadline(seconds: 30) { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await withDeadline(seconds: 30) { () async throws -> Int in throw Refused() } }
    }

    @Test func cancellingTheCallerCancelsTheBody() async throws {
        let started = Gate()
        let task = Task {
            try await withDeadline(seconds: 30) { () async throws -> Int in
                started.open()
                try await Task.sleep(for: .seconds(30))
                return 1
            }
        }
        await started.wait()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
