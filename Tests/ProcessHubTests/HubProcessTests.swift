import ClusterNode
import DemoActors
import Foundation
import ProcessHubTesting
import Testing

@testable import ProcessHub

@Suite("Hub across real node processes", .serialized, .timeLimit(.minutes(3)))
struct HubProcessTests {
    /// SIGKILL of a node process hosting children: the survivors restart all of them and their
    /// registries agree.
    @Test func aKilledNodesChildrenAreRestartedOnTheSurvivors() async throws {
        defer { NodeProcess.endAll() }
        let secret = "hubproc-\(UInt64.random(in: 0 ... .max))"
        let node = try await ClusterNode.start(.init(name: "n1", secret: ClusterSecret(secret)))
        defer { Task { await node.shutdown() } }
        var configuration = HubConfiguration(hubID: "ph")
        registerDemoKinds(in: &configuration)
        let hub = try await ProcessHub.start(configuration, on: node)
        defer { Task { await hub.stop() } }
        let seed = "\(node.id.address)"
        let victim = try NodeProcess.launch(["node", "--name", "victim", "--secret", secret, "--seed", seed, "--hub", "ph"])
        let survivor = try NodeProcess.launch(["node", "--name", "survivor", "--secret", secret, "--seed", seed, "--hub", "ph"])
        let victimID = try #require(NodeID(try await victim.waitUntilReady()))
        let survivorID = try #require(NodeID(try await survivor.waitUntilReady()))
        try await waitUntil(timeout: .seconds(30), "both processes in the hub") {
            Set(hub.nodes()) == [victimID, survivorID]
        }
        let specs = try (0..<150).map { try ChildSpec(id: "k\($0)", Counter.self, .init(start: $0)) }
        let result = try await hub.startChildren(specs).result(timeout: .seconds(30))
        #expect(result.status == .ok)
        let onVictim = result.started.filter { $0.locations.first?.node == victimID }.map(\.id)
        #expect(!onVictim.isEmpty)
        try await waitUntil(timeout: .seconds(30), "the survivor's registry to match") {
            let mine = hub.registryDump().mapValues { $0.locations.map(\.actorID) }
            return try await hub.registryView(on: survivorID) == mine && mine.count == 150
        }

        victim.kill()
        try await waitUntil(timeout: .seconds(30), "every child on a survivor") {
            let dump = hub.registryDump()
            return dump.count == 150 && dump.values.allSatisfy { !$0.locations.isEmpty && $0.locations.allSatisfy { $0.node != victimID } }
        }
        try await waitUntil(timeout: .seconds(30), "identical registries on the survivors") {
            let mine = hub.registryDump().mapValues { $0.locations.map(\.actorID) }
            return try await hub.registryView(on: survivorID) == mine
        }
        // The restarted children really run: each answers from its new node.
        for id in onVictim {
            let counter = try #require(try hub.resolve(id, as: Counter.self))
            #expect(try await counter.current() == Int(id.dropFirst())!)
        }
        await survivor.terminate()
    }

    /// A node process killed and restarted on the same endpoint: its old incarnation leaves no
    /// entry behind, and the new one takes back its share of the ring.
    @Test func aRestartedNodeLeavesNoStaleEntriesAndTakesBackItsChildren() async throws {
        defer { NodeProcess.endAll() }
        let secret = "restart-\(UInt64.random(in: 0 ... .max))"
        let node = try await ClusterNode.start(.init(name: "n1", secret: ClusterSecret(secret)))
        defer { Task { await node.shutdown() } }
        var configuration = HubConfiguration(hubID: "rs")
        registerDemoKinds(in: &configuration)
        let hub = try await ProcessHub.start(configuration, on: node)
        defer { Task { await hub.stop() } }
        let port = String(try freeLoopbackPorts(1)[0])
        let arguments = ["node", "--name", "phoenix", "--port", port, "--secret", secret, "--seed", "\(node.id.address)", "--hub", "rs"]
        let first = try NodeProcess.launch(arguments)
        let oldID = try #require(NodeID(try await first.waitUntilReady()))
        try await waitUntil(timeout: .seconds(30)) { hub.nodes() == [oldID] && !hub.isLocked }
        let result = try await hub.startChildren(try (0..<100).map { try ChildSpec(id: "p\($0)", Counter.self, .init()) }).result()
        let share = Set(result.started.filter { $0.locations.first?.node == oldID }.map(\.id))
        #expect(!share.isEmpty)

        first.kill()
        let second = try NodeProcess.launch(arguments)
        let newID = try #require(NodeID(try await second.waitUntilReady()))
        #expect(newID.sameEndpoint(as: oldID) && newID != oldID)
        try await waitUntil(timeout: .seconds(30), "the new incarnation to take back its share") {
            let dump = hub.registryDump()
            guard dump.count == 100, hub.nodes() == [newID], !hub.isLocked else { return false }
            let onNew = Set(dump.filter { $0.value.locations.map(\.node) == [newID] }.keys)
            return onNew == share
        }
        for info in hub.registryDump().values {
            #expect(info.locations.allSatisfy { $0.node != oldID })
        }
        await second.terminate()
    }

    /// SIGTERM to a node process hosting counters: before it exits, its hub hands every
    /// counter's value to the counter's new node, while a caller here keeps incrementing them —
    /// no acknowledged increment is lost. Both migration orders are exercised.
    @Test(arguments: ["hot", "cold"])
    func aTerminatedNodeHandsItsCountersOverWithoutLosingAnIncrement(migration: String) async throws {
        defer { NodeProcess.endAll() }
        let secret = "sigterm-\(UInt64.random(in: 0 ... .max))"
        let node = try await ClusterNode.start(.init(name: "n1", secret: ClusterSecret(secret)))
        defer { Task { await node.shutdown() } }
        var configuration = HubConfiguration(hubID: "st")
        registerDemoKinds(in: &configuration)
        configuration.migration = migration == "hot" ? HotSwap(handover: true) : ColdSwap(handover: true)
        let hub = try await ProcessHub.start(configuration, on: node)
        defer { Task { await hub.stop(movingChildren: false) } }
        let seed = "\(node.id.address)"
        let common = ["--secret", secret, "--seed", seed, "--hub", "st", "--migration", migration, "--handover"]
        let leaving = try NodeProcess.launch(["node", "--name", "leaving"] + common)
        let staying = try NodeProcess.launch(["node", "--name", "staying"] + common)
        let leavingID = try #require(NodeID(try await leaving.waitUntilReady()))
        let stayingID = try #require(NodeID(try await staying.waitUntilReady()))
        try await waitUntil(timeout: .seconds(30), "both processes in the hub") {
            Set(hub.nodes()) == [leavingID, stayingID] && !hub.isLocked
        }
        let ids = (0..<60).map { "t\($0)" }
        let result = try await hub.startChildren(ids.map { try ChildSpec(id: $0, Counter.self, .init()) }).result()
        let onLeaving = result.started.filter { $0.locations.first?.node == leavingID }.map(\.id)
        #expect(!onLeaving.isEmpty)
        try await waitUntil(timeout: .seconds(30), "the staying node's registry to match") {
            try await hub.registryView(on: stayingID).count == ids.count
        }
        let caller = IncrementingCaller(hub: hub, ids: ids)
        try await Task.sleep(for: .milliseconds(300))

        #expect(await leaving.terminate(timeout: .seconds(30)) == 0)
        try await waitUntil(timeout: .seconds(30), "every counter away from the leaving node") {
            let dump = hub.registryDump()
            return dump.count == ids.count && dump.values.allSatisfy { $0.locations.count == 1 && $0.locations[0].node != leavingID }
        }
        try await Task.sleep(for: .milliseconds(300))
        let acknowledged = await caller.stop()
        var lost: [String] = []
        for id in ids {
            let counter = try #require(try hub.resolve(id, as: Counter.self))
            let value = try await counter.current()
            if value != acknowledged[id, default: 0] { lost.append("\(id) \(value)/\(acknowledged[id, default: 0]) on \(hub.child(id)!.locations.map(\.node.name)) from-leaving=\(onLeaving.contains(id))") }
            #expect(value == acknowledged[id, default: 0], "\(id) lost increments")
        }
        if !lost.isEmpty {
            print("LOST", lost.joined(separator: "\n"))
            print("LEAVINGLOG", leaving.log)
            print("STAYINGLOG", staying.log)
        }
        #expect(onLeaving.allSatisfy { acknowledged[$0, default: 0] > 0 })
        await staying.terminate()
    }
}
