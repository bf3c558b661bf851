import Foundation

/// Polls `check` every 20 ms until it holds or `timeout` seconds pass; returns whether it held. Tests use it to wait
/// for something another thread or process does, with a timeout far above the usual wait: what they assert is that
/// it happens, never how fast.
public func eventually(timeout: Double, _ check: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await check() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await check()
}
