import DemoActors
import Foundation
import ProcessHub

/// W8: whether starting children gets slower as the registry grows. 3 nodes; node 1 starts
/// `batches` batches of `batchSize` counters one after another, each awaited (result and every
/// registry complete) before the next. `batch_ms`: one batch's awaited start, one line per batch
/// index with the registry's size after it; `growth`: the last batch's time ÷ the first's.
/// A start cost that does not depend on the registry's size gives a growth near 1.
struct GrowthBench {
    var batches: Int
    var batchSize: Int

    /// How long one batch may take: generous, so that a slow old binary is measured, not cut off.
    static let batchTimeout: Duration = .seconds(600)

    /// Runs the sequence `reps` times, each on a fresh cluster, and prints the median per batch
    /// and the median growth. A failed run ends the workload with an `"error"` line.
    func measure(reps requested: Int, json: Bool) async {
        let reps = max(requested, 1)
        var runs: [[HubBenchCluster.StartTiming]] = []
        var failure: String?
        for rep in 1...reps {
            progress("W8 batches=\(batches) batch_size=\(batchSize) rep \(rep)/\(reps)")
            do {
                runs.append(try await runOnce())
            } catch {
                failure = "\(error)"
                progress("W8 rep \(rep) failed: \(error)")
                break
            }
        }
        report(runs, failure: failure, json: json).print()
    }

    /// One line per batch index (median over the runs) and the growth line.
    private func report(_ runs: [[HubBenchCluster.StartTiming]], failure: String?, json: Bool) -> BenchReport {
        var report = BenchReport(workload: "W8", json: json)
        let fixed = ["batch_size": "\(batchSize)", "nodes": "3"]
        let metrics: [(name: String, growth: String, value: (HubBenchCluster.StartTiming) -> Double)] = [
            ("batch_ms", "growth", { $0.awaited.milliseconds }),
            ("registries_full_ms", "registries_full_growth", { $0.registriesFull.milliseconds }),
        ]
        for metric in metrics {
            let times = runs.map { $0.map(metric.value) }
            for batch in 0..<batches {
                let extra = fixed.merging(["batch": "\(batch)", "registry_size": "\((batch + 1) * batchSize)"]) { $1 }
                report.add(metric.name, times.compactMap { batch < $0.count ? $0[batch] : nil }, extra: extra)
            }
            report.add(metric.growth, times.compactMap(Self.growth), extra: fixed.merging(["batches": "\(batches)"]) { $1 })
        }
        if let failure { report.addError("batch_ms", failure, extra: fixed) }
        return report
    }

    /// The last time ÷ the first, for a run that measured every batch.
    private static func growth(_ times: [Double]) -> Double? {
        guard let first = times.first, let last = times.last, first > 0 else { return nil }
        return last / first
    }

    /// One fresh cluster; every batch's awaited milliseconds, in order. The specs are all built
    /// before the cluster starts (building them would otherwise hold an event loop mid-run).
    private func runOnce() async throws -> [HubBenchCluster.StartTiming] {
        let specs = try (0..<batches).map { batch in
            try (0..<batchSize).map { index in
                let number = batch * batchSize + index
                return try ChildSpec(id: BenchChildren.id(number), Counter.self, .init(start: number))
            }
        }
        return try await HubBenchCluster.with(processes: 2) { cluster in
            var times: [HubBenchCluster.StartTiming] = []
            for (batch, batchSpecs) in specs.enumerated() {
                let timing = try await cluster.startCounters(
                    batchSpecs, registryCount: (batch + 1) * batchSize, timeout: Self.batchTimeout)
                times.append(timing)
                let awaited = Int(timing.awaited.milliseconds), full = Int(timing.registriesFull.milliseconds)
                progress("W8 batch \(batch): await \(awaited) ms, registries full \(full) ms")
            }
            return times
        }
    }
}
