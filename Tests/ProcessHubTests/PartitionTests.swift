import ClusterNode
import DemoActors
import ProcessHubTesting
import Testing

@testable import ProcessHub

/// Quorum strategies inside one process (real TCP between in-process nodes): a node whose hub
/// stops leaves the others with fewer members, as a partition would.
/// The code of the ``HubError`` `body` throws, or `nil`.
func hubErrorCode(_ body: () async throws(HubError) -> Void) async -> HubError.Code? {
    do {
        try await body()
        return nil
    } catch {
        return error.code
    }
}

@Suite("Partition tolerance in a hub cluster", .serialized, .timeLimit(.minutes(3)))
struct PartitionTests {
    private func configuration(_ id: HubID, _ strategy: any PartitionToleranceStrategy) -> HubConfiguration {
        var configuration = testConfiguration(id)
        configuration.partitionTolerance = strategy
        return configuration
    }

    /// Children run on exactly their placement over `hubs`' members, once, and every registry agrees.
    private func expectConverged(_ hubs: [ProcessHub], count: Int) async throws {
        try await waitUntil(timeout: .seconds(30), "\(count) children on their placement, registries identical") {
            let dumps = hubs.map { $0.registryDump().mapValues { $0.locations } }
            guard dumps.allSatisfy({ $0.count == count && $0 == dumps[0] }) else { return false }
            let nodes = hubs[0].nodes(includeLocal: true)
            let placement = ConsistentHashing().belongsTo(Array(dumps[0].keys), replicationFactor: 1, nodes: nodes)
            guard dumps[0].allSatisfy({ placement[$0.key] == $0.value.map(\.node) }) else { return false }
            var running = 0
            for hub in hubs { running += await hub.whichChildren().count }
            return running == count
        }
    }

    @Test func staticQuorumPartitionsTheNodesLeftTooFewAndRecoversWhenANodeJoins() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: configuration("sq", StaticQuorum(quorumSize: 3)))
        defer { Task { await hubs.shutdown() } }
        _ = try await hubs.hubs[0].startChildren(try counters(60)).result()
        try await expectConverged(hubs.hubs, count: 60)
        #expect(hubs.hubs.allSatisfy { !$0.isPartitioned })

        await hubs.hubs[2].stop(movingChildren: false)
        let left = Array(hubs.hubs.prefix(2))
        try await waitUntil(timeout: .seconds(20), "both remaining hubs partitioned") { left.allSatisfy(\.isPartitioned) }
        for hub in left {
            // No slot of a stopped instance stays registered.
            try await waitUntil(timeout: .seconds(10), "\(hub.node.id.name)'s children stopped and withdrawn") {
                await hub.whichChildren().isEmpty && hub.processList(.local).isEmpty
            }
            #expect(try await hub.status().isPartitioned)
        }
        // Local calls and requests from peers are refused with the typed error.
        let newSpec = try ChildSpec(id: "new", Counter.self, .init())
        #expect(await hubErrorCode { () throws(HubError) in _ = try left[0].startChild(newSpec) } == .partitioned)
        #expect(await hubErrorCode { () throws(HubError) in _ = try left[0].stopChild("c1") } == .partitioned)
        #expect(await hubErrorCode { () async throws(HubError) in _ = try await left[0].drain() } == .partitioned)
        // HubCore's requests from peers (the machine's are refused the same way in its own tests).
        if let core = left[0].core as? HubCore {
        let spec = try ChildSpec(id: "from-peer", Counter.self, .init())
        let request = StartRequest(
            originator: left[0].node.id, signature: 0, children: [ChildStartData(childID: "from-peer", spec: spec, nodes: [left[1].node.id])])
        let outcomes = try await core.endpoint(of: left[1].node.id).startChildren(request).outcomes
        #expect(outcomes.map(\.error?.code) == [.partitioned])
        let stops = try await core.endpoint(of: left[1].node.id).stopChildren(StopRequest(originator: left[0].node.id, childIDs: ["c1"]))
        #expect(stops.map(\.error?.code) == [.partitioned])
        }

        var settings = ClusterNodeSettings(name: "n4", secret: ClusterSecret(hubs.cluster.secret))
        settings.seeds = [left[0].node.id.address]
        let node4 = try await ClusterNode.start(settings)
        let hub4 = try await ProcessHub.start(hubs.configuration, on: node4)
        defer { Task { await hub4.stop(movingChildren: false); await node4.shutdown() } }
        let healed = left + [hub4]
        try await hubs.waitForHubMesh(healed)
        try await waitUntil(timeout: .seconds(20), "quorum back everywhere") { healed.allSatisfy { !$0.isPartitioned } }
        try await expectConverged(healed, count: 60)
        #expect(hub4.registryDump()["from-peer"] == nil, "a refused start is not remembered")
    }

    @Test func majorityQuorumKeepsTheMajorityRunningAndStopsALoneNode() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: configuration("mq", MajorityQuorum()))
        defer { Task { await hubs.shutdown() } }
        _ = try await hubs.hubs[0].startChildren(try counters(45)).result()
        try await expectConverged(hubs.hubs, count: 45)

        await hubs.hubs[2].stop(movingChildren: false)
        let two = Array(hubs.hubs.prefix(2))
        try await waitUntil(timeout: .seconds(20)) { two.allSatisfy { $0.nodes(includeLocal: true).count == 2 && !$0.isLocked } }
        #expect(two.allSatisfy { !$0.isPartitioned }, "2 of 3 is a majority")
        try await expectConverged(two, count: 45)

        await hubs.hubs[1].stop(movingChildren: false)
        try await waitUntil(timeout: .seconds(20), "the lone node partitioned") { hubs.hubs[0].isPartitioned }
        try await waitUntil(timeout: .seconds(10)) { await hubs.hubs[0].whichChildren().isEmpty }
    }

    @Test func dynamicQuorumCountsRecentDepartures() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 4, configuration: configuration("dq", DynamicQuorum(quorumSize: 75)))
        defer { Task { await hubs.shutdown() } }
        _ = try await hubs.hubs[0].startChildren(try counters(40)).result()
        try await expectConverged(hubs.hubs, count: 40)

        await hubs.hubs[3].stop(movingChildren: false)
        let three = Array(hubs.hubs.prefix(3))
        try await waitUntil(timeout: .seconds(20)) { three.allSatisfy { $0.nodes(includeLocal: true).count == 3 && !$0.isLocked } }
        #expect(three.allSatisfy { !$0.isPartitioned }, "3 of 4 is 75 %")
        try await expectConverged(three, count: 40)

        await hubs.hubs[2].stop(movingChildren: false)
        let two = Array(hubs.hubs.prefix(2))
        try await waitUntil(timeout: .seconds(20), "2 of 4 (50 %) partitioned") { two.allSatisfy(\.isPartitioned) }
    }

    /// `startupConfirm`: a hub that starts alone with a quorum of 2 starts partitioned; its static
    /// child waits and runs (once) when a second node joins.
    @Test func staticQuorumWithStartupConfirmStartsPartitioned() async throws {
        var configuration = configuration("sc", StaticQuorum(quorumSize: 2, startupConfirm: true))
        configuration.childSpecs = [try ChildSpec(id: "boot", Counter.self, .init(start: 7))]
        let hubs = try await LocalHubCluster.start(nodes: 1, configuration: configuration)
        defer { Task { await hubs.shutdown() } }
        #expect(hubs.hubs[0].isPartitioned)
        #expect(await hubs.hubs[0].whichChildren().isEmpty)

        let (node2, hub2) = try await hubs.addNode(name: "n2")
        defer { Task { await hub2.stop(movingChildren: false); await node2.shutdown() } }
        try await waitUntil(timeout: .seconds(20)) { !hubs.hubs[0].isPartitioned && !hub2.isPartitioned }
        try await expectConverged([hubs.hubs[0], hub2], count: 1)
        let counter = try #require(try hub2.resolve("boot", as: Counter.self))
        #expect(try await counter.current() == 7)
    }

    /// A second instance of a child (as two sides of a healed split leave behind) is stopped on
    /// the node the placement does not name, and the registries converge.
    @Test func aDuplicateInstanceIsStoppedWhereThePlacementDoesNotNameIt() async throws {
        var configuration = testConfiguration("dup")
        configuration.synchronization = PubSub(syncInterval: .milliseconds(500))
        // It makes the duplicate behind HubCore's back; the machine's duplicate rule is swept by
        // the simulator's split-and-heal schedules and the network-namespace tests.
        configuration.forcesLegacyCoordinator = true
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: configuration)
        defer { Task { await hubs.shutdown() } }
        let result = try await hubs.hubs[0].startChildren(try counters(30)).result()
        try await expectConverged(hubs.hubs, count: 30)
        // A child of node 1 also started on node 2, behind the hub's back.
        let owner = hubs.hubs[0].node.id
        let id = try #require(result.started.first { $0.locations.map(\.node) == [owner] }?.id)
        let info = try #require(hubs.hubs[1].child(id))
        let data = ChildStartData(childID: id, spec: info.spec, nodes: [hubs.hubs[1].node.id], metadata: info.metadata)
        _ = await (hubs.hubs[1].core as! HubCore).startLocally([data], authoredBy: hubs.hubs[1].node.id)
        try await waitUntil(timeout: .seconds(10), "the duplicate registered") { hubs.hubs[0].child(id)?.locations.count == 2 }
        try await expectConverged(hubs.hubs, count: 30)
        #expect(hubs.hubs[0].child(id)?.locations.map(\.node) == [owner])
    }
}
