import ClusterNode
import DemoActors
import Distributed
import ProcessHubTesting
import Synchronization
import Testing

@testable import ProcessHub

/// A configuration with counters and the given migration strategy.
func migrationConfiguration(_ id: HubID, _ migration: any MigrationStrategy) -> HubConfiguration {
    var configuration = testConfiguration(id)
    configuration.register(Deferring.self)
    configuration.migration = migration
    return configuration
}

/// Increments counters through a hub as fast as it can, retrying whatever fails (a counter that
/// moved refuses, a sealed one is unknown, a moving one may be briefly absent), and counts the
/// increments that were acknowledged.
final class IncrementingCaller: Sendable {
    private let acknowledged = Mutex<[ChildID: Int]>([:])
    private let running = Atomic<Bool>(true)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(hub: ProcessHub, ids: [ChildID]) {
        let task = Task {
            var index = 0
            while self.running.load(ordering: .relaxed) {
                let id = ids[index % ids.count]
                index += 1
                do {
                    guard let counter = try hub.resolve(id, as: Counter.self) else { continue }
                    _ = try await ClusterSystem.withCallTimeout(.seconds(20)) { try await counter.increment(by: 1) }
                    self.acknowledged.withLock { $0[id, default: 0] += 1 }
                } catch {
                    try? await Task.sleep(for: .milliseconds(1))
                }
            }
        }
        self.task.withLock { $0 = task }
    }

    /// Stops and returns the acknowledged increments per counter.
    func stop() async -> [ChildID: Int] {
        running.store(false, ordering: .relaxed)
        await task.withLock { $0 }?.value
        return acknowledged.withLock { $0 }
    }
}

@Suite("Migration: handover, drain, explicit moves, consent", .serialized, .timeLimit(.minutes(3)))
struct MigrationTests {
    /// Counters whose ring position moves to a 4th node take their value along, with a caller
    /// incrementing all the way through the move: not one acknowledged increment is lost.
    @Test(arguments: [false, true])
    func countersKeepEveryIncrementThroughAJoin(hot: Bool) async throws {
        let migration: any MigrationStrategy = hot ? HotSwap(handover: true) : ColdSwap(handover: true)
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: migrationConfiguration("hand", migration))
        defer { Task { await hubs.shutdown() } }
        let ids = (0..<40).map { "h\($0)" }
        let delivered = Mutex<Set<ChildID>>([])
        for hub in hubs.hubs {
            try hub.hooks.register(.handoverDelivered, id: "count") { event in
                delivered.withLock { $0.formUnion(event.childIDs) }
            }
        }
        _ = try await hubs.hubs[0].startChildren(ids.map { try ChildSpec(id: $0, Counter.self, .init()) }).result()
        try await hubs.waitForIdenticalRegistries(count: ids.count)
        let caller = IncrementingCaller(hub: hubs.hubs[0], ids: ids)
        try await Task.sleep(for: .milliseconds(300))

        let (node4, hub4) = try await hubs.addNode(name: "n4")
        defer { Task { await hub4.stop(movingChildren: false); await node4.shutdown() } }
        let moved = Set(ConsistentHashing().belongsTo(ids, replicationFactor: 1, nodes: hub4.nodes(includeLocal: true))
            .filter { $0.value == [node4.id] }.keys)
        #expect(!moved.isEmpty)
        try await waitUntil(timeout: .seconds(30), "the moved counters to run on n4") {
            Set(await hub4.whichChildren()) == moved
        }
        try await hubs.waitForIdenticalRegistries(hubs.hubs + [hub4], count: ids.count)
        try await Task.sleep(for: .milliseconds(300))
        let acknowledged = await caller.stop()

        for id in ids {
            let counter = try #require(try hubs.hubs[1].resolve(id, as: Counter.self))
            #expect(try await counter.current() == acknowledged[id, default: 0], "\(id) lost increments")
        }
        #expect(moved.allSatisfy { acknowledged[$0, default: 0] > 0 })
        #expect(delivered.withLock { $0 } == moved)
    }

    /// A drained node moves every child away (with its state) and takes no new ones.
    @Test func drainEmptiesANodeAndItsCountersKeepTheirValues() async throws {
        let hubs = try await LocalHubCluster.start(
            nodes: 3, configuration: migrationConfiguration("drain", ColdSwap(handover: true)))
        defer { Task { await hubs.shutdown() } }
        let drained = hubs.hubs[2]
        let completed = Mutex<DrainCompletedEvent?>(nil)
        try drained.hooks.register(.drainCompleted, id: "t") { event in completed.withLock { $0 = event } }
        _ = try await hubs.hubs[0].startChildren(try counters(60)).result()
        try await hubs.waitForIdenticalRegistries(count: 60)
        let local = await drained.whichChildren()
        #expect(!local.isEmpty)
        for id in local {
            _ = try await #require(try drained.resolve(id, as: Counter.self)).increment(by: 1000)
        }

        let result = try await drained.drain(timeout: .seconds(30))
        #expect(result == DrainResult(migrated: local.count, forced: 0))
        #expect(completed.withLock { $0 } == DrainCompletedEvent(migrated: local.count, forced: 0))
        #expect(await drained.whichChildren().isEmpty)
        try await waitUntil(timeout: .seconds(10), "peers to see the drained node gone") {
            hubs.hubs[0].nodes() == [hubs.hubs[1].node.id] && hubs.hubs[1].nodes() == [hubs.hubs[0].node.id]
        }
        try await hubs.waitForIdenticalRegistries(Array(hubs.hubs[0...1]), count: 60)
        for id in local {
            let counter = try #require(try hubs.hubs[0].resolve(id, as: Counter.self))
            #expect(try await counter.current() == Int(id.dropFirst())! + 1000)
        }
        // New children go to the other nodes only.
        let more = try await hubs.hubs[0].startChildren(try counters(30, prefix: "m")).result()
        #expect(more.started.allSatisfy { !$0.locations.contains { $0.node == drained.node.id } })
        await #expect(throws: HubError.self) { _ = try await drained.drain() }
    }

    @Test func drainNeedsAnotherNode() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 1, configuration: testConfiguration("alone"))
        defer { Task { await hubs.shutdown() } }
        do {
            _ = try await hubs.hubs[0].drain()
            Issue.record("drain succeeded without another node")
        } catch {
            #expect(error.code == .noTargetNodes)
        }
    }

    /// `migrateChild` moves one child, from any node, with its state; bad requests are typed.
    @Test func migrateChildMovesOneChildWithItsState() async throws {
        let hubs = try await LocalHubCluster.start(
            nodes: 3, configuration: migrationConfiguration("move", HotSwap(handover: true)))
        defer { Task { await hubs.shutdown() } }
        let result = try await hubs.hubs[0].startChildren(try counters(10)).result()
        try await hubs.waitForIdenticalRegistries(count: 10)
        let (id, locations) = try #require(result.started.first { $0.locations[0].node != hubs.hubs[0].node.id })
        let host = locations[0].node
        let target = try #require(hubs.hubs.map(\.node.id).first { $0 != host })
        _ = try await #require(try hubs.hubs[0].resolve(id, as: Counter.self)).increment(by: 41)

        try await hubs.hubs[0].migrateChild(id, to: target)
        try await hubs.waitForIdenticalRegistries(count: 10)
        #expect(hubs.hubs[0].child(id)?.locations.map(\.node) == [target])
        let moved = try #require(try hubs.hubs[0].resolve(id, as: Counter.self))
        #expect(try await moved.current() == Int(id.dropFirst())! + 41)

        func code(_ id: ChildID, _ target: NodeID) async -> HubError.Code? {
            do { try await hubs.hubs[0].migrateChild(id, to: target); return nil } catch { return error.code }
        }
        #expect(await code("nope", target) == .notFound)
        #expect(await code(id, target) == .sameNode)
        #expect(await code(id, NodeID(name: "x", host: "127.0.0.1", port: 1, incarnation: 1)) == .notAMember)
    }

    /// A child that defers stays until it is ready (or `migrationReady`), and the hook says so.
    @Test func consentDefersAMoveUntilTheChildIsReady() async throws {
        let consent = MigrationConsent(consentTimeout: .milliseconds(300), retryInterval: .milliseconds(100))
        let hubs = try await LocalHubCluster.start(
            nodes: 2, configuration: migrationConfiguration("consent", ColdSwap(handover: true, consent: consent)))
        defer { Task { await hubs.shutdown() } }
        let ids = (0..<30).map { "d\($0)" }
        _ = try await hubs.hubs[0].startChildren(ids.map { try ChildSpec(id: $0, Deferring.self, .init()) }).result()
        try await hubs.waitForIdenticalRegistries(count: ids.count)
        let parked = Mutex<Set<ChildID>>([])
        for hub in hubs.hubs {
            try hub.hooks.register(.migrationDeferred, id: "t") { event in parked.withLock { $0.formUnion(event.childIDs) } }
        }

        let (node3, hub3) = try await hubs.addNode(name: "n3")
        defer { Task { await hub3.stop(movingChildren: false); await node3.shutdown() } }
        let moving = Set(ConsistentHashing().belongsTo(ids, replicationFactor: 1, nodes: hub3.nodes(includeLocal: true))
            .filter { $0.value == [node3.id] }.keys)
        #expect(moving.count >= 2)
        try await waitUntil(timeout: .seconds(10), "the moving children to defer") { parked.withLock { $0 } == moving }
        try await Task.sleep(for: .milliseconds(300))
        #expect(await hub3.whichChildren().isEmpty)

        // One is let go by its host, the other consents.
        let (first, second) = (moving.sorted()[0], moving.sorted()[1])
        let host = try #require(hubs.hubs.first { $0.child(first)?.locations.first?.node == $0.node.id })
        await host.migrationReady(first)
        let other = try #require(try hubs.hubs[0].resolve(second, as: Deferring.self))
        try await other.consent(true)
        try await waitUntil(timeout: .seconds(10), "the two to move") {
            Set(await hub3.whichChildren()) == [first, second]
        }
        #expect(try await #require(try hub3.resolve(second, as: Deferring.self)).consents() == true)
        #expect(hubs.hubs.flatMap(\.deferredChildren).count == moving.count - 2)
    }

    /// Children that keep deferring move anyway once `maxDeferTime` has passed.
    @Test func deferringPastMaxDeferTimeMovesAnyway() async throws {
        let consent = MigrationConsent(
            consentTimeout: .milliseconds(200), retryInterval: .milliseconds(100), maxDeferTime: .milliseconds(500))
        let hubs = try await LocalHubCluster.start(
            nodes: 2, configuration: migrationConfiguration("forced", HotSwap(consent: consent)))
        defer { Task { await hubs.shutdown() } }
        let ids = (0..<30).map { "f\($0)" }
        _ = try await hubs.hubs[0].startChildren(ids.map { try ChildSpec(id: $0, Deferring.self, .init()) }).result()
        try await hubs.waitForIdenticalRegistries(count: ids.count)
        let (node3, hub3) = try await hubs.addNode(name: "n3")
        defer { Task { await hub3.stop(movingChildren: false); await node3.shutdown() } }
        let moving = Set(ConsistentHashing().belongsTo(ids, replicationFactor: 1, nodes: hub3.nodes(includeLocal: true))
            .filter { $0.value == [node3.id] }.keys)
        try await Task.sleep(for: .milliseconds(250))
        #expect(await hub3.whichChildren().isEmpty)
        try await waitUntil(timeout: .seconds(10), "the deferring children to be moved by force") {
            Set(await hub3.whichChildren()) == moving
        }
        #expect(hubs.hubs.allSatisfy { $0.deferredChildren.isEmpty })
    }

    /// Autonomous: no node sends anything; the newcomer starts its share from its own registry
    /// and the old owners stop theirs.
    @Test func autonomousMigrationStartsTheNewcomersShareWithoutMessages() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 3, configuration: migrationConfiguration("auto", Autonomous()))
        defer { Task { await hubs.shutdown() } }
        let forwarded = Mutex(0)
        for hub in hubs.hubs {
            try hub.hooks.register(.preChildrenStart, id: "t") { event in
                if event.originator != hub.node.id { forwarded.withLock { $0 += event.children.count } }
            }
        }
        let result = try await hubs.hubs[0].startChildren(try counters(200)).result()
        try await hubs.waitForIdenticalRegistries(count: 200)
        forwarded.withLock { $0 = 0 }

        let (node4, hub4) = try await hubs.addNode(name: "n4")
        defer { Task { await hub4.stop(movingChildren: false); await node4.shutdown() } }
        let placement = ConsistentHashing().belongsTo(result.ids, replicationFactor: 1, nodes: hub4.nodes(includeLocal: true))
        let share = Set(placement.filter { $0.value == [node4.id] }.keys)
        try await waitUntil(timeout: .seconds(30), "n4 to start its share itself") { Set(await hub4.whichChildren()) == share }
        try await hubs.waitForIdenticalRegistries(hubs.hubs + [hub4], count: 200)
        for (id, info) in hub4.registryDump() { #expect(info.locations.map(\.node) == placement[id]) }
        #expect(forwarded.withLock { $0 } == 0)
    }

    @Test func replicationCannotBeCombinedWithHandover() async throws {
        var configuration = migrationConfiguration("bad", HotSwap(handover: true))
        configuration.redundancy = Replication(factor: .count(2))
        let node = try await ClusterNode.start(.init(name: "solo", secret: "s"))
        defer { Task { await node.shutdown() } }
        do {
            _ = try await ProcessHub.start(configuration, on: node)
            Issue.record("the configuration was accepted")
        } catch {
            #expect(error.code == .invalidConfiguration)
        }
    }
}

/// A child that defers its migration until told otherwise; it hands that choice over.
distributed actor Deferring: HubProcess {
    typealias ActorSystem = ClusterSystem
    typealias HandoverState = Bool
    static let kind: HubKind = "deferring"
    struct Arguments: Codable, Sendable {}
    var ready = false

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
    }

    distributed func consent(_ ready: Bool) { self.ready = ready }
    distributed func consents() -> Bool { ready }

    func migrationConsent() async -> MigrationConsentReply { ready ? .ready : .deferred }
    func prepareHandoverState() async -> Bool? { ready }
    func alterHandoverState(_ state: Bool) async { ready = state }
}
