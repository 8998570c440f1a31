import ClusterNode
import ProcessHub

/// W3: a W1 cluster with 10 000 children; a 4th node process joins. `join_converged_ms`: from
/// its READY line (seen within ~2 ms) until every node reports the 4 members, registryCount ==
/// n, not locked, the nodes' localCounts summing to n, and node 4 running its consistent-hashing
/// share. `handover_converged_ms`: the same with HotSwap and handover on every node, until node 4
/// has also applied every moved counter's state.
enum JoinBench {
    static let children = 10_000

    static var cases: [HubBenchCase] {
        [
            HubBenchCase(metrics: ["join_converged_ms"], extra: ["n": "\(children)", "nodes": "4", "since": "\"ready\""]) {
                try await HubBenchCluster.withCounters(children, processes: 2) { cluster, _ in
                    ["join_converged_ms": try await joinConverged(cluster, handover: false)]
                }
            },
            HubBenchCase(
                metrics: ["handover_converged_ms"],
                extra: ["n": "\(children)", "nodes": "4", "since": "\"ready\"", "migration": "\"hotswap+handover\""]
            ) {
                try await HubBenchCluster.withCounters(children, processes: 2, handover: true) { cluster, _ in
                    ["handover_converged_ms": try await joinConverged(cluster, handover: true)]
                }
            },
        ]
    }

    /// Launches the 4th node and waits until every node reports the 4 members, the whole
    /// registry, no pending work, the children summing to n and node 4 running its share — with
    /// `handover`, also its share's states applied there. Milliseconds since its READY line.
    private static func joinConverged(_ cluster: HubBenchCluster, handover: Bool) async throws -> Double {
        let joiner = try await cluster.launchNode()
        let nodes = cluster.allNodes
        let share = ConsistentHashing()
            .belongsTo(BenchChildren.ids(children), replicationFactor: 1, nodes: nodes)
            .values.filter { $0.first == joiner.id }.count
        let converged = try await cluster.waitForAll(
            nodes, since: joiner.ready, timeout: .seconds(120), "the 4th node's join to converge"
        ) { statuses in
            guard let joined = statuses.first(where: { $0.node == joiner.id }) else { return false }
            return statuses.allSatisfy { $0.members == nodes && $0.registryCount == children && !$0.isLocked }
                && statuses.map(\.localCount).reduce(0, +) == children
                && joined.localCount == share && (!handover || joined.handoversApplied == share)
        }
        return converged.milliseconds
    }
}
