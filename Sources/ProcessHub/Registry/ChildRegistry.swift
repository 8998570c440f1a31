import ClusterNode
import Synchronization

/// A node's copy of the cluster-wide child registry: child id → spec, metadata and one slot
/// (`node → actor id`) per node hosting an instance.
///
/// Every read is local and takes a lock for a few dictionary operations, so the hub can answer
/// lookups without any network call. Writes return what changed so the hub can fire its hooks.
///
/// Merging follows SPEC §6.7 and §4.4:
/// - each `(child, node)` slot is written only by the node hosting it: its own observation of its
///   actor id is authoritative, so merging two registries is a union with per-node ownership;
/// - a row's spec and metadata are versioned by `(epoch, authoredBy)`: the higher epoch wins, and
///   on equal epochs the version authored by the lower ``NodeID`` wins, whatever the arrival order;
/// - a row whose last slot is withdrawn is removed (no "unbound" rows, unlike ProcessHub 0.7).
///
/// The rules live in ``RegistryState``, a plain value; this class only guards it with a mutex.
final class ChildRegistry: Sendable {
    private let state = Mutex(RegistryState())
    private let local: Mutex<NodeID>
    /// How many writes of a batch happen under one hold of the lock (``HubTuning/registryWriteChunk``).
    private let chunkSize: Int

    /// Creates an empty registry for the hub on `localNode`.
    init(localNode: NodeID, writeChunk: Int = HubTuning().registryWriteChunk) {
        self.local = Mutex(localNode)
        self.chunkSize = max(1, writeChunk)
    }

    /// The node this copy of the registry lives on (its new identity after ``renameLocalNode(to:)``).
    var localNode: NodeID { local.withLock { $0 } }

    // MARK: Reads

    /// The child's spec, locations (ordered by node) and metadata, or `nil` when no node hosts it.
    func child(_ id: ChildID) -> ChildInfo? {
        state.withLock { $0.info(of: id) }
    }

    /// The actor ids of every instance of the child, ordered by node (`[]` when unknown).
    func actorIDs(of id: ChildID) -> [ActorID] {
        state.withLock { $0.actorIDs(of: id) }
    }

    /// The actor id of the child's first instance (by node), or `nil` when unknown: ProcessHub's
    /// `get_pid`, without building an array. Inlined into the hub's lookup so that the call does
    /// not retain and release the registry around it (two atomic operations, a third of its cost).
    @inline(__always)
    func actorID(of id: ChildID) -> ActorID? {
        state.withLock { $0.firstActorID(of: id) }
    }

    /// The ids of `ids` that are registered, checked under one lock (a start of a million children
    /// checks them all before dispatching anything).
    func registered(among ids: [ChildID]) -> [ChildID] {
        state.withLock { state in ids.filter { state.table.index(of: $0) != nil } }
    }

    /// Whether at least one node hosts the child.
    func contains(_ id: ChildID) -> Bool {
        state.withLock { $0.table.index(of: id) != nil }
    }

    /// The number of children hosted somewhere.
    var count: Int {
        state.withLock { $0.table.count }
    }

    /// The version `(epoch, authoredBy)` of the child's spec and metadata; an authored write
    /// (a metadata update) uses `epoch + 1`.
    func version(of id: ChildID) -> (epoch: UInt64, authoredBy: NodeID)? {
        state.withLock { $0.version(of: id) }
    }

    /// Every child with its locations, sorted by child id.
    func processList() -> [(ChildID, [ChildLocation])] {
        let list = state.withLock { state in state.table.rows.map { ($0.spec.id, state.locations($0)) } }
        return list.sorted { $0.0 < $1.0 }
    }

    /// The children with an instance on `node` and that instance's actor id, sorted by child id.
    func localProcessList(on node: NodeID) -> [(ChildID, ActorID)] {
        let list = state.withLock { state in
            (state.idsByNode[node] ?? []).compactMap { id in state.actorID(of: id, on: node).map { (id, $0) } }
        }
        return list.sorted { $0.0 < $1.0 }
    }

    /// The children with an instance on this node and that instance's actor id, sorted by child id.
    func localProcessList() -> [(ChildID, ActorID)] {
        localProcessList(on: localNode)
    }

    /// The whole registry.
    func dump() -> [ChildID: ChildInfo] {
        state.withLock { state in
            Dictionary(uniqueKeysWithValues: state.table.rows.map { ($0.spec.id, state.info($0)) })
        }
    }

    /// The children whose metadata `tag` equals `tag`, sorted by child id.
    func children(taggedWith tag: String) -> [ChildInfo] {
        let list = state.withLock { state in
            state.table.rows.filter { $0.metadata["tag"] == tag }.map { state.info($0) }
        }
        return list.sorted { $0.id < $1.id }
    }

    /// The children whose metadata contains `key`, with that key's value, sorted by child id.
    func children(withMetadataKey key: String) -> [(ChildInfo, String)] {
        let list = state.withLock { state in
            state.table.rows.compactMap { row in row.metadata[key].map { (state.info(row), $0) } }
        }
        return list.sorted { $0.0.id < $1.0.id }
    }

    /// The children with an instance on `node`, sorted.
    func ids(hostedOn node: NodeID) -> [ChildID] {
        unorderedIDs(hostedOn: node).sorted()
    }

    /// The children with an instance on `node`, in no particular order: for callers that only
    /// test membership or hand the ids to a set, and should not sort a node's whole share.
    ///
    /// The ids are copied out under the lock rather than returning the node's set itself: a
    /// set still referenced outside the lock would make the next registration on that node
    /// copy the whole set (copy on write), a cost proportional to the registry's size.
    func unorderedIDs(hostedOn node: NodeID) -> [ChildID] {
        state.withLock { state in state.idsByNode[node].map(Array.init) ?? [] }
    }

    /// Those of `ids` with an instance on `node`, checked a lock chunk at a time (without
    /// building each child's public view).
    func hosted(_ ids: [ChildID], on node: NodeID) -> [ChildID] {
        var found: [ChildID] = []
        for start in stride(from: ids.startIndex, to: ids.endIndex, by: chunkSize) {
            let chunk = ids[start..<min(start + chunkSize, ids.endIndex)]
            found += state.withLock { state in chunk.filter { state.actorID(of: $0, on: node) != nil } }
        }
        return found
    }

    /// Every child id, in no particular order (callers such as placement work per id; sorting
    /// 100 000 ids on every topology change would be wasted).
    func allIDs() -> [ChildID] {
        state.withLock { $0.table.rows.map(\.spec.id) }
    }

    /// The ids of `ids` with a slot on `node` and more than `limit` slots in all: instances
    /// beyond what the placement asks for (a healed split restarted them on both sides).
    func overReplicated(_ ids: [ChildID], on node: NodeID, limit: Int) -> [ChildID] {
        state.withLock { state in
            ids.filter { id in
                guard let index = state.table.index(of: id) else { return false }
                let row = state.table.rows[index]
                return row.slots.count > limit && row.slotIndex(of: node, in: state.spaces) != nil
            }
        }
    }

    /// `node`'s own slots with the row versions this registry holds, sorted by child id:
    /// the payload `node` sends in a periodic sync.
    ///
    /// The ids are sorted outside the lock before the entries are built, so the sort moves
    /// 16-byte ids instead of whole entries and readers do not wait for it. A slot withdrawn in
    /// between is left out; one added in between is too, and reaches `node`'s peers by its own
    /// push, queued after the snapshot that calls this.
    func entries(ownedBy node: NodeID) -> [RegistryEntry] {
        let ids = unorderedIDs(hostedOn: node).sorted()
        return state.withLock { state in ids.compactMap { state.entry(of: $0, ownedBy: node) } }
    }

    // MARK: Writes

    /// Inserts or merges each entry: sets the slot of `entry.actorID.node` and merges spec and
    /// metadata by the epoch rule. Reports a slot only when it was added or its actor id changed.
    @discardableResult
    func register(_ entries: [RegistryEntry]) -> [RegistryChange] {
        if entries.count > chunkSize, let node = entries.first?.node {
            state.withLock { $0.reserve(entries.count, on: node) }
        }
        return inChunks(entries) { state, entry in state.register(entry) }
    }

    /// Withdraws `node`'s slot of each child; a row goes when its last slot does.
    @discardableResult
    func unregister(_ ids: [ChildID], on node: NodeID) -> [RegistryChange] {
        inChunks(ids) { state, id in state.unregister(id, on: node) }
    }

    /// Records a restarted instance's new actor id in `node`'s existing slot.
    /// Returns `false` for an unknown child or slot, an unchanged id, or an id of another node.
    @discardableResult
    func updateActorID(of id: ChildID, on node: NodeID, to actorID: ActorID) -> Bool {
        state.withLock { $0.updateActorID(of: id, on: node, to: actorID) }
    }

    /// Removes every slot of `node` (it went down).
    @discardableResult
    func purge(node: NodeID) -> [RegistryChange] {
        state.withLock { $0.purge(node) }
    }

    /// Removes the slots of every node with `node`'s endpoint (host and port) but another
    /// incarnation: a restarted node's previous life leaves no stale actor ids behind.
    @discardableResult
    func purgeStaleIncarnations(of node: NodeID) -> [RegistryChange] {
        state.withLock { $0.purgeStaleIncarnations(of: node) }
    }

    /// Applies `node`'s full sync payload (SPEC `append_data` + `detach_data`): merges every entry as
    /// ``register(_:)`` does, then withdraws `node`'s slots of children absent from the payload.
    /// Entries for other nodes' slots are ignored: a node only speaks for its own slots.
    @discardableResult
    func replaceEntries(ownedBy node: NodeID, with entries: [RegistryEntry]) -> [RegistryChange] {
        state.withLock { $0.replaceEntries(ownedBy: node, with: entries) }
    }

    /// Sets the child's metadata when `(epoch, authoredBy)` wins over the version held.
    /// Returns whether it did (`false` for an unknown child or an older version).
    @discardableResult
    func setMetadata(of id: ChildID, _ metadata: ChildMetadata, epoch: UInt64, authoredBy: NodeID) -> Bool {
        state.withLock { $0.setMetadata(of: id, metadata, epoch: epoch, authoredBy: authoredBy) }
    }

    /// Moves this node's slots, authorship and identity to `new` (the node was promoted): every
    /// row keeps its place, only the node it names changes. No hooks fire: the children did not
    /// move, and the ids name the same actors. Returns the old identity.
    @discardableResult
    func renameLocalNode(to new: NodeID) -> NodeID {
        let old = local.withLock { local in defer { local = new }; return local }
        if old != new { state.withLock { $0.renameNode(old, to: new) } }
        return old
    }

    /// Entries of a batch are independent, so a large batch takes the lock once per chunk: readers
    /// wait for at most a chunk (about a millisecond), not for 100 000 writes.
    private func inChunks<Item>(
        _ items: [Item], _ write: (inout RegistryState, Item) -> RegistryChange?
    ) -> [RegistryChange] {
        var changes: [RegistryChange] = []
        for start in stride(from: items.startIndex, to: items.endIndex, by: chunkSize) {
            let chunk = items[start..<min(start + chunkSize, items.endIndex)]
            changes += state.withLock { state in chunk.compactMap { write(&state, $0) } }
        }
        return changes
    }
}

extension ChildRegistry {
    /// The count and an order-independent hash of `node`'s slots (child id and actor serial):
    /// two registries with the same digest for a node almost surely agree on its slots.
    func slotDigest(of node: NodeID) -> (count: Int, hash: UInt64) {
        let slots = localProcessList(on: node)
        let hash = slots.reduce(UInt64(0)) { $0 ^ StableHash.xxHash64($1.0, seed: $1.1.serial) }
        return (slots.count, hash)
    }
}
