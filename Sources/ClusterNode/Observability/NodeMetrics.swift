import CoreMetrics

/// The engine's metrics (swift-metrics), one set per node, dimension `node` (`name@host:port`).
///
/// | label | kind | what |
/// | --- | --- | --- |
/// | `processhub.node.remote_call.duration` | timer | a remote call, from sending to its reply (calls that time out or lose their link are not recorded) |
/// | `processhub.node.peers` | gauge | the nodes this node has an authenticated link to |
///
/// The metric objects are made once, from the factory bootstrapped when the node starts
/// (bootstrap `MetricsSystem` before starting nodes). Without a backend every record goes to
/// swift-metrics' no-op handler, and remote calls skip reading the clock.
struct NodeMetrics: Sendable {
    let remoteCallDuration: Timer
    let peers: Gauge
    /// Whether a real backend is bootstrapped: the clock is read around calls only then.
    let isTimingCalls: Bool

    init(node: String) {
        let dimensions = [("node", node)]
        self.remoteCallDuration = Timer(label: "processhub.node.remote_call.duration", dimensions: dimensions)
        self.peers = Gauge(label: "processhub.node.peers", dimensions: dimensions)
        self.isTimingCalls = !(MetricsSystem.factory is NOOPMetricsHandler)
    }

    /// When a remote call starts, if calls are timed.
    func callStarted() -> ContinuousClock.Instant? {
        isTimingCalls ? .now : nil
    }

    /// A remote call got its reply.
    func callEnded(startedAt start: ContinuousClock.Instant?) {
        guard let start else { return }
        remoteCallDuration.record(ContinuousClock.now - start)
    }
}

extension Timer {
    /// Records `duration` with nanosecond precision (saturating). CoreMetrics alone has no
    /// `Duration` overload, and the `Metrics` module that has one brings Foundation.
    package func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        recordNanoseconds(overflow ? .max : scaled + attoseconds / 1_000_000_000)
    }
}
