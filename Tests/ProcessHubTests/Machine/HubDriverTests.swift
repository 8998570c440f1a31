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

    @Test func startsStopsAndRecoversOverRealLinks() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        var drivers: [HubDriver] = []
        do {
            for (index, node) in cluster.nodes.enumerated() {
                let driver = HubDriver(configuration: Self.configuration(), node: node, logger: Logger(label: "driver"), seed: UInt64(index))
                await driver.start()
                drivers.append(driver)
            }
            try await waitUntil(timeout: .seconds(10), "every hub has both peers") {
                drivers.allSatisfy { $0.peers.count == 2 }
            }
            let outcome = await drivers[0].perform(.start(try Self.specs(0..<300), StartCommand(timeout: .seconds(20))))
            guard case .children(let outcomes) = outcome else { Issue.record("start: \(outcome)"); throw CancellationError() }
            #expect(outcomes.count == 300 && outcomes.allSatisfy { $0.error == nil })
            try await waitUntil(timeout: .seconds(10), "every registry lists 300") {
                drivers.allSatisfy { $0.registryView.count == 300 }
            }
            #expect(Set(drivers.map(\.registryView)).count == 1)
            let hosts = Set(drivers[1].registryView.values.flatMap { $0.map(\.node) })
            #expect(hosts.count == 3)

            let stopped = (0..<300).filter { $0 % 10 == 3 }.map { "d\($0)" }
            let stop = await drivers[1].perform(.stop(stopped, StopCommand()))
            guard case .children(let stopOutcomes) = stop else { Issue.record("stop: \(stop)"); throw CancellationError() }
            #expect(stopOutcomes.allSatisfy { $0.error == nil })
            try await waitUntil(timeout: .seconds(10), "every registry lists 270") {
                drivers.allSatisfy { $0.registryView.count == 270 }
            }

            // The third node leaves: its children restart on the two others.
            await drivers[2].stop()
            await cluster.nodes[2].shutdown()
            try await waitUntil(timeout: .seconds(15), "270 children on the two survivors") {
                drivers.prefix(2).allSatisfy { driver in
                    let view = driver.registryView
                    return view.count == 270 && view.values.allSatisfy { $0.count == 1 && $0[0].node != cluster.nodes[2].id }
                }
            }
            #expect(stopped.allSatisfy { drivers[0].actorIDs(of: $0).isEmpty })
        } catch {
            Issue.record("\(error)")
        }
        for driver in drivers.prefix(2) { await driver.stop() }
        await cluster.shutdown()
    }
}
