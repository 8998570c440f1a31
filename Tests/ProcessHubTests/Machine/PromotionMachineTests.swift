import ClusterNode
import Testing

@testable import ProcessHub

/// A hub on a local-only node follows the node's promotion: pure, no sockets, no clock.
@Suite("Promotion on the machine")
struct PromotionMachineTests {
    @Test func everythingTheMachineHoldsUnderTheOldIDNamesThePromotedNode() {
        let old = NodeID(name: "n1", host: "127.0.0.1", port: 0, incarnation: 9)
        let promoted = NodeID(name: "n1", host: "127.0.0.1", port: 7101, incarnation: 9)
        var machine = HubMachine(local: old, configuration: HubConfiguration(hubID: "p"), seed: 1)
        _ = machine.handle(.hubStarted, now: .zero)
        let specs = MachineHarness.specs(0..<3)
        let effects = machine.handle(.command(OperationID(1), .start(specs, StartCommand())), now: .milliseconds(1))
        let launched = effects.flatMap { effect -> [ChildID] in
            if case .startChildren(let launches) = effect { return launches.map(\.id) }
            return []
        }
        #expect(launched.sorted() == ["c0", "c1", "c2"])
        let reports = launched.enumerated().map { SupervisorReport.started($1, ActorID(node: old, serial: UInt64($0 + 1))) }
        _ = machine.handle(.supervisor(reports), now: .milliseconds(2))
        #expect(machine.registryView.values.allSatisfy { $0.map(\.node) == [old] })

        _ = machine.handle(.renamed(to: promoted), now: .milliseconds(3))
        #expect(machine.local == promoted)
        #expect(machine.hubNodes == [promoted])
        #expect(machine.registryView.count == 3)
        #expect(machine.registryView.values.allSatisfy { $0.map(\.node) == [promoted] })
        #expect(machine.localChildren.values.allSatisfy { $0?.node == promoted })
        #expect(machine.child("c0")?.locations.first?.actorID == ActorID(node: promoted, serial: 1))

        // A peer that joins now gets the promoted identity in the snapshot.
        let peer = NodeID(name: "n2", host: "127.0.0.1", port: 7102, incarnation: 3)
        let sent = machine.handle(.memberUp(peer), now: .milliseconds(4))
        #expect(!sent.isEmpty)
        #expect(!"\(sent)".contains(":0#"), "nothing sent names the local-only identity")
    }
}
