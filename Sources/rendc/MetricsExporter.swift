import Foundation
import Hummingbird
import JobQueue
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Prometheus for one rendc process: bootstraps swift-metrics with a registry (once per process) unless
/// RENDC_METRICS is off, and returns the registry.
func bootstrapPrometheus(environment: [String: String]) -> PrometheusCollectorRegistry? {
    guard !["0", "false", "no", "off"].contains(environment["RENDC_METRICS"]?.lowercased() ?? "") else { return nil }
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}

/// The worker's `/metrics` endpoint (job counters and timers, busy slots, render fps) plus a queue-depth gauge per
/// status, refreshed every few seconds from the database.
struct WorkerMetricsService: Service {
    let registry: PrometheusCollectorRegistry
    let host: String
    let port: Int
    let store: JobStore
    let logger: Logger

    func run() async throws {
        let router = Router()
        let registry = self.registry
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: registry.emitToString())))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do {
                    try await app.runService()
                } catch {
                    // Another process may hold the port (several workers on one host): render on without an endpoint.
                    logger.warning("metrics endpoint not started", metadata: ["port": "\(port)", "error": "\(error)"])
                    try? await gracefulShutdown()
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    if let counts = try? await store.statusCounts() {
                        for status in JobStatus.allCases {
                            Gauge(label: "rendc_queue_jobs", dimensions: [("status", status.rawValue)]).record(counts[status] ?? 0)
                        }
                    }
                    try? await Task.sleep(for: .seconds(5))
                }
            }
        }
    }
}
