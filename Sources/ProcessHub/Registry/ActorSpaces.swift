import ClusterNode

/// One registry slot's actor id, packed: the index of its "space" (the actor id without its serial:
/// node and well-known name) in ``ActorSpaces`` and the serial.
///
/// Every node keeps a slot per child; a full ``ActorID`` is 72 bytes with three strings, while the
/// few nodes of a cluster are shared by all of them. Packing keeps a slot at 12 bytes, with no
/// reference to retain when it is copied.
struct PackedSlot: Sendable, Hashable {
    var space: UInt32
    var serial: UInt64
}

/// Interns the actor-id spaces (node and well-known name) that registry slots refer to.
///
/// There are at most 2^24 spaces. Spaces are never removed: a cluster sees one per node incarnation, a few bytes each, and
/// keeping them makes every index stable for as long as the registry lives.
struct ActorSpaces: Sendable {
    /// Each space as an actor id with serial 0.
    private var spaces: [ActorID] = []
    private var indices: [ActorID: UInt32] = [:]

    /// The packed form of `actorID`, interning its space if new.
    mutating func pack(_ actorID: ActorID) -> PackedSlot {
        var space = actorID
        space.serial = 0
        return PackedSlot(space: intern(space), serial: actorID.serial)
    }

    /// The space index standing for `node` itself (a row's author).
    mutating func index(of node: NodeID) -> UInt32 {
        intern(ActorID(node: node, serial: 0))
    }

    /// The space index of `node`, or `nil` when no slot or author ever named it.
    func existingIndex(of node: NodeID) -> UInt32? {
        indices[ActorID(node: node, serial: 0)]
    }

    /// Makes every space of `old` a space of `new`, in place: every slot and author that named
    /// `old` names `new` from now on, without touching a single row. `new` must not be in use.
    mutating func rename(_ old: NodeID, to new: NodeID) {
        for index in spaces.indices where spaces[index].node == old {
            indices[spaces[index]] = nil
            spaces[index].node = new
            indices[spaces[index]] = UInt32(index)
        }
    }

    /// The actor id `slot` stands for.
    func actorID(_ slot: PackedSlot) -> ActorID {
        var id = spaces[Int(slot.space)]
        id.serial = slot.serial
        return id
    }

    /// The node of space `index`.
    func node(_ index: UInt32) -> NodeID {
        spaces[Int(index)].node
    }

    private mutating func intern(_ space: ActorID) -> UInt32 {
        if let index = indices[space] { return index }
        // ``RowTable`` stores a space index in 24 bits: room for 16 million node incarnations.
        precondition(spaces.count < 1 << 24, "too many actor spaces")
        let index = UInt32(spaces.count)
        spaces.append(space)
        indices[space] = index
        return index
    }
}
