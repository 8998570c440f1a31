import ClusterNode
import Synchronization

/// The default distribution strategy: places children on a hash ring of the hub's nodes.
///
/// Each node owns ``virtualNodesPerNode`` points ("virtual nodes") of a 64-bit ring. A child's
/// primary is the owner of the first point at or after the hash of its id, going clockwise; its
/// replicas are the next distinct owners further round the ring. Because each node's points depend
/// only on that node, a node joining takes over about `1 / (n + 1)` of the children, all of them
/// from the others, and a node leaving hands only its own children on; no child moves between two
/// nodes that both stayed.
///
/// Every node computes the same placement from the same node set, in any order, in any process:
/// all hashing is ``StableHash`` (XXH64, seed 0) over fixed byte encodings.
///
/// - A node's ring identity is ``ringIdentity(of:)``, `name@host:port`, **without** the incarnation,
///   so a node restarted on the same endpoint takes back exactly the points it had.
/// - Virtual node `i` (0…255) of a node hashes the bytes of `i` as a big-endian `UInt32` followed by
///   the UTF-8 of the ring identity. The fixed-width prefix makes the encoding injective: no two
///   `(i, identity)` pairs share bytes.
/// - A child hashes the UTF-8 bytes of its id.
/// - Points are ordered by hash; equal hashes (vanishingly rare) by the owners' canonical order
///   (ring identity, then name, both compared as UTF-8 bytes).
/// - Duplicate nodes in the input count once. Two incarnations of one endpoint in one list are one
///   ring member (they would own the same points), represented by the one with the greatest
///   incarnation. The hub never passes both; this rule only keeps the answer independent of order.
///
/// This follows ProcessHub's `ConsistentHashing` (sile/hash_ring: 256 virtual nodes, clockwise
/// walk skipping collected nodes) with a 64-bit stable hash instead of MD5 over Erlang terms, so
/// placements differ from a BEAM cluster's but agree among Swift nodes.
///
/// The struct is a cheap `Sendable` value. It keeps the rings of the last two node sets it saw
/// (the current one and, during a join or leave, the previous one) in a shared cache, so placing
/// batch after batch for one node set builds the ring once. Separately created instances give
/// identical answers; they just do not share a cache.
public struct ConsistentHashing: DistributionStrategy {
    /// How many points each node owns on the ring (ProcessHub's default).
    public static let virtualNodesPerNode = 256

    private let cache = RingCache()

    /// Creates the strategy. It has no options.
    public init() {}

    /// Always `true`: placement depends only on the node set.
    public var isDeterministic: Bool { true }

    /// The ordered nodes each child must run on: its primary, then `replicationFactor - 1` replicas
    /// in ring order. With fewer nodes than `replicationFactor`, every node; with no nodes or a
    /// factor below 1, none.
    public func belongsTo(_ childIDs: [ChildID], replicationFactor: Int, nodes: [NodeID]) -> [ChildID: [NodeID]] {
        if childIDs.isEmpty { return [:] }
        return cache.ring(for: nodes).place(childIDs, replicationFactor: replicationFactor)
    }

    /// The XXH64 of the sorted ring identities (each length-prefixed): the same for the same set of
    /// endpoints in any order, whatever their incarnations.
    public func signature(of nodes: [NodeID]) -> UInt64 {
        cache.ring(for: nodes).signature
    }

    /// The string a node's ring points are derived from: `name@host:port`, without the incarnation.
    public static func ringIdentity(of node: NodeID) -> String {
        "\(node.name)@\(node.host):\(node.port)"
    }
}

/// One node on the ring, with the byte strings that order it.
private struct RingMember {
    let node: NodeID
    let identity: [UInt8]
    let name: [UInt8]

    init(_ node: NodeID) {
        self.node = node
        self.identity = Array(ConsistentHashing.ringIdentity(of: node).utf8)
        self.name = Array(node.name.utf8)
    }

    /// Same ring identity and name: the same endpoint. (The name disambiguates the rare identity
    /// strings that two endpoints could share when a name contains `@`.)
    func sameMember(as other: RingMember) -> Bool {
        identity == other.identity && name == other.name
    }

    /// Canonical order: identity then name as raw UTF-8 (never `String`'s Unicode-aware `<`, which
    /// treats canonically equivalent spellings as equal), then the greatest incarnation first.
    static func precedes(_ a: RingMember, _ b: RingMember) -> Bool {
        if a.identity != b.identity { return a.identity.lexicographicallyPrecedes(b.identity) }
        if a.name != b.name { return a.name.lexicographicallyPrecedes(b.name) }
        return a.node.incarnation > b.node.incarnation
    }

    /// The input's distinct endpoints in canonical order; of several incarnations of one endpoint,
    /// the greatest (first after sorting) stays.
    static func canonical(_ nodes: [NodeID]) -> [RingMember] {
        let sorted = nodes.map(RingMember.init).sorted(by: precedes)
        var members: [RingMember] = []
        members.reserveCapacity(sorted.count)
        for member in sorted where !(members.last?.sameMember(as: member) ?? false) {
            members.append(member)
        }
        return members
    }
}

/// An immutable hash ring for one node set.
struct HashRing: Sendable {
    /// The distinct ring members in canonical order.
    let members: [NodeID]
    /// Every virtual node's hash, ascending.
    let points: [UInt64]
    /// The index in ``members`` of the owner of each point.
    let owners: [Int32]
    /// ``ConsistentHashing/signature(of:)`` for this node set.
    let signature: UInt64

    /// Builds the ring of `canonical`, the output of `RingMember.canonical(_:)`.
    fileprivate init(_ canonical: [RingMember]) {
        members = canonical.map(\.node)
        signature = Self.signature(of: canonical)
        (points, owners) = Self.points(of: canonical)
    }

    /// Hashes every virtual node of every member and sorts them round the ring.
    private static func points(of members: [RingMember]) -> ([UInt64], [Int32]) {
        let perNode = ConsistentHashing.virtualNodesPerNode
        var entries: [(hash: UInt64, owner: Int32)] = []
        entries.reserveCapacity(members.count * perNode)
        for (owner, member) in members.enumerated() {
            var bytes = [UInt8](repeating: 0, count: 4) + member.identity
            for vnode in 0..<perNode {
                withUnsafeBytes(of: UInt32(vnode).bigEndian) { bytes.replaceSubrange(0..<4, with: $0) }
                entries.append((StableHash.xxHash64(bytes), Int32(owner)))
            }
        }
        entries.sort { ($0.hash, $0.owner) < ($1.hash, $1.owner) }
        return (entries.map(\.hash), entries.map(\.owner))
    }

    /// XXH64 over each identity prefixed by its length, so that the concatenation is unambiguous.
    private static func signature(of members: [RingMember]) -> UInt64 {
        var bytes: [UInt8] = []
        for member in members {
            withUnsafeBytes(of: UInt64(member.identity.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: member.identity)
        }
        return StableHash.xxHash64(bytes)
    }

    /// Places a batch. Every child whose hash lands in the same arc between two points gets the
    /// same node list, so a large batch computes each list once per point and shares it (one
    /// array per point rather than per child, which also saves memory in the registry).
    func place(_ childIDs: [ChildID], replicationFactor: Int) -> [ChildID: [NodeID]] {
        let count = max(0, min(replicationFactor, members.count))
        var result = [ChildID: [NodeID]](minimumCapacity: childIDs.count)
        guard count > 0 else {
            for id in childIDs { result[id] = [] }
            return result
        }
        // The table is as large as the ring: not worth allocating for a handful of children.
        let memoize = childIDs.count >= points.count / 4
        var memo = [[NodeID]?](repeating: nil, count: memoize ? points.count : 0)
        points.withUnsafeBufferPointer { points in
            for id in childIDs {
                let start = Self.firstPoint(atOrAfter: StableHash.xxHash64(id), in: points)
                if !memoize {
                    result[id] = walk(from: start, count: count)
                } else if let nodes = memo[start] {
                    result[id] = nodes
                } else {
                    let nodes = walk(from: start, count: count)
                    memo[start] = nodes
                    result[id] = nodes
                }
            }
        }
        return result
    }

    /// Binary search for the first point whose hash is ≥ `hash`, wrapping to 0 past the last.
    private static func firstPoint(atOrAfter hash: UInt64, in points: UnsafeBufferPointer<UInt64>) -> Int {
        var low = 0
        var high = points.count
        while low < high {
            let mid = (low + high) / 2
            if points[mid] < hash { low = mid + 1 } else { high = mid }
        }
        return low == points.count ? 0 : low
    }

    /// Walks clockwise from `start`, collecting owners not yet collected, until `count` distinct
    /// nodes are found. Terminates because `count ≤ members.count` and every member owns points.
    private func walk(from start: Int, count: Int) -> [NodeID] {
        var picked: [Int32] = []
        picked.reserveCapacity(count)
        var index = start
        while picked.count < count {
            let owner = owners[index]
            if !picked.contains(owner) { picked.append(owner) }
            index = index + 1 == owners.count ? 0 : index + 1
        }
        return picked.map { members[Int($0)] }
    }
}

/// The rings of the most recently used node sets, keyed by the node list exactly as passed.
///
/// Two entries cover the common pattern of comparing placements before and after a topology
/// change. A list that differs from a cached key only in order or duplicates still reuses that
/// ring (the canonical members are compared before building).
final class RingCache: Sendable {
    private struct Entry {
        var key: [NodeID]
        var ring: HashRing
    }

    private static let capacity = 2
    private let entries = Mutex<[Entry]>([])

    /// The ring for `nodes`, built at most once per distinct node set while it stays cached.
    func ring(for nodes: [NodeID]) -> HashRing {
        if let ring = lookup({ $0.key == nodes }, key: nodes) { return ring }
        let canonical = RingMember.canonical(nodes)
        let members = canonical.map(\.node)
        if let ring = lookup({ $0.ring.members == members }, key: nodes) { return ring }
        // Built outside the lock: two threads may both build the same ring; both results are equal.
        let ring = HashRing(canonical)
        insert(Entry(key: nodes, ring: ring))
        return ring
    }

    /// Finds a matching entry, stores it as the most recent one under `key`, and returns its ring.
    private func lookup(_ matches: (Entry) -> Bool, key: [NodeID]) -> HashRing? {
        entries.withLock { entries in
            guard let index = entries.firstIndex(where: matches) else { return nil }
            var entry = entries.remove(at: index)
            entry.key = key
            entries.insert(entry, at: 0)
            return entry.ring
        }
    }

    private func insert(_ entry: Entry) {
        entries.withLock { entries in
            entries.insert(entry, at: 0)
            if entries.count > Self.capacity { entries.removeLast() }
        }
    }
}
