import ClusterNode
import DemoActors
import ProcessHubTesting
import Synchronization
import Testing

@testable import ProcessHub

/// A user-defined strategy: every child on the node with the given name (never deterministic,
/// so receivers re-check placement).
struct OnNamedNode: DistributionStrategy {
    var name: String
    func belongsTo(_ childIDs: [ChildID], replicationFactor: Int, nodes: [NodeID]) -> [ChildID: [NodeID]] {
        let target = nodes.filter { $0.name == name }
        return Dictionary(uniqueKeysWithValues: childIDs.map { ($0, target) })
    }
    var isDeterministic: Bool { false }
    func signature(of nodes: [NodeID]) -> UInt64 { 0 }
}

@Suite("Forwarding and custom strategies", .serialized, .timeLimit(.minutes(3)))
struct ForwardingTests {
    @Test func aReceiverThatPlacesAChildElsewhereForwardsIt() async throws {
        let cluster = try await LocalCluster.start(nodes: 2)
        defer { Task { await cluster.shutdown() } }
        // n1 believes children belong on n2; n2 believes they belong on n1.
        var onN1 = testConfiguration("fwd")
        onN1.distribution = OnNamedNode(name: "n2")
        var onN2 = testConfiguration("fwd")
        onN2.distribution = OnNamedNode(name: "n1")
        let forwarded = Mutex<[NodeID: [ChildID]]>([:])
        try onN2.hooks.register(.childrenForwarded, id: "watch") { event in forwarded.withLock { $0 = event.forwards } }
        let hub1 = try await ProcessHub.start(onN1, on: cluster.nodes[0])
        let hub2 = try await ProcessHub.start(onN2, on: cluster.nodes[1])
        defer { Task { await hub1.stop(); await hub2.stop() } }
        try await waitUntil { hub1.nodes().count == 1 && hub2.nodes().count == 1 && !hub1.isLocked && !hub2.isLocked }

        let result = try await hub1.startChildren(try counters(3, prefix: "f")).result()
        #expect(result.status == .ok)
        // n2 forwarded them to n1, which started them as sent; the originator saw the final location.
        #expect(result.nodes == [cluster.nodes[0].id])
        #expect(forwarded.withLock { $0 } == [cluster.nodes[0].id: ["f0", "f1", "f2"]])
        #expect(Set(await hub1.whichChildren()) == ["f0", "f1", "f2"])
        #expect(await hub2.whichChildren().isEmpty)
        try await waitUntil { hub2.registryDump().count == 3 }
    }

    @Test func aStrategyCanRefuseABatchBeforeAnythingStarts() async throws {
        struct NoVIPs: DistributionStrategy {
            func belongsTo(_ ids: [ChildID], replicationFactor: Int, nodes: [NodeID]) -> [ChildID: [NodeID]] {
                ConsistentHashing().belongsTo(ids, replicationFactor: replicationFactor, nodes: nodes)
            }
            var isDeterministic: Bool { true }
            func signature(of nodes: [NodeID]) -> UInt64 { ConsistentHashing().signature(of: nodes) }
            func validate(_ children: [ChildSpec], options: StartOptions, context: PlacementContext) throws(HubError) {
                let vips = children.map(\.id).filter { $0.hasPrefix("vip") }
                if !vips.isEmpty { throw HubError(.invalidConfiguration, "no VIPs here", childIDs: vips) }
            }
        }
        var configuration = testConfiguration("validate")
        configuration.distribution = NoVIPs()
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: configuration)
        defer { Task { await hubs.shutdown() } }
        let error = #expect(throws: HubError.self) {
            try hubs.hubs[0].startChildren(try counters(2, prefix: "vip") + counters(2))
        }
        #expect(error?.childIDs == ["vip0", "vip1"])
        #expect(hubs.hubs[0].registryDump().isEmpty)
        let fine = try await hubs.hubs[0].startChildren(try counters(2)).result()
        #expect(fine.status == .ok)
        #expect(hubs.hubs[0].actorID(of: "c0") == fine.started.first { $0.id == "c0" }?.locations.first?.actorID)
    }

    /// The seeds' example of a user strategy: every child on the first (or last) node by name.
    @Test func aUserStrategyPlacesChildrenEndToEnd() async throws {
        struct ByName: DistributionStrategy {
            var last: Bool
            func belongsTo(_ ids: [ChildID], replicationFactor: Int, nodes: [NodeID]) -> [ChildID: [NodeID]] {
                let sorted = nodes.sorted { $0.name < $1.name }
                let pick = (last ? sorted.last : sorted.first).map { [$0] } ?? []
                return Dictionary(ids.map { ($0, pick) }, uniquingKeysWith: { a, _ in a })
            }
            var isDeterministic: Bool { true }
            func signature(of nodes: [NodeID]) -> UInt64 { ConsistentHashing().signature(of: nodes) }
        }
        for last in [false, true] {
            var configuration = testConfiguration(HubID("byname-\(last)"))
            configuration.distribution = ByName(last: last)
            let hubs = try await LocalHubCluster.start(nodes: 3, configuration: configuration)
            let result = try await hubs.hubs[1].startChildren(try counters(5)).result()
            let expected = last ? "n3" : "n1"
            #expect(result.nodes.map(\.name) == [expected])
            try await hubs.waitForIdenticalRegistries(count: 5)
            await hubs.shutdown()
        }
    }
}
