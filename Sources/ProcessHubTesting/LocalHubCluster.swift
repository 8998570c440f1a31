import ClusterNode
import ProcessHub

/// A ``LocalCluster`` with the same hub started on every node: a real multi-node hub cluster
/// inside one test process.
public final class LocalHubCluster: Sendable {
    /// The nodes.
    public let cluster: LocalCluster
    /// The hub on each node, in node order.
    public let hubs: [ProcessHub]
    /// The configuration every hub started with (before per-node adjustments).
    public let configuration: HubConfiguration

    private init(cluster: LocalCluster, hubs: [ProcessHub], configuration: HubConfiguration) {
        self.cluster = cluster
        self.hubs = hubs
        self.configuration = configuration
    }

    /// Starts `nodes` nodes, a hub on each, and waits until every hub sees every other.
    public static func start(
        nodes count: Int, configuration: HubConfiguration, timeout: Duration = .seconds(30),
        configureNode: (Int, inout ClusterNodeSettings) -> Void = { _, _ in }
    ) async throws -> LocalHubCluster {
        let cluster = try await LocalCluster.start(nodes: count, timeout: timeout, configure: configureNode)
        var hubs: [ProcessHub] = []
        do {
            for node in cluster.nodes { hubs.append(try await ProcessHub.start(configuration, on: node)) }
            let result = LocalHubCluster(cluster: cluster, hubs: hubs, configuration: configuration)
            try await result.waitForHubMesh(timeout: timeout)
            return result
        } catch {
            for hub in hubs { await hub.stop(movingChildren: false) }
            await cluster.shutdown()
            throw error
        }
    }

    /// Adds a node (seeded with the first) running the same hub, and waits until every hub sees it.
    public func addNode(name: String, timeout: Duration = .seconds(30)) async throws -> (ClusterNode, ProcessHub) {
        let settings = ClusterNodeSettings(
            name: name, secret: ClusterSecret(cluster.secret), seeds: [cluster.nodes[0].id.address])
        let node = try await ClusterNode.start(settings)
        let hub = try await ProcessHub.start(configuration, on: node)
        try await waitUntil(timeout: timeout, "the hubs to see \(name)") {
            (self.hubs + [hub]).allSatisfy { $0.nodes(includeLocal: true).contains(node.id) && !$0.isLocked }
                && hub.nodes().count >= self.hubs.count
        }
        return (node, hub)
    }

    /// Waits until every hub lists every node as a member and has handled those joins.
    public func waitForHubMesh(_ hubs: [ProcessHub]? = nil, timeout: Duration = .seconds(30)) async throws {
        let hubs = hubs ?? self.hubs
        let all = Set(hubs.map(\.node.id))
        try await waitUntil(timeout: timeout, "every hub to see \(all.count) members") {
            hubs.allSatisfy { Set($0.nodes(includeLocal: true)) == all && !$0.isLocked }
        }
    }

    /// Waits until every hub's registry maps exactly `ids` to the same locations.
    public func waitForIdenticalRegistries(_ hubs: [ProcessHub]? = nil, count: Int, timeout: Duration = .seconds(30)) async throws {
        let hubs = hubs ?? self.hubs
        try await waitUntil(timeout: timeout, "identical registries of \(count) children") {
            let dumps = hubs.map { $0.registryDump().mapValues { $0.locations } }
            return dumps.allSatisfy { $0.count == count && $0 == dumps[0] }
        }
    }

    /// Stops every hub (without moving children: the whole cluster goes) and every node.
    public func shutdown() async {
        for hub in hubs { await hub.stop(movingChildren: false) }
        await cluster.shutdown()
    }
}
