import Foundation
import RendcTestSupport
import Testing

/// The `.ownThreads` trait that keeps blocking tests off Swift's cooperative threads (see OwnThreadsTrait).
@Suite(.ownThreads) struct OwnThreadsTests {
    @Test func aSynchronousTestRunsOnItsOwnThread() {
        #expect(OwnThreadsTrait.isOnOwnThread)
    }

    @Test func childTasksInheritTheThreads() async {
        let onOwn = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 { group.addTask { onOwnThread() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(onOwn == [true, true, true, true])
    }
}

/// Contrast: an unmarked suite runs on the global cooperative executor, not on a test's own threads.
@Suite struct SharedThreadsTests {
    @Test func anUnmarkedTestRunsOnTheSharedPool() {
        #expect(!OwnThreadsTrait.isOnOwnThread)
    }
}

/// Asked from a synchronous function: Thread.current is off limits in async code.
private func onOwnThread() -> Bool { OwnThreadsTrait.isOnOwnThread }
