import ClusterNode

/// Registry synchronisation (SPEC §4.4): how this node's slot changes reach the peers, how the
/// peers' changes are applied, and the periodic repair round — PubSub or Gossip.
extension HubCore {
    // MARK: Sending changes

    /// Sends a change of this node's own slots to the peers, in chunks, through each peer's
    /// ordered outbox; returns once queued.
    ///
    /// With `confirmTo`, waits until that peer has been sent the change: the originator of a start
    /// then knows the children it asked for as soon as it has its result.
    ///
    /// With `confirmToAll`, waits until every peer has been sent it (under Gossip: every first hop).
    func propagate(_ update: RegistryUpdate, confirmTo waiting: NodeID? = nil, confirmToAll: Bool = false) async {
        if let gossip {
            await spread(update, ledger: gossip, confirmTo: waiting, confirmToAll: confirmToAll)
            return
        }
        let items = update.chunked(configuration.tuning).map(PeerOutbox.Item.update)
        guard confirmToAll else {
            for peer in peers {
                if peer == waiting {
                    await outbox(for: peer).enqueueAndWait(items)
                } else {
                    await outbox(for: peer).enqueue(items)
                }
            }
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for peer in peers {
                let outbox = outbox(for: peer)
                group.addTask { await outbox.enqueueAndWait(items) }
            }
        }
    }

    /// Gossip: each chunk is numbered and sent to a few random peers (and to the one waiting).
    private func spread(_ update: RegistryUpdate, ledger: GossipLedger, confirmTo waiting: NodeID?, confirmToAll: Bool) async {
        let peers = Array(syncMembers.subtracting([localNode]))
        var items: [NodeID: [PeerOutbox.Item]] = [:]
        for chunk in update.chunked(configuration.tuning) {
            let seq = ledger.stamp()
            let targets = ledger.originate(.init(origin: localNode, seq: seq), peers: peers, required: waiting)
            let change = GossipChange(origin: localNode, seq: seq, update: chunk, acks: [localNode])
            for peer in targets { items[peer, default: []].append(.gossip(change)) }
            ledger.count { $0.originated += 1; $0.firstHops += targets.count }
        }
        for (peer, queued) in items {
            if peer == waiting || confirmToAll {
                await outbox(for: peer).enqueueAndWait(queued)
            } else {
                await outbox(for: peer).enqueue(queued)
            }
        }
    }

    /// The nodes that own slots in this hub's registry: members, draining ones and this node.
    var syncMembers: Set<NodeID> {
        state.withLock { $0.peers.union($0.drainingPeers) }.union([localNode])
    }

    // MARK: Snapshots

    /// This node's slots as a snapshot push: chunks merged as registrations, then the complete
    /// id list so the receiver withdraws the slots that are gone (append_data + detach_data).
    /// Under Gossip it opens with the number of the latest change it contains.
    func snapshotUpdates() -> [RegistryUpdate] {
        let mark = gossip.map { [RegistryUpdate.snapshotBegins($0.lastStamped)] } ?? []
        let entries = registry.entries(ownedBy: localNode)
        let chunks = entries.chunked(configuration.tuning.entriesPerMessage).map { RegistryUpdate.registered(Array($0)) }
        return mark + chunks + [.snapshotComplete(entries.map(\.spec.id))]
    }

    /// Sends `peers` this node's slots.
    func pushSnapshot(to peers: [NodeID]) async {
        await send([.snapshot], to: peers)
    }

    // MARK: Applying peers' changes

    /// What applying one update did to the registry, for the hooks and follow-up work.
    struct AppliedUpdate {
        var changes: [RegistryChange] = []
        var actorUpdate: ChildActorUpdatedEvent?
        var completedSnapshot = false
    }

    /// Applies an update pushed directly by `peer` (PubSub changes, and snapshots under both).
    func apply(_ update: RegistryUpdate, from peer: NodeID) async {
        // Only members speak, and only for their own slots: a late message from a node that
        // already left must not resurrect its children.
        guard isMember(peer), peer != localNode else { return }
        var applied = [applyToRegistry(update, from: peer)]
        if let gossip {
            switch update {
            case .snapshotBegins(let seq):
                gossip.snapshotBegins(from: peer, seq: seq)
            case .snapshotComplete:
                gossip.snapshotCompleted(from: peer) { applied.append(applyToRegistry($0, from: peer)) }
            default:
                break
            }
        }
        for result in applied { await react(to: result) }
        // A full snapshot re-checks every child it lists, changed or not: a duplicate whose
        // first report this node could not act on (it was partitioned) is repaired by the next round.
        if case .registered(let entries) = update { resolveDuplicates(among: entries.map(\.childID)) }
    }

    /// The registry part of applying an update: synchronous, so it can run in order under the
    /// gossip ledger's lock.
    func applyToRegistry(_ update: RegistryUpdate, from peer: NodeID) -> AppliedUpdate {
        var result = AppliedUpdate()
        switch update {
        case .registered(let entries):
            result.changes = registry.register(entries.filter { $0.actorID.node == peer })
            // Started again somewhere: a lost-node restart may bring it back from now on.
            stops.started(entries.lazy.map(\.spec.id))
        case .unregistered(let ids):
            result.changes = registry.unregister(ids, on: peer)
        case .actorUpdated(let id, let actorID):
            if actorID.node == peer, registry.updateActorID(of: id, on: peer, to: actorID) {
                result.actorUpdate = ChildActorUpdatedEvent(childID: id, node: peer, actorID: actorID)
            }
        case .snapshotComplete(let ids):
            let hosted = Set(ids)
            // Sorted after filtering: the few gone ids, not the peer's whole share.
            let gone = registry.unorderedIDs(hostedOn: peer).filter { !hosted.contains($0) }.sorted()
            result.changes = registry.unregister(gone, on: peer)
            result.completedSnapshot = true
        case .snapshotBegins:
            break
        }
        return result
    }

    private func react(to applied: AppliedUpdate) async {
        await fireHooks(for: applied.changes)
        resolveDuplicates(among: applied.changes.compactMap { if case .registered(let id, _) = $0 { id } else { nil } })
        if let event = applied.actorUpdate { await hooks.dispatch(.childPidUpdated, event) }
        if applied.completedSnapshot { await startOwnedChildren() }
    }

    // MARK: Gossip

    /// A change arrived by gossip: apply it in its origin's order, pass it on to nodes that lack it.
    func receiveGossip(_ change: GossipChange) async {
        guard let gossip, !isStopped else { return }
        var applied: [AppliedUpdate] = []
        let decision = gossip.receive(
            .init(origin: change.origin, seq: change.seq), update: change.update, acks: change.acks,
            members: syncMembers
        ) { applied.append(applyToRegistry($0, from: change.origin)) }
        if !decision.forwardTo.isEmpty {
            var forwarded = change
            forwarded.acks = decision.acks
            await send([.gossip(forwarded)], to: decision.forwardTo)
        }
        for result in applied { await react(to: result) }
    }

    /// This node's digest of its own slots; the number is read first, so the slots hold at least
    /// every change up to it.
    func ownDigest(_ ledger: GossipLedger) -> SlotDigest {
        let seq = ledger.lastStamped
        let (count, hash) = registry.slotDigest(of: localNode)
        return SlotDigest(seq: seq, count: count, hash: hash)
    }

    /// A round arrived: merge, take part once every digest is in, pass it on.
    func receiveRound(_ round: GossipRound) async {
        guard let gossip, !isStopped else { return }
        guard let decision = gossip.receive(round, own: ownDigest(gossip), members: syncMembers) else { return }
        await sendRound(decision.round, to: decision.forwardTo)
        if decision.compare { await pullDivergentSlots(decision.round.digests, ledger: gossip) }
    }

    /// Pulls the slots of every node whose digest says this node missed some of its changes.
    private func pullDivergentSlots(_ digests: [NodeID: SlotDigest], ledger: GossipLedger) async {
        for (origin, digest) in digests where origin != localNode && isMember(origin) {
            let applied = ledger.applied(from: origin)
            if applied > digest.seq { continue }  // the digest is older than this node's view
            let (count, hash) = registry.slotDigest(of: origin)
            guard applied < digest.seq || count != digest.count || hash != digest.hash else { continue }
            logger.debug("registry view of \(origin) differs from its digest: pulling its slots")
            ledger.count { $0.pulls += 1 }
            let me = localNode
            await forEachPeer([origin]) { try await $0.requestSnapshot(for: me) }
        }
    }

    private func sendRound(_ round: GossipRound, to peers: [NodeID]) async {
        guard !peers.isEmpty else { return }
        await forEachPeer(peers) { try await $0.gossipRound(round) }
    }

    // MARK: The periodic round

    /// PubSub: every peer gets this node's slots and replaces its copy of them. Gossip: a digest
    /// round starts here (only on the first node when `restrictedInit`).
    func syncRound() async {
        // The round is also when this node rechecks its own children: one placed elsewhere, or
        // running on more nodes than placed, that no topology change came to fix.
        // (In no order: the check queues the ids in a set, and sorting the whole share every round
        // would cost more than the check.)
        resolveDuplicates(among: registry.unorderedIDs(hostedOn: localNode), checkingPlacement: true)
        guard let gossip, let settings = configuration.synchronization as? Gossip else {
            await pushSnapshot(to: peers)
            return
        }
        let members = syncMembers
        if settings.restrictedInit && members.min() != localNode { return }
        let (round, targets) = gossip.startRound(own: ownDigest(gossip), peers: members.subtracting([localNode]).sorted())
        gossip.count { $0.roundsStarted += 1 }
        await sendRound(round, to: targets)
    }
}
