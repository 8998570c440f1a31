import ClusterNode

/// The registry's state and merge rules as a plain value: no locks and no I/O, so the same code can
/// later run inside a deterministic simulation or behind another storage.
///
/// A row with no slots is removed at once. ProcessHub 0.7 keeps such "unbound" rows for its durable
/// children's reconcile; we do not (yet): withdrawing the last slot deletes the row.
struct RegistryState: Sendable {
    private(set) var table = RowTable()
    /// The spaces (nodes) the rows' packed slots and authors refer to.
    private(set) var spaces = ActorSpaces()
    /// Which children each node hosts a slot of: makes purges, sync payloads and withdrawals
    /// proportional to that node's share instead of to the whole registry.
    private(set) var idsByNode: [NodeID: Set<ChildID>] = [:]

    // MARK: Reads

    /// The actor id of the child's first instance (by node).
    func firstActorID(of id: ChildID) -> ActorID? {
        table.firstSlot(of: id).map(spaces.actorID)
    }

    /// The actor ids of the child's instances, ordered by node.
    func actorIDs(of id: ChildID) -> [ActorID] {
        table.index(of: id).map { table.rows[$0].slots.map(spaces.actorID) } ?? []
    }

    /// The actor id of the child's instance on `node`.
    func actorID(of id: ChildID, on node: NodeID) -> ActorID? {
        guard let index = table.index(of: id) else { return nil }
        let row = table.rows[index]
        return row.slotIndex(of: node, in: spaces).map { spaces.actorID(row.slots[$0]) }
    }

    /// The row of `id`, as the public view.
    func info(of id: ChildID) -> ChildInfo? {
        table.index(of: id).map { info(table.rows[$0]) }
    }

    /// `row` as the public view.
    func info(_ row: RegistryRow) -> ChildInfo {
        ChildInfo(spec: row.spec, locations: locations(row), metadata: row.metadata)
    }

    /// `row`'s locations, ordered by node.
    func locations(_ row: RegistryRow) -> [ChildLocation] {
        row.slots.map { ChildLocation(spaces.actorID($0)) }
    }

    /// The version `(epoch, authoredBy)` of the child's row.
    func version(of id: ChildID) -> (epoch: UInt64, authoredBy: NodeID)? {
        table.index(of: id).map { (table.rows[$0].epoch, spaces.node(table.rows[$0].authoredBy)) }
    }

    /// `node`'s slot of `id` with the row version held, as it travels in a sync payload.
    func entry(of id: ChildID, ownedBy node: NodeID) -> RegistryEntry? {
        guard let index = table.index(of: id) else { return nil }
        let row = table.rows[index]
        guard let slot = row.slotIndex(of: node, in: spaces) else { return nil }
        return RegistryEntry(
            spec: row.spec, metadata: row.metadata, epoch: row.epoch, authoredBy: spaces.node(row.authoredBy),
            actorID: spaces.actorID(row.slots[slot]))
    }

    // MARK: Writes

    /// Makes room for `count` more rows hosted on `node` at once, instead of growing step by step
    /// through a large batch.
    mutating func reserve(_ count: Int, on node: NodeID) {
        table.reserveCapacity(table.count + count)
        idsByNode[node, default: []].reserveCapacity((idsByNode[node]?.count ?? 0) + count)
    }

    /// Merges one node's slot; returns the change when the slot was added or its actor id changed.
    mutating func register(_ entry: RegistryEntry) -> RegistryChange? {
        let slot = spaces.pack(entry.actorID)
        let location = ChildLocation(entry.actorID)
        guard let index = table.index(of: entry.childID) else {
            table.insert(RegistryRow(entry, slot: slot, author: spaces.index(of: entry.authoredBy)))
            idsByNode[entry.node, default: []].insert(entry.childID)
            return .registered(entry.childID, location)
        }
        mergeVersion(at: index, of: entry)
        let spaces = self.spaces
        switch table.modify(index, { $0.setSlot(slot, of: entry.node, in: spaces) }) {
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
        guard actorID.node == node, let index = table.index(of: id),
            table.rows[index].slotIndex(of: node, in: spaces) != nil
        else { return false }
        let slot = spaces.pack(actorID)
        let spaces = self.spaces
        return table.modify(index) { $0.setSlot(slot, of: node, in: spaces) } == .replaced
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
        guard let index = table.index(of: id),
            table.rows[index].isBeaten(byEpoch: epoch, authoredBy: author, in: spaces)
        else { return false }
        let authorIndex = spaces.index(of: author)
        table.modify(index) { row in
            row.metadata = metadata
            row.adoptVersion(epoch: epoch, author: authorIndex)
        }
        return true
    }

    /// Rewrites every slot and author of `old` to `new` (a promoted node's new identity), keeping
    /// each row's slots ordered by node. `new` must not have slots yet.
    mutating func renameNode(_ old: NodeID, to new: NodeID) {
        spaces.rename(old, to: new)
        if let ids = idsByNode.removeValue(forKey: old) { idsByNode[new] = ids }
        let spaces = self.spaces
        for index in 0..<table.count { table.modify(index) { $0.sortSlots(in: spaces) } }
    }

    /// Adopts the entry's spec and metadata when its version wins.
    private mutating func mergeVersion(at index: Int, of entry: RegistryEntry) {
        guard table.rows[index].isBeaten(byEpoch: entry.epoch, authoredBy: entry.authoredBy, in: spaces) else { return }
        let author = spaces.index(of: entry.authoredBy)
        table.modify(index) { row in
            row.spec = entry.spec
            row.metadata = entry.metadata
            row.adoptVersion(epoch: entry.epoch, author: author)
        }
    }

    /// Removes the slot from the row (and the row when it empties); leaves the node index alone.
    private mutating func removeSlot(of id: ChildID, on node: NodeID) -> Bool {
        guard let index = table.index(of: id), let slot = table.rows[index].slotIndex(of: node, in: spaces) else {
            return false
        }
        if table.rows[index].slotCount == 1 {
            table.remove(at: index)
        } else {
            table.modify(index) { $0.removeSlot(at: slot) }
        }
        return true
    }
}
