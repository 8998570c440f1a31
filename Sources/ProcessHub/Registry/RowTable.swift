/// The registry's rows, keyed by child id: a dense array of rows plus an open-addressing index
/// (linear probing) whose 32-byte buckets also hold each child's first slot.
///
/// Why not `[ChildID: RegistryRow]`: reading a field of a dictionary value copies the whole value
/// (and retains everything in it), which made a lookup cost hundreds of nanoseconds. Here
/// ``firstSlot(of:)`` (what `actorID(of:)` needs) touches one bucket: the key, an 8-bit hash tag
/// that skips most string comparisons in a probe chain, and the first slot, all in one cache line.
///
/// Removal swaps the last row into the hole and shifts the probe chain back, so there are no
/// tombstones and lookups never slow down after churn.
struct RowTable: Sendable {
    /// The rows, in no particular order; a row's key is its `spec.id`.
    private(set) var rows: [RegistryRow] = []
    private var buckets: [Bucket] = []

    /// One index entry. `row` is the row's index + 1; 0 marks an empty bucket.
    private struct Bucket: Sendable {
        var id: ChildID = ""
        var serial: UInt64 = 0
        /// The first slot's space (24 bits, see ``ActorSpaces``) above the hash tag (8 bits).
        var spaceAndTag: UInt32 = 0
        var row: UInt32 = 0

        var slot: PackedSlot { PackedSlot(space: spaceAndTag >> 8, serial: serial) }

        mutating func setSlot(_ slot: PackedSlot) {
            serial = slot.serial
            spaceAndTag = slot.space << 8 | spaceAndTag & 0xFF
        }
    }

    /// The number of rows.
    var count: Int { rows.count }

    /// The index of `id`'s row, or `nil`.
    func index(of id: ChildID) -> Int? {
        position(of: id).map { Int(buckets[$0].row) - 1 }
    }

    /// The first slot of `id`'s row, read from the index alone.
    func firstSlot(of id: ChildID) -> PackedSlot? {
        position(of: id).map { buckets[$0].slot }
    }

    /// Appends a row whose id is not in the table yet; returns its index.
    @discardableResult
    mutating func insert(_ row: RegistryRow) -> Int {
        // `append` grows the rows geometrically; only the index needs room made here.
        growIndex(toFit: rows.count + 1)
        rows.append(row)
        place(row: rows.count - 1)
        return rows.count - 1
    }

    /// Runs `body` on row `index` in place, keeping the index's copy of the first slot current.
    /// `body` must not change the row's id.
    mutating func modify<R>(_ index: Int, _ body: (inout RegistryRow) -> R) -> R {
        let before = rows[index].first
        let result = body(&rows[index])
        let after = rows[index].first
        if after != before { buckets[position(ofRow: index)].setSlot(after) }
        return result
    }

    /// Removes row `index`; the last row takes its index.
    mutating func remove(at index: Int) {
        removeBucket(at: position(ofRow: index))
        let last = rows.count - 1
        if index != last {
            buckets[position(ofRow: last)].row = UInt32(index + 1)
            rows.swapAt(index, last)
        }
        rows.removeLast()
    }

    /// Makes room for `count` rows without growing step by step.
    ///
    /// The rows grow by at least half their capacity: `Array.reserveCapacity` allocates exactly
    /// what it is asked for, and the registry reserves once per incoming message, so an exact
    /// reserve would move the whole table for every few thousand registrations, making each
    /// start cost proportional to the registry's size (W8).
    mutating func reserveCapacity(_ count: Int) {
        if count > rows.capacity { rows.reserveCapacity(Swift.max(count, rows.capacity + rows.capacity / 2)) }
        growIndex(toFit: count)
    }

    /// Doubles the index until `count` rows keep it at most three quarters full, re-placing
    /// every row (amortised: the size only ever doubles).
    private mutating func growIndex(toFit count: Int) {
        guard count * 4 > buckets.count * 3 else { return }
        var size = max(16, buckets.count)
        while count * 4 > size * 3 { size *= 2 }
        buckets = Array(repeating: Bucket(), count: size)
        for index in rows.indices { place(row: index) }
    }

    // MARK: Probing

    /// A keyed hash of the id's UTF-8 bytes: its low bits pick the home bucket, its top byte is
    /// the tag. The key is random per process, so flooding a node with colliding ids would need
    /// it; the function is a multiply-fold over 8-byte words, several times cheaper than
    /// `Hasher` for the short ids lookups see (``ChildIDHash``).
    private static func hash(_ id: ChildID) -> (home: Int, tag: UInt32) {
        let hash = ChildIDHash.hash(id)
        return (Int(truncatingIfNeeded: hash), UInt32(truncatingIfNeeded: hash >> 56))
    }

    private func position(of id: ChildID) -> Int? {
        guard !buckets.isEmpty else { return nil }
        let (home, tag) = Self.hash(id)
        let mask = buckets.count - 1
        var position = home & mask
        while buckets[position].row != 0 {
            if buckets[position].spaceAndTag & 0xFF == tag && buckets[position].id == id { return position }
            position = (position + 1) & mask
        }
        return nil
    }

    /// The bucket that points at row `index`.
    private func position(ofRow index: Int) -> Int {
        let mask = buckets.count - 1
        var position = Self.hash(rows[index].spec.id).home & mask
        while buckets[position].row != UInt32(index + 1) { position = (position + 1) & mask }
        return position
    }

    private mutating func place(row index: Int) {
        let id = rows[index].spec.id
        let (home, tag) = Self.hash(id)
        let mask = buckets.count - 1
        var position = home & mask
        while buckets[position].row != 0 { position = (position + 1) & mask }
        buckets[position] = Bucket(id: id, spaceAndTag: tag, row: UInt32(index + 1))
        buckets[position].setSlot(rows[index].first)
    }

    /// Empties bucket `hole` and moves later buckets of the same probe chain back into it, so every
    /// key stays reachable from its home bucket without tombstones.
    private mutating func removeBucket(at hole: Int) {
        let mask = buckets.count - 1
        var hole = hole
        var next = (hole + 1) & mask
        while buckets[next].row != 0 {
            let home = Self.hash(buckets[next].id).home & mask
            // The entry may move back unless its home lies cyclically in (hole, next].
            if (hole - home) & mask < (next - home) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = Bucket()
    }
}
