import ClusterNode
import DemoActors
import Logging
import ProcessHub
import ProcessHubLifecycle
import ProcessHubTesting
import ServiceLifecycle
import Synchronization
import Testing

/// ``ProcessHubService`` in a `ServiceGroup`: graceful shutdown hands the children over.
@Suite("Service lifecycle", .serialized, .timeLimit(.minutes(3)))
struct LifecycleTests {
    /// The service's node hosts counters; graceful shutdown of the group moves each one, with
    /// its value, to the other node before the service returns.
    @Test func gracefulShutdownMovesTheChildrenAwayThenLeaves() async throws {
        let secret = ClusterSecret("lifecycle-\(UInt64.random(in: 0 ... .max))")
        var configuration = HubConfiguration(hubID: "life")
        registerDemoKinds(in: &configuration)
        configuration.migration = HotSwap(handover: true)
        let other = try await ClusterNode.start(.init(name: "other", secret: secret))
        let otherHub = try await ProcessHub.start(configuration, on: other)
        defer { Task { await otherHub.stop(movingChildren: false); await other.shutdown() } }

        let started = ServiceStarted()
        let service = ProcessHubService(
            settings: .init(name: "service", secret: secret, seeds: [other.id.address]), hubs: [configuration],
            prepare: { registerDemoKinds(on: $0.system) },
            onStarted: { node, hubs in started.value.withLock { $0 = (node.id, hubs.map(\.hubID)) } })
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }

        try await waitUntil(timeout: .seconds(30), "the service's hub in the cluster") {
            started.value.withLock { $0 } != nil && otherHub.nodes().count == 1 && !otherHub.isLocked
        }
        let (serviceNode, hubIDs) = try #require(started.value.withLock { $0 })
        #expect(hubIDs == ["life"])
        let ids = (0..<40).map { "l\($0)" }
        let result = try await otherHub.startChildren(ids.map { try ChildSpec(id: $0, Counter.self, .init()) }).result()
        let onService = result.started.filter { $0.locations.first?.node == serviceNode }.map(\.id)
        #expect(!onService.isEmpty)
        for id in onService { _ = try await #require(try otherHub.resolve(id, as: Counter.self)).increment(by: 7) }

        await group.triggerGracefulShutdown()
        try await running.value  // returns: the hub stopped and the node left

        try await waitUntil(timeout: .seconds(30), "every counter on the other node") {
            let dump = otherHub.registryDump()
            return otherHub.nodes().isEmpty && dump.count == 40 && dump.values.allSatisfy { $0.locations.map(\.node) == [other.id] }
        }
        for id in onService {
            #expect(try await #require(try otherHub.resolve(id, as: Counter.self)).current() == 7, "\(id) lost its value")
        }
    }
}

/// What the service's `onStarted` saw.
private final class ServiceStarted: Sendable {
    let value = Mutex<(NodeID, [HubID])?>(nil)
}
