import CoreMetrics
import InMemoryTracing
import MetricsTestKit
import Tracing

/// The metrics and tracing backends of this test process, bootstrapped once (both systems
/// allow one bootstrap per process). Touch them before starting nodes: metric objects bind to
/// the backend bootstrapped when they are made.
enum Backends {
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    static let tracer: InMemoryTracer = {
        let tracer = InMemoryTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()

    /// Bootstraps both.
    static func bootstrap() {
        _ = metrics
        _ = tracer
    }
}
