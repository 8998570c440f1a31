import ClusterNode

/// One child's row: the winning version of its spec and metadata, and one slot per hosting node.
///
/// Slots are packed (see ``PackedSlot``) and ordered by node. The first is stored inline, as
/// almost every child has exactly one instance: a row then holds no slot array at all, and
/// ``ChildRegistry/actorID(of:)`` reads two integers. The author is an ``ActorSpaces`` index too.
struct RegistryRow: Sendable {
    var spec: ChildSpec
    var metadata: ChildMetadata
    /// The row version: bumped by every authored write (start, metadata update).
    var epoch: UInt64
    private var firstSerial: UInt64
    private var firstSpace: UInt32
    /// The space index of the node that authored this version.
    private(set) var authoredBy: UInt32
    /// The slots after the first, ordered by node (empty without replication).
    private var others: [PackedSlot]

    init(_ entry: RegistryEntry, slot: PackedSlot, author: UInt32) {
        spec = entry.spec
        metadata = entry.metadata
        epoch = entry.epoch
        firstSerial = slot.serial
        firstSpace = slot.space
        authoredBy = author
        others = []
    }

    /// The slot of the instance on the lowest node.
    var first: PackedSlot { PackedSlot(space: firstSpace, serial: firstSerial) }

    /// The number of slots (at least one: an empty row is removed).
    var slotCount: Int { others.count + 1 }

    /// Every slot, ordered by node.
    var slots: [PackedSlot] { others.isEmpty ? [first] : [first] + others }

    /// The position of `node`'s slot in ``slots``.
    func slotIndex(of node: NodeID, in spaces: ActorSpaces) -> Int? {
        if spaces.node(firstSpace) == node { return 0 }
        return others.firstIndex { spaces.node($0.space) == node }.map { $0 + 1 }
    }

    /// SPEC §6.7: the higher epoch wins; on equal epochs the version authored by the lower node.
    /// Equal epoch and author name the same version (only the author bumps an epoch), so the
    /// version already held stays.
    func isBeaten(byEpoch epoch: UInt64, authoredBy author: NodeID, in spaces: ActorSpaces) -> Bool {
        epoch > self.epoch || (epoch == self.epoch && author < spaces.node(authoredBy))
    }

    /// Adopts a version already known to win.
    mutating func adoptVersion(epoch: UInt64, author: UInt32) {
        self.epoch = epoch
        authoredBy = author
    }

    enum SlotWrite { case unchanged, replaced, added }

    /// Sets `node`'s slot to `slot`, keeping the slots ordered by node.
    mutating func setSlot(_ slot: PackedSlot, of node: NodeID, in spaces: ActorSpaces) -> SlotWrite {
        if let index = slotIndex(of: node, in: spaces) {
            // A periodic sync re-sends unchanged slots: answer without building the slot list.
            if (index == 0 ? first : others[index - 1]) == slot { return .unchanged }
            var all = slots
            all[index] = slot
            setSlots(all)
            return .replaced
        }
        var all = slots
        let index = all.firstIndex { node < spaces.node($0.space) } ?? all.endIndex
        all.insert(slot, at: index)
        setSlots(all)
        return .added
    }

    /// Restores the order by node after nodes were renamed (only rows with several slots can be
    /// out of order).
    mutating func sortSlots(in spaces: ActorSpaces) {
        guard !others.isEmpty else { return }
        setSlots(slots.sorted { spaces.node($0.space) < spaces.node($1.space) })
    }

    /// Removes slot `index` of a row with more than one.
    mutating func removeSlot(at index: Int) {
        var all = slots
        all.remove(at: index)
        setSlots(all)
    }

    private mutating func setSlots(_ slots: [PackedSlot]) {
        firstSerial = slots[0].serial
        firstSpace = slots[0].space
        others = Array(slots.dropFirst())
    }
}
