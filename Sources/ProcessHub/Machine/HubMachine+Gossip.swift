import ClusterNode

/// Gossip (SPEC §4.4.2, ``ChangeSpreading/epidemic(recipients:restrictedRounds:)``): each change
/// of this node's slots is numbered and sent to a few random peers, every node that learns of it
/// passes it on to peers that have not seen it, and changes of one origin are applied in the
/// origin's order whatever path they took. A periodic round collects every node's digest of its
/// slots; a node whose view differs from a digest pulls that node's snapshot.
///
/// Only registry propagation gossips: requests, replies, announcements, handovers, draining and
/// leaving still go to their peers directly.
extension HubMachine {
    /// The gossip settings, or `nil` when every change goes to every peer.
    var epidemic: (recipients: Int, restrictedRounds: Bool)? {
        guard case .epidemic(let recipients, let restricted) = settings.spreading else { return nil }
        return (max(1, recipients), restricted)
    }

    /// What the gossip of this node did so far.
    var gossipStatistics: ChangeLedger.Statistics { gossip.statistics }

    // MARK: This node's changes

    /// Numbers a change of this node's slots and sends it to `recipients` random peers.
    mutating func originate(_ change: SlotChange, recipients: Int) {
        let seq = gossip.stamp()
        let message = GossipedChange(origin: local, seq: seq, seen: [local], change: change)
        let targets = randomPeers(recipients, among: peers.sorted())
        gossip.changes[.init(origin: local, seq: seq)] = .init(seen: [local], expiresAt: now + settings.syncInterval)
        for peer in targets { effects.append(.send(HubEnvelope(.gossip(message)), to: peer)) }
        gossip.keep(message, sentTo: Set(targets))
        gossip.statistics.originated += 1
        gossip.statistics.firstHops += targets.count
    }

    /// Sends `peer` the changes of this input it was not picked for, before a message that may
    /// depend on them: a start's originator learns the registrations before the reply.
    mutating func catchUp(_ peer: NodeID) {
        guard epidemic != nil, peers.contains(peer) else { return }
        for change in gossip.unsent(to: peer, after: lastChangeBeforeInput) ?? [] {
            effects.append(.send(HubEnvelope(.gossip(change)), to: peer))
            gossip.statistics.firstHops += 1
        }
    }

    /// Sends `peer`, which had applied this node's changes up to `known`, every later one it was
    /// not sent (or this node's snapshot, when some are no longer kept), before a reply that may
    /// name them: one of them may still be on its way to it by another path, or lost.
    mutating func bringUpToDate(_ peer: NodeID, from known: UInt64) {
        guard epidemic != nil, peers.contains(peer) else { return }
        flushBroadcasts()
        guard let unsent = gossip.unsent(to: peer, after: known) else { return sendSnapshot(to: peer) }
        for change in unsent { effects.append(.send(HubEnvelope(.gossip(change)), to: peer)) }
        gossip.statistics.firstHops += unsent.count
    }

    /// Up to `count` of `candidates`, drawn with the machine's generator.
    mutating func randomPeers(_ count: Int, among candidates: [NodeID]) -> [NodeID] {
        Array(candidates.shuffled(using: &random).prefix(count))
    }

    // MARK: Others' changes

    /// A change arrived: apply it in its origin's order, and pass it on if it taught this node
    /// something, to peers that have not seen it, until every hub node has.
    mutating func gossipReceived(_ message: GossipedChange, from relay: NodeID) {
        guard let (recipients, _) = epidemic else {
            return log(.warning, "ignored a gossiped change from \(relay): this hub does not gossip")
        }
        guard message.origin != local, peers.contains(relay) else { return }
        // A late copy from a node that left must not bring its slots back.
        guard peers.contains(message.origin) || reachable.contains(message.origin) else { return }
        gossip.prune(now: now)
        let key = ChangeLedger.ChangeKey(origin: message.origin, seq: message.seq)
        var spreading = gossip.changes[key] ?? .init(seen: [], expiresAt: now + settings.syncInterval)
        guard !spreading.isDone else { return }
        let known = spreading.seen
        spreading.seen.formUnion(message.seen)
        spreading.seen.insert(local)
        let everyone = Set(members)
        spreading.isDone = everyone.isSubset(of: spreading.seen)
        gossip.changes[key] = spreading
        let ready = gossip.admit(key, message.change, isPeer: peers.contains(message.origin), now: now)
        if ready.isEmpty { applyStopsEarly(of: message.change) } else { armGapRepair() }
        for change in ready { apply(change, from: message.origin) }
        // Only news travels on: a copy that taught this node nothing stops here.
        guard spreading.seen != known, !spreading.isDone else { return }
        var forwarded = message
        forwarded.seen = spreading.seen.sorted()
        for peer in randomPeers(recipients, among: everyone.subtracting(spreading.seen).sorted()) {
            send(.gossip(forwarded), to: peer)
        }
    }

    /// Stops hold whatever order they arrive in (each covers its epoch and older ones): a change
    /// held back for an earlier one still stops the leftovers it names at once, so a new start
    /// of the same id is not answered with the old instance meanwhile.
    private mutating func applyStopsEarly(of change: SlotChange) {
        if case .unregistered(_, let tombstones) = change { applyTombstones(tombstones) }
        armGapRepair()
    }

    /// Arms ``HubTimer/gossipGap`` for the oldest gap, unless it is armed.
    private mutating func armGapRepair() {
        guard !gossip.isGapTimerArmed, let oldest = gossip.gapsSince.values.min() else { return }
        gossip.isGapTimerArmed = true
        effects.append(.setTimer(.gossipGap, after: max(.zero, oldest + settings.gossipGapRepair - now)))
    }

    /// A gap in some origin's changes outlived reordering: the change it waits for was lost on
    /// the way (its only carrier went down, say). Pull that origin's slots rather than wait for
    /// the round.
    mutating func repairGaps() {
        gossip.isGapTimerArmed = false
        for origin in gossip.gapsToRepair(now: now, delay: settings.gossipGapRepair) where peers.contains(origin) {
            log(.debug, "a change of \(origin) is missing: pulling its slots")
            gossip.statistics.pulls += 1
            send(.snapshotRequest, to: origin)
        }
        armGapRepair()
    }

    /// Applies a change of `origin`'s slots, as if `origin` had sent it directly.
    private mutating func apply(_ change: SlotChange, from origin: NodeID) {
        switch change {
        case .registered(let entries): registered(entries, by: origin)
        case .unregistered(let ids, let tombstones): unregistered(ids, tombstones, by: origin)
        case .suspended(let ids): withdrawn(ids, by: origin, inTransitTo: nil)
        case .moved(let ids, let target): withdrawn(ids, by: origin, inTransitTo: target)
        case .actorUpdated(let id, let actorID): actorUpdated(id, actorID, by: origin)
        }
    }

    /// A snapshot part of `peer` arrived: it holds `peer`'s changes up to its mark.
    mutating func snapshotPartArrives(_ part: SnapshotPart, from peer: NodeID) {
        guard epidemic != nil, let mark = part.lastChange else { return }
        gossip.snapshotBegins(from: peer, seq: mark)
    }

    /// `peer`'s snapshot is complete: the changes that waited for it apply now.
    mutating func snapshotApplied(from peer: NodeID) {
        guard epidemic != nil else { return }
        for change in gossip.snapshotCompleted(from: peer, now: now) { apply(change, from: peer) }
        armGapRepair()
    }

    /// A peer whose view of this node's slots differs from its digest asks for them.
    mutating func snapshotRequested(by peer: NodeID) {
        guard peers.contains(peer) else { return }
        sendSnapshot(to: peer)
    }

    // MARK: The digest round

    /// Starts a round carrying this node's digest (only on the first node when restricted).
    mutating func startDigestRound(recipients: Int, restricted: Bool) {
        if restricted && members.first != local { return }
        let round = DigestRound(id: random.next(), digests: [local: ownDigest], acks: [])
        gossip.prune(now: now)
        gossip.rounds[round.id] = .init(round: round, expiresAt: now + settings.syncInterval)
        gossip.statistics.roundsStarted += 1
        for peer in randomPeers(recipients, among: peers.sorted()) { send(.digestRound(round), to: peer) }
    }

    /// A round arrived: merge what it carries; while digests are missing, pass it to the nodes
    /// they belong to; once every digest is in, compare (once) and pass it to the nodes that
    /// have not compared yet.
    mutating func digestRoundReceived(_ incoming: DigestRound, from peer: NodeID) {
        guard epidemic != nil, peers.contains(peer) else { return }
        gossip.prune(now: now)
        var cached = gossip.rounds[incoming.id]
            ?? .init(round: DigestRound(id: incoming.id, digests: [:], acks: []), expiresAt: now + settings.syncInterval)
        guard !cached.isDone else { return }
        let before = cached.round
        var round = merged(before, incoming)
        let everyone = Set(members)
        let missing = everyone.subtracting(round.digests.keys)
        let compares = missing.isEmpty && !round.acks.contains(local)
        if compares { round.acks = (round.acks + [local]).sorted() }
        let unacked = everyone.subtracting(round.acks)
        cached.isDone = missing.isEmpty && unacked.isEmpty
        cached.round = round
        gossip.rounds[incoming.id] = cached
        if compares { pullDivergentSlots(round.digests) }
        guard round.digests != before.digests || round.acks != before.acks else { return }
        for target in (missing.isEmpty ? unacked : missing).subtracting([local]).sorted() {
            send(.digestRound(round), to: target)
        }
    }

    /// Per node the digest with the newer change wins; this node's own is taken fresh.
    private func merged(_ cached: DigestRound, _ incoming: DigestRound) -> DigestRound {
        var round = cached
        round.digests.merge(incoming.digests) { $0.seq >= $1.seq ? $0 : $1 }
        round.digests[local] = ownDigest
        round.acks = Set(round.acks).union(incoming.acks).sorted()
        return round
    }

    /// Asks every node whose digest says this node missed some of its changes for its slots.
    private mutating func pullDivergentSlots(_ digests: [NodeID: NodeDigest]) {
        for (origin, digest) in digests.sorted(by: { $0.key < $1.key }) where origin != local && peers.contains(origin) {
            let applied = gossip.applied[origin, default: 0]
            // The digest is older than this node's view: changes made since account for the difference.
            if applied > digest.seq { continue }
            let view = registry.slotDigest(of: origin)
            guard applied < digest.seq || view.count != digest.count || view.hash != digest.hash else { continue }
            log(.debug, "registry view of \(origin) differs from its digest: pulling its slots")
            gossip.statistics.pulls += 1
            send(.snapshotRequest, to: origin)
        }
    }

    /// This node's digest of its own slots.
    var ownDigest: NodeDigest {
        let view = registry.slotDigest(of: local)
        return NodeDigest(seq: gossip.lastStamped, count: view.count, hash: view.hash)
    }
}

extension RegistryState {
    /// The count and an order-independent hash of `node`'s slots (child id and actor serial):
    /// two registries with the same digest for a node almost surely agree on its slots.
    func slotDigest(of node: NodeID) -> (count: Int, hash: UInt64) {
        let ids = idsByNode[node] ?? []
        let hash = ids.reduce(UInt64(0)) { hash, id in
            hash ^ StableHash.xxHash64(id, seed: actorID(of: id, on: node)?.serial ?? 0)
        }
        return (ids.count, hash)
    }
}
