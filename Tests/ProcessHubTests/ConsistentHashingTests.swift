import ClusterNode
import Testing

@testable import ProcessHub

/// A node on 127.0.0.1 named `n<port - 7000>`.
private func node(_ number: Int, incarnation: UInt64 = 1) -> NodeID {
    NodeID(name: "n\(number)", host: "127.0.0.1", port: 7000 + number, incarnation: incarnation)
}

private let threeNodes = [node(1), node(2), node(3)]

private func ids(_ count: Int, prefix: String = "child-") -> [ChildID] {
    (0..<count).map { "\(prefix)\($0)" }
}

/// Each child's primary node.
private func primaries(_ placement: [ChildID: [NodeID]]) -> [ChildID: NodeID] {
    placement.compactMapValues(\.first)
}

@Suite("Stable hash")
struct ConsistentHashingStableHashTests {
    /// Values of the reference C library's `XXH64(input, length, seed)` (libxxhash 0.8.1); the
    /// inputs cover every tail path (32-byte stripes, 8-, 4- and 1-byte remainders).
    @Test func matchesTheReferenceXXH64() {
        #expect(StableHash.xxHash64("") == 0xEF46_DB37_51D8_E999)
        #expect(StableHash.xxHash64("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(StableHash.xxHash64("abc") == 0x44BC_2CF5_AD77_0999)
        #expect(StableHash.xxHash64("abc", seed: 1) == 0xBEA9_CA81_9932_8908)
        #expect(StableHash.xxHash64("child-42") == 0x108D_CD8E_096A_741C)
        #expect(StableHash.xxHash64("The quick brown fox jumps over the lazy dog") == 0x0B24_2D36_1FDA_71BC)
        #expect(StableHash.xxHash64("0123456789abcdefghijklmnopqrstuvwxyz0123456789") == 0x4AE5_684C_D402_FBB4)
        #expect(StableHash.xxHash64(String(repeating: "x", count: 100)) == 0x92F0_DE5A_88A3_C094)
        #expect(StableHash.xxHash64("héllo-😀") == 0x2B3E_4983_CC48_0F16)
    }

    @Test func theStringAndByteFormsAgree() {
        let text = "The quick brown fox jumps over the lazy dog"
        #expect(StableHash.xxHash64(Array(text.utf8)) == StableHash.xxHash64(text))
        // A bridged or substring-backed string must hash its UTF-8 bytes just the same.
        let sliced = String(("--" + text).dropFirst(2))
        #expect(StableHash.xxHash64(sliced) == StableHash.xxHash64(text))
    }
}

@Suite("Consistent hashing")
struct ConsistentHashingTests {
    /// Pinned placements (cross-checked against an independent implementation over libxxhash):
    /// any change of hash, encoding, vnode count or walk changes where children run and must fail.
    @Test func pinnedPlacementsForAFixedNodeSet() {
        let expected: [ChildID: [String]] = [
            "child-1": ["n2", "n1", "n3"], "child-2": ["n1", "n3", "n2"], "child-3": ["n1", "n2", "n3"],
            "alpha": ["n3", "n1", "n2"], "beta": ["n3", "n2", "n1"], "gamma": ["n2", "n3", "n1"],
            "delta": ["n2", "n1", "n3"],
        ]
        let placement = ConsistentHashing().belongsTo(Array(expected.keys), replicationFactor: 3, nodes: threeNodes)
        #expect(placement.mapValues { $0.map(\.name) } == expected)
        #expect(ConsistentHashing().signature(of: threeNodes) == 0xC9C4_0E5D_F8AB_BB78)
    }

    @Test func separateInstancesAgreeWhateverTheNodeOrder() {
        let children = ids(2_000)
        let first = ConsistentHashing().belongsTo(children, replicationFactor: 2, nodes: threeNodes)
        let shuffled = [node(3), node(1), node(2), node(1)]  // other order, with a duplicate
        let second = ConsistentHashing().belongsTo(children, replicationFactor: 2, nodes: shuffled)
        #expect(first == second)
        #expect(first.count == children.count)
    }

    @Test func aCachedRingIsNotReusedForAnotherNodeSet() {
        let strategy = ConsistentHashing()
        let children = ids(500)
        let before = strategy.belongsTo(children, replicationFactor: 1, nodes: threeNodes)
        let two = strategy.belongsTo(children, replicationFactor: 1, nodes: [node(1), node(2)])
        #expect(Set(two.values.flatMap(\.self)) == [node(1), node(2)])
        #expect(strategy.belongsTo(children, replicationFactor: 1, nodes: threeNodes) == before)
        #expect(ConsistentHashing().belongsTo(children, replicationFactor: 1, nodes: [node(1), node(2)]) == two)
    }

    @Test func primariesAreBalanced() {
        let placement = ConsistentHashing().belongsTo(ids(30_000), replicationFactor: 1, nodes: threeNodes)
        var counts: [NodeID: Int] = [:]
        for nodes in placement.values { counts[nodes[0], default: 0] += 1 }
        #expect(counts.count == 3)
        for (node, count) in counts {
            #expect((8_500...11_500).contains(count), "\(node) is primary of \(count) of 30 000")
        }
    }

    @Test(arguments: [1, 2, 3, 5])
    func replicasAreDistinctAndPrimaryFirst(replicationFactor: Int) {
        let children = ids(1_000)
        let strategy = ConsistentHashing()
        let placement = strategy.belongsTo(children, replicationFactor: replicationFactor, nodes: threeNodes)
        let single = strategy.belongsTo(children, replicationFactor: 1, nodes: threeNodes)
        for id in children {
            let nodes = placement[id] ?? []
            #expect(nodes.count == min(replicationFactor, 3))
            #expect(Set(nodes).count == nodes.count)
            #expect(Set(nodes).isSubset(of: threeNodes))
            #expect(nodes.first == single[id]?.first)
        }
    }

    @Test func replicasOfAFactorArePrefixesOfLargerFactors() {
        let nodes = (1...6).map { node($0) }
        let children = ids(500)
        let two = ConsistentHashing().belongsTo(children, replicationFactor: 2, nodes: nodes)
        let four = ConsistentHashing().belongsTo(children, replicationFactor: 4, nodes: nodes)
        for id in children { #expect(four[id].map { Array($0.prefix(2)) } == two[id]) }
    }

    @Test func aJoiningNodeTakesAQuarterOnlyFromTheOthers() throws {
        let children = ids(10_000)
        let before = primaries(ConsistentHashing().belongsTo(children, replicationFactor: 1, nodes: threeNodes))
        let after = primaries(
            ConsistentHashing().belongsTo(children, replicationFactor: 1, nodes: threeNodes + [node(4)]))
        var moved = 0
        for id in children where before[id] != after[id] {
            moved += 1
            #expect(after[id] == node(4), "\(id) moved between two old nodes")
        }
        let share = Double(moved) / Double(children.count)
        #expect((0.15...0.35).contains(share), "\(share) of the children moved")
    }

    @Test func aLeavingNodeHandsOnOnlyItsOwnChildren() {
        let children = ids(10_000)
        let four = threeNodes + [node(4)]
        let before = primaries(ConsistentHashing().belongsTo(children, replicationFactor: 1, nodes: four))
        let after = primaries(ConsistentHashing().belongsTo(children, replicationFactor: 1, nodes: threeNodes))
        var handedOn = 0
        for id in children {
            if before[id] == node(4) {
                handedOn += 1
                #expect(after[id] != node(4))
            } else {
                #expect(after[id] == before[id], "\(id) moved though its node stayed")
            }
        }
        #expect(handedOn > 0)
    }

    @Test func aRestartedNodeTakesBackItsChildren() {
        let children = ids(2_000)
        let before = ConsistentHashing().belongsTo(children, replicationFactor: 2, nodes: threeNodes)
        let restarted = [node(1), node(2, incarnation: 99), node(3)]
        let after = ConsistentHashing().belongsTo(children, replicationFactor: 2, nodes: restarted)
        let rename = { (node: NodeID) in node.port == 7002 ? restarted[1] : node }
        #expect(after == before.mapValues { $0.map(rename) })
    }

    @Test func twoIncarnationsOfOneEndpointCountOnceWhateverTheOrder() {
        let children = ids(300)
        let old = node(2, incarnation: 5)
        let new = node(2, incarnation: 9)
        let a = ConsistentHashing().belongsTo(children, replicationFactor: 3, nodes: [node(1), old, new, node(3)])
        let b = ConsistentHashing().belongsTo(children, replicationFactor: 3, nodes: [new, node(3), old, node(1)])
        #expect(a == b)
        #expect(a.values.allSatisfy { $0.count == 3 && $0.contains(new) && !$0.contains(old) })
    }

    @Test func theSignatureTracksTheSetOfEndpoints() {
        let strategy = ConsistentHashing()
        let signature = strategy.signature(of: threeNodes)
        #expect(ConsistentHashing().signature(of: [node(3), node(2), node(1), node(2)]) == signature)
        #expect(strategy.signature(of: [node(1), node(2, incarnation: 42), node(3)]) == signature)
        #expect(strategy.signature(of: [node(1), node(2)]) != signature)
        #expect(strategy.signature(of: threeNodes + [node(4)]) != signature)
        #expect(strategy.signature(of: [node(1), node(2), node(4)]) != signature)
        #expect(strategy.signature(of: []) != signature)
        #expect(strategy.isDeterministic)
    }

    @Test func noNodesPlaceNothingAndNoIDsGiveAnEmptyMap() {
        let strategy = ConsistentHashing()
        #expect(strategy.belongsTo(["a", "b"], replicationFactor: 1, nodes: []) == ["a": [], "b": []])
        #expect(strategy.belongsTo(["a"], replicationFactor: 0, nodes: threeNodes) == ["a": []])
        #expect(strategy.belongsTo([], replicationFactor: 1, nodes: threeNodes).isEmpty)
        #expect(strategy.belongsTo([], replicationFactor: 1, nodes: []).isEmpty)
        #expect(strategy.nodes(for: "a", replicationFactor: 2, nodes: []) == [])
    }

    @Test func theSingleChildFormAgreesWithTheBatch() {
        let strategy = ConsistentHashing()
        let batch = strategy.belongsTo(ids(50), replicationFactor: 2, nodes: threeNodes)
        for (id, nodes) in batch {
            #expect(strategy.nodes(for: id, replicationFactor: 2, nodes: threeNodes) == nodes)
        }
    }
}
