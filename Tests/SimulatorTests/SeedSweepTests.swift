import ClusterNode
import ProcessHub
import ProcessHubTesting
import Testing

/// Thousands of seeded schedules over every strategy family, expecting no violation.
@Suite struct SeedSweepTests {
    /// A family of hub configurations swept over a range of seeds.
    struct Family: Sendable, CustomStringConvertible {
        var name: String
        var seeds: Range<UInt64>
        var nodes: ClosedRange<Int>
        /// How the simulator behaves (start failures, faults during splits).
        var options: SimulationOptions = SeedSweepTests.options
        /// The configuration for a cluster of that many nodes (quorum sizes depend on it).
        var configuration: @Sendable (Int) -> HubConfiguration

        var description: String { "\(name) \(seeds)" }
    }

    static func hub(_ change: (inout HubConfiguration) -> Void = { _ in }) -> HubConfiguration {
        var configuration = HubConfiguration(hubID: "sweep")
        change(&configuration)
        return configuration
    }

    /// Seeds per family: 11 families × 1 000 ≥ 10 000 schedules.
    static let perFamily: UInt64 = 1_000

    /// The families that also see start failures and faults during splits.
    static let faulty = SimulationOptions(
        startFailureRate: 0.02, failingKindRate: 0.04, faultsDuringSplits: true, maxChildren: 200, maxSteps: 8)

    /// Two or three instances per child, one of them active.
    static func replicated(_ nodes: Int) -> Replication {
        Replication(factor: .count(nodes.isMultiple(of: 2) ? 2 : 3), model: .activePassive, signal: .all)
    }

    static let families: [Family] = [
        Family(name: "Divergence", seeds: 0..<perFamily, nodes: 3...7) { _ in hub() },
        Family(name: "MajorityQuorum", seeds: 100_000..<(100_000 + perFamily), nodes: 3...7) { _ in
            hub { $0.partitionTolerance = MajorityQuorum() }
        },
        Family(name: "StaticQuorum", seeds: 200_000..<(200_000 + perFamily), nodes: 3...7) { nodes in
            hub { $0.partitionTolerance = StaticQuorum(quorumSize: nodes / 2 + 1) }
        },
        Family(name: "ColdSwap+handover", seeds: 300_000..<(300_000 + perFamily), nodes: 3...7) { _ in
            hub { $0.migration = ColdSwap(handover: true) }
        },
        Family(name: "HotSwap+handover", seeds: 400_000..<(400_000 + perFamily), nodes: 3...7) { _ in
            hub { $0.migration = HotSwap(handover: true) }
        },
        Family(name: "Singularity+MajorityQuorum+HotSwap", seeds: 500_000..<(500_000 + perFamily), nodes: 3...7) { _ in
            hub {
                $0.redundancy = Singularity()
                $0.partitionTolerance = MajorityQuorum()
                $0.migration = HotSwap(handover: true)
            }
        },
        Family(name: "Replication", seeds: 600_000..<(600_000 + perFamily), nodes: 3...7, options: faulty) { nodes in
            hub { $0.redundancy = replicated(nodes) }
        },
        Family(name: "MajorityQuorum+ColdSwap+faults", seeds: 700_000..<(700_000 + perFamily), nodes: 3...7, options: faulty) { _ in
            hub {
                $0.partitionTolerance = MajorityQuorum()
                $0.migration = ColdSwap(handover: true)
            }
        },
        Family(name: "DynamicQuorum+HotSwap+faults", seeds: 900_000..<(900_000 + perFamily), nodes: 3...7, options: faulty) { _ in
            hub {
                $0.partitionTolerance = DynamicQuorum(quorumSize: 60, thresholdTime: .seconds(5))
                $0.migration = HotSwap(handover: true)
            }
        },
        // Children defer their moves by chance (some answer after the round's deadline), are asked
        // again, and move once ready or after `maxDeferTime`; drains wait for them, then force.
        Family(name: "ColdSwap+consent", seeds: 1_000_000..<(1_000_000 + perFamily), nodes: 3...7) { _ in
            hub { $0.migration = ColdSwap(handover: true, consent: consent) }
        },
        // Registry changes reach most nodes only through other nodes, and rounds every 2 s.
        Family(name: "Divergence+Gossip", seeds: 800_000..<(800_000 + perFamily), nodes: 3...7) { _ in
            hub { $0.synchronization = Gossip(syncInterval: .seconds(2), recipients: 2) }
        },
    ]

    /// Quick rounds, so that deferrals, retries and forced moves all happen within a schedule.
    static let consent = MigrationConsent(
        consentTimeout: .milliseconds(200), retryInterval: .milliseconds(500), maxDeferTime: .seconds(3))

    /// What one slice of a family found.
    struct Outcome: Sendable {
        var family: String
        var runs = 0
        var failures: [SimulationReport] = []
        var events = 0
    }

    /// Small schedules (at most 8 steps, 200 children), so that 10 000 of them run in minutes in debug.
    static let options = SimulationOptions(maxChildren: 200, maxSteps: 8)

    static func sweep(_ family: Family, seeds: Range<UInt64>) -> Outcome {
        var outcome = Outcome(family: family.name)
        for seed in seeds {
            let nodes = family.nodes.lowerBound + Int(seed % UInt64(family.nodes.count))
            let report = SimulatedCluster(seed: seed, nodes: nodes, configuration: family.configuration(nodes), options: family.options)
                .runRandomScenario()
            outcome.runs += 1
            outcome.events += report.eventCount
            if !report.passed { outcome.failures.append(report) }
        }
        return outcome
    }

    @Test func tenThousandSeedsFindNoViolation() async {
        let clock = ContinuousClock()
        let start = clock.now
        let slices = Self.families.flatMap { family in
            stride(from: family.seeds.lowerBound, to: family.seeds.upperBound, by: 100).map { low in
                (family, low..<min(low + 100, family.seeds.upperBound))
            }
        }
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            for (family, seeds) in slices { group.addTask { Self.sweep(family, seeds: seeds) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let seconds = Double((clock.now - start).components.seconds) + Double((clock.now - start).components.attoseconds) / 1e18
        let runs = outcomes.map(\.runs).reduce(0, +)
        let failures = outcomes.flatMap(\.failures).sorted { $0.seed < $1.seed }
        let rate = (Double(runs) / seconds * 10).rounded() / 10
        print("{\"test\":\"seed_sweep\",\"seeds\":\(runs),\"wall_s\":\((seconds * 10).rounded() / 10),\"seeds_per_s\":\(rate),\"events\":\(outcomes.map(\.events).reduce(0, +)),\"failures\":\(failures.count)}")
        for family in Self.families.map(\.name) {
            let failed = outcomes.filter { $0.family == family }.flatMap(\.failures).map(\.seed).sorted()
            if !failed.isEmpty { print("\(family): \(failed.count) failing seeds: \(failed.prefix(40).map(String.init).joined(separator: " "))") }
        }
        for report in failures.prefix(3) { print(report) }
        #expect(runs >= 10_000)
        #expect(failures.isEmpty, "\(failures.count) of \(runs) seeds found violations; first: \(failures.first.map { "\($0.seed): \($0.violations)" } ?? "")")
    }
}
