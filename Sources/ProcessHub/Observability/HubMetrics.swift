import ClusterNode
import CoreMetrics

/// A hub's metrics (swift-metrics), one set per hub and node, dimensions `hub` and `node`
/// (`name@host:port`).
///
/// | label | kind | what |
/// | --- | --- | --- |
/// | `processhub.hub.children.local` | gauge | children this node's supervisor runs |
/// | `processhub.hub.registry.size` | gauge | children this node's registry lists (cluster-wide) |
/// | `processhub.hub.children.started` | counter | children started here (restarts excluded) |
/// | `processhub.hub.children.stopped` | counter | children stopped here and withdrawn (stops, moves away, ends for good) |
/// | `processhub.hub.children.restarted` | counter | restarts by this node's supervisor |
/// | `processhub.hub.migrations` | counter | children this node moved to another node |
/// | `processhub.hub.handovers` | counter | handed-over states applied to children started here |
/// | `processhub.hub.registry.sync_lag` | timer | registration → visible on a peer (below) |
///
/// **Sync lag.** Nodes' clocks are not synchronised, so the lag is measured on one clock, the
/// registering node's: from the moment it queues a registration for a peer (right after its own
/// registry took it) to the moment that peer's hub acknowledges the push — it answers only
/// after applying it, so from then on lookups on the peer find the child. One value per peer
/// and pushed chunk. It includes the queueing behind earlier pushes to that peer (which is real
/// lag) and overstates the true lag by the acknowledgement's trip back (tens of microseconds on
/// a LAN). Snapshot pushes (joins, sync rounds) are not counted: they are repairs, not
/// registrations. A push that fails is not recorded; the next sync round repairs it. With the
/// ``Gossip`` synchronization strategy registrations travel as gossip, possibly relayed by other
/// nodes, and are not timed: the metric covers ``PubSub``'s direct pushes.
///
/// Metric objects are made once, when the hub starts. Nothing here is touched by lookups.
struct HubMetrics: Sendable {
    let localChildren: Gauge
    let registrySize: Gauge
    let started: Counter
    let stopped: Counter
    let restarted: Counter
    let migrations: Counter
    let handovers: Counter
    let syncLag: Timer
    /// Whether a real backend is bootstrapped: pushes are time-stamped only then.
    let isTimingSync: Bool

    init(hub: HubID, node: NodeID) {
        let dimensions = [("hub", hub.name), ("node", "\(node.name)@\(node.host):\(node.port)")]
        localChildren = Gauge(label: "processhub.hub.children.local", dimensions: dimensions)
        registrySize = Gauge(label: "processhub.hub.registry.size", dimensions: dimensions)
        started = Counter(label: "processhub.hub.children.started", dimensions: dimensions)
        stopped = Counter(label: "processhub.hub.children.stopped", dimensions: dimensions)
        restarted = Counter(label: "processhub.hub.children.restarted", dimensions: dimensions)
        migrations = Counter(label: "processhub.hub.migrations", dimensions: dimensions)
        handovers = Counter(label: "processhub.hub.handovers", dimensions: dimensions)
        syncLag = Timer(label: "processhub.hub.registry.sync_lag", dimensions: dimensions)
        isTimingSync = !(MetricsSystem.factory is NOOPMetricsHandler)
    }

    /// When a push was queued, if pushes are timed.
    func pushQueued() -> ContinuousClock.Instant? {
        isTimingSync ? .now : nil
    }

    /// A peer acknowledged a push queued at `queuedAt`.
    func pushApplied(_ update: RegistryUpdate, queuedAt: ContinuousClock.Instant?) {
        guard let queuedAt, case .registered = update else { return }
        syncLag.record(ContinuousClock.now - queuedAt)
    }
}
