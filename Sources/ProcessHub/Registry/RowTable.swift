/// The registry's rows, keyed by child id: a dense array of rows plus an open-addressing index
/// (linear probing) of 8-byte buckets.
///
/// Why not `[ChildID: RegistryRow]`: reading a field of a dictionary value copies the whole value
/// (and retains everything in it), which made a lookup cost hundreds of nanoseconds; the dictionary
/// also stores each key beside the spec that already holds it, and leaves a quarter or more of its
/// large buckets empty. Here a lookup probes small buckets, then reads the one field it needs in
/// place, and an empty bucket costs 8 bytes.
///
/// A bucket holds the key's 32-bit hash (compared before any string) and the row's index + 1
/// (0 marks an empty bucket). Removal swaps the last row into the hole and shifts the probe chain
/// back, so there are no tombstones and lookups never slow down after churn.
struct RowTable: Sendable {
    /// The rows, in no particular order; a row's key is its `spec.id`.
    private(set) var rows: [RegistryRow] = []
    private var buckets: [UInt64] = []

    /// The number of rows.
    var count: Int { rows.count }

    /// The index of `id`'s row, or `nil`.
    func index(of id: ChildID) -> Int? {
        guard !buckets.isEmpty else { return nil }
        let hash = Self.hash(id)
        let mask = buckets.count - 1
        var position = Int(hash) & mask
        while true {
            let bucket = buckets[position]
            if bucket == 0 { return nil }
            if UInt32(truncatingIfNeeded: bucket >> 32) == hash {
                let index = Int(truncatingIfNeeded: bucket & 0xFFFF_FFFF) - 1
                if rows[index].spec.id == id { return index }
            }
            position = (position + 1) & mask
        }
    }

    /// Appends a row whose id is not in the table yet; returns its index.
    @discardableResult
    mutating func insert(_ row: RegistryRow) -> Int {
        reserveCapacity(rows.count + 1)
        rows.append(row)
        place(Self.hash(row.spec.id), index: rows.count - 1)
        return rows.count - 1
    }

    /// Runs `body` on row `index` in place. `body` must not change the row's id.
    mutating func modify<R>(_ index: Int, _ body: (inout RegistryRow) -> R) -> R {
        body(&rows[index])
    }

    /// Removes row `index`; the last row takes its index.
    mutating func remove(at index: Int) {
        removeBucket(at: position(of: index))
        let last = rows.count - 1
        if index != last {
            let moved = position(of: last)
            buckets[moved] = (buckets[moved] & ~0xFFFF_FFFF) | UInt64(index + 1)
            rows.swapAt(index, last)
        }
        rows.removeLast()
    }

    /// Makes room for `count` rows without growing step by step.
    mutating func reserveCapacity(_ count: Int) {
        if count > rows.capacity { rows.reserveCapacity(count) }
        guard count * 4 > buckets.count * 3 else { return }
        var size = max(16, buckets.count)
        while count * 4 > size * 3 { size *= 2 }
        buckets = Array(repeating: 0, count: size)
        for (index, row) in rows.enumerated() { place(Self.hash(row.spec.id), index: index) }
    }

    /// The per-process seeded hash (flooding a node with colliding ids needs the seed), truncated:
    /// the low bits pick the bucket, all 32 are compared before a key.
    private static func hash(_ id: ChildID) -> UInt32 {
        UInt32(truncatingIfNeeded: id.hashValue)
    }

    private mutating func place(_ hash: UInt32, index: Int) {
        let mask = buckets.count - 1
        var position = Int(hash) & mask
        while buckets[position] != 0 { position = (position + 1) & mask }
        buckets[position] = UInt64(hash) << 32 | UInt64(index + 1)
    }

    /// The bucket that points at row `index`.
    private func position(of index: Int) -> Int {
        let mask = buckets.count - 1
        var position = Int(Self.hash(rows[index].spec.id)) & mask
        while buckets[position] & 0xFFFF_FFFF != UInt64(index + 1) { position = (position + 1) & mask }
        return position
    }

    /// Empties bucket `hole` and moves later buckets of the same probe chain back into it, so every
    /// key stays reachable from its home bucket without tombstones.
    private mutating func removeBucket(at hole: Int) {
        let mask = buckets.count - 1
        var hole = hole
        var next = (hole + 1) & mask
        while buckets[next] != 0 {
            let home = Int(truncatingIfNeeded: buckets[next] >> 32) & mask
            // The entry may move back unless its home lies cyclically in (hole, next].
            let distanceToNext = (next - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToNext {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = 0
    }
}
