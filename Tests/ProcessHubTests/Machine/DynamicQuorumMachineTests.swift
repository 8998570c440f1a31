import ClusterNode
import Testing

@testable import ProcessHub

/// ``DynamicQuorum`` on the hub's state machine: departures timed by the machine's clock, and
/// the down log shared with nodes that join. Pure, no sockets, no clock.
@Suite("Dynamic quorum on the machine")
struct DynamicQuorumMachineTests {
    private static func configuration(_ percent: Int, threshold: Duration = .seconds(30)) -> HubConfiguration {
        var config = HubConfiguration(hubID: "m")
        config.partitionTolerance = DynamicQuorum(quorumSize: percent, thresholdTime: threshold)
        return config
    }

    @Test func recentDeparturesCountAgainstTheQuorum() {
        var h = MachineHarness(nodes: 4, configuration: Self.configuration(75))
        h.advance(by: .milliseconds(100))
        h.command(.start(MachineHarness.specs(0..<40), StartCommand()), on: h.nodes[0])
        h.crash(h.nodes[3])
        h.advance(by: .milliseconds(200))
        #expect(h.live.allSatisfy { !h.machines[$0]!.partitioned }, "3 of 4 is 75 %")
        #expect(h.instances().count == 40)
        h.crash(h.nodes[2])
        h.advance(by: .milliseconds(200))
        #expect(h.live.allSatisfy { h.machines[$0]!.partitioned }, "2 of 4 is 50 %")
        #expect(h.instances().isEmpty, "a partitioned hub stops its children")
    }

    /// The threshold (2 s) is read on the machine's clock: a departure older than it no longer
    /// counts (2 of 3 is 66 %), two within it both do (2 of 4 is 50 %).
    @Test(arguments: [(Duration.seconds(3), false), (.seconds(1), true)])
    func departuresCountWithinTheThresholdOnly(gap: Duration, partitioned: Bool) {
        var h = MachineHarness(nodes: 4, configuration: Self.configuration(60, threshold: .seconds(2)))
        h.advance(by: .milliseconds(100))
        h.crash(h.nodes[3])
        h.advance(by: gap)
        h.crash(h.nodes[2])
        h.advance(by: .milliseconds(200))
        #expect(h.live.allSatisfy { h.machines[$0]!.partitioned == partitioned }, "departures \(gap) apart")
    }

    /// A node that joins after a departure learns it from its peers' logs, so it decides as they do.
    @Test func aNodeThatJoinedLaterCountsTheDeparturesItsPeersSaw() {
        var h = MachineHarness(nodes: 4, configuration: Self.configuration(50))
        h.advance(by: .milliseconds(100))
        h.crash(h.nodes[3])
        h.advance(by: .milliseconds(200))
        let newcomer = h.join(configuration: Self.configuration(50))
        h.advance(by: .seconds(1))
        #expect(!h.machines[newcomer]!.partitioned)
        h.crash(h.nodes[2])
        h.crash(h.nodes[1])
        h.advance(by: .milliseconds(200))
        // With n4's departure: 2 reachable of 5 (40 %). Without it the newcomer would count 2 of 4 (50 %).
        #expect(h.machines[newcomer]!.partitioned, "the newcomer did not count the departure its peers saw")
        #expect(h.machines[h.nodes[0]]!.partitioned)
    }

    /// Logs travel as ages: the receiver's clock may have any origin.
    @Test func aSharedLogKeepsItsAgesOnTheReceiversClock() throws {
        let all = (1...4).map { NodeID(name: "n\($0)", host: "sim", port: 7000 + $0, incarnation: 1) }
        var sender = DynamicQuorumPolicy(quorumSize: 75, threshold: 2_000)
        _ = sender.lostQuorum(afterLeaving: [all[3]], members: Array(all.prefix(3)), at: .seconds(100))
        let state = try #require(sender.sharedState(at: .seconds(101)))
        var receiver = DynamicQuorumPolicy(quorumSize: 75, threshold: 2_000)
        let adopted = receiver.adoptShared(state, from: all[0], reachable: [all[0], all[1], all[2]], at: .seconds(5))
        #expect(adopted)
        #expect(receiver.log.entries.map(\.node) == [all[3]])
        #expect(receiver.log.entries.first?.at == 4_000, "left 1 s before the receiver's 5 s")
        // 2 s after the departure it ages out: only n3 counts, 2 of 3 is below 75 %.
        let lost = receiver.lostQuorum(afterLeaving: [all[2]], members: [all[0], all[1]], at: .milliseconds(6_100))
        #expect(lost)
        #expect(receiver.log.entries.map(\.node) == [all[2]])
    }

    @Test func anUnreadableSharedLogChangesNothing() {
        var policy = DynamicQuorumPolicy(quorumSize: 75, threshold: 2_000)
        let node = NodeID(name: "n1", host: "sim", port: 7001, incarnation: 1)
        let adopted = policy.adoptShared([0xFF, 0x01, 0x02], from: node, reachable: [node], at: .seconds(1))
        #expect(!adopted)
        #expect(policy.log.entries.isEmpty)
    }
}
