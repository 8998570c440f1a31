import ClusterNode
import Testing

@testable import ProcessHub

/// Gossip on the hub's state machine (SPEC §4.4.2), driven by hand: pure, no sockets, no clock.
@Suite("Hub machine gossip")
struct HubMachineGossipTests {
    private static func harness(nodes: Int, recipients: Int, syncInterval: Duration = .seconds(60)) -> MachineHarness {
        var configuration = HubConfiguration(hubID: "m")
        configuration.synchronization = Gossip(syncInterval: syncInterval, recipients: recipients)
        return MachineHarness(nodes: nodes, configuration: configuration, settings: MachineSettings(configuration))
    }

    /// A spec whose child is placed on `node` among the harness's nodes.
    private static func spec(placedOn node: NodeID, in h: MachineHarness) -> ChildSpec {
        let specs = MachineHarness.specs(0..<100, prefix: "g")
        return specs.first { h.placement(of: $0.id, among: h.nodes) == node }!
    }

    /// Runs queued inputs one by one until `node` has handled a supervisor report.
    private static func runUntilSupervisorReport(on node: NodeID, _ h: inout MachineHarness) {
        while !h.queue.isEmpty {
            let (target, input) = h.queue.removeFirst()
            h.run(target, input)
            if target == node, case .supervisor = input { return }
        }
    }

    /// The gossiped changes queued for delivery, with their receivers.
    private static func queuedGossip(_ h: MachineHarness, from sender: NodeID? = nil) -> [(to: NodeID, change: GossipedChange)] {
        h.queue.compactMap { target, input in
            guard case .received(let envelope, let from) = input, sender == nil || from == sender,
                case .gossip(let change) = envelope.message
            else { return nil }
            return (target, change)
        }
    }

    @Test func aChangeGoesToRecipientsPeersNotToAll() {
        var h = Self.harness(nodes: 6, recipients: 2)
        h.advance(by: .milliseconds(100))
        let origin = h.nodes[0]
        let spec = Self.spec(placedOn: origin, in: h)
        let op = OperationID(999)
        h.run(origin, .command(op, .start([spec], StartCommand())))
        Self.runUntilSupervisorReport(on: origin, &h)
        let sent = Self.queuedGossip(h, from: origin)
        #expect(sent.count == 2, "the registration went to \(sent.map(\.to.name))")
        #expect(Set(sent.map(\.to)).count == 2 && !sent.contains { $0.to == origin })
        #expect(sent.allSatisfy { $0.change.seen == [origin] && $0.change.origin == origin })
        // No peer was sent the registration directly either.
        let direct = h.queue.filter { _, input in
            if case .received(let envelope, _) = input, case .registered = envelope.message { return true }
            return false
        }
        #expect(direct.isEmpty)
        // Passed on from node to node, it still reaches every node.
        h.settle()
        #expect(h.nodes.allSatisfy { h.machines[$0]!.child(spec.id) != nil })
    }

    @Test func aPeerForwardsAChangeItHadNotSeenAndNotOneItHadSeen() throws {
        var h = Self.harness(nodes: 6, recipients: 2)
        h.advance(by: .milliseconds(100))
        let origin = h.nodes[0]
        let spec = Self.spec(placedOn: origin, in: h)
        h.run(origin, .command(OperationID(999), .start([spec], StartCommand())))
        Self.runUntilSupervisorReport(on: origin, &h)
        let first = try #require(Self.queuedGossip(h, from: origin).first)
        h.queue = []
        let relay = first.to
        let envelope = HubEnvelope(.gossip(first.change))
        h.run(relay, .received(envelope, from: origin))
        #expect(h.machines[relay]!.child(spec.id) != nil)
        let forwarded = Self.queuedGossip(h, from: relay)
        #expect(forwarded.count == 2, "forwarded to \(forwarded.map(\.to.name))")
        #expect(forwarded.allSatisfy { ![origin, relay].contains($0.to) })
        #expect(forwarded.allSatisfy { Set($0.change.seen) == [origin, relay] })
        // The same copy again teaches the relay nothing: it goes no further.
        h.queue = []
        h.run(relay, .received(envelope, from: origin))
        #expect(Self.queuedGossip(h).isEmpty)
    }

    @Test func aNodeThatMissedAChangeCatchesUpInTheRound() {
        var h = Self.harness(nodes: 4, recipients: 1, syncInterval: .seconds(1))
        h.advance(by: .milliseconds(100))
        h.command(.start(MachineHarness.specs(0..<40), StartCommand()), on: h.nodes[0])
        let owner = h.nodes[1], victim = h.nodes[3]
        #expect(h.machines[victim]!.registryView.count == 40)
        h.command(.forgetSlots(of: owner), on: victim)
        #expect(h.machines[victim]!.registryView.count < 40)
        h.advance(by: .seconds(3))
        let views = h.nodes.map { h.machines[$0]!.registryView }
        #expect(views.allSatisfy { $0 == views[0] } && views[0].count == 40)
        #expect(h.machines[victim]!.gossipStatistics.pulls >= 1)
        // Only the first node starts rounds (restricted by default).
        #expect(h.nodes.dropFirst().allSatisfy { h.machines[$0]!.gossipStatistics.roundsStarted == 0 })
        #expect(h.machines[h.nodes[0]]!.gossipStatistics.roundsStarted >= 2)
    }

    @Test func aLostChangeIsPulledOnceTheGapOutlivesReorderingNotAtTheRound() {
        var h = Self.harness(nodes: 3, recipients: 1)
        h.advance(by: .milliseconds(100))
        let origin = h.nodes[0]
        let specs = MachineHarness.specs(0..<100, prefix: "g").filter { h.placement(of: $0.id, among: h.nodes) == origin }
        h.run(origin, .command(OperationID(900), .start([specs[0]], StartCommand())))
        Self.runUntilSupervisorReport(on: origin, &h)
        // The first registration is lost on the way (its only carrier went down, say).
        h.queue.removeAll { _, input in
            if case .received(let envelope, let from) = input, from == origin, case .gossip = envelope.message { return true }
            return false
        }
        h.settle()
        h.command(.start([specs[1]], StartCommand()), on: origin)
        // The second waits for the first everywhere.
        #expect(h.nodes.dropFirst().allSatisfy { h.machines[$0]!.child(specs[1].id) == nil })
        h.advance(by: .seconds(1))
        for node in h.nodes { #expect(h.machines[node]!.child(specs[0].id) != nil && h.machines[node]!.child(specs[1].id) != nil) }
        #expect(h.nodes.dropFirst().allSatisfy { h.machines[$0]!.gossipStatistics.pulls == 1 })
        #expect(h.machines[origin]!.gossipStatistics.roundsStarted == 0)
    }

    @Test func aStartsRequesterIsBroughtUpToDateBeforeTheReplyEvenAfterALostChange() {
        var h = Self.harness(nodes: 3, recipients: 1)
        h.advance(by: .milliseconds(100))
        let host = h.nodes[0], requester = h.nodes[1]
        let specs = MachineHarness.specs(0..<100, prefix: "g").filter { h.placement(of: $0.id, among: h.nodes) == host }
        h.run(host, .command(OperationID(900), .start([specs[0]], StartCommand())))
        Self.runUntilSupervisorReport(on: host, &h)
        // The host's first registration is lost on the way.
        h.queue.removeAll { _, input in
            if case .received(let envelope, let from) = input, from == host, case .gossip = envelope.message { return true }
            return false
        }
        h.settle()
        #expect(h.machines[requester]!.child(specs[0].id) == nil)
        // The requester's start names what it has of the host; the reply comes after the rest.
        h.command(.start([specs[1]], StartCommand()), on: requester)
        #expect(h.machines[requester]!.child(specs[1].id) != nil)
        #expect(h.machines[requester]!.child(specs[0].id) != nil)
    }

    @Test func changesOfOneOriginApplyInItsOrderWhateverTheArrivalOrder() {
        var ledger = ChangeLedger(maxEarlyPerOrigin: 10)
        let origin = NodeID(name: "o", host: "sim", port: 1, incarnation: 1)
        let second = ledger.admit(.init(origin: origin, seq: 2), .unregistered(["x"], tombstones: []), isPeer: true, now: .zero)
        #expect(second.isEmpty)
        let first = ledger.admit(.init(origin: origin, seq: 1), .registered([]), isPeer: true, now: .zero)
        #expect(first.count == 2)
        if case .registered = first.first {} else { Issue.record("the first change did not apply first") }
        #expect(ledger.admit(.init(origin: origin, seq: 1), .registered([]), isPeer: true, now: .zero).isEmpty)
        #expect(ledger.applied[origin] == 2)
    }

    @Test func aChangeThatOvertakesItsOriginsSnapshotWaitsForIt() {
        var ledger = ChangeLedger(maxEarlyPerOrigin: 10)
        let origin = NodeID(name: "o", host: "sim", port: 1, incarnation: 1)
        ledger.expectSnapshot(from: origin)
        // Change 3 came by another path before the snapshot, which holds changes up to 2.
        #expect(ledger.admit(.init(origin: origin, seq: 3), .suspended(["x"]), isPeer: true, now: .zero).isEmpty)
        ledger.snapshotBegins(from: origin, seq: 2)
        #expect(ledger.admit(.init(origin: origin, seq: 2), .suspended(["y"]), isPeer: true, now: .zero).isEmpty)
        let released = ledger.snapshotCompleted(from: origin, now: .zero)
        #expect(released.count == 1)
        if case .suspended(let ids) = released.first { #expect(ids == ["x"]) } else { Issue.record("released \(released)") }
        #expect(ledger.applied[origin] == 3)
    }

    @Test func gossipMessagesAreWrittenInTheProtocolVersionThatIntroducedThem() throws {
        #expect(HubEnvelope(.draining).version == 1)
        #expect(HubEnvelope(.snapshotRequest).version == 2)
        let claimsOld = try HubEnvelope(.snapshotRequest).withVersion(1).encoded()
        do {
            _ = try HubEnvelope.decode(claimsOld)
            Issue.record("a version 1 envelope carried a version 2 message")
        } catch {
            #expect(error.code == .malformedMessage)
        }
        let decoded = try HubEnvelope.decode(try HubEnvelope(.snapshotRequest).encoded())
        if case .snapshotRequest = decoded.message {} else { Issue.record("decoded \(decoded)") }
    }
}
