import Foundation
import ProcessHubTesting
import Testing

/// Replays sweep seeds with their whole trace, for whoever debugs one:
/// `SIMULATOR_REPLAY="100366 301571" swift test --filter replaySeeds` (family from the seed's range).
/// Without the variable it replays nothing.
@Test func replaySeeds() throws {
    let seeds = (ProcessInfo.processInfo.environment["SIMULATOR_REPLAY"] ?? "").split(separator: " ").compactMap { UInt64($0) }
    for seed in seeds {
        let family = try #require(SeedSweepTests.families.first { $0.seeds.contains(seed) }, "no sweep family has seed \(seed)")
        let nodes = family.nodes.lowerBound + Int(seed % UInt64(family.nodes.count))
        var options = family.options
        options.traceLimit = 1_000_000
        options.traceOnSuccess = true
        let report = SimulatedCluster(seed: seed, nodes: nodes, configuration: family.configuration(nodes), options: options)
            .runRandomScenario()
        print("\(family.name):\n\(report)")
    }
}
