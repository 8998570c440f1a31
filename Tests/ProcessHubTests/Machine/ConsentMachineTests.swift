import ClusterNode
import Testing

@testable import ProcessHub

/// Migration consent on the hub's state machine (SPEC §4.3.6), driven by hand: children are
/// asked before a rebalance moves them; those that defer stay, are asked again, and move once
/// ready, let go, or deferring for too long.
@Suite("Consent machine")
struct ConsentMachineTests {
    static let consent = MigrationConsent(
        consentTimeout: .milliseconds(200), retryInterval: .seconds(1), maxDeferTime: .seconds(5))

    static var configuration: HubConfiguration {
        var configuration = HubConfiguration(hubID: "m")
        configuration.migration = ColdSwap(handover: true, consent: consent)
        return configuration
    }

    static var settings: MachineSettings {
        var settings = MachineSettings()
        settings.consent = consent
        return settings
    }

    /// Two nodes with 60 children, where `defers` says which children defer; then a third node
    /// joins. Returns the children placed on the newcomer (the ones asked to move) and the newcomer.
    static func joinWithChildren(deferring defers: (ChildID) -> Bool) -> (MachineHarness, moving: Set<ChildID>, newcomer: NodeID) {
        var h = MachineHarness(nodes: 2, configuration: configuration, settings: settings)
        h.advance(by: .milliseconds(100))
        let specs = MachineHarness.specs(0..<60)
        h.deferring = Set(specs.map(\.id).filter(defers))
        h.command(.start(specs, StartCommand()), on: h.nodes[0])
        let newcomer = h.join(configuration: configuration, settings: settings)
        h.advance(by: .milliseconds(100))
        let moving = Set(specs.map(\.id).filter { h.placement(of: $0, among: h.nodes) == newcomer })
        return (h, moving, newcomer)
    }

    /// The children that deferred, over every node.
    static func deferred(_ h: MachineHarness) -> Set<ChildID> {
        Set(h.nodes.flatMap { h.machines[$0]?.deferredIDs ?? [] })
    }

    static func hosted(_ h: MachineHarness, on node: NodeID) -> Set<ChildID> { Set((h.running[node] ?? [:]).keys) }

    @Test func aChildThatConsentsMovesAtOnceAndIsAskedOnce() {
        let (h, moving, newcomer) = Self.joinWithChildren { _ in false }
        #expect(!moving.isEmpty)
        #expect(Self.hosted(h, on: newcomer) == moving)
        #expect(moving.allSatisfy { h.consentAsks[$0] == 1 })
        #expect(Self.deferred(h).isEmpty)
    }

    @Test func aDeferredChildStaysAndIsAskedAgainEveryRetryInterval() {
        var (h, moving, newcomer) = Self.joinWithChildren { _ in true }
        #expect(!moving.isEmpty)
        #expect(Self.hosted(h, on: newcomer).isEmpty)
        #expect(Self.deferred(h) == moving)
        let deferredEvents = h.nodes.flatMap { h.events[$0] ?? [] }.flatMap { event -> [ChildID] in
            if case .migrationDeferred(let ids) = event { return ids }
            return []
        }
        #expect(Set(deferredEvents) == moving && deferredEvents.count == moving.count)

        h.advance(by: .milliseconds(2_100))
        #expect(Self.hosted(h, on: newcomer).isEmpty)
        #expect(Self.deferred(h) == moving)
        #expect(moving.allSatisfy { h.consentAsks[$0] == 3 })
        #expect(h.instances().count == 60 && h.instances().values.allSatisfy { $0 == 1 })
    }

    @Test func aChildThatStopsDeferringMovesAtItsNextRetry() {
        var (h, moving, newcomer) = Self.joinWithChildren { _ in true }
        let ready = moving.sorted()[0]
        h.deferring.remove(ready)
        h.advance(by: .milliseconds(1_100))
        #expect(Self.hosted(h, on: newcomer) == [ready])
        #expect(Self.deferred(h) == moving.subtracting([ready]))
    }

    @Test func aDeferredChildMovesAnywayAfterMaxDeferTime() {
        var (h, moving, newcomer) = Self.joinWithChildren { _ in true }
        h.advance(by: .seconds(4))
        #expect(Self.hosted(h, on: newcomer).isEmpty)
        h.advance(by: .milliseconds(1_500))
        #expect(Self.hosted(h, on: newcomer) == moving)
        #expect(Self.deferred(h).isEmpty)
        #expect(h.instances().count == 60 && h.instances().values.allSatisfy { $0 == 1 })
    }

    @Test func migrationReadyMovesADeferredChildAtOnce() throws {
        var (h, moving, newcomer) = Self.joinWithChildren { _ in true }
        let letGo = moving.sorted()[0]
        let host = try #require(h.nodes.first { h.running[$0]?[letGo] != nil })
        let op = h.command(.migrationReady([letGo]), on: host)
        h.advance(by: .milliseconds(50))
        #expect(h.outcomes[op] == .done)
        #expect(Self.hosted(h, on: newcomer) == [letGo])
        #expect(Self.deferred(h) == moving.subtracting([letGo]))
        #expect(h.consentAsks[letGo] == 1)
    }

    @Test func aParkedChildWhosePlacementComesBackIsForgotten() {
        var (h, moving, newcomer) = Self.joinWithChildren { _ in true }
        #expect(Self.deferred(h) == moving)
        h.crash(newcomer)
        h.advance(by: .milliseconds(1_100))
        #expect(Self.deferred(h).isEmpty)
        #expect(moving.allSatisfy { h.instances()[$0] == 1 })
    }

    @Test func aDrainWaitsForConsentThenMovesWhatStillDefers() throws {
        var (h, moving, newcomer) = Self.joinWithChildren { _ in false }
        #expect(Self.hosted(h, on: newcomer) == moving)
        h.deferring = Set(MachineHarness.specs(0..<60).map(\.id))
        let drained = h.nodes[1]
        let local = Self.hosted(h, on: drained)
        let drain = h.command(.drain(askingConsentFor: .seconds(2)), on: drained)
        h.advance(by: .milliseconds(500))
        #expect(Self.hosted(h, on: drained) == local)
        #expect(h.outcomes[drain] == nil)
        h.advance(by: .seconds(2))
        #expect(Self.hosted(h, on: drained).isEmpty)
        #expect(h.outcomes[drain] == .drained(forced: local.count))
    }

    @Test func aGracefulStopsDrainDoesNotAsk() {
        var (h, _, _) = Self.joinWithChildren { _ in true }
        let drained = h.nodes[1]
        let local = Self.hosted(h, on: drained)
        let asked = h.consentAsks
        let drain = h.command(.drain(), on: drained)
        h.advance(by: .milliseconds(500))
        #expect(Self.hosted(h, on: drained).isEmpty)
        #expect(h.outcomes[drain] != nil)
        #expect(local.allSatisfy { h.consentAsks[$0] == asked[$0] })
    }
}
