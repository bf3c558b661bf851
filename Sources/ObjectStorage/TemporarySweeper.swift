import Foundation
import Logging
import ServiceLifecycle

/// Sweeps the temporary files that interrupted writes leave, again and again while a long-running process (`serve`,
/// `worker`) runs: sweeping only at startup kept them until the next restart, and a process that never restarts
/// (while others sharing the folder are killed, or a client drops mid-upload) kept them for ever. Each pass runs
/// every `interval` seconds, off the cooperative threads (a pass walks the whole store), until graceful shutdown.
public struct TemporarySweeper: Service {
    /// One kind of temporary file and how to sweep it at a given time.
    public struct Sweep: Sendable {
        public var name: String
        public var run: @Sendable (_ now: Date) -> LocalDirectoryStore.SweepReport

        public init(name: String, run: @escaping @Sendable (_ now: Date) -> LocalDirectoryStore.SweepReport) {
            self.name = name
            self.run = run
        }

        /// The local store's `.<name>.rendc-tmp-<UUID>` files older than `minimumAge` seconds; nil for other stores
        /// (S3 keeps no partial object: an interrupted multipart upload is aborted, or expired by the bucket's rule).
        public static func localStore(_ store: any ObjectStore, minimumAge: Double = 3600) -> Sweep? {
            guard let local = store as? LocalDirectoryStore else { return nil }
            return Sweep(name: "storage") { local.sweepStaleTemporaries(olderThan: minimumAge, now: $0) }
        }
    }

    public static let defaultInterval = 600.0

    let sweeps: [Sweep]
    let interval: Double
    let logger: Logger

    public init(sweeps: [Sweep], interval: Double = TemporarySweeper.defaultInterval, logger: Logger) {
        self.sweeps = sweeps
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        guard !sweeps.isEmpty else { return }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .nanoseconds(Int64(interval * 1e9))) }
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            let sweeps = self.sweeps
            let reports = await withCheckedContinuation { continuation in
                DispatchQueue.global(qos: .utility).async {
                    let now = Date()
                    continuation.resume(returning: sweeps.map { ($0.name, $0.run(now)) })
                }
            }
            for (name, report) in reports where report.removed > 0 || report.failed > 0 {
                logger.notice(
                    "removed stale temporary files", metadata: ["kind": "\(name)", "removed": "\(report.removed)", "failed": "\(report.failed)"])
            }
        }
    }
}
