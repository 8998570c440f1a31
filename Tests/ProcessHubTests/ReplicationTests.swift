import ClusterNode
import DemoActors
import Distributed
import ProcessHubTesting
import Testing

@testable import ProcessHub

/// A replica that remembers the last role it was told.
distributed actor RoleChild: HubProcess {
    typealias ActorSystem = ClusterSystem
    static let kind: HubKind = "role"
    struct Arguments: Codable, Sendable {}
    var mode: ReplicaMode?

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
    }

    func redundancySignal(_ mode: ReplicaMode) async { self.mode = mode }

    distributed func role() -> ReplicaMode? { mode }
}

@Suite("Replication", .serialized, .timeLimit(.minutes(3)))
struct ReplicationTests {
    func configuration(_ replication: Replication) -> HubConfiguration {
        var configuration = testConfiguration("rep")
        configuration.register(RoleChild.self)
        configuration.redundancy = replication
        return configuration
    }

    func roles(_ count: Int) throws -> [ChildSpec] {
        try (0..<count).map { try ChildSpec(id: "r\($0)", RoleChild.self, .init()) }
    }

    /// Every child runs on exactly its ring nodes, and in active/passive exactly one instance —
    /// the one on the rule's active node — was told it is active, the others passive.
    func expectReplicasAndRoles(_ hub: ProcessHub, count: Int, factor: Int) async throws {
        // The hub learns of joins and departures asynchronously: the placement is the one of the
        // nodes it lists at each look.
        try await waitUntil(timeout: .seconds(20), "replicas on their ring nodes") {
            let nodes = hub.nodes(includeLocal: true)
            let placement = ConsistentHashing().belongsTo((0..<count).map { "r\($0)" }, replicationFactor: factor, nodes: nodes)
            return hub.registryDump().count == count
                && hub.registryDump().allSatisfy { Set($0.value.locations.map(\.node)) == Set(placement[$0.key] ?? []) }
        }
        try await waitUntil(timeout: .seconds(20), "exactly one active replica per child") {
            for (id, info) in hub.registryDump() {
                let active = Replication.activeNode(of: id, among: info.locations.map(\.node))
                for location in info.locations {
                    let replica = try RoleChild.resolve(id: location.actorID, using: hub.node.system)
                    guard try await replica.role() == (location.node == active ? .active : .passive) else { return false }
                }
            }
            return true
        }
    }

    @Test func activePassiveRolesStaySingleThroughJoinsAndLeaves() async throws {
        let replication = Replication(factor: .count(2), model: .activePassive, signal: .all)
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: configuration(replication))
        defer { Task { await hubs.shutdown() } }
        let result = try await hubs.hubs[0].startChildren(try roles(40)).result()
        #expect(result.status == .ok && result.started.allSatisfy { $0.locations.count == 2 })
        try await expectReplicasAndRoles(hubs.hubs[0], count: 40, factor: 2)

        let (node4, hub4) = try await hubs.addNode(name: "n4")
        try await expectReplicasAndRoles(hubs.hubs[0], count: 40, factor: 2)
        let (node5, hub5) = try await hubs.addNode(name: "n5")
        defer { Task { await hub5.stop(movingChildren: false); await node5.shutdown() } }
        try await expectReplicasAndRoles(hubs.hubs[0], count: 40, factor: 2)

        // A hub that leaves gracefully, then a node that goes without its hub moving anything.
        await hub4.stop()
        await node4.shutdown()
        try await expectReplicasAndRoles(hubs.hubs[0], count: 40, factor: 2)
        let departed = hubs.cluster.nodes[2].id
        await hubs.hubs[2].stop(movingChildren: false)
        await hubs.cluster.nodes[2].shutdown()
        try await waitUntil(timeout: .seconds(10), "n3 gone from n1's view") {
            !hubs.hubs[0].nodes(includeLocal: true).contains(departed)
        }
        try await expectReplicasAndRoles(hubs.hubs[0], count: 40, factor: 2)
        try await hubs.waitForIdenticalRegistries([hubs.hubs[0], hubs.hubs[1], hub5], count: 40)
    }

    @Test func clusterSizeReplicatesOnEveryNodeAndOnlyActiveSignalsAreSent() async throws {
        let replication = Replication(factor: .clusterSize, model: .activePassive, signal: .active)
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: configuration(replication))
        defer { Task { await hubs.shutdown() } }
        _ = try await hubs.hubs[0].startChildren(try roles(10)).result()
        try await waitUntil(timeout: .seconds(20), "a replica on every node") {
            hubs.hubs[0].registryDump().count == 10 && hubs.hubs[0].registryDump().values.allSatisfy { $0.locations.count == 3 }
        }
        for (id, info) in hubs.hubs[0].registryDump() {
            let active = Replication.activeNode(of: id, among: info.locations.map(\.node))
            for location in info.locations {
                let replica = try RoleChild.resolve(id: location.actorID, using: hubs.hubs[0].node.system)
                let role = try await replica.role()
                #expect(role == (location.node == active ? .active : nil))
            }
        }
    }

    @Test func theActiveNodeRuleIsProcessHubs() {
        let nodes = (1...3).map { NodeID(name: "n\($0)", host: "127.0.0.1", port: 7000 + $0, incarnation: 1) }
        // "ab" = 97 + 98 = 195; 195 % 3 = 0 → the first of the sorted nodes.
        #expect(Replication.activeNode(of: "ab", among: nodes.reversed()) == nodes[0])
        #expect(Replication.activeNode(of: "b", among: nodes) == nodes[98 % 3])
        #expect(Replication.activeNode(of: "x", among: []) == nil)
        let strategy = Replication(factor: .count(2), model: .activeActive, signal: .passive)
        #expect(strategy.mode(of: "ab", on: nodes[1], nodes: nodes) == .active)
        #expect(!strategy.signals(.active) && strategy.signals(.passive))
    }
}

@Suite("Redistribution plan")
struct RedistributionPlanTests {
    let a = NodeID(name: "a", host: "h", port: 1, incarnation: 1)
    let b = NodeID(name: "b", host: "h", port: 2, incarnation: 1)
    let c = NodeID(name: "c", host: "h", port: 3, incarnation: 1)
    let d = NodeID(name: "d", host: "h", port: 4, incarnation: 1)

    func info(_ id: ChildID, on nodes: [NodeID]) throws -> ChildInfo {
        ChildInfo(
            spec: try ChildSpec(id: id, Counter.self, .init()),
            locations: nodes.enumerated().map { ChildLocation(node: $1, actorID: ActorID(node: $1, serial: UInt64(2000 + $0))) },
            metadata: [:])
    }

    @Test func aSingleInstanceMovesToItsNewPrimary() throws {
        let plan = RedistributionPlan(local: a, children: [try info("x", on: [a])], placement: ["x": [d]], live: [a, b, d])
        #expect(plan.moves.map(\.target) == [d] && plan.surplus.isEmpty && plan.replicaStarts.isEmpty)
    }

    @Test func theSmallestRemainingHolderStartsMissingReplicasAndLeaversStop() throws {
        // x on a and b; new nodes b, d: a leaves it (surplus), b (the sender) starts it on d.
        let x = try info("x", on: [a, b])
        let onA = RedistributionPlan(local: a, children: [x], placement: ["x": [b, d]], live: [a, b, d])
        #expect(onA.surplus == ["x"] && onA.moves.isEmpty && onA.replicaStarts.isEmpty)
        let onB = RedistributionPlan(local: b, children: [x], placement: ["x": [b, d]], live: [a, b, d])
        #expect(onB.replicaStarts[d]?.map(\.childID) == ["x"] && onB.surplus.isEmpty && onB.moves.isEmpty)
    }

    @Test func aChildAlreadyInPlaceNeedsNothingAndDeadHoldersDoNotCount() throws {
        let stays = RedistributionPlan(local: a, children: [try info("x", on: [a])], placement: ["x": [a]], live: [a, b])
        #expect(stays.isEmpty)
        // x on a and c; c is gone: a is the sender and starts the replica on b.
        let lost = RedistributionPlan(local: a, children: [try info("x", on: [a, c])], placement: ["x": [a, b]], live: [a, b])
        #expect(lost.replicaStarts[b]?.map(\.childID) == ["x"])
    }
}
