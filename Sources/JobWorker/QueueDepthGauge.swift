import Foundation
import JobQueue
import Metrics
import ServiceLifecycle

/// Records the `rendc_queue_jobs{status}` gauge from the database every `interval` seconds until shutdown.
public struct QueueDepthGauge: Service {
    let store: JobStore
    let interval: Double

    public init(store: JobStore, interval: Double = 5) {
        self.store = store
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if let counts = try? await store.statusCounts() {
                for status in JobStatus.allCases {
                    Gauge(label: "rendc_queue_jobs", dimensions: [("status", status.rawValue)]).record(counts[status] ?? 0)
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(interval)) }
        }
    }
}
