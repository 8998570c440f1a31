import ClusterNode

/// What a machine knows of the gossip in flight (SPEC §4.4.2): the numbers of its own changes,
/// how far it applied every other node's, changes that arrived before an earlier one, and who has
/// seen the changes and rounds still spreading.
///
/// A plain value with no clock: expiries are measured against the time the machine passes in.
struct ChangeLedger: Sendable {
    /// A change, named by its origin and the origin's number for it.
    struct ChangeKey: Hashable, Sendable {
        var origin: NodeID
        var seq: UInt64
    }

    /// Who has seen a change still spreading.
    struct Spreading: Sendable {
        var seen: Set<NodeID>
        /// Every hub node has it: copies still arriving are ignored.
        var isDone = false
        var expiresAt: Duration
    }

    /// A round this node takes part in, as far as it knows it.
    struct CachedRound: Sendable {
        var round: DigestRound
        var isDone = false
        var expiresAt: Duration
    }

    /// Counts for tests and status.
    package struct Statistics: Sendable, Hashable {
        /// Changes this node originated (one per message part).
        package var originated = 0
        /// Messages this node sent for its own changes (first hops only).
        package var firstHops = 0
        /// Rounds this node started.
        package var roundsStarted = 0
        /// Snapshots this node pulled after a digest differed from its view.
        package var pulls = 0
    }

    /// The number of this node's latest change.
    private(set) var lastStamped: UInt64 = 0
    /// The last change of each origin applied here.
    private(set) var applied: [NodeID: UInt64] = [:]
    /// Changes held back until the ones before them arrive, by origin and number.
    private var early: [NodeID: [UInt64: SlotChange]] = [:]
    /// Snapshots being received, with the number of the last change each holds.
    private var snapshotMarks: [NodeID: UInt64] = [:]
    /// Peers admitted whose first snapshot has not completed yet.
    private var awaitingSnapshot: Set<NodeID> = []
    /// When each origin's gap opened: a change of it waits for an earlier one, which may be lost.
    private(set) var gapsSince: [NodeID: Duration] = [:]
    /// Whether ``HubTimer/gossipGap`` is armed.
    var isGapTimerArmed = false
    /// This node's latest changes, in order (the last is ``lastStamped``), with the peers each
    /// was sent to: what a requester that missed some is sent again (``HubMachine/bringUpToDate(_:from:)``).
    private(set) var recentOwn: [(change: GossipedChange, sentTo: Set<NodeID>)] = []
    /// How many of this node's latest changes are kept for that.
    static let recentOwnKept = 128
    var changes: [ChangeKey: Spreading] = [:]
    var rounds: [UInt64: CachedRound] = [:]
    var statistics = Statistics()
    /// How many held-back changes of one origin are kept (``HubTuning/maxEarlyGossipPerOrigin``).
    let maxEarlyPerOrigin: Int

    init(maxEarlyPerOrigin: Int) {
        self.maxEarlyPerOrigin = maxEarlyPerOrigin
    }

    /// Numbers the next change of this node.
    mutating func stamp() -> UInt64 {
        lastStamped += 1
        return lastStamped
    }

    /// Keeps this node's change `message`, sent to `targets`.
    mutating func keep(_ message: GossipedChange, sentTo targets: Set<NodeID>) {
        recentOwn.append((message, targets))
        if recentOwn.count > 2 * Self.recentOwnKept { recentOwn.removeFirst(recentOwn.count - Self.recentOwnKept) }
    }

    /// The kept changes after `known` that `peer` was not sent, marked as sent to it; `nil` when
    /// some of them are no longer kept.
    mutating func unsent(to peer: NodeID, after known: UInt64) -> [GossipedChange]? {
        guard known < lastStamped else { return [] }
        let firstKept = lastStamped + 1 - UInt64(recentOwn.count)
        guard known + 1 >= firstKept else { return nil }
        var unsent: [GossipedChange] = []
        for index in Int(known + 1 - firstKept)..<recentOwn.count where !recentOwn[index].sentTo.contains(peer) {
            recentOwn[index].sentTo.insert(peer)
            unsent.append(recentOwn[index].change)
        }
        return unsent
    }

    // MARK: Order of each origin's changes

    /// Takes `change` of `key.origin` in: returns the changes of that origin that now apply, in
    /// its order (this one and those that waited for it); empty when it is old or must wait.
    /// `isPeer` says whether the origin is a hub peer yet: until it is, changes wait for its snapshot.
    mutating func admit(_ key: ChangeKey, _ change: SlotChange, isPeer: Bool, now: Duration) -> [SlotChange] {
        let done = max(applied[key.origin, default: 0], snapshotMarks[key.origin] ?? 0)
        guard key.seq > done else { return [] }
        // Until the origin's snapshot is in, a change may be newer than it and be undone by its
        // last part (the snapshot left before the change, by another path).
        let ready = isPeer && !awaitingSnapshot.contains(key.origin) && snapshotMarks[key.origin] == nil
        guard ready, key.seq == done + 1 else {
            hold(key, change)
            if ready && gapsSince[key.origin] == nil { gapsSince[key.origin] = now }
            return []
        }
        applied[key.origin] = key.seq
        return [change] + releaseEarly(of: key.origin)
    }

    private mutating func hold(_ key: ChangeKey, _ change: SlotChange) {
        guard early[key.origin, default: [:]].count < maxEarlyPerOrigin else { return }
        early[key.origin, default: [:]][key.seq] = change
    }

    /// The held-back changes that now follow without a gap, in order.
    private mutating func releaseEarly(of origin: NodeID) -> [SlotChange] {
        guard var held = early.removeValue(forKey: origin) else { return [] }
        var done = applied[origin, default: 0]
        held = held.filter { $0.key > done }
        var released: [SlotChange] = []
        while let next = held.removeValue(forKey: done + 1) {
            released.append(next)
            done += 1
        }
        applied[origin] = done
        if held.isEmpty { gapsSince[origin] = nil } else { early[origin] = held }
        return released
    }

    /// `origin` became a peer: its changes wait for the snapshot it sends.
    mutating func expectSnapshot(from origin: NodeID) {
        awaitingSnapshot.insert(origin)
    }

    /// A snapshot of `origin` holding its changes up to `seq` begins.
    mutating func snapshotBegins(from origin: NodeID, seq: UInt64) {
        snapshotMarks[origin] = seq
    }

    /// The snapshot of `origin` is complete: its changes count as applied; returns the held-back
    /// ones that follow it, in order. Those still held after it wait across a gap from `now`.
    mutating func snapshotCompleted(from origin: NodeID, now: Duration) -> [SlotChange] {
        guard let seq = snapshotMarks.removeValue(forKey: origin) else { return [] }
        awaitingSnapshot.remove(origin)
        applied[origin] = max(applied[origin, default: 0], seq)
        let released = releaseEarly(of: origin)
        if early[origin] != nil { gapsSince[origin] = now }
        return released
    }

    /// Forgets a node that went: if it comes back, its snapshot tells where its changes stand.
    mutating func forget(_ origin: NodeID) {
        applied[origin] = nil
        early[origin] = nil
        snapshotMarks[origin] = nil
        awaitingSnapshot.remove(origin)
        gapsSince[origin] = nil
    }

    /// The origins whose gap has lasted `delay` by `now`: their slots are pulled, and each gap
    /// counts as opened anew, so it is pulled again only if it outlives the pull.
    mutating func gapsToRepair(now: Duration, delay: Duration) -> [NodeID] {
        let due = gapsSince.filter { $0.value + delay <= now }.keys.sorted()
        for origin in due { gapsSince[origin] = now }
        return due
    }

    // MARK: Memory of what spreads

    /// Drops the acknowledgement lists and rounds that expired.
    mutating func prune(now: Duration) {
        if changes.count > 1_024 { changes = changes.filter { $0.value.expiresAt > now } }
        if rounds.count > 64 { rounds = rounds.filter { $0.value.expiresAt > now } }
    }
}
