import ClusterNode

/// The time limits and sizes the hub's state machine works with, read from the configuration
/// once when the hub starts.
package struct MachineSettings: Sendable, Hashable {
    /// How long topology events are gathered into one batch (``HubConfiguration/clusterEventDebounce``).
    package var debounce: Duration = .milliseconds(20)
    /// The period of the full synchronisation round (``SynchronizationStrategy/syncInterval``).
    package var syncInterval: Duration = .seconds(15)
    /// How registry changes and rounds travel (``SynchronizationStrategy/spreading``).
    package var spreading: ChangeSpreading = .everyPeer
    /// Gossip: how long a change of one origin may wait for an earlier one before this node
    /// pulls that origin's slots. Paths reorder changes by milliseconds; a gap that lasts longer
    /// lost a change, and waiting for the next round would keep the origin's later changes
    /// (and the stops among them) back until then.
    package var gossipGapRepair: Duration = .milliseconds(500)
    /// How long after a join, a heal or a regained quorum children nobody seems to run wait
    /// before they are restarted: the snapshots of the returning nodes arrive first, so a child
    /// that still runs over there is not started twice.
    package var orphanGrace: Duration = .seconds(1)
    /// How long starts and stops wait, at most, for a newly reachable node's announcement (and
    /// the stops and slots it brings): a node that just joined must not start a child whose stop
    /// it has not heard of yet, or miss a child it would refuse as a duplicate.
    package var joinSync: Duration = .milliseconds(500)
    /// The hub's tuning (duplicate grace, stop memory and bounds, message sizes): read from it,
    /// not copied, so the machine and `HubCore` obey the same limits.
    package var tuning = HubTuning()
    /// How long one migration step (a start on the target, a state capture) may take.
    package var migrationTimeout: Duration = .seconds(15)
    /// How long an instance started for a hot handover holds its calls waiting for its state
    /// (``MigrationStrategy/stateTTL``) before it runs without.
    package var heldCallsTTL: Duration = .seconds(30)
    /// How many times a start whose target went down is placed again before it fails.
    package var maxStartAttempts: Int = 5
    /// Whether (and how) children are asked before they move (``MigrationStrategy/consent``).
    package var consent: MigrationConsent?

    /// The defaults.
    package init() {}

    /// The settings `configuration` asks for.
    package init(_ configuration: HubConfiguration) {
        debounce = configuration.clusterEventDebounce
        syncInterval = configuration.synchronization.syncInterval
        spreading = configuration.synchronization.spreading
        migrationTimeout = configuration.migrationTimeout
        heldCallsTTL = configuration.migration.stateTTL
        consent = configuration.migration.consent
        tuning = configuration.tuning
    }
}

/// The machine's own random numbers (SplitMix64), seeded from outside, so a run replays exactly.
package struct MachineRandom: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    package init(seed: UInt64) { state = seed }

    /// The next value.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `base` moved by up to ±`percent` %, so periodic rounds of many nodes do not line up.
    package mutating func jittered(_ base: Duration, percent: Int = 10) -> Duration {
        let spread = Int64(percent * 2 + 1)
        let offset = Int64(next() % UInt64(spread)) - Int64(percent)
        return base * Double(100 + offset) / 100
    }
}
