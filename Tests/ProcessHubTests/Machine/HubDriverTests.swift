import ClusterNode
import DemoActors
import Logging
import ProcessHubTesting
import Testing

@testable import ProcessHub

/// The machine behind its driver, over real TCP between nodes in one process.
@Suite("Hub driver", .serialized, .timeLimit(.minutes(3)))
struct HubDriverTests {
    static func configuration() -> HubConfiguration {
        var config = HubConfiguration(hubID: "driven")
        config.register(Counter.self)
        return config
    }

    static func specs(_ range: Range<Int>) throws -> [ChildSpec] {
        try range.map { try ChildSpec(id: "d\($0)", Counter.self, .init()) }
    }

    /// The strategies that once kept a hub on the legacy coordinator now run on the driver.
    @Test func everyStrategyOnceLeftToTheLegacyCoordinatorRunsOnTheDriver() async throws {
        let node = try await ClusterNode.start(.localOnly(name: "lo", secret: ClusterSecret("driver-runs")))
        defer { Task { await node.shutdown() } }
        var configurations: [String: HubConfiguration] = [:]
        for (name, change) in [
            ("Guided", { (c: inout HubConfiguration) in c.distribution = Guided() }),
            ("CentralizedLoadBalancer", { $0.distribution = CentralizedLoadBalancer() }),
            ("OnNamedNode", { $0.distribution = OnNamedNode(name: "lo") }),
            ("DynamicQuorum", { $0.partitionTolerance = DynamicQuorum(quorumSize: 60) }),
            ("ColdSwap+consent", { $0.migration = ColdSwap(handover: true, consent: MigrationConsent()) }),
            ("HotSwap+consent", { $0.migration = HotSwap(consent: MigrationConsent()) }),
        ] as [(String, (inout HubConfiguration) -> Void)] {
            var configuration = Self.configuration()
            change(&configuration)
            configurations[name] = configuration
        }
        for (name, configuration) in configurations.sorted(by: { $0.key < $1.key }) {
            #expect(HubDriver.runs(configuration, on: node), "\(name) on a local-only node")
        }
        var forced = Self.configuration()
        forced.forcesLegacyCoordinator = true
        #expect(!HubDriver.runs(forced, on: node))
    }

    /// The driver's timers run on its injected clock: over real links, a join waits for its
    /// debounce until the clock says it passed, however long the test waits in real time.
    @Test func timersRunOnTheInjectedClock() async throws {
        let cluster = try await LocalCluster.start(nodes: 2)
        let clock = ManualHubClock()
        var drivers: [HubDriver] = []
        do {
            for (index, node) in cluster.nodes.enumerated() {
                let driver = HubDriver(configuration: Self.configuration(), node: node, logger: Logger(label: "driver"), seed: UInt64(index), clock: clock)
                try await driver.start()
                drivers.append(driver)
            }
            try await waitUntil(timeout: .seconds(10), "both hubs announced") { drivers.allSatisfy { $0.peers.count == 1 } }
            try await Task.sleep(for: .milliseconds(300))  // 15 debounce windows of real time
            #expect(drivers.allSatisfy { $0.hubNodes.count == 1 }, "the join batch flushed without the clock")
            clock.advance(by: .milliseconds(25))
            try await waitUntil(timeout: .seconds(10), "the join batch flushed once the clock passed the debounce") {
                drivers.allSatisfy { $0.hubNodes.count == 2 }
            }
        } catch {
            Issue.record("\(error)")
        }
        for driver in drivers { await driver.stop(movingChildren: false) }
        await cluster.shutdown()
    }

    @Test func startsStopsAndRecoversOverRealLinks() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        var drivers: [HubDriver] = []
        do {
            for (index, node) in cluster.nodes.enumerated() {
                let driver = HubDriver(configuration: Self.configuration(), node: node, logger: Logger(label: "driver"), seed: UInt64(index))
                try await driver.start()
                drivers.append(driver)
            }
            try await waitUntil(timeout: .seconds(10), "every hub has both peers") {
                drivers.allSatisfy { $0.peers.count == 2 }
            }
            let outcome = await drivers[0].perform(.start(try Self.specs(0..<300), StartCommand(timeout: .seconds(20))))
            guard case .children(let outcomes) = outcome else { Issue.record("start: \(outcome)"); throw CancellationError() }
            #expect(outcomes.count == 300 && outcomes.allSatisfy { $0.error == nil })
            try await waitUntil(timeout: .seconds(10), "every registry lists 300") {
                drivers.allSatisfy { $0.registry.dump().mapValues { $0.locations.map(\.actorID) }.count == 300 }
            }
            #expect(Set(drivers.map { $0.registry.dump().mapValues { $0.locations.map(\.actorID) } }).count == 1)
            let hosts = Set(drivers[1].registry.dump().mapValues { $0.locations.map(\.actorID) }.values.flatMap { $0.map(\.node) })
            #expect(hosts.count == 3)

            let stopped = (0..<300).filter { $0 % 10 == 3 }.map { "d\($0)" }
            let stop = await drivers[1].perform(.stop(stopped, StopCommand()))
            guard case .children(let stopOutcomes) = stop else { Issue.record("stop: \(stop)"); throw CancellationError() }
            #expect(stopOutcomes.allSatisfy { $0.error == nil })
            try await waitUntil(timeout: .seconds(10), "every registry lists 270") {
                drivers.allSatisfy { $0.registry.dump().mapValues { $0.locations.map(\.actorID) }.count == 270 }
            }

            // The third node leaves: its children restart on the two others.
            await drivers[2].stop(movingChildren: false)
            await cluster.nodes[2].shutdown()
            try await waitUntil(timeout: .seconds(15), "270 children on the two survivors") {
                drivers.prefix(2).allSatisfy { driver in
                    let view = driver.registry.dump().mapValues { $0.locations.map(\.actorID) }
                    return view.count == 270 && view.values.allSatisfy { $0.count == 1 && $0[0].node != cluster.nodes[2].id }
                }
            }
            #expect(stopped.allSatisfy { drivers[0].registry.actorIDs(of: $0).isEmpty })
        } catch {
            Issue.record("\(error)")
        }
        for driver in drivers.prefix(2) { await driver.stop(movingChildren: false) }
        await cluster.shutdown()
    }

    /// A node joins: the counters placed on it move there with their values (HotSwap with
    /// handover: started holding calls, sealed, captured, delivered, stopped), over real links.
    @Test func movesCarryTheirStateToAJoiningNode() async throws {
        var config = Self.configuration()
        config.migration = HotSwap(handover: true)
        let cluster = try await LocalCluster.start(nodes: 3)
        var drivers: [HubDriver] = []
        do {
            for (index, node) in cluster.nodes.prefix(2).enumerated() {
                let driver = HubDriver(configuration: config, node: node, logger: Logger(label: "driver"), seed: UInt64(index))
                try await driver.start()
                drivers.append(driver)
            }
            try await waitUntil(timeout: .seconds(10), "both hubs see each other") { drivers.allSatisfy { $0.peers.count == 1 } }
            let specs = try Self.specs(0..<60)
            guard case .children(let outcomes) = await drivers[0].perform(.start(specs, StartCommand())),
                outcomes.allSatisfy({ $0.error == nil })
            else { Issue.record("start failed"); throw CancellationError() }
            try await waitUntil(timeout: .seconds(10), "both registries list 60") { drivers.allSatisfy { $0.registry.dump().mapValues { $0.locations.map(\.actorID) }.count == 60 } }
            for (index, spec) in specs.enumerated() {
                let counter = try #require(try Counter.resolve(id: drivers[0].registry.actorIDs(of: spec.id)[0], using: cluster.nodes[0].system))
                _ = try await counter.increment(by: index + 1)
            }

            let joiner = HubDriver(configuration: config, node: cluster.nodes[2], logger: Logger(label: "driver"), seed: 9)
            try await joiner.start()
            drivers.append(joiner)
            let third = cluster.nodes[2].id
            // Every registry (the joiner's too) lists each counter once, where it is placed: the
            // origins' withdrawals have arrived everywhere.
            let placed = ConsistentHashing().belongsTo(specs.map(\.id), replicationFactor: 1, nodes: cluster.nodes.map(\.id))
            try await waitUntil(timeout: .seconds(15), "the joiner's share runs there") {
                drivers.allSatisfy { driver in
                    let view = driver.registry.dump().mapValues { $0.locations.map(\.actorID) }
                    return view.count == 60 && specs.allSatisfy { (view[$0.id]?.map(\.node) ?? []) == placed[$0.id]! }
                }
            }
            let moved = specs.filter { drivers[0].registry.actorIDs(of: $0.id).first?.node == third }
            #expect(!moved.isEmpty)
            for (index, spec) in specs.enumerated() {
                let actorID = try #require(drivers[2].registry.actorIDs(of: spec.id).first)
                let counter = try Counter.resolve(id: actorID, using: cluster.nodes[2].system)
                #expect(try await counter.current() == index + 1, "\(spec.id) lost its value")
            }
        } catch {
            Issue.record("\(error)")
        }
        for driver in drivers { await driver.stop(movingChildren: false) }
        await cluster.shutdown()
    }
}
