import ClusterNode
import Foundation
import ProcessHub

/// W4: 4 nodes (node 1 here, 3 processes) with 10 000 children; one node process is killed
/// (SIGKILL) or silenced (SIGSTOP). Detection: until node 1's hub no longer lists it as member.
/// Recovery: until node 1's registry lists all n children, none on the lost node, and the
/// survivors' localCounts sum to n.
enum FailoverBench {
    static let children = 10_000

    static var cases: [HubBenchCase] {
        [
            benchCase(signal: SIGKILL, detect: "detect_ms", recovered: "recovered_ms"),
            benchCase(signal: SIGSTOP, detect: "silent_detect_ms", recovered: "silent_recovered_ms"),
        ]
    }

    private static func benchCase(signal: Int32, detect: String, recovered: String) -> HubBenchCase {
        HubBenchCase(metrics: [detect, recovered], extra: ["n": "\(children)", "nodes": "4"]) {
            try await HubBenchCluster.withCounters(children, processes: 3) { cluster, _ in
                let victim = cluster.nodeProcesses[0]
                let survivors = cluster.allNodes.filter { $0 != victim.id }
                let hub = cluster.hub
                let start = ContinuousClock.now
                victim.process.send(signal)
                async let detected = Poll.until(since: start, timeout: .seconds(60), "node 1 to drop \(victim.id.name)") {
                    !hub.nodes().contains(victim.id)
                }
                let recovery = try await Poll.until(since: start, timeout: .seconds(120), "the children to recover") {
                    guard let statuses = await cluster.statuses(of: survivors),
                        statuses.map(\.localCount).reduce(0, +) == children
                    else { return false }
                    let registry = hub.registryDump()
                    return registry.count == children
                        && registry.values.allSatisfy { !$0.locations.isEmpty && !$0.locations.contains { $0.node == victim.id } }
                }
                let detection = try await detected
                victim.process.kill()
                return [detect: detection.milliseconds, recovered: recovery.milliseconds]
            }
        }
    }
}
