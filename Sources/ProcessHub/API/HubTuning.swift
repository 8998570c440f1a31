/// The hub's internal limits and waits: how long it remembers things, how it cuts large batches
/// into messages and steps, and how long it lets situations settle before acting on them.
///
/// Every default is the value the hub has always used; most applications never change them.
/// Tests and simulations may shorten the waits, and a hub with very large batches may cut them
/// differently. It is a plain value (no locks, no references), so anything that reads the
/// configuration, a pure state machine included, can read it too.
///
/// ```swift
/// var config = HubConfiguration(hubID: "my_hub")
/// config.tuning.recentStopMemory = .seconds(10)   // forget stops sooner
/// ```
public struct HubTuning: Sendable, Hashable {
    // MARK: Waits

    /// How long a child must run on more nodes than placed (or on a node its placement no
    /// longer names) before the hub resolves it. Default 1 s: a hot migration legitimately runs
    /// a child on two nodes for a moment, and registrations from the two sides of a healed split
    /// arrive a few round trips apart; a second is far above both on a LAN.
    public var duplicateGrace: Duration = .seconds(1)

    /// How long a node keeps a stop on purpose in mind (its own, or one a peer told it of): until
    /// then it does not restart or move the child by itself (lost-node restarts, the partition
    /// manifest, redistribution), and tells it to peers that come back. Default 60 s: longer
    /// than a failure detector's verdict and a topology batch, so the stop outlives every restart
    /// decision made on an older view, yet short enough that the memory stays small.
    public var recentStopMemory: Duration = .seconds(60)

    /// A topology batch (node joins and leaves) waits for ``HubConfiguration/clusterEventDebounce``
    /// without new events, but never longer than `max(debounce × topologyMaxWaitMultiple,
    /// debounce + topologyMaxWaitMargin)` after its first event. Default 4: a storm that keeps
    /// producing events is still handled within a few debounce windows.
    public var topologyMaxWaitMultiple: Int = 4

    /// See ``topologyMaxWaitMultiple``. Default 500 ms: with the 20 ms debounce, a batch waits at
    /// most about half a second, ProcessHub's own debounce, so a storm never postpones failover
    /// longer than ProcessHub would.
    public var topologyMaxWaitMargin: Duration = .milliseconds(500)

    /// How often ``ProcessHub/drain(timeout:)`` checks whether the children that deferred their
    /// migration have moved. Default 20 ms: short next to a migration, cheap (a lock and a count).
    public var drainPollInterval: Duration = .milliseconds(20)

    // MARK: Memory bounds

    /// How many absent peers a node keeps the stops they missed for. Default 64: a peer that never
    /// returns must not grow the ledger forever; beyond it, the oldest peer's list goes (its stops
    /// still reach it as recent stops while they are recent).
    public var maxAbsentPeers: Int = 64

    /// How many missed stops a node keeps per absent peer. Default 100 000: a whole large batch of
    /// stops, while a peer that stays away for days cannot make the list unbounded.
    public var maxStopsPerPeer: Int = 100_000

    /// Gossip: how many changes of one origin a node holds back while an earlier one is missing.
    /// Default 10 000: beyond it they are dropped, and the next digest round pulls the origin's
    /// slots instead, which is cheaper than holding an unbounded backlog.
    public var maxEarlyGossipPerOrigin: Int = 10_000

    // MARK: Cutting large batches

    /// How many children one uninterrupted step of a large batch handles (placement, local
    /// starts) before yielding. Default 2 000: a few milliseconds of work, so a million children
    /// never hold an event-loop thread, and so its heartbeats, for long.
    public var workSlice: Int = 2_000

    /// How many children one start request message carries at most. Default 4 000: every frame
    /// stays far below the transport's maximum frame size, whatever the batch.
    public var startChildrenPerMessage: Int = 4_000

    /// How many registry entries (a spec, metadata and a slot each) one registry push carries at
    /// most. Default 4 000, for the same reason as ``startChildrenPerMessage``.
    public var entriesPerMessage: Int = 4_000

    /// How many child ids one message carries at most (withdrawals, stops a peer missed).
    /// Default 20 000: ids are small, so more fit in the same frame size.
    public var idsPerMessage: Int = 20_000

    /// How many registry writes happen under one hold of the registry's lock. Default 1 024:
    /// lookups wait for at most about a millisecond, not for a whole batch of writes.
    public var registryWriteChunk: Int = 1_024

    /// Creates the default tuning.
    public init() {}

    /// The longest a topology batch waits after its first event, for a debounce window.
    func topologyMaxWait(debounce: Duration) -> Duration {
        max(debounce * topologyMaxWaitMultiple, debounce + topologyMaxWaitMargin)
    }

    /// The first value that cannot work, described; `nil` when all can.
    var invalidValue: String? {
        if duplicateGrace < .zero { return "tuning.duplicateGrace must not be negative" }
        if recentStopMemory < .zero { return "tuning.recentStopMemory must not be negative" }
        if topologyMaxWaitMultiple < 1 { return "tuning.topologyMaxWaitMultiple must be at least 1" }
        if topologyMaxWaitMargin < .zero { return "tuning.topologyMaxWaitMargin must not be negative" }
        if drainPollInterval <= .zero { return "tuning.drainPollInterval must be positive" }
        if maxAbsentPeers < 1 || maxStopsPerPeer < 1 || maxEarlyGossipPerOrigin < 1 {
            return "tuning's memory bounds must be at least 1"
        }
        let sizes = [workSlice, startChildrenPerMessage, entriesPerMessage, idsPerMessage, registryWriteChunk]
        if sizes.contains(where: { $0 < 1 }) { return "tuning's slice and message sizes must be at least 1" }
        return nil
    }
}
