import ClusterNode
import DemoActors
import ProcessHubTesting
import Synchronization
import Testing

@testable import ProcessHub

@Suite("Hub topology: join, leave, hooks", .serialized, .timeLimit(.minutes(3)))
struct HubTopologyTests {
    @Test func aJoiningNodeReceivesExactlyTheRingsShare() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: testConfiguration())
        defer { Task { await hubs.shutdown() } }
        let result = try await hubs.hubs[0].startChildren(try counters(400)).result()
        try await hubs.waitForIdenticalRegistries(count: 400)
        let before = hubs.hubs[0].registryDump().mapValues(\.locations)

        let (node4, hub4) = try await hubs.addNode(name: "n4")
        defer { Task { await hub4.stop(); await node4.shutdown() } }
        let all = hubs.hubs + [hub4]
        let nodes = hub4.nodes(includeLocal: true)
        let placement = ConsistentHashing().belongsTo(result.ids, replicationFactor: 1, nodes: nodes)
        let moved = Set(placement.filter { $0.value == [node4.id] }.keys)
        #expect(!moved.isEmpty)
        try await waitUntil(timeout: .seconds(30), "the moved children to run on n4") {
            Set(await hub4.whichChildren()) == moved
        }
        try await hubs.waitForIdenticalRegistries(all, count: 400)
        let after = hub4.registryDump().mapValues(\.locations)
        for (id, locations) in after {
            if moved.contains(id) {
                #expect(locations.map(\.node) == [node4.id])
            } else {
                #expect(locations == before[id], "\(id) should not have moved or restarted")
            }
        }
    }

    @Test func aJoinAnnouncesTheChildrenEachNodeWillMove() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: testConfiguration())
        defer { Task { await hubs.shutdown() } }
        let announced = Mutex<[ChildrenRedistributionEvent]>([])
        try hubs.hubs[0].hooks.register(.preChildrenRedistribution, id: "record") { event in
            announced.withLock { $0.append(event) }
        }
        let result = try await hubs.hubs[0].startChildren(try counters(300)).result()
        try await hubs.waitForIdenticalRegistries(count: 300)
        let (node4, hub4) = try await hubs.addNode(name: "n4")
        defer { Task { await hub4.stop(); await node4.shutdown() } }
        let placement = ConsistentHashing().belongsTo(result.ids, replicationFactor: 1, nodes: hub4.nodes(includeLocal: true))
        let leavingNode1 = Set(result.started.filter { $0.locations.map(\.node) == [hubs.hubs[0].node.id] }.map(\.id))
            .filter { placement[$0] == [node4.id] }
        #expect(!leavingNode1.isEmpty)
        try await waitUntil(timeout: .seconds(30), "the announcement") { !announced.withLock { $0.isEmpty } }
        let events = announced.withLock { $0 }
        #expect(events.count == 1)
        #expect(events.first?.kind == .nodeJoin && events.first?.node == node4.id)
        #expect(Set(events.first?.children ?? []) == leavingNode1)
    }

    @Test func aGracefulHubStopHandsItsChildrenToTheSurvivorsAtOnce() async throws {
        var configuration = testConfiguration()
        configuration.clusterEventDebounce = .zero
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: configuration) { _, settings in
            settings.heartbeatTimeout = .seconds(60)  // only the leave message can explain a fast reaction
        }
        defer { Task { await hubs.shutdown() } }
        _ = try await hubs.hubs[0].startChildren(try counters(90)).result()
        try await hubs.waitForIdenticalRegistries(count: 90)
        let leaving = hubs.hubs[2]
        let hosted = Set(await leaving.whichChildren())
        #expect(!hosted.isEmpty)
        await leaving.stop()
        let survivors = Array(hubs.hubs.prefix(2))
        try await hubs.waitForHubMesh(survivors, timeout: .seconds(20))
        try await hubs.waitForIdenticalRegistries(survivors, count: 90, timeout: .seconds(20))
        for (_, info) in survivors[0].registryDump() {
            #expect(info.locations.allSatisfy { $0.node != leaving.node.id })
        }
        var running = 0
        for hub in survivors { running += await hub.whichChildren().count }
        #expect(running == 90)
    }

    @Test func hooksFireWithTypedPayloadsInPriorityOrder() async throws {
        let seen = Mutex<[String]>([])
        let configuration = testConfiguration("hooks")
        try configuration.hooks.register(.childRegistered, id: "low", priority: 1) { event in
            seen.withLock { $0.append("low:\(event.childID)") }
        }
        try configuration.hooks.register(.childRegistered, id: "high", priority: 10) { event in
            seen.withLock { $0.append("high:\(event.childID)") }
        }
        try configuration.hooks.register(alter: .childDataAlter, id: "stamp") { data in
            var data = data
            data.metadata["stamped"] = "yes"
            return data
        }
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: configuration)
        defer { Task { await hubs.shutdown() } }
        let joins = Mutex<[NodeID]>([])
        try hubs.hubs[0].hooks.register(.postNodeJoin, id: "joins") { event in joins.withLock { $0.append(event.node) } }
        #expect(hubs.hubs[0].hooks.handlers(for: .childRegistered).map(\.id) == ["high", "low"])

        let spec = try ChildSpec(id: "hooked", Counter.self, .init())
        _ = try await hubs.hubs[0].startChild(spec).result()
        try await hubs.waitForIdenticalRegistries(count: 1)
        try await waitUntil(timeout: .seconds(10), "registered hooks") { seen.withLock { $0.count } >= 4 }  // two handlers on each of two nodes
        let order = seen.withLock { $0 }
        #expect(order.prefix(2) == ["high:hooked", "low:hooked"])
        for hub in hubs.hubs { #expect(hub.child("hooked")?.metadata["stamped"] == "yes") }

        #expect(hubs.hubs[0].hooks.cancel(.childRegistered, id: "low"))
        let (node3, hub3) = try await hubs.addNode(name: "n3")
        defer { Task { await hub3.stop(); await node3.shutdown() } }
        try await waitUntil(timeout: .seconds(10), "post-join hook for n3") { joins.withLock { $0 } == [node3.id] }
        #expect(joins.withLock { $0 } == [node3.id])
    }
}
