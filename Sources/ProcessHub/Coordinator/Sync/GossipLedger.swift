import ClusterNode
import Synchronization

/// What one node knows of the gossip in flight: the sequence numbers of its own changes, which
/// changes of every other node it has applied, changes that arrived early, and the acknowledgement
/// lists of changes and rounds still spreading (SPEC §4.4.2).
///
/// Pure bookkeeping, no I/O: ``HubCore`` feeds it messages and does what it answers. Every method
/// takes the ledger's lock once, so a message is handled atomically against every other.
final class GossipLedger: Sendable {
    /// A change as it travels: its origin and the origin's sequence number identify it.
    struct ChangeID: Hashable, Sendable {
        var origin: NodeID
        var seq: UInt64
    }

    /// What to do with a received change.
    struct ChangeDecision {
        /// Changes of the origin now applicable, in the origin's order (the received one and any
        /// that waited for it); empty when it was already applied or must wait.
        var apply: [RegistryUpdate]
        /// The acknowledgement list to send on.
        var acks: [NodeID]
        /// The peers to pass it on to.
        var forwardTo: [NodeID]
    }

    /// What to do with a received round.
    struct RoundDecision {
        /// The round with this node's knowledge merged in.
        var round: GossipRound
        /// The peers to pass it on to.
        var forwardTo: [NodeID]
        /// Whether this node now takes part: compare every digest with its own view.
        var compare: Bool
    }

    private struct Spreading {
        var acks: Set<NodeID>
        var done = false
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var lastStamped: UInt64 = 0
        var applied: [NodeID: UInt64] = [:]
        var early: [NodeID: [UInt64: RegistryUpdate]] = [:]
        var snapshotMarks: [NodeID: UInt64] = [:]
        var changes: [ChangeID: Spreading] = [:]
        var rounds: [UInt64: (round: GossipRound, expires: ContinuousClock.Instant, done: Bool)] = [:]
    }

    let local: NodeID
    let recipients: Int
    /// How long acknowledgement lists are remembered (the sync interval).
    let memory: Duration
    /// Changes of one origin held back while an earlier one is missing; past this, they are
    /// dropped and the next round's digest comparison pulls the origin's slots instead
    /// (``HubTuning/maxEarlyGossipPerOrigin``).
    let maxEarlyPerOrigin: Int
    private let state = Mutex(State())

    init(local: NodeID, recipients: Int, memory: Duration, maxEarlyPerOrigin: Int = HubTuning().maxEarlyGossipPerOrigin) {
        self.local = local
        self.recipients = max(1, recipients)
        self.memory = memory
        self.maxEarlyPerOrigin = maxEarlyPerOrigin
    }

    // MARK: This node's changes

    /// Numbers the next change made by this node.
    func stamp() -> UInt64 {
        state.withLock { state in
            state.lastStamped += 1
            return state.lastStamped
        }
    }

    /// The number of this node's latest change (its snapshots include every change up to it).
    var lastStamped: UInt64 { state.withLock { $0.lastStamped } }

    /// Remembers a change this node originated, and picks its first recipients: `recipients`
    /// random peers, plus `required` (the node waiting for it).
    func originate(_ id: ChangeID, peers: [NodeID], required: NodeID?) -> [NodeID] {
        state.withLock { state in
            state.changes[id] = Spreading(acks: [local], expires: .now + memory)
            var targets = Array(peers.filter { $0 != required }.shuffled().prefix(recipients))
            if let required, peers.contains(required) { targets.append(required) }
            return targets
        }
    }

    // MARK: Others' changes

    /// Handles a change received from another node. `members` are the hub's nodes as this node
    /// sees them (itself included); a change from a node that is not one is ignored.
    ///
    /// `applying` runs under the ledger's lock for each change now applicable, in order, so that
    /// changes handled concurrently still reach the registry in their origin's order.
    func receive(
        _ id: ChangeID, update: RegistryUpdate, acks: [NodeID], members: Set<NodeID>,
        applying: (RegistryUpdate) -> Void = { _ in }
    ) -> ChangeDecision {
        guard id.origin != local, members.contains(id.origin) else { return .init(apply: [], acks: acks, forwardTo: []) }
        return state.withLock { state in
            prune(&state)
            var spreading = state.changes[id] ?? Spreading(acks: [], expires: .now + memory)
            if spreading.done { return .init(apply: [], acks: Array(spreading.acks), forwardTo: []) }
            let known = spreading.acks
            spreading.acks.formUnion(acks)
            spreading.acks.insert(local)
            let apply = admit(id, update, &state)
            apply.forEach(applying)
            spreading.done = members.isSubset(of: spreading.acks)
            state.changes[id] = spreading
            // Only news travels on: a copy that taught this node nothing stops here.
            let learned = spreading.acks != known
            let unacked = members.subtracting(spreading.acks)
            let forward = spreading.done || !learned ? [] : Array(unacked.shuffled().prefix(recipients))
            return .init(apply: apply, acks: spreading.acks.sorted(), forwardTo: forward)
        }
    }

    /// Applies in order: the change itself if it is the next one, then the early ones it unblocks.
    private func admit(_ id: ChangeID, _ update: RegistryUpdate, _ state: inout State) -> [RegistryUpdate] {
        let applied = state.applied[id.origin, default: 0]
        guard id.seq > applied else { return [] }
        if id.seq > applied + 1 {
            if state.early[id.origin, default: [:]].count < maxEarlyPerOrigin {
                state.early[id.origin, default: [:]][id.seq] = update
            }
            return []
        }
        state.applied[id.origin] = id.seq
        return [update] + releaseEarly(of: id.origin, &state)
    }

    private func releaseEarly(of origin: NodeID, _ state: inout State) -> [RegistryUpdate] {
        var released: [RegistryUpdate] = []
        var applied = state.applied[origin, default: 0]
        var early = state.early.removeValue(forKey: origin) ?? [:]
        early = early.filter { $0.key > applied }
        while let next = early.removeValue(forKey: applied + 1) {
            released.append(next)
            applied += 1
        }
        state.applied[origin] = applied
        if !early.isEmpty { state.early[origin] = early }
        return released
    }

    /// The last change of `origin` applied here.
    func applied(from origin: NodeID) -> UInt64 {
        state.withLock { $0.applied[origin, default: 0] }
    }

    // MARK: Snapshots

    /// A snapshot from `origin` begins: it holds every change of `origin` up to `seq`.
    func snapshotBegins(from origin: NodeID, seq: UInt64) {
        state.withLock { $0.snapshotMarks[origin] = seq }
    }

    /// A snapshot from `origin` completed: the changes it covered count as applied, and the early
    /// changes that follow it are applied (`applying`, under the lock, in order) and returned.
    @discardableResult
    func snapshotCompleted(from origin: NodeID, applying: (RegistryUpdate) -> Void = { _ in }) -> [RegistryUpdate] {
        state.withLock { state in
            guard let seq = state.snapshotMarks.removeValue(forKey: origin) else { return [] }
            state.applied[origin] = max(state.applied[origin, default: 0], seq)
            let released = releaseEarly(of: origin, &state)
            released.forEach(applying)
            return released
        }
    }

    // MARK: Statistics

    /// Counts for tests and status: how much this node sent and pulled.
    struct Statistics: Sendable {
        /// Changes this node originated.
        var originated = 0
        /// Messages this node sent for its own changes (first hops only).
        var firstHops = 0
        /// Rounds this node started.
        var roundsStarted = 0
        /// Snapshots this node pulled after a digest differed.
        var pulls = 0
    }

    private let counters = Mutex(Statistics())

    var statistics: Statistics { counters.withLock { $0 } }

    func count(_ update: (inout Statistics) -> Void) {
        counters.withLock { update(&$0) }
    }

    /// Forgets what was known of a node that left: a later incarnation starts from zero.
    func forget(_ origin: NodeID) {
        state.withLock { state in
            state.early[origin] = nil
            state.snapshotMarks[origin] = nil
        }
    }

    // MARK: Rounds

    /// Starts a round carrying this node's digest; returns it and its first recipients.
    func startRound(own digest: SlotDigest, peers: [NodeID]) -> (GossipRound, [NodeID]) {
        let round = GossipRound(id: UInt64.random(in: 1...UInt64.max), digests: [local: digest], acks: [])
        state.withLock { state in
            prune(&state)
            state.rounds[round.id] = (round, .now + memory, false)
        }
        return (round, Array(peers.shuffled().prefix(recipients)))
    }

    /// Handles a round: merge what it carries, then collect (forward to the nodes whose digest is
    /// missing) or, once complete, take part and forward to the nodes that have not.
    func receive(_ incoming: GossipRound, own digest: SlotDigest, members: Set<NodeID>) -> RoundDecision? {
        state.withLock { state in
            prune(&state)
            var cached = state.rounds[incoming.id] ?? (GossipRound(id: incoming.id, digests: [:], acks: []), .now + memory, false)
            if cached.done { return nil }
            let before = cached.round
            var round = before
            round.digests.merge(incoming.digests) { $0.seq >= $1.seq ? $0 : $1 }
            round.digests[local] = digest
            round.acks = Array(Set(round.acks).union(incoming.acks)).sorted()
            let missing = members.subtracting(round.digests.keys)
            var compare = false
            if missing.isEmpty && !round.acks.contains(local) {
                compare = true
                round.acks = (round.acks + [local]).sorted()
            }
            let unacked = members.subtracting(round.acks)
            cached.done = missing.isEmpty && unacked.isEmpty
            cached.round = round
            state.rounds[incoming.id] = cached
            let learned = round.digests.keys.count != before.digests.keys.count || round.acks != before.acks
                || round.digests != before.digests
            guard learned else { return RoundDecision(round: round, forwardTo: [], compare: false) }
            let targets = missing.isEmpty ? unacked : missing
            return RoundDecision(round: round, forwardTo: targets.filter { $0 != local }.sorted(), compare: compare)
        }
    }

    private func prune(_ state: inout State) {
        let now = ContinuousClock.now
        if state.changes.count > 1_024 { state.changes = state.changes.filter { $0.value.expires > now } }
        if state.rounds.count > 64 { state.rounds = state.rounds.filter { $0.value.expires > now } }
    }
}
