import ClusterNode
import Testing

@testable import ProcessHub

/// Stops as tombstones at an epoch (``StopLedger``) and children nobody runs (``OrphanLedger``).
@Suite("Stop and orphan ledgers")
struct StopLedgerTests {
    let peer = NodeID(name: "p", host: "127.0.0.1", port: 2, incarnation: 1)

    func entry(_ id: ChildID, epoch: UInt64) -> RegistryEntry {
        RegistryEntry(spec: ChildSpec(id: id, kind: "k", encodedArguments: []), epoch: epoch, authoredBy: peer, actorID: ActorID(node: peer, serial: 1))
    }

    /// An instance of the stopped epoch or older is a leftover; a newer one is a new start.
    @Test func aStopCoversItsEpochAndOlderOnly() {
        let ledger = StopLedger()
        ledger.recordStops(["a": 2])
        #expect(ledger.isLeftover("a", epoch: 1) && ledger.isLeftover("a", epoch: 2))
        #expect(!ledger.isLeftover("a", epoch: 3) && !ledger.isLeftover("b", epoch: 1))
        #expect(ledger.leftovers(among: [entry("a", epoch: 2), entry("a", epoch: 3), entry("b", epoch: 1)]) == ["a": 2])
    }

    /// A leftover's registration does not end the stop (it would come back); a newer start does.
    @Test func onlyANewerStartEndsATombstone() {
        let ledger = StopLedger()
        ledger.recordStops(["a": 1])
        ledger.started([("a", 1)])
        #expect(ledger.tombstone(of: "a") == 1)
        ledger.started([("a", 2)])
        #expect(ledger.tombstone(of: "a") == nil)
    }

    /// A peer that was away is told every stop with its epoch; the newest epoch wins.
    @Test func anAbsentPeerIsToldTheStopsWithTheirEpochs() {
        let ledger = StopLedger()
        ledger.peerLeft(peer)
        ledger.recordStops(["a": 1])
        ledger.learnStops(["a": 3, "b": 2])
        #expect(ledger.missed(by: peer) == ["a": 3, "b": 2])
        ledger.peerReturned(peer)
        #expect(ledger.tombstones() == ["a": 3, "b": 2])
    }

    /// An orphan is resolved by a registration at its epoch or newer, or by a stop that covers it.
    @Test func orphansLastUntilRegisteredOrStopped() {
        let orphans = OrphanLedger()
        let info = ChildInfo(spec: ChildSpec(id: "a", kind: "k", encodedArguments: []), locations: [], metadata: [:])
        orphans.keep(["a": (info, 2), "b": (info, 1)])
        orphans.resolve([("a", 1)])
        #expect(orphans.epoch(of: "a") == 2)
        orphans.resolve([("a", 2)])
        orphans.forget(["b": 1])
        #expect(orphans.isEmpty)
    }
}
