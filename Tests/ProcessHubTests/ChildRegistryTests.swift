import ClusterNode
import Testing

@testable import ProcessHub

/// Builders for registry fixtures: nodes on loopback, entries with small serials.
private enum RegistryFixture {
    static let a = node("a", port: 7001)
    static let b = node("b", port: 7002)
    static let c = node("c", port: 7003)

    static func node(_ name: String, port: Int, incarnation: UInt64 = 1) -> NodeID {
        NodeID(name: name, host: "127.0.0.1", port: port, incarnation: incarnation)
    }

    static func spec(_ id: ChildID, kind: HubKind = "worker") -> ChildSpec {
        ChildSpec(id: id, kind: kind, encodedArguments: [])
    }

    static func entry(
        _ id: ChildID, on node: NodeID, serial: UInt64 = 100, epoch: UInt64 = 1, authoredBy: NodeID? = nil,
        metadata: ChildMetadata = [:], kind: HubKind = "worker"
    ) -> RegistryEntry {
        RegistryEntry(
            spec: spec(id, kind: kind), metadata: metadata, epoch: epoch, authoredBy: authoredBy ?? node,
            actorID: ActorID(node: node, serial: serial))
    }

    static func location(_ node: NodeID, serial: UInt64 = 100) -> ChildLocation {
        ChildLocation(node: node, actorID: ActorID(node: node, serial: serial))
    }
}

@Suite("ChildRegistry")
struct ChildRegistryTests {
    private typealias F = RegistryFixture

    // MARK: Registration and lookup

    @Test func registeredChildIsFoundWithItsLocationsOrderedByNode() {
        let registry = ChildRegistry(localNode: F.a)
        let changes = registry.register([
            F.entry("c1", on: F.c, serial: 3), F.entry("c1", on: F.a, serial: 1), F.entry("c1", on: F.b, serial: 2),
        ])
        #expect(changes.count == 3)
        let info = registry.child("c1")
        #expect(info?.spec == F.spec("c1"))
        #expect(
            info?.locations == [F.location(F.a, serial: 1), F.location(F.b, serial: 2), F.location(F.c, serial: 3)])
        #expect(registry.actorIDs(of: "c1").map(\.serial) == [1, 2, 3])
        #expect(registry.actorID(of: "c1")?.serial == 1)
        #expect(registry.actorID(of: "nope") == nil)
        #expect(registry.contains("c1"))
        #expect(!registry.contains("nope"))
        #expect(registry.child("nope") == nil)
        #expect(registry.actorIDs(of: "nope").isEmpty)
        #expect(registry.count == 1)
    }

    @Test func identicalReRegistrationIsNotAChange() {
        let registry = ChildRegistry(localNode: F.a)
        let entry = F.entry("c1", on: F.a)
        #expect(registry.register([entry]) == [.registered("c1", F.location(F.a))])
        #expect(registry.register([entry]).isEmpty)
        let moved = F.entry("c1", on: F.a, serial: 101)
        #expect(registry.register([moved]) == [.registered("c1", F.location(F.a, serial: 101))])
    }

    // MARK: Per-node ownership

    @Test func aNodesHostedIDsAndEntriesListExactlyItsSlots() {
        // A write chunk of 2, so that the chunked checks cross several lock holds.
        let registry = ChildRegistry(localNode: F.a, writeChunk: 2)
        registry.register(["c3", "c1", "c5"].map { F.entry($0, on: F.a) } + ["c2", "c1"].map { F.entry($0, on: F.b) })
        #expect(Set(registry.unorderedIDs(hostedOn: F.a)) == ["c1", "c3", "c5"])
        #expect(registry.ids(hostedOn: F.a) == ["c1", "c3", "c5"])
        #expect(registry.unorderedIDs(hostedOn: F.c).isEmpty)
        #expect(registry.hosted(["c1", "c2", "c3", "c4", "c5"], on: F.b) == ["c1", "c2"])
        #expect(registry.hosted(["c5", "c2", "c1"], on: F.a) == ["c5", "c1"])
        #expect(registry.entries(ownedBy: F.a).map(\.childID) == ["c1", "c3", "c5"])
        #expect(registry.entries(ownedBy: F.b).allSatisfy { $0.actorID.node == F.b })
    }

    @Test func eachNodesSlotOfAReplicatedChildIsItsOwn() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([F.entry("r", on: F.a, serial: 1)])
        registry.register([F.entry("r", on: F.b, serial: 2)])
        #expect(registry.child("r")?.locations == [F.location(F.a, serial: 1), F.location(F.b, serial: 2)])

        // b's new observation replaces only b's slot.
        let changes = registry.register([F.entry("r", on: F.b, serial: 9)])
        #expect(changes == [.registered("r", F.location(F.b, serial: 9))])
        #expect(registry.child("r")?.locations == [F.location(F.a, serial: 1), F.location(F.b, serial: 9)])
    }

    @Test func updateActorIDReplacesOnlyAnExistingSlot() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([F.entry("r", on: F.a, serial: 1), F.entry("r", on: F.b, serial: 2)])
        #expect(registry.updateActorID(of: "r", on: F.b, to: ActorID(node: F.b, serial: 7)))
        #expect(registry.child("r")?.locations == [F.location(F.a, serial: 1), F.location(F.b, serial: 7)])
        #expect(!registry.updateActorID(of: "r", on: F.b, to: ActorID(node: F.b, serial: 7)))
        #expect(!registry.updateActorID(of: "unknown", on: F.b, to: ActorID(node: F.b, serial: 8)))
        #expect(!registry.updateActorID(of: "r", on: F.c, to: ActorID(node: F.c, serial: 8)))
        #expect(!registry.updateActorID(of: "r", on: F.a, to: ActorID(node: F.b, serial: 8)))
        #expect(registry.child("r")?.locations.count == 2)
    }

    // MARK: Epoch rule

    @Test func higherEpochWinsWhateverTheArrivalOrder() {
        let old = F.entry("c", on: F.a, epoch: 1, metadata: ["v": "old"])
        let new = F.entry("c", on: F.b, epoch: 2, authoredBy: F.b, metadata: ["v": "new"], kind: "v2")
        for order in [[old, new], [new, old]] {
            let registry = ChildRegistry(localNode: F.a)
            for entry in order { registry.register([entry]) }
            let info = registry.child("c")
            #expect(info?.metadata == ["v": "new"])
            #expect(info?.spec.kind == "v2")
            #expect(info?.locations.count == 2)
            #expect(registry.version(of: "c")?.epoch == 2)
        }
    }

    @Test func onEqualEpochsTheLowerAuthorWinsWhateverTheOrder() {
        let byA = F.entry("c", on: F.a, epoch: 3, authoredBy: F.a, metadata: ["by": "a"])
        let byB = F.entry("c", on: F.b, epoch: 3, authoredBy: F.b, metadata: ["by": "b"])
        let first = ChildRegistry(localNode: F.a)
        first.register([byA])
        first.register([byB])
        let second = ChildRegistry(localNode: F.a)
        second.register([byB])
        second.register([byA])
        #expect(first.dump() == second.dump())
        #expect(first.child("c")?.metadata == ["by": "a"])
    }

    @Test func setMetadataFollowsTheEpochRule() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([F.entry("c", on: F.b, epoch: 2, metadata: ["tag": "x"])])
        #expect(!registry.setMetadata(of: "c", ["tag": "older"], epoch: 1, authoredBy: F.a))
        #expect(!registry.setMetadata(of: "c", ["tag": "tie"], epoch: 2, authoredBy: F.c))
        #expect(registry.setMetadata(of: "c", ["tag": "tie-low"], epoch: 2, authoredBy: F.a))
        #expect(registry.setMetadata(of: "c", ["tag": "y"], epoch: 3, authoredBy: F.c))
        #expect(!registry.setMetadata(of: "unknown", ["tag": "y"], epoch: 9, authoredBy: F.c))
        #expect(registry.child("c")?.metadata == ["tag": "y"])
        // The new version travels in every hosting node's payload.
        #expect(registry.entries(ownedBy: F.b).first?.epoch == 3)
    }

    // MARK: Withdrawing slots

    @Test func unregisteringOneOfTwoSlotsKeepsTheRowAndTheLastRemovesIt() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([F.entry("r", on: F.a), F.entry("r", on: F.b)])
        #expect(registry.unregister(["r"], on: F.a) == [.unregistered("r", F.a)])
        #expect(registry.child("r")?.locations == [F.location(F.b)])
        #expect(registry.unregister(["r"], on: F.a).isEmpty)
        #expect(registry.unregister(["r"], on: F.b) == [.unregistered("r", F.b)])
        #expect(!registry.contains("r"))
        #expect(registry.count == 0)
        #expect(registry.ids(hostedOn: F.b).isEmpty)
    }

    @Test func purgeRemovesEverySlotOfTheNode() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([
            F.entry("only-a", on: F.a), F.entry("shared", on: F.a), F.entry("shared", on: F.b),
            F.entry("only-b", on: F.b),
        ])
        let changes = registry.purge(node: F.a)
        #expect(changes == [.unregistered("only-a", F.a), .unregistered("shared", F.a)])
        #expect(registry.allIDs().sorted() == ["only-b", "shared"])
        #expect(registry.child("shared")?.locations == [F.location(F.b)])
        #expect(registry.ids(hostedOn: F.a).isEmpty)
        #expect(registry.purge(node: F.a).isEmpty)
    }

    @Test func purgeStaleIncarnationsRemovesEveryOtherLifeOfTheEndpoint() {
        let old1 = F.node("a", port: 7001, incarnation: 1)
        let old2 = F.node("a", port: 7001, incarnation: 2)
        let current = F.node("a", port: 7001, incarnation: 3)
        let otherPort = F.node("a", port: 7009, incarnation: 1)
        let registry = ChildRegistry(localNode: F.a)
        registry.register([
            F.entry("x", on: old1), F.entry("y", on: old2), F.entry("z", on: current), F.entry("w", on: otherPort),
        ])
        let changes = registry.purgeStaleIncarnations(of: current)
        #expect(Set(changes) == [.unregistered("x", old1), .unregistered("y", old2)])
        #expect(registry.allIDs().sorted() == ["w", "z"])
    }

    // MARK: Sync payloads

    @Test func replaceEntriesWithdrawsAbsentIDsOnlyForThatNode() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([
            F.entry("kept", on: F.b), F.entry("dropped", on: F.b), F.entry("dropped", on: F.a),
            F.entry("a-only", on: F.a),
        ])
        let changes = registry.replaceEntries(
            ownedBy: F.b, with: [F.entry("kept", on: F.b), F.entry("new", on: F.b, serial: 5)])
        #expect(changes == [.registered("new", F.location(F.b, serial: 5)), .unregistered("dropped", F.b)])
        #expect(registry.child("dropped")?.locations == [F.location(F.a)])
        #expect(registry.contains("a-only"))
        #expect(registry.ids(hostedOn: F.b) == ["kept", "new"])
    }

    @Test func replaceEntriesIgnoresEntriesClaimingOtherNodesSlots() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([F.entry("x", on: F.a, serial: 1)])
        let changes = registry.replaceEntries(
            ownedBy: F.b, with: [F.entry("x", on: F.a, serial: 666), F.entry("y", on: F.c)])
        #expect(changes.isEmpty)
        #expect(registry.child("x")?.locations == [F.location(F.a, serial: 1)])
        #expect(!registry.contains("y"))
    }

    @Test func entriesOwnedByANodeAreItsSyncPayload() {
        let registry = ChildRegistry(localNode: F.a)
        let mine = [F.entry("m2", on: F.a, serial: 2, metadata: ["k": "v"]), F.entry("m1", on: F.a, serial: 1)]
        registry.register(mine + [F.entry("m1", on: F.b), F.entry("theirs", on: F.b)])
        #expect(registry.entries(ownedBy: F.a) == Array(mine.reversed()))
        let copy = ChildRegistry(localNode: F.a)
        copy.replaceEntries(ownedBy: F.a, with: registry.entries(ownedBy: F.a))
        copy.replaceEntries(ownedBy: F.b, with: registry.entries(ownedBy: F.b))
        #expect(copy.dump() == registry.dump())
    }

    // MARK: Queries

    @Test func tagAndMetadataKeyQueries() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([
            F.entry("t2", on: F.a, metadata: ["tag": "red", "zone": "z1"]),
            F.entry("t1", on: F.b, metadata: ["tag": "red"]),
            F.entry("t3", on: F.a, metadata: ["tag": "blue", "zone": "z2"]),
            F.entry("t4", on: F.a),
        ])
        #expect(registry.children(taggedWith: "red").map(\.id) == ["t1", "t2"])
        #expect(registry.children(taggedWith: "green").isEmpty)
        let zoned = registry.children(withMetadataKey: "zone")
        #expect(zoned.map(\.0.id) == ["t2", "t3"])
        #expect(zoned.map(\.1) == ["z1", "z2"])
    }

    @Test func processListsGlobalAndLocal() {
        let registry = ChildRegistry(localNode: F.a)
        registry.register([
            F.entry("b", on: F.a, serial: 2), F.entry("a", on: F.a, serial: 1), F.entry("a", on: F.b, serial: 3),
            F.entry("c", on: F.b, serial: 4),
        ])
        let global = registry.processList()
        #expect(global.map(\.0) == ["a", "b", "c"])
        #expect(global[0].1 == [F.location(F.a, serial: 1), F.location(F.b, serial: 3)])
        let local = registry.localProcessList()
        #expect(local.map(\.0) == registry.localProcessList(on: F.a).map(\.0))
        #expect(local.map(\.0) == ["a", "b"])
        #expect(local.map(\.1.serial) == [1, 2])
        #expect(registry.ids(hostedOn: F.b) == ["a", "c"])
        #expect(registry.dump().keys.sorted() == ["a", "b", "c"])
    }

    // MARK: Convergence and scale

    @Test func registriesFedTheSamePayloadsInAnyOrderConverge() {
        // Each node's payload: its own slots, with row versions that disagree across nodes.
        let payloads: [NodeID: [RegistryEntry]] = [
            F.a: [
                F.entry("s", on: F.a, serial: 1, epoch: 2, authoredBy: F.c, metadata: ["v": "c2"]),
                F.entry("t", on: F.a, serial: 2, epoch: 1, authoredBy: F.b, metadata: ["v": "b1"]),
                F.entry("u", on: F.a, serial: 3),
            ],
            F.b: [
                F.entry("s", on: F.b, serial: 4, epoch: 2, authoredBy: F.b, metadata: ["v": "b2"]),
                F.entry("t", on: F.b, serial: 5, epoch: 1, authoredBy: F.b, metadata: ["v": "b1"]),
            ],
            F.c: [
                F.entry("s", on: F.c, serial: 6, epoch: 1, authoredBy: F.a, metadata: ["v": "a1"]),
                F.entry("v", on: F.c, serial: 7),
            ],
        ]
        let orders: [[NodeID]] = [[F.a, F.b, F.c], [F.c, F.b, F.a], [F.b, F.c, F.a]]
        let dumps = orders.map { order in
            let registry = ChildRegistry(localNode: F.a)
            // A stale slot each payload must withdraw.
            registry.register([F.entry("gone", on: F.b, serial: 99)])
            for node in order { registry.replaceEntries(ownedBy: node, with: payloads[node]!) }
            return registry.dump()
        }
        #expect(dumps[0] == dumps[1])
        #expect(dumps[1] == dumps[2])
        #expect(dumps[0]["s"]?.metadata == ["v": "b2"])
        #expect(dumps[0]["s"]?.locations.count == 3)
        #expect(dumps[0]["gone"] == nil)
    }

    @Test(.timeLimit(.minutes(1))) func aLargeBatchIsLinear() {
        let count = 100_000
        let entries = (0..<count).map { F.entry("child-\($0)", on: F.a, serial: UInt64($0)) }
        let registry = ChildRegistry(localNode: F.a)
        #expect(registry.register(entries).count == count)
        #expect(registry.count == count)
        #expect(registry.replaceEntries(ownedBy: F.a, with: Array(entries.prefix(count / 2))).count == count / 2)
        #expect(registry.purge(node: F.a).count == count / 2)
        #expect(registry.count == 0)
    }

    @Test func concurrentWritersAndReadersSeeAConsistentRegistry() async {
        let registry = ChildRegistry(localNode: F.a)
        let nodes = (0..<4).map { F.node("n\($0)", port: 7100 + $0) }
        await withTaskGroup(of: Void.self) { group in
            for node in nodes {
                group.addTask {
                    for batch in 0..<10 {
                        registry.register((0..<100).map { F.entry("c\(batch * 100 + $0)", on: node) })
                        _ = registry.child("c\(batch * 100)")
                    }
                }
            }
        }
        #expect(registry.count == 1_000)
        #expect(registry.processList().allSatisfy { $0.1.map(\.node) == nodes.sorted() })
    }
}
