import ClusterNode
import ProcessHub

/// W3: a W1 cluster with 10 000 children; a 4th node process joins. `join_converged_ms`: from
/// its READY line (seen within ~2 ms) until every node reports the 4 members, registryCount ==
/// n, not locked, the nodes' localCounts summing to n, and node 4 running its consistent-hashing
/// share.
enum JoinBench {
    static let children = 10_000

    static var cases: [HubBenchCase] {
        [
            HubBenchCase(metrics: ["join_converged_ms"], extra: ["n": "\(children)", "nodes": "4", "since": "\"ready\""]) {
                try await HubBenchCluster.withCounters(children, processes: 2) { cluster, _ in
                    let joiner = try await cluster.launchNode()
                    let nodes = cluster.allNodes
                    let share = ConsistentHashing()
                        .belongsTo(BenchChildren.ids(children), replicationFactor: 1, nodes: nodes)
                        .values.filter { $0.first == joiner.id }.count
                    let converged = try await cluster.waitForAll(
                        nodes, since: joiner.ready, timeout: .seconds(120), "the 4th node's join to converge"
                    ) { statuses in
                        statuses.allSatisfy { $0.members == nodes && $0.registryCount == children && !$0.isLocked }
                            && statuses.map(\.localCount).reduce(0, +) == children
                            && statuses.first { $0.node == joiner.id }?.localCount == share
                    }
                    return ["join_converged_ms": converged.milliseconds]
                }
            },
            HubBenchCase(
                metrics: ["handover_converged_ms"],
                extra: ["n": "\(children)", "nodes": "4", "since": "\"ready\"", "migration": "\"hotswap+handover\""]
            ) {
                try await HubBenchCluster.withCounters(children, processes: 2, handover: true) { cluster, _ in
                    try await handoverConverged(cluster)
                }
            },
        ]
    }

    /// W3 with HotSwap and handover: until every moved counter runs on the 4th node with its
    /// state applied there, and every node agrees on the registry.
    private static func handoverConverged(_ cluster: HubBenchCluster) async throws -> [String: Double] {
        let joiner = try await cluster.launchNode()
        let nodes = cluster.allNodes
        let share = ConsistentHashing()
            .belongsTo(BenchChildren.ids(children), replicationFactor: 1, nodes: nodes)
            .values.filter { $0.first == joiner.id }.count
        let converged = try await cluster.waitForAll(
            nodes, since: joiner.ready, timeout: .seconds(120), "the handover to the 4th node to converge"
        ) { statuses in
            guard let joined = statuses.first(where: { $0.node == joiner.id }) else { return false }
            return statuses.allSatisfy { $0.members == nodes && $0.registryCount == children && !$0.isLocked }
                && statuses.map(\.localCount).reduce(0, +) == children
                && joined.localCount == share && joined.handoversApplied == share
        }
        return ["handover_converged_ms": converged.milliseconds]
    }
}
