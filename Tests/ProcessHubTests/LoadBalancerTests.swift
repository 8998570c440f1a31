import ClusterNode
import ProcessHubTesting
import Synchronization
import Testing

@testable import ProcessHub

/// Reports a chosen load: the node named `busyNode` is busy, every other node idle.
struct ChosenLoad: LoadSampler {
    var busyNode: String

    func sample(_ context: LoadSamplingContext) async -> LoadSample {
        context.node.name == busyNode ? LoadSample(cpuUtilisation: 1, runQueue: 100) : LoadSample()
    }
}

/// Replicates every child on two nodes (only to show the load balancer refuses replication).
struct TwoReplicas: RedundancyStrategy {
    func replicationFactor(hubNodeCount: Int) -> Int { 2 }
}

@Suite("Centralized load balancer: scores, allocation, election")
struct LoadBalancerUnitTests {
    let n1 = NodeID(name: "n1", host: "127.0.0.1", port: 1, incarnation: 1)
    let n2 = NodeID(name: "n2", host: "127.0.0.1", port: 2, incarnation: 1)
    let n3 = NodeID(name: "n3", host: "127.0.0.1", port: 3, incarnation: 1)

    @Test func aSampleIsScoredWithProcessHubsWeightsAndEveryTermIsCapped() {
        #expect(LoadSample().score == 0)
        #expect(abs(LoadSample(cpuUtilisation: 1, runQueue: 100, childCount: 10_000, memoryBytes: 1 << 30).score - 1) < 1e-9)
        #expect(abs(LoadSample(cpuUtilisation: 5, runQueue: 1_000, childCount: 99_999, memoryBytes: 1 << 40).score - 1) < 1e-9)
        #expect(abs(LoadSample(cpuUtilisation: 0.5).score - 0.2) < 1e-9)
        #expect(abs(LoadSample(runQueue: 50).score - 0.15) < 1e-9)
        #expect(abs(LoadSample(childCount: 5_000).score - 0.1) < 1e-9)
        #expect(abs(LoadSample(memoryBytes: 1 << 29).score - 0.05) < 1e-9)
    }

    #if os(Linux)
        @Test func theSystemSamplerReadsProc() async {
            let sampler = SystemLoadSampler()
            let node = n1
            _ = await sampler.sample(LoadSamplingContext(node: node, childCount: 0, pendingWork: 0))
            let sample = await sampler.sample(LoadSamplingContext(node: node, childCount: 7, pendingWork: 3))
            #expect((0...1).contains(sample.cpuUtilisation))
            #expect(sample.runQueue >= 3)
            #expect(sample.childCount == 7)
            #expect(sample.memoryBytes > 1 << 20)
        }
    #endif

    @Test func theCurrentScoreIsTheDecayedMeanOfTheHistoryNewestFirst() {
        #expect(CentralizedLoadBalancer.currentScore(of: [], decay: 0.9) == 0)
        #expect(CentralizedLoadBalancer.currentScore(of: [0.7], decay: 0.9) == 0.7)
        #expect(abs(CentralizedLoadBalancer.currentScore(of: [1, 0], decay: 0.5) - 2.0 / 3) < 1e-9)
        #expect(abs(CentralizedLoadBalancer.currentScore(of: [0, 1, 1], decay: 0.9) - 1.71 / 2.71) < 1e-9)
    }

    @Test func childrenAreSplitInProportionToCapacity() {
        let ids = (0..<100).map { ChildID("c\($0)") }
        let busy = CentralizedLoadBalancer.allocate(ids, scores: [n1: 0, n2: 0.7])
        #expect(busy.count == 100)
        #expect(busy.values.filter { $0 == n1 }.count == 77)  // 1 / 1.3
        let saturated = CentralizedLoadBalancer.allocate(ids, scores: [n1: 0, n2: 1])
        #expect(saturated.values.filter { $0 == n2 }.count == 9)  // capacity floor 0.1
        #expect(CentralizedLoadBalancer.allocate(ids, scores: [:]).isEmpty)
    }

    @Test func roundedSharesArePaddedLargestFirstAndTruncated() {
        let ten = (0..<10).map { ChildID("c\($0)") }
        let padded = CentralizedLoadBalancer.allocate(ten, scores: [n3: 0, n2: 0, n1: 0])
        #expect([n1, n2, n3].map { node in padded.values.filter { $0 == node }.count } == [4, 3, 3])
        let three = (0..<3).map { ChildID("c\($0)") }
        let truncated = CentralizedLoadBalancer.allocate(three, scores: [n1: 0.5, n2: 0.5])
        #expect(truncated == ["c0": n1, "c1": n1, "c2": n2])
    }

    @Test func theLeaderIsTheEarliestStartThenTheSmallerNode() {
        let times: [NodeID: Int64] = [n1: 5, n2: 3, n3: 3]
        #expect(CentralizedLoadBalancer.leader(startTimes: times, among: [n1, n2, n3]) == n2)
        #expect(CentralizedLoadBalancer.leader(startTimes: times, among: [n3, n1]) == n3)
        #expect(CentralizedLoadBalancer.leader(startTimes: [n1: 1], among: [n2]) == nil)
    }

    /// A strategy attached to a hub that is not running: its state can be set directly.
    func attached(on node: NodeID) throws -> (CentralizedLoadBalancer, LoadBalancerRuntime) {
        let host = StrategyHost(localNode: node)
        let strategy = try #require(CentralizedLoadBalancer().attach(to: host) as? CentralizedLoadBalancer)
        return (strategy, try #require(strategy.runtime))
    }

    @Test func theLeaderKeepsEachNodesOwnHistory() async throws {
        let (_, runtime) = try attached(on: n1)
        await runtime.handle(.sample(LoadSample(cpuUtilisation: 1), startedAt: 2), from: n2)
        await runtime.handle(.sample(LoadSample(), startedAt: 2), from: n2)
        await runtime.handle(.sample(LoadSample(runQueue: 100), startedAt: 3), from: n3)
        let (histories, board) = runtime.state.withLock { ($0.histories, $0.board) }
        #expect(histories[n2] == [0, 0.4])
        #expect(histories[n3] == [0.3])
        #expect(histories[n1] == nil)
        #expect(board?.leader == n1)
        #expect(abs((board?.scores[n2] ?? -1) - 0.36 / 1.9) < 1e-9)
    }

    @Test func withoutTheLeadersScoreboardPlacementHashesAndPlacedChildrenKeepTheirNode() throws {
        let (strategy, runtime) = try attached(on: n2)
        runtime.state.withLock { state in
            state.startTimes = [n1: 1, n2: 2, n3: 3]
            state.board = (n1, [n1: 0, n2: 0.9, n3: 0.9])
        }
        let all = [n1, n2, n3]
        let first = try counters(10, prefix: "a")
        try strategy.validate(first, options: .init(), context: PlacementContext(nodes: all, replicationFactor: 1))
        let byLoad = strategy.belongsTo(first.map(\.id), replicationFactor: 1, nodes: all)
        #expect(byLoad.values.filter { $0 == [n1] }.count == 8)  // capacities 1, 0.1, 0.1

        let survivors = [n2, n3]  // the leader left: its scoreboard is no longer used
        #expect(runtime.scores(among: survivors) == nil)
        let second = try counters(10, prefix: "b")
        try strategy.validate(second, options: .init(), context: PlacementContext(nodes: survivors, replicationFactor: 1))
        let hashing = ConsistentHashing()
        let ids = (first + second).map(\.id)
        let placement = strategy.belongsTo(ids, replicationFactor: 1, nodes: survivors)
        for id in ids {
            let kept = byLoad[id].flatMap { $0.first == n1 ? nil : $0 }
            #expect(placement[id] == kept ?? hashing.nodes(for: id, replicationFactor: 1, nodes: survivors))
        }

        let spec = try counters(1, prefix: "r")[0]
        strategy.received([ChildStartData(childID: spec.id, spec: spec, nodes: [n3])])
        #expect(strategy.belongsTo([spec.id], replicationFactor: 1, nodes: survivors) == [spec.id: [n3]])
    }

    @Test func unattachedItPlacesByHashingOnOneNode() {
        let ids = (0..<20).map { ChildID("c\($0)") }
        let placement = CentralizedLoadBalancer().belongsTo(ids, replicationFactor: 3, nodes: [n1, n2, n3])
        #expect(placement == ConsistentHashing().belongsTo(ids, replicationFactor: 1, nodes: [n1, n2, n3]))
    }
}

@Suite("Centralized load balancer on a cluster", .serialized, .timeLimit(.minutes(3)))
struct LoadBalancerClusterTests {
    func balancedHubs(_ id: HubID, nodes: Int, busyNode: String = "none") async throws -> LocalHubCluster {
        var configuration = testConfiguration(id)
        configuration.distribution = CentralizedLoadBalancer(
            pushInterval: .milliseconds(100), sampler: ChosenLoad(busyNode: busyNode))
        return try await LocalHubCluster.start(nodes: nodes, configuration: configuration)
    }

    func runtime(_ hub: ProcessHub) throws -> LoadBalancerRuntime {
        try #require((hub.core.configuration.distribution as? CentralizedLoadBalancer)?.runtime)
    }

    /// Waits until every hub places by a scoreboard of all `hubs`' nodes computed by `leader`.
    func waitForScoreboards(_ hubs: [ProcessHub], leader: NodeID) async throws {
        let nodes = hubs.map(\.node.id)
        let runtimes = try hubs.map(runtime)
        try await waitUntil(timeout: .seconds(20), "every node to use \(leader)'s scoreboard") {
            runtimes.allSatisfy { $0.leader == leader && $0.scores(among: nodes)?.count == nodes.count }
        }
    }

    func hostCounts(_ hub: ProcessHub) -> [String: Int] {
        hub.registryDump().values.reduce(into: [:]) { counts, info in
            for location in info.locations { counts[location.node.name, default: 0] += 1 }
        }
    }

    @Test func theLoadBalancerSendsNewChildrenToTheLessLoadedNodeWhenOneNodeIsBusy() async throws {
        let hubs = try await balancedHubs("clb-busy", nodes: 2, busyNode: "n2")
        defer { Task { await hubs.shutdown() } }
        try await waitForScoreboards(hubs.hubs, leader: hubs.hubs[0].node.id)

        let result = try await hubs.hubs[1].startChildren(try counters(100)).result()
        #expect(result.status == .ok)
        try await hubs.waitForIdenticalRegistries(count: 100)
        let counts = hostCounts(hubs.hubs[0])
        #expect(counts["n1"] == 77)  // capacities 1 and 0.3
        #expect(counts["n2"] == 23)
        let before = hubs.hubs[0].registryDump().mapValues(\.locations)

        let (node3, hub3) = try await hubs.addNode(name: "n3")
        defer { Task { await hub3.stop(); await node3.shutdown() } }
        try await hubs.waitForIdenticalRegistries(hubs.hubs + [hub3], count: 100)
        #expect(hub3.registryDump().mapValues(\.locations) == before)
        #expect(await hub3.whichChildren().isEmpty)
    }

    @Test func theLongestRunningNodeLeadsAndFiresScoreboardUpdated() async throws {
        let hubs = try await balancedHubs("clb-hook", nodes: 3)
        defer { Task { await hubs.shutdown() } }
        let leader = hubs.hubs[0].node.id
        let updates = Mutex<[ScoreboardUpdatedEvent]>([])
        try hubs.hubs[0].hooks.register(.scoreboardUpdated, id: "test") { event in
            updates.withLock { $0.append(event) }
        }
        try await waitForScoreboards(hubs.hubs, leader: leader)
        try await waitUntil(timeout: .seconds(10), "a scoreboard_updated hook with every node") {
            updates.withLock { $0.contains { $0.scores.count == 3 } }
        }
        #expect(updates.withLock { $0.allSatisfy { $0.node == leader } })
        for hub in hubs.hubs.dropFirst() {
            #expect(try runtime(hub).state.withLock { $0.histories.isEmpty })  // only the leader keeps histories
        }
    }

    @Test func whenTheLeaderStopsSurvivorsRestartItsChildrenAndPlacementGoesOn() async throws {
        let hubs = try await balancedHubs("clb-failover", nodes: 3)
        defer { Task { await hubs.shutdown() } }
        try await waitForScoreboards(hubs.hubs, leader: hubs.hubs[0].node.id)
        #expect(try await hubs.hubs[1].startChildren(try counters(60)).result().status == .ok)
        try await hubs.waitForIdenticalRegistries(count: 60)
        #expect(hostCounts(hubs.hubs[0])["n1", default: 0] > 0)

        await hubs.hubs[0].stop()
        let survivors = Array(hubs.hubs.dropFirst())
        try await hubs.waitForHubMesh(survivors, timeout: .seconds(20))
        #expect(try await survivors[1].startChildren(try counters(10, prefix: "late")).result().status == .ok)
        try await hubs.waitForIdenticalRegistries(survivors, count: 70, timeout: .seconds(20))
        #expect(hostCounts(survivors[0])["n1"] == nil)
        var running = 0
        for hub in survivors { running += await hub.whichChildren().count }
        #expect(running == 70)
        try await waitForScoreboards(survivors, leader: survivors[0].node.id)
    }

    @Test func replicationIsAConfigurationError() async throws {
        let cluster = try await LocalCluster.start(nodes: 1)
        defer { Task { await cluster.shutdown() } }
        var configuration = testConfiguration("clb-replicated")
        configuration.distribution = CentralizedLoadBalancer()
        configuration.redundancy = TwoReplicas()
        let error = await #expect(throws: HubError.self) { try await ProcessHub.start(configuration, on: cluster.nodes[0]) }
        #expect(error?.code == .invalidConfiguration)
        configuration.redundancy = Singularity()
        configuration.distribution = CentralizedLoadBalancer(weightDecayFactor: 0)
        let options = await #expect(throws: HubError.self) { try await ProcessHub.start(configuration, on: cluster.nodes[0]) }
        #expect(options?.code == .invalidConfiguration)
    }
}
