import ClusterNode
import DemoActors
import ProcessHubTesting
import Synchronization
import Testing

@testable import ProcessHub

/// A hub configuration with the test kinds and fast timings.
func testConfiguration(_ id: HubID = "test") -> HubConfiguration {
    var configuration = HubConfiguration(hubID: id)
    configuration.register(Counter.self)
    configuration.register(Crasher.self)
    configuration.register(Finisher.self)
    configuration.clusterEventDebounce = .milliseconds(20)
    return configuration
}

func counters(_ count: Int, prefix: String = "c") throws -> [ChildSpec] {
    try (0..<count).map { try ChildSpec(id: "\(prefix)\($0)", Counter.self, .init(start: $0)) }
}

@Suite("Hub cluster", .serialized, .timeLimit(.minutes(3)))
struct HubClusterTests {
    @Test func childrenArePlacedByTheRingAndEveryRegistryAgrees() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: testConfiguration())
        defer { Task { await hubs.shutdown() } }
        let result = try await hubs.hubs[0].startChildren(try counters(300)).result(timeout: .seconds(30))
        #expect(result.status == .ok)
        #expect(result.started.count == 300)
        try await hubs.waitForIdenticalRegistries(count: 300)
        // Each child runs exactly on the node the distribution strategy names.
        let nodes = hubs.hubs[0].nodes(includeLocal: true)
        let placement = ConsistentHashing().belongsTo(result.ids, replicationFactor: 1, nodes: nodes)
        for (id, locations) in result.started {
            #expect(locations.map(\.node) == placement[id])
        }
        #expect(Set(result.started.flatMap { $0.locations.map(\.node) }).count == 3)
        // And each node's supervisor runs exactly its share.
        for hub in hubs.hubs {
            let local = Set(await hub.whichChildren())
            let expected = Set(placement.filter { $0.value == [hub.node.id] }.keys)
            #expect(local == expected)
        }
    }

    @Test func batchesLargerThanOneMessageAreChunked() async throws {
        // 10 000 children on 2 nodes: each node's share spans several start requests and several
        // registry pushes (HubTuning's message sizes), and the registries still end identical.
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: testConfiguration("big"))
        defer { Task { await hubs.shutdown() } }
        let count = 10_000
        #expect(count / 2 > HubTuning().startChildrenPerMessage && count / 2 > HubTuning().entriesPerMessage)
        let result = try await hubs.hubs[0].startChildren(try counters(count)).result(timeout: .seconds(120))
        #expect(result.status == .ok && result.started.count == count)
        try await hubs.waitForIdenticalRegistries(count: count, timeout: .seconds(120))
    }

    @Test func lookupsAndTypedResolveWorkFromEveryNode() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: testConfiguration())
        defer { Task { await hubs.shutdown() } }
        let options = StartOptions(metadata: ["tag": "plain"], childMetadata: ["special": ["tag": "vip", "owner": "ops"]])
        let specs = try counters(20) + [try ChildSpec(id: "special", Counter.self, .init(start: 100))]
        _ = try await hubs.hubs[1].startChildren(specs, options: options).result()
        try await hubs.waitForIdenticalRegistries(count: 21)
        for hub in hubs.hubs {
            let counter = try #require(try hub.resolve("special", as: Counter.self))
            _ = try await counter.increment(by: 1)
            let info = try #require(hub.child("special"))
            #expect(info.metadata == ["tag": "vip", "owner": "ops"])
            #expect(hub.actorIDs(of: "special") == info.locations.map(\.actorID))
            #expect(hub.children(taggedWith: "vip").map(\.id) == ["special"])
            #expect(hub.children(taggedWith: "plain").count == 20)
            #expect(hub.children(withMetadataKey: "owner").map(\.value) == ["ops"])
            #expect(hub.processList(.global).count == 21)
            #expect(hub.nodes().count == 2 && hub.nodes(includeLocal: true).count == 3)
            #expect(hub.child("nope") == nil)
            #expect(try hub.resolve("nope", as: Counter.self) == nil)
        }
        let counter = try #require(try hubs.hubs[0].resolve("special", as: Counter.self))
        #expect(try await counter.current() == 103)
        let localCount = hubs.hubs.map { $0.processList(.local).count }.reduce(0, +)
        #expect(localCount == 21)
        #expect(!hubs.hubs[0].isPartitioned && hubs.hubs[0].isAlive)
    }

    @Test func duplicateIdsAreRefusedWithCheckExisting() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: testConfiguration())
        defer { Task { await hubs.shutdown() } }
        let first = try await hubs.hubs[0].startChildren(try counters(5)).result()
        try await hubs.waitForIdenticalRegistries(count: 5)
        let error = #expect(throws: HubError.self) { try hubs.hubs[1].startChildren(try counters(6)) }
        #expect(error?.code == .alreadyStarted)
        #expect(Set(error?.childIDs ?? []) == Set(first.ids))
        #expect(hubs.hubs[1].child("c5") == nil)  // nothing of the batch started
        // Without the check, running children count as started with their existing actor ids.
        let again = try await hubs.hubs[1].startChildren(try counters(5), options: .init(checkExisting: false)).result()
        #expect(again.status == .ok)
        #expect(Set(again.actorIDs) == Set(first.actorIDs))
        let duplicate = #expect(throws: HubError.self) {
            try hubs.hubs[0].startChildren([try ChildSpec(id: "x", Counter.self, .init()), try ChildSpec(id: "x", Counter.self, .init())])
        }
        #expect(duplicate?.code == .duplicateChildIDs)
        #expect(throws: HubError.self) { try hubs.hubs[0].startChildren([]) }
    }

    @Test func anUnknownKindIsATypedErrorAndRollbackUndoesTheRest() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: testConfiguration())
        defer { Task { await hubs.shutdown() } }
        let ghost = ChildSpec(id: "ghost", kind: "not-registered", encodedArguments: [])
        let result = try await hubs.hubs[0].startChildren(try counters(10) + [ghost]).result()
        #expect(result.status == .error)
        #expect(result.errors.map(\.id) == ["ghost"])
        #expect(result.errors.first?.error.code == .unknownKind)
        #expect(result.started.count == 10 && !result.rolledBack)

        let rollback = try await hubs.hubs[0].startChildren(
            try counters(10, prefix: "r") + [ChildSpec(id: "ghost2", kind: "not-registered", encodedArguments: [])],
            options: .init(onFailure: .rollback)
        ).result()
        #expect(rollback.rolledBack)
        #expect(rollback.errors.first?.error.code == .unknownKind)
        try await hubs.waitForIdenticalRegistries(count: 10)  // only the first batch remains
        for hub in hubs.hubs { #expect(hub.child("r0") == nil) }
    }

    @Test func stoppingRemovesChildrenEverywhere() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: testConfiguration())
        defer { Task { await hubs.shutdown() } }
        _ = try await hubs.hubs[0].startChildren(try counters(30)).result()
        try await hubs.waitForIdenticalRegistries(count: 30)
        let ids = (0..<10).map { "c\($0)" }
        let stopped = try await hubs.hubs[2].stopChildren(ids + ["unknown"]).result()
        #expect(Set(stopped.ids) == Set(ids))
        #expect(stopped.errors.map(\.id) == ["unknown"])
        #expect(stopped.errors.first?.error.code == .notFound)
        try await hubs.waitForIdenticalRegistries(count: 20)
        var running = 0
        for hub in hubs.hubs { running += await hub.whichChildren().count }
        #expect(running == 20)
    }

    @Test func staticChildrenStartAtBoot() async throws {
        var configuration = testConfiguration("boot")
        configuration.childSpecs = try counters(12, prefix: "boot")
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: configuration)
        defer { Task { await hubs.shutdown() } }
        try await hubs.waitForIdenticalRegistries(count: 12)
    }

    @Test func invalidConfigurationsAndDuplicateHubsAreTypedErrors() async throws {
        let node = try await ClusterNode.start(.init(name: "solo", secret: "s"))
        defer { Task { await node.shutdown() } }
        var bad = testConfiguration()
        bad.childSpecs = [ChildSpec(id: "x", kind: "unregistered", encodedArguments: [])]
        let invalid = await #expect(throws: HubError.self) { try await ProcessHub.start(bad, on: node) }
        #expect(invalid?.code == .invalidConfiguration)
        let hub = try await ProcessHub.start(testConfiguration(), on: node)
        let duplicate = await #expect(throws: HubError.self) { try await ProcessHub.start(testConfiguration(), on: node) }
        #expect(duplicate?.code == .hubAlreadyRunning)
        // A second hub with another id on the same node is fine.
        let other = try await ProcessHub.start(testConfiguration("other"), on: node)
        await other.stop()
        await hub.stop()
        #expect(!hub.isAlive)
        #expect(throws: HubError.self) { try hub.startChildren(try counters(1)) }
        // A stopped hub's id is free again on this node.
        let again = try await ProcessHub.start(testConfiguration(), on: node)
        #expect(again.isAlive)
        await again.stop()
    }
}
