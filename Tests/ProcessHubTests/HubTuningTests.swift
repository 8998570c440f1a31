import ClusterNode
import Testing

@testable import ProcessHub

/// ``HubTuning``: its values reach what they tune, and values that cannot work are refused.
@Suite("Hub tuning")
struct HubTuningTests {
    let a = NodeID(name: "n1", host: "127.0.0.1", port: 1, incarnation: 1)
    let b = NodeID(name: "n2", host: "127.0.0.1", port: 2, incarnation: 1)

    @Test("the configuration carries the default tuning")
    func defaults() {
        let configuration = HubConfiguration(hubID: "tuned")
        #expect(configuration.tuning == HubTuning())
        #expect(configuration.tuning.recentStopMemory == .seconds(60))
        #expect(configuration.tuning.duplicateGrace == .seconds(1))
    }

    @Test("a stop is remembered for recentStopMemory: the default keeps it, zero forgets it at once")
    func recentStopMemory() {
        let remembering = StopLedger()
        remembering.recordStops(["c1"])
        #expect(remembering.wasRecentlyStopped("c1"))

        var tuning = HubTuning()
        tuning.recentStopMemory = .zero
        let forgetting = StopLedger(tuning)
        forgetting.recordStops(["c1"])
        #expect(!forgetting.wasRecentlyStopped("c1"))
        #expect(forgetting.missed(by: a).isEmpty)
    }

    @Test("idsPerMessage bounds the stops one announcement tells")
    func missedStopsAreBounded() {
        var tuning = HubTuning()
        tuning.idsPerMessage = 3
        let ledger = StopLedger(tuning)
        ledger.recordStops((0..<10).map { "c\($0)" })
        #expect(ledger.missed(by: a).count == 3)
        #expect(StopLedger().missed(by: a).isEmpty)
    }

    @Test("maxAbsentPeers bounds the peers whose missed stops are kept")
    func absentPeersAreBounded() {
        var tuning = HubTuning()
        tuning.maxAbsentPeers = 1
        tuning.recentStopMemory = .zero  // only the per-peer lists, not recent stops, are told
        let ledger = StopLedger(tuning)
        ledger.peerLeft(a)
        ledger.recordStops(["c1"])
        #expect(ledger.missed(by: a) == ["c1"])
        ledger.peerLeft(b)  // a second absent peer: the first one's list goes
        #expect(ledger.missed(by: a).isEmpty)
    }

    @Test("maxStopsPerPeer bounds one absent peer's list")
    func stopsPerPeerAreBounded() {
        var tuning = HubTuning()
        tuning.maxStopsPerPeer = 2
        tuning.recentStopMemory = .zero
        let ledger = StopLedger(tuning)
        ledger.peerLeft(a)
        ledger.recordStops(["c1", "c2"])
        ledger.recordStops(["c3"])  // the list is full: not kept for a
        #expect(ledger.missed(by: a) == ["c1", "c2"])
    }

    @Test("registry pushes are cut by entriesPerMessage and idsPerMessage")
    func messageSizes() {
        var tuning = HubTuning()
        tuning.idsPerMessage = 4
        let update = RegistryUpdate.unregistered((0..<10).map { "c\($0)" })
        #expect(update.chunked(tuning).count == 3)
        #expect(update.chunked(HubTuning()).count == 1)
    }

    @Test("a topology batch waits at most max(multiple × debounce, debounce + margin)")
    func topologyMaxWait() {
        var tuning = HubTuning()
        #expect(tuning.topologyMaxWait(debounce: .milliseconds(20)) == .milliseconds(520))
        #expect(tuning.topologyMaxWait(debounce: .seconds(1)) == .seconds(4))
        tuning.topologyMaxWaitMargin = .zero
        tuning.topologyMaxWaitMultiple = 2
        #expect(tuning.topologyMaxWait(debounce: .milliseconds(20)) == .milliseconds(40))
    }

    @Test("values that cannot work make the configuration invalid")
    func invalidValues() throws {
        var configuration = HubConfiguration(hubID: "tuned")
        try configuration.validate()
        configuration.tuning.entriesPerMessage = 0
        #expect(throws: HubError.self) { try configuration.validate() }
        configuration.tuning = HubTuning()
        configuration.tuning.drainPollInterval = .zero
        #expect(throws: HubError.self) { try configuration.validate() }
    }
}
