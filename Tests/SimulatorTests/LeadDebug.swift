import ClusterNode
import Foundation
import ProcessHub
import ProcessHubTesting
import Testing

@Suite struct LeadDebug {
    @Test func one() {
        guard let s = ProcessInfo.processInfo.environment["SEED"], let seed = UInt64(s) else { return }
        let family = SeedSweepTests.families.first { $0.seeds.contains(seed) }!
        let nodes = family.nodes.lowerBound + Int(seed % UInt64(family.nodes.count))
        let report = SimulatedCluster(seed: seed, nodes: nodes, configuration: family.configuration(nodes)).runRandomScenario()
        print("FAMILY \(family.name) nodes \(nodes)")
        for v in report.violations { print("VIOLATION \(v)") }
        for line in report.trace { print("T \(line)") }
    }
}
