import ProcessHub
import ProcessHubTesting
import Testing

/// Seeds of the sweep that once found a bug. Each stays here for good: once the bug is fixed,
/// its seed is the regression test that keeps it fixed.
enum RegressionSeeds {
    /// One seed of one sweep family, and what it found.
    struct Case: Sendable, CustomTestStringConvertible {
        var family: String
        var seed: UInt64
        var found: String

        var testDescription: String { "\(family) seed \(seed)" }
    }

    static let cases: [Case] = [
        Case(family: "MajorityQuorum", seed: 100_366, found: "lost: children moved (ColdSwap) to a node that had just joined and crashed 4 ms later are never restarted"),
        Case(family: "MajorityQuorum", seed: 100_695, found: "lost: a new start of a stopped id through a node that had just joined is stopped at once as covered by the old stop (its epoch does not pass the tombstone's)"),
        Case(family: "MajorityQuorum", seed: 101_457, found: "lost after the cluster settled"),
        Case(family: "MajorityQuorum", seed: 101_630, found: "lost (39): a stalled node dispatches a start (not awaited) on resume; the peer that gets it is still partitioned and refuses it; nobody retries once quorum is back"),
        Case(family: "MajorityQuorum", seed: 101_651, found: "lost after the cluster settled"),
        Case(family: "StaticQuorum", seed: 200_717, found: "lost after the cluster settled"),
        Case(family: "StaticQuorum", seed: 200_891, found: "lost after the cluster settled"),
        Case(family: "StaticQuorum", seed: 201_034, found: "split: both sides lost quorum, a restarted node gave one side quorum back, and it never restarted the children that ran on the other side"),
        Case(family: "StaticQuorum", seed: 201_693, found: "split: the quorum side misses a child"),
        Case(family: "ColdSwap+handover", seed: 301_256, found: "lost: a start (not awaited) dispatched to a node that had just begun to drain is refused, and the child is never placed again"),
        Case(family: "ColdSwap+handover", seed: 301_374, found: "lost: a start (not awaited) dispatched to a node that had just begun to drain is refused, and the child is never placed again"),
        Case(family: "ColdSwap+handover", seed: 301_571, found: "no convergence: a node drained right after joining; its peers never learn it drains (the draining flag of its announce reply is ignored), keep placing on it, and the children it refuses are lost"),
        Case(family: "HotSwap+handover", seed: 401_267, found: "resurrected: a stalled node acknowledges a stop of its own copies while cut off (its tombstones reach nobody), then leaves; the copies its peers restarted meanwhile keep running"),
        Case(family: "ColdSwap+handover", seed: 381_651, found: "split: a duplicate stopped in favour of a keeper one side could not see was forgotten there (a plain withdrawal)"),
        Case(family: "HotSwap+handover", seed: 440_437, found: "split check: a side that only knew a child stopped and started anew since was asked to serve the new one (the check now compares epochs)"),
        Case(family: "HotSwap+handover", seed: 441_055, found: "split: duplicates stopped in favour of a keeper the other side had just lost were forgotten by that side"),
        Case(family: "HotSwap+handover", seed: 480_109, found: "split: a node that left and came back in one topology batch lost its new slots to the batch's purge and released a handover hold at once; the move left two copies"),
        Case(family: "HotSwap+handover", seed: 480_139, found: "split: a side kept two copies after a move (same cause as 480 109)"),
        Case(family: "Singularity+MajorityQuorum+HotSwap", seed: 500_130, found: "lost after the cluster settled"),
        Case(family: "Singularity+MajorityQuorum+HotSwap", seed: 501_036, found: "lost after the cluster settled"),
        Case(family: "Singularity+MajorityQuorum+HotSwap", seed: 501_146, found: "lost after the cluster settled"),
        Case(family: "Singularity+MajorityQuorum+HotSwap", seed: 501_621, found: "lost after the cluster settled"),
        Case(family: "MajorityQuorum+ColdSwap+faults", seed: 700_256, found: "no convergence: an orphan whose restart fails on its owner every time (a kind that never starts) is asked for again every second, forever"),
        Case(family: "MajorityQuorum+ColdSwap+faults", seed: 700_500, found: "no convergence: an orphan whose restart fails on its owner is asked for forever"),
        Case(family: "MajorityQuorum+ColdSwap+faults", seed: 700_620, found: "no convergence: after a split, an orphan whose restart fails on its owner is asked for forever"),
        Case(family: "Divergence+Gossip", seed: 800_633, found: "split: two nodes moved their copies of a child to a node cut off a moment before; the gossiped moves reached only cut-off nodes, and the snapshot the digest round pulled later withdrew the slots without keeping the child"),
    ]
}

@Suite struct RegressionSeedTests {
    @Test(arguments: RegressionSeeds.cases)
    func seedStaysFixed(_ regression: RegressionSeeds.Case) throws {
        let family = try #require(SeedSweepTests.families.first { $0.name == regression.family })
        let nodes = family.nodes.lowerBound + Int(regression.seed % UInt64(family.nodes.count))
        let report = SimulatedCluster(
            seed: regression.seed, nodes: nodes, configuration: family.configuration(nodes), options: family.options
        ).runRandomScenario()
        #expect(report.passed, "found before: \(regression.found)\n\(report)")
    }
}
