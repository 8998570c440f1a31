import ClusterNode
import DemoActors
import ProcessHubTesting
import Synchronization
import Testing

@testable import ProcessHub

@Suite("Supervision", .serialized, .timeLimit(.minutes(3)))
struct SupervisorTests {
    @Test func aCrashedChildIsRestartedAndItsNewActorIDReachesEveryNode() async throws {
        var configuration = testConfiguration("restarts")
        configuration.maxRestarts = 1000
        let updates = Mutex<[ActorID]>([])
        try configuration.hooks.register(.childPidUpdated, id: "watch") { event in updates.withLock { $0.append(event.actorID) } }
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: configuration)
        defer { Task { await hubs.shutdown() } }
        let spec = try ChildSpec(id: "crashy", Crasher.self, .init(after: 100))
        let first = try await hubs.hubs[0].startChild(spec).result()
        let firstID = try #require(first.actorID)
        try await waitUntil(timeout: .seconds(20), "a restart seen on both nodes") {
            hubs.hubs.allSatisfy { ($0.actorIDs(of: "crashy").first).map { $0 != firstID } ?? false }
        }
        #expect(!updates.withLock { $0 }.isEmpty)
        let crasher = try #require(try hubs.hubs[1].resolve("crashy", as: Crasher.self))
        #expect(try await crasher.activation() > 1)
    }

    @Test func aTransientChildThatExitsNormallyIsRemovedClusterWide() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: testConfiguration("transient"))
        defer { Task { await hubs.shutdown() } }
        let spec = try ChildSpec(id: "done", Finisher.self, .init(after: 200), restart: .transient)
        let keeper = try ChildSpec(id: "keeper", Counter.self, .init())
        _ = try await hubs.hubs[0].startChildren([spec, keeper]).result()
        try await hubs.waitForIdenticalRegistries(count: 1, timeout: .seconds(20))
        for hub in hubs.hubs { #expect(hub.child("done") == nil && hub.child("keeper") != nil) }
    }

    @Test func aPermanentChildThatExitsIsRestarted() async throws {
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: testConfiguration("permanent"))
        defer { Task { await hubs.shutdown() } }
        let spec = try ChildSpec(id: "again", Finisher.self, .init(after: 100))
        let first = try await hubs.hubs[0].startChild(spec).result()
        try await waitUntil(timeout: .seconds(20)) {
            hubs.hubs.allSatisfy { $0.actorIDs(of: "again").first.map { $0 != first.actorID } ?? false }
        }
    }

    @Test func exceedingTheRestartIntensityGivesTheChildUp() async throws {
        var configuration = testConfiguration("intensity")
        configuration.maxRestarts = 3
        configuration.maxRestartsPeriod = .seconds(10)
        let hubs = try await LocalHubCluster.start(nodes: 2, configuration: configuration)
        defer { Task { await hubs.shutdown() } }
        let spec = try ChildSpec(id: "doomed", Crasher.self, .init(after: 10))
        let keeper = try ChildSpec(id: "keeper", Counter.self, .init())
        _ = try await hubs.hubs[0].startChildren([spec, keeper]).result()
        try await hubs.waitForIdenticalRegistries(count: 1, timeout: .seconds(20))
        for hub in hubs.hubs {
            #expect(hub.child("doomed") == nil)
            #expect(await !hub.whichChildren().contains("doomed"))
        }
    }
}
