import ClusterNode
import Testing

@testable import ProcessHub

/// The quorum strategies' decisions as plain values (SPEC §4.5's examples).
@Suite("Partition strategies: quorum decisions")
struct PartitionStrategyTests {
    static func nodes(_ count: Int) -> [NodeID] {
        (1...max(count, 1)).prefix(count).map { NodeID(name: "n\($0)", host: "10.0.0.\($0)", port: 7000, incarnation: 1) }
    }

    @Test func divergenceNeverLosesQuorum() {
        let strategy = Divergence()
        #expect(!strategy.lostQuorum(afterLeaving: Self.nodes(4), members: Self.nodes(1)))
        #expect(strategy.regainedQuorum(afterJoining: [], members: Self.nodes(1)))
        #expect(!strategy.startsWithoutQuorum(members: Self.nodes(1)))
    }

    @Test func staticQuorumCountsReachableNodes() {
        let strategy = StaticQuorum(quorumSize: 3)
        #expect(!strategy.lostQuorum(afterLeaving: [], members: Self.nodes(3)))
        #expect(strategy.lostQuorum(afterLeaving: [], members: Self.nodes(2)))
        #expect(!strategy.regainedQuorum(afterJoining: [], members: Self.nodes(2)))
        #expect(strategy.regainedQuorum(afterJoining: [], members: Self.nodes(3)))
        #expect(!strategy.startsWithoutQuorum(members: Self.nodes(1)), "only with startupConfirm")
        #expect(StaticQuorum(quorumSize: 3, startupConfirm: true).startsWithoutQuorum(members: Self.nodes(2)))
        #expect(!StaticQuorum(quorumSize: 3, startupConfirm: true).startsWithoutQuorum(members: Self.nodes(3)))
    }

    @Test(arguments: [(5, 3, false), (5, 2, true), (3, 2, false), (3, 1, true), (4, 3, false), (4, 2, true)])
    func majorityQuorumNeedsMoreThanHalfOfTheLargestClusterSeen(size: Int, remaining: Int, partitioned: Bool) {
        let strategy = MajorityQuorum().attach(to: StrategyHost(localNode: Self.nodes(1)[0]))
        _ = strategy.regainedQuorum(afterJoining: [], members: Self.nodes(size))
        #expect(strategy.lostQuorum(afterLeaving: [], members: Self.nodes(remaining)) == partitioned)
    }

    @Test func majorityQuorumNeverShrinksByItselfAndCanBeReset() throws {
        let attached = try #require(MajorityQuorum(initialClusterSize: 2).attach(to: StrategyHost(localNode: Self.nodes(1)[0])) as? MajorityQuorum)
        #expect(!attached.startsWithoutQuorum(members: Self.nodes(1)), "starting below a majority never partitions")
        #expect(attached.largestClusterSize == 2)
        _ = attached.regainedQuorum(afterJoining: [], members: Self.nodes(5))
        #expect(attached.largestClusterSize == 5)
        _ = attached.regainedQuorum(afterJoining: [], members: Self.nodes(3))
        #expect(attached.largestClusterSize == 5)
        #expect(attached.lostQuorum(afterLeaving: [], members: Self.nodes(2)))
        attached.resetLargestClusterSize(to: 2)
        #expect(!attached.lostQuorum(afterLeaving: [], members: Self.nodes(2)))
        // Without tracking, joins do not raise it.
        let fixed = MajorityQuorum(initialClusterSize: 3, trackMaxSize: false).attach(to: StrategyHost(localNode: Self.nodes(1)[0]))
        _ = fixed.regainedQuorum(afterJoining: [], members: Self.nodes(7))
        #expect(!fixed.lostQuorum(afterLeaving: [], members: Self.nodes(2)))
    }

    @Test func twoHubsNeverShareAMajorityQuorumsState() throws {
        let configured = MajorityQuorum()
        let one = try #require(configured.attach(to: StrategyHost(localNode: Self.nodes(1)[0])) as? MajorityQuorum)
        let two = try #require(configured.attach(to: StrategyHost(localNode: Self.nodes(2)[1])) as? MajorityQuorum)
        _ = one.regainedQuorum(afterJoining: [], members: Self.nodes(6))
        #expect(one.largestClusterSize == 6)
        #expect(two.largestClusterSize == 1)
    }

    /// 80 %: of 10 nodes, 1 down (90 %) and 2 down (80 %) keep quorum, 3 down (70 %) do not.
    @Test func downLogPercentagesFollowTheSpecExample() {
        let all = Self.nodes(10)
        var log = DownLog()
        for (count, failing) in [(1, false), (2, false), (3, true)] {
            log.recordDown(all[count - 1], at: 1_000, threshold: 30_000)
            #expect(log.isFailing(connected: 10 - count, quorumPercent: 80) == failing, "\(count) down")
        }
    }

    @Test func downLogForgetsOldDeparturesAndReturningNodes() {
        let all = Self.nodes(4)
        var log = DownLog()
        log.recordDown(all[1], at: 0, threshold: 10_000)
        log.recordDown(all[2], at: 5_000, threshold: 10_000)
        #expect(log.entries.map(\.node) == [all[2], all[1]])
        log.recordDown(all[3], at: 12_000, threshold: 10_000)
        #expect(log.entries.map(\.node) == [all[3], all[2]], "the departure at 0 is older than the threshold")
        var restarted = all[2]
        restarted.incarnation = 99
        log.recordUp(restarted, at: 12_500, threshold: 10_000)
        #expect(log.entries.map(\.node) == [all[3]], "any incarnation of a returning endpoint leaves the log")
    }

    @Test func aReceivedDownLogIsAdoptedWhenLongerWithoutTheNodesWeReach() {
        let all = Self.nodes(5)
        var mine = DownLog()
        mine.recordDown(all[4], at: 1, threshold: 1_000)
        var theirs = DownLog()
        for node in all.prefix(3) { theirs.recordDown(node, at: 1, threshold: 1_000) }
        // We reach n1 and n2: only n3 remains of their log, which is not longer than ours.
        mine.adopt(theirs, reachable: Array(all.prefix(2)))
        #expect(mine.entries.map(\.node) == [all[4]])
        mine.adopt(theirs, reachable: [all[0]])
        #expect(Set(mine.entries.map(\.node)) == [all[1], all[2]])
    }

    @Test func dynamicQuorumLogsDeparturesPerHub() throws {
        let host = StrategyHost(localNode: Self.nodes(1)[0])
        let strategy = try #require(DynamicQuorum(quorumSize: 75).attach(to: host) as? DynamicQuorum)
        let all = Self.nodes(4)
        #expect(!strategy.lostQuorum(afterLeaving: [all[3]], members: Array(all.prefix(3))), "3 of 4 is 75 %")
        #expect(strategy.lostQuorum(afterLeaving: [all[2]], members: Array(all.prefix(2))), "2 of 4 is 50 %")
        #expect(strategy.downLog.entries.count == 2)
        #expect(strategy.regainedQuorum(afterJoining: [all[2]], members: Array(all.prefix(3))))
        #expect(strategy.downLog.entries.map(\.node) == [all[3]])
        #expect(DynamicQuorum(quorumSize: 75).downLog.entries.isEmpty, "an unattached strategy has no state")
    }

    @Test func invalidOptionsAreRefusedAtHubStartWithATypedError() async throws {
        let node = try await ClusterNode.start(.init(name: "v", secret: ClusterSecret("partition-validation")))
        defer { Task { await node.shutdown() } }
        let invalid: [any PartitionToleranceStrategy] = [
            StaticQuorum(quorumSize: 0), DynamicQuorum(quorumSize: 0), DynamicQuorum(quorumSize: 101),
            DynamicQuorum(quorumSize: 50, thresholdTime: .zero), MajorityQuorum(initialClusterSize: 0),
        ]
        for strategy in invalid {
            var configuration = HubConfiguration(hubID: "invalid")
            configuration.partitionTolerance = strategy
            let code = await hubErrorCode { () async throws(HubError) in _ = try await ProcessHub.start(configuration, on: node) }
            #expect(code == .invalidConfiguration, "\(strategy)")
        }
        // Nothing was left running: the same hub id starts with valid options.
        var valid = HubConfiguration(hubID: "invalid")
        valid.partitionTolerance = StaticQuorum(quorumSize: 1)
        let hub = try await ProcessHub.start(valid, on: node)
        #expect(!hub.isPartitioned)
        #expect(throws: HubError.self) { try hub.resetQuorumClusterSize(3) }
        await hub.stop()
    }
}
