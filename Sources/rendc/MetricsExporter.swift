import Metrics
import Prometheus

/// Prometheus for one rendc process: bootstraps swift-metrics with a registry (once per process: each rendc
/// subcommand is its own process) and returns it, or nil when `enabled` is false (`RENDC_METRICS`).
func bootstrapPrometheus(enabled: Bool) -> PrometheusCollectorRegistry? {
    guard enabled else { return nil }
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}
