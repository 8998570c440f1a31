import ClusterNode

/// One child's row: the winning version of its spec and metadata, and one slot per hosting node.
///
/// What a lookup returns (spec, metadata, slots) is declared first so it shares cache lines;
/// the version, read only by merges, comes last.
struct RegistryRow: Sendable, Hashable {
    var spec: ChildSpec
    var metadata: ChildMetadata
    /// The `[NodeID: ActorID]` map of the design, stored as locations sorted by node: a child has
    /// one slot per replica (a handful), so a small sorted array beats a dictionary and a lookup can
    /// hand it out as `ChildInfo.locations` without allocating or sorting.
    var slots: [ChildLocation]
    var epoch: UInt64
    var authoredBy: NodeID

    init(_ entry: RegistryEntry) {
        spec = entry.spec
        metadata = entry.metadata
        slots = [ChildLocation(node: entry.node, actorID: entry.actorID)]
        epoch = entry.epoch
        authoredBy = entry.authoredBy
    }

    var info: ChildInfo { ChildInfo(spec: spec, locations: slots, metadata: metadata) }

    func actorID(on node: NodeID) -> ActorID? {
        slots.first { $0.node == node }?.actorID
    }

    /// SPEC §6.7: the higher epoch wins; on equal epochs the version authored by the lower node.
    /// Equal epoch and author name the same version (only the author bumps an epoch), so the
    /// version already held stays.
    func isBeaten(byEpoch epoch: UInt64, authoredBy author: NodeID) -> Bool {
        epoch > self.epoch || (epoch == self.epoch && author < authoredBy)
    }

    /// Adopts the entry's spec and metadata when its version wins.
    mutating func mergeVersion(of entry: RegistryEntry) {
        guard isBeaten(byEpoch: entry.epoch, authoredBy: entry.authoredBy) else { return }
        spec = entry.spec
        metadata = entry.metadata
        epoch = entry.epoch
        authoredBy = entry.authoredBy
    }

    enum SlotWrite { case unchanged, replaced, added }

    /// Sets `location.node`'s slot, keeping the slots ordered by node.
    mutating func setSlot(_ location: ChildLocation) -> SlotWrite {
        if let index = slots.firstIndex(where: { $0.node == location.node }) {
            if slots[index].actorID == location.actorID { return .unchanged }
            slots[index].actorID = location.actorID
            return .replaced
        }
        let index = slots.firstIndex { location.node < $0.node } ?? slots.endIndex
        slots.insert(location, at: index)
        return .added
    }

    /// Removes `node`'s slot; returns whether there was one.
    mutating func removeSlot(of node: NodeID) -> Bool {
        guard let index = slots.firstIndex(where: { $0.node == node }) else { return false }
        slots.remove(at: index)
        return true
    }
}

/// The registry's state and merge rules as a plain value: no locks and no I/O, so the same code can
/// later run inside a deterministic simulation or behind another storage.
///
/// A row with no slots is removed at once. ProcessHub 0.7 keeps such "unbound" rows for its durable
/// children's reconcile; we do not (yet): withdrawing the last slot deletes the row.
struct RegistryState: Sendable {
    private(set) var rows: [ChildID: RegistryRow] = [:]
    /// Which children each node hosts a slot of: makes purges, sync payloads and withdrawals
    /// proportional to that node's share instead of to the whole registry.
    private(set) var idsByNode: [NodeID: Set<ChildID>] = [:]

    /// Makes room for `count` more rows hosted on `node` at once, instead of growing step by step
    /// through a large batch.
    mutating func reserve(_ count: Int, on node: NodeID) {
        rows.reserveCapacity(rows.count + count)
        idsByNode[node, default: []].reserveCapacity((idsByNode[node]?.count ?? 0) + count)
    }

    /// Merges one node's slot; returns the change when the slot was added or its actor id changed.
    mutating func register(_ entry: RegistryEntry) -> RegistryChange? {
        let location = ChildLocation(node: entry.node, actorID: entry.actorID)
        guard let index = rows.index(forKey: entry.childID) else {
            rows[entry.childID] = RegistryRow(entry)
            idsByNode[entry.node, default: []].insert(entry.childID)
            return .registered(entry.childID, location)
        }
        rows.values[index].mergeVersion(of: entry)
        switch rows.values[index].setSlot(location) {
        case .unchanged:
            return nil
        case .replaced:
            return .registered(entry.childID, location)
        case .added:
            idsByNode[entry.node, default: []].insert(entry.childID)
            return .registered(entry.childID, location)
        }
    }

    /// Withdraws `node`'s slot of `id`, deleting the row when it was the last.
    mutating func unregister(_ id: ChildID, on node: NodeID) -> RegistryChange? {
        guard removeSlot(of: id, on: node) else { return nil }
        idsByNode[node]?.remove(id)
        if idsByNode[node]?.isEmpty == true { idsByNode[node] = nil }
        return .unregistered(id, node)
    }

    /// Replaces the actor id in `node`'s existing slot of `id` (a restart). An update never creates a
    /// slot: only a registration, which carries the spec, does; sync repairs anything missed.
    mutating func updateActorID(of id: ChildID, on node: NodeID, to actorID: ActorID) -> Bool {
        guard actorID.node == node, let index = rows.index(forKey: id),
            rows.values[index].actorID(on: node) != nil
        else { return false }
        return rows.values[index].setSlot(ChildLocation(node: node, actorID: actorID)) == .replaced
    }

    /// Removes every slot of `node`, in child id order.
    mutating func purge(_ node: NodeID) -> [RegistryChange] {
        guard let ids = idsByNode.removeValue(forKey: node) else { return [] }
        return ids.sorted().compactMap { id in
            removeSlot(of: id, on: node) ? .unregistered(id, node) : nil
        }
    }

    /// Removes the slots of every other incarnation of `node`'s endpoint.
    mutating func purgeStaleIncarnations(of node: NodeID) -> [RegistryChange] {
        let stale = idsByNode.keys.filter { $0.sameEndpoint(as: node) && $0.incarnation != node.incarnation }
        return stale.sorted().flatMap { purge($0) }
    }

    /// SPEC §4.4 `append_data` + `detach_data` for one node's full payload.
    mutating func replaceEntries(ownedBy node: NodeID, with entries: [RegistryEntry]) -> [RegistryChange] {
        // A node only speaks for its own slots.
        let own = entries.filter { $0.node == node }
        var changes = own.compactMap { register($0) }
        let absent = idsByNode[node]?.subtracting(own.lazy.map(\.childID)) ?? []
        for id in absent.sorted() {
            if let change = unregister(id, on: node) { changes.append(change) }
        }
        return changes
    }

    /// Adopts `metadata` when its version wins under the epoch rule; returns whether it did.
    mutating func setMetadata(
        of id: ChildID, _ metadata: ChildMetadata, epoch: UInt64, authoredBy author: NodeID
    ) -> Bool {
        guard let index = rows.index(forKey: id),
            rows.values[index].isBeaten(byEpoch: epoch, authoredBy: author)
        else { return false }
        rows.values[index].metadata = metadata
        rows.values[index].epoch = epoch
        rows.values[index].authoredBy = author
        return true
    }

    /// Removes the slot from the row (and the row when it empties); leaves the node index alone.
    private mutating func removeSlot(of id: ChildID, on node: NodeID) -> Bool {
        guard let index = rows.index(forKey: id), rows.values[index].removeSlot(of: node) else { return false }
        if rows.values[index].slots.isEmpty { rows.remove(at: index) }
        return true
    }
}
