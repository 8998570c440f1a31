import ClusterNode
import DemoActors
import ProcessHubTesting
import Testing

@testable import ProcessHub

private func gossipConfiguration(_ id: HubID, _ gossip: Gossip) -> HubConfiguration {
    var configuration = testConfiguration(id)
    configuration.synchronization = gossip
    return configuration
}

/// What gossip did on a hub's node, from whichever coordinator runs it.
private struct GossipCounts {
    var originated = 0, firstHops = 0, roundsStarted = 0, pulls = 0
}

private func gossipCounts(_ hub: ProcessHub) -> GossipCounts? {
    if let driver = hub.core as? HubDriver {
        let stats = driver.gossipStatistics
        return GossipCounts(originated: stats.originated, firstHops: stats.firstHops, roundsStarted: stats.roundsStarted, pulls: stats.pulls)
    }
    guard let stats = (hub.core as? HubCore)?.gossip?.statistics else { return nil }
    return GossipCounts(originated: stats.originated, firstHops: stats.firstHops, roundsStarted: stats.roundsStarted, pulls: stats.pulls)
}

/// The ledger alone: ordering, acknowledgements, snapshots.
@Suite("Gossip ledger")
struct GossipLedgerTests {
    let a = NodeID(name: "n1", host: "127.0.0.1", port: 1, incarnation: 1)
    let b = NodeID(name: "n2", host: "127.0.0.1", port: 2, incarnation: 1)
    let c = NodeID(name: "n3", host: "127.0.0.1", port: 3, incarnation: 1)

    private func ledger(_ local: NodeID, recipients: Int = 2) -> GossipLedger {
        GossipLedger(local: local, recipients: recipients, memory: .seconds(60))
    }

    @Test func changesOfOneOriginApplyInItsOrderWhateverTheArrivalOrder() {
        let ledger = ledger(b)
        let members: Set = [a, b, c]
        var applied: [RegistryUpdate] = []
        let second = ledger.receive(.init(origin: a, seq: 2), update: .unregistered(["x"]), acks: [a], members: members) { applied.append($0) }
        #expect(second.apply.isEmpty && applied.isEmpty)  // waits for 1
        let first = ledger.receive(.init(origin: a, seq: 1), update: .unregistered(["w"]), acks: [a], members: members) { applied.append($0) }
        #expect(first.apply.count == 2 && applied.count == 2)
        if case .unregistered(let ids) = applied[0] { #expect(ids == ["w"]) } else { Issue.record("wrong order") }
        // A copy arriving later by another path is not applied again.
        let again = ledger.receive(.init(origin: a, seq: 1), update: .unregistered(["w"]), acks: [a, c], members: members)
        #expect(again.apply.isEmpty)
        #expect(ledger.applied(from: a) == 2)
    }

    @Test func aChangeStopsSpreadingOnceEveryNodeHasIt() {
        let ledger = ledger(b)
        let members: Set = [a, b, c]
        let partial = ledger.receive(.init(origin: a, seq: 1), update: .unregistered(["x"]), acks: [a], members: members)
        #expect(partial.forwardTo == [c])
        #expect(Set(partial.acks) == [a, b])
        // c acknowledged: every member has it, nothing travels on.
        let complete = ledger.receive(.init(origin: a, seq: 1), update: .unregistered(["x"]), acks: [a, c], members: members)
        #expect(complete.forwardTo.isEmpty)
        let late = ledger.receive(.init(origin: a, seq: 1), update: .unregistered(["x"]), acks: [a], members: members)
        #expect(late.forwardTo.isEmpty && late.apply.isEmpty)
    }

    @Test func changesFromNonMembersAreIgnored() {
        let ledger = ledger(b)
        let decision = ledger.receive(.init(origin: c, seq: 1), update: .unregistered(["x"]), acks: [c], members: [a, b])
        #expect(decision.apply.isEmpty && decision.forwardTo.isEmpty)
        #expect(ledger.applied(from: c) == 0)
    }

    @Test func aSnapshotCoversTheChangesUpToItsMarkAndReleasesTheNextOnes() {
        let ledger = ledger(b)
        let members: Set = [a, b, c]
        _ = ledger.receive(.init(origin: a, seq: 5), update: .unregistered(["late"]), acks: [a], members: members)
        _ = ledger.receive(.init(origin: a, seq: 3), update: .unregistered(["old"]), acks: [a], members: members)
        ledger.snapshotBegins(from: a, seq: 4)
        var released: [RegistryUpdate] = []
        ledger.snapshotCompleted(from: a) { released.append($0) }
        #expect(released.count == 1)  // 5 follows the snapshot; 3 was inside it
        #expect(ledger.applied(from: a) == 5)
    }

    @Test func theOriginatorPicksRecipientsPlusTheWaitingNode() {
        let d = NodeID(name: "n4", host: "127.0.0.1", port: 4, incarnation: 1)
        let e = NodeID(name: "n5", host: "127.0.0.1", port: 5, incarnation: 1)
        let ledger = ledger(a, recipients: 2)
        let targets = ledger.originate(.init(origin: a, seq: ledger.stamp()), peers: [b, c, d, e], required: e)
        #expect(targets.count == 3 && targets.contains(e) && !targets.contains(a))
    }

    @Test func aRoundCollectsEveryDigestThenEveryNodeTakesPart() throws {
        let members: Set = [a, b, c]
        let digest = SlotDigest(seq: 1, count: 0, hash: 0)
        let starter = ledger(a)
        let (round, first) = starter.startRound(own: digest, peers: [b, c])
        #expect(Set(first) == [b, c])
        // b lacks c's digest: it collects from c.
        let atB = try #require(ledger(b).receive(round, own: digest, members: members))
        #expect(atB.forwardTo == [c] && !atB.compare)
        // c completes the digests and takes part, then sends to the nodes that have not.
        let ledgerC = ledger(c)
        let atC = try #require(ledgerC.receive(atB.round, own: digest, members: members))
        #expect(atC.compare && atC.round.acks == [c] && Set(atC.forwardTo) == [a, b])
        // Seeing the same round again teaches c nothing: it stays put.
        let repeated = ledgerC.receive(atB.round, own: digest, members: members)
        #expect(repeated?.forwardTo.isEmpty ?? true)
    }
}

/// Gossip on real multi-node clusters (real TCP on 127.0.0.1).
@Suite("Gossip synchronization", .serialized, .timeLimit(.minutes(4)))
struct GossipClusterTests {
    @Test func twelveNodesConvergeWhileEachChangeLeavesItsOriginOnlyAFewTimes() async throws {
        // Rounds far apart: only the incremental propagation can explain convergence.
        let gossip = Gossip(syncInterval: .seconds(120), recipients: 2)
        let hubs = try await LocalHubCluster.start(nodes: 12, configuration: gossipConfiguration("gossip12", gossip), timeout: .seconds(90))
        defer { Task { await hubs.shutdown() } }
        let result = try await hubs.hubs[0].startChildren(try counters(240)).result(timeout: .seconds(60))
        #expect(result.status == .ok && result.started.count == 240)
        try await hubs.waitForIdenticalRegistries(count: 240, timeout: .seconds(60))
        var originated = 0
        // Gossip hubs run on the state machine's driver.
        #expect(hubs.hubs.allSatisfy { $0.core is HubDriver })
        for hub in hubs.hubs {
            let stats = try #require(gossipCounts(hub))
            originated += stats.originated
            // recipients, plus the node that waits for the change (the start's originator).
            #expect(stats.firstHops <= stats.originated * (gossip.recipients + 1))
        }
        #expect(originated >= 11)  // every node registered its share
        // Stops travel the same way.
        let stopped = try await hubs.hubs[5].stopChildren(result.ids.prefix(60).map { $0 }).result(timeout: .seconds(60))
        #expect(stopped.status == .ok)
        try await hubs.waitForIdenticalRegistries(count: 180, timeout: .seconds(60))
    }

    @Test func theDigestRoundRepairsAViewThatMissedChanges() async throws {
        let gossip = Gossip(syncInterval: .milliseconds(300), recipients: 1)
        let hubs = try await LocalHubCluster.start(nodes: 5, configuration: gossipConfiguration("repair", gossip))
        defer { Task { await hubs.shutdown() } }
        _ = try await hubs.hubs[0].startChildren(try counters(100)).result(timeout: .seconds(30))
        try await hubs.waitForIdenticalRegistries(count: 100)
        // Node 3 "loses" node 1's slots, as if their changes had never reached it.
        let victim = try #require(hubs.hubs[3].core as? HubDriver)
        let owner = hubs.hubs[1].node.id
        #expect(hubs.hubs[3].registryDump().values.contains { $0.locations.contains { $0.node == owner } })
        await victim.forgetSlots(of: owner)
        #expect(hubs.hubs[3].registryDump().count < 100)
        try await hubs.waitForIdenticalRegistries(count: 100, timeout: .seconds(20))
        #expect(victim.gossipStatistics.pulls >= 1)
    }

    @Test(arguments: [true, false])
    func roundsStartOnTheFirstNodeOnlyWhenRestricted(restricted: Bool) async throws {
        let gossip = Gossip(syncInterval: .milliseconds(150), recipients: 2, restrictedInit: restricted)
        let hubs = try await LocalHubCluster.start(nodes: 4, configuration: gossipConfiguration("rounds", gossip))
        defer { Task { await hubs.shutdown() } }
        let first = hubs.hubs.map(\.node.id).min()
        try await waitUntil(timeout: .seconds(20), "rounds on every starter") {
            hubs.hubs.allSatisfy { hub in
                let started = gossipCounts(hub)?.roundsStarted ?? 0
                return (restricted && hub.node.id != first) ? true : started >= 2
            }
        }
        for hub in hubs.hubs where restricted && hub.node.id != first {
            #expect(gossipCounts(hub)?.roundsStarted == 0)
        }
    }

    @Test func survivorsRestartALeavingNodesChildrenAndAgree() async throws {
        let gossip = Gossip(syncInterval: .seconds(2), recipients: 2)
        let hubs = try await LocalHubCluster.start(nodes: 6, configuration: gossipConfiguration("leave", gossip))
        defer { Task { await hubs.shutdown() } }
        let result = try await hubs.hubs[0].startChildren(try counters(120)).result(timeout: .seconds(30))
        try await hubs.waitForIdenticalRegistries(count: 120)
        let leaving = hubs.hubs[5]
        #expect(!(await leaving.whichChildren()).isEmpty)
        await leaving.stop(movingChildren: false)
        await leaving.node.shutdown()
        let survivors = Array(hubs.hubs.prefix(5))
        let gone = leaving.node.id
        try await waitUntil(timeout: .seconds(30), "the survivors to drop \(gone)") {
            survivors.allSatisfy { hub in
                !hub.nodes(includeLocal: true).contains(gone)
                    && !hub.registryDump().values.contains { $0.locations.contains { $0.node == gone } }
            }
        }
        try await hubs.waitForIdenticalRegistries(survivors, count: 120, timeout: .seconds(30))
        let nodes = survivors.map(\.node.id).sorted()
        let placement = ConsistentHashing().belongsTo(result.ids, replicationFactor: 1, nodes: nodes)
        let dump = survivors[0].registryDump()
        for id in result.ids {
            #expect(dump[id]?.locations.map(\.node) == placement[id])
        }
    }

    @Test func aGossipWithoutRecipientsIsRefused() async throws {
        let cluster = try await LocalCluster.start(nodes: 1)
        defer { Task { await cluster.shutdown() } }
        await #expect(throws: HubError.self) {
            _ = try await ProcessHub.start(gossipConfiguration("bad", Gossip(recipients: 0)), on: cluster.nodes[0])
        }
    }
}
