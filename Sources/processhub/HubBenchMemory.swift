import Foundation
import ProcessHubTesting

/// W6: resident memory per child. Node 1 (this process) and 2 node processes; the sum over the
/// three of (RSS after − RSS before starting n children), measured once every registry is full
/// and after a 2 s settle (long enough for every node's memory trimmer to have run once growth
/// stopped: the steady state, not the burst), divided by n.
enum MemoryBench {
    static let settle: Duration = .seconds(2)

    static var cases: [HubBenchCase] {
        [10_000, 100_000].map { children in
            HubBenchCase(metrics: ["bytes_per_child"], extra: ["n": "\(children)", "nodes": "3"]) {
                let specs = try BenchChildren.specs(children)
                return try await HubBenchCluster.with(processes: 2) { cluster in
                    let pids = [getpid()] + cluster.nodeProcesses.map(\.process.pid)
                    try await Task.sleep(for: settle)
                    releaseFreedMemory()
                    let before = try pids.map(residentBytes(of:)).reduce(0, +)
                    _ = try await cluster.startCounters(specs, timeout: .seconds(300))
                    try await Task.sleep(for: settle)
                    let after = try pids.map(residentBytes(of:)).reduce(0, +)
                    return ["bytes_per_child": Double(after - before) / Double(children)]
                }
            }
        }
    }
}
