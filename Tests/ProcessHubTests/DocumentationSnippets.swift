import ClusterNode
import DemoActors
import Distributed
import ProcessHub
import ProcessHubTesting

// The code snippets of the DocC articles (Sources/ProcessHub/ProcessHub.docc) that do not come
// from Examples/, compiled with the tests so that an API change breaks the build instead of
// silently outdating the documentation. Nothing here runs; keep each function in step with the
// article named above it.

/// Distribution.md
private func distributionSnippets(hub: ProcessHub, specs: [ChildSpec], n2: ClusterNode, n3: ClusterNode) throws {
    var configuration = HubConfiguration(hubID: "docs")
    configuration.distribution = Guided()
    let operation = try hub.startChildren(specs, options: .init(childMapping: ["c1": [n2.id], "c2": [n3.id]]))
    configuration.distribution = CentralizedLoadBalancer(pushInterval: .seconds(5))
    _ = operation
}

/// Redundancy.md
private func redundancySnippets() {
    var configuration = HubConfiguration(hubID: "docs")
    configuration.redundancy = Replication(factor: .count(3), model: .activePassive, signal: .all)
}

distributed actor DocsCache: HubProcess {
    typealias ActorSystem = ClusterSystem
    static let kind: HubKind = "docs-cache"
    struct Arguments: Codable, Sendable {}
    private var serving = false

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
    }

    func redundancySignal(_ mode: ReplicaMode) async {
        serving = mode == .active
    }
}

/// Synchronization.md
private func synchronizationSnippets() {
    var configuration = HubConfiguration(hubID: "docs")
    configuration.synchronization = PubSub(syncInterval: .seconds(30))
}

/// Migration.md
private func migrationSnippets(hub: ProcessHub) async throws {
    var configuration = HubConfiguration(hubID: "docs")
    configuration.migration = ColdSwap(handover: true)
    configuration.migration = HotSwap(handover: true)
    configuration.migration = ColdSwap(handover: true, consent: MigrationConsent(retryInterval: .seconds(2)))
    let result = try await hub.drain(timeout: .seconds(30))
    print(result.migrated, result.forced)
}

/// Hooks.md
private func hookSnippets(hub: ProcessHub) throws {
    try hub.hooks.register(.childRegistered, id: "audit", priority: 10) { event in
        print(event.childID, event.locations)
    }
    try hub.hooks.register(alter: .childDataAlter, id: "stamp") { data in
        var data = data
        data.metadata["owner"] = "billing"
        return data
    }
    hub.hooks.cancel(.childRegistered, id: "audit")
    let listing = hub.hooks.handlers(for: .childRegistered)  // [HookHandlerInfo]: id and priority
    _ = listing
}

/// GettingStarted.md, "Testing your own kinds"
private func testingSnippet(configuration: HubConfiguration) async throws {
    let specs = try (0..<10).map { try ChildSpec(id: "c\($0)", Counter.self, .init()) }
    let hubs = try await LocalHubCluster.start(nodes: 3, configuration: configuration)
    defer { Task { await hubs.shutdown() } }
    _ = try await hubs.hubs[0].startChildren(specs).result()
    try await hubs.waitForIdenticalRegistries(count: specs.count)
}

/// ClusterNode.md
private func clusterNodeSnippet() async throws {
    let n1 = try await ClusterNode.start(.init(name: "n1", port: 0, secret: "three-node-secret"))
    let n2 = try await ClusterNode.start(.init(
        name: "n2", port: 0, secret: "three-node-secret", seeds: [n1.id.address]))

    for await event in n2.events {  // up / down(reason)
        print(event)
    }
}
