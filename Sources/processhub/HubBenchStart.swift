import Foundation

/// W1 and W7: 3 nodes; node 1 starts `n` counters in one batch and awaits the result.
/// `await_ms`: the `startChildren` call until the result returned; `registries_full_ms`: the
/// same instant until every node's registry listed all `n` children.
enum StartBench {
    static func benchCase(children: Int, timeout: Duration) -> HubBenchCase {
        HubBenchCase(metrics: ["await_ms", "registries_full_ms"], extra: ["n": "\(children)", "nodes": "3"]) {
            try await HubBenchCluster.withCounters(children, processes: 2, timeout: timeout) { _, timing in
                ["await_ms": timing.awaited.milliseconds, "registries_full_ms": timing.registriesFull.milliseconds]
            }
        }
    }

    /// W1: 10 000 children.
    static var w1: [HubBenchCase] { [benchCase(children: 10_000, timeout: .seconds(120))] }

    /// W7: 100 000 and 1 000 000 children, with a generous timeout.
    static var w7: [HubBenchCase] {
        [100_000, 1_000_000].map { benchCase(children: $0, timeout: .seconds(600)) }
    }
}
