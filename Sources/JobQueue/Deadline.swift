import Foundation

/// Runs `body` in a task of its own and returns its value, or nil once `seconds` have passed, whichever comes first,
/// without waiting for a late body to end.
///
/// A task group would not do: it waits for all its children, and postgres-nio cannot cancel a statement already
/// sent (its future ignores task cancellation), so a query on a connection whose server stopped answering (a
/// frozen or unreachable host: the socket stays open, nothing comes back) kept the group, and the request, waiting
/// for as long as the server stayed silent. Here the body is cancelled when the deadline passes (which does end a
/// wait for a pooled connection at once) and is left to finish on its own; the caller is answered at the deadline.
/// Cancelling the caller cancels the body and throws `CancellationError`.
func withDeadline<Value: Sendable>(
    seconds: Double, _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value? {
    let race = DeadlineRace<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value?, any Error>) in
            race.start(continuation, seconds: seconds, body: body)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first outcome of a body and its timer; the later one is dropped.
final class DeadlineRace<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value?, any Error>?
    private var outcome: Result<Value?, any Error>?
    private var tasks: [Task<Void, Never>] = []

    func start(_ continuation: CheckedContinuation<Value?, any Error>, seconds: Double, body: @escaping @Sendable () async throws -> Value) {
        lock.lock()
        if let outcome {  // cancelled before it started
            lock.unlock()
            continuation.resume(with: outcome)
            return
        }
        self.continuation = continuation
        lock.unlock()
        let work = Task {
            do {
                self.finish(.success(try await body()))
            } catch {
                self.finish(.failure(error))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: .nanoseconds(Int64(max(0, seconds) * 1e9)))
            self.finish(.success(nil))
        }
        lock.lock()
        let done = outcome != nil
        if !done { tasks = [work, timer] }
        lock.unlock()
        if done { work.cancel(); timer.cancel() }
    }

    func finish(_ result: Result<Value?, any Error>) {
        lock.lock()
        guard outcome == nil else {
            lock.unlock()
            return
        }
        outcome = result
        let waiting = continuation
        continuation = nil
        let running = tasks
        tasks = []
        lock.unlock()
        for task in running { task.cancel() }
        waiting?.resume(with: result)
    }
}
