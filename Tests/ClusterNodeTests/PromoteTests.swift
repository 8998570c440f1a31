import ClusterNode
import DemoActors
import ProcessHubTesting
import Testing

@Suite("Promoting a local-only node over real TCP", .timeLimit(.minutes(3)))
struct PromoteTests {
    @Test func aLocalOnlyNodeListensOnlyOncePromotedAndItsEarlierActorsStayReachable() async throws {
        let secret = ClusterSecret("promote-\(UInt64.random(in: 0 ... .max))")
        let n1 = try await ClusterNode.start(.localOnly(name: "n1", secret: secret))
        defer { Task { await n1.shutdown() } }
        registerDemoKinds(on: n1.system)
        #expect(n1.system.isLocalOnly)
        #expect(n1.id.port == 0)
        let before = try await n1.system.spawn(kind: Echo.kind, arguments: Echo.Arguments(label: "early"))

        try await n1.promote()
        let promoted = n1.id
        #expect(!n1.system.isLocalOnly)
        #expect(promoted.port != 0 && promoted.incarnation == before.node.incarnation)
        #expect(n1.system.isLocal(before.node))
        #expect(try await Echo.resolve(id: before, using: n1.system).name() == "early")
        await #expect(throws: ClusterError.self) { try await n1.promote() }

        let n2 = try await ClusterNode.start(.init(name: "n2", secret: secret, seeds: [promoted.address]))
        defer { Task { await n2.shutdown() } }
        try await waitUntil("n2 to see the promoted n1") { n2.members == [promoted] }
        let moved = n1.system.currentID(of: before)
        #expect(moved.node == promoted && moved.serial == before.serial)
        #expect(try await Echo.resolve(id: moved, using: n2.system).name() == "early")
    }

    @Test func aLocalOnlyNodeCannotHaveSeeds() async throws {
        var settings = ClusterNodeSettings.localOnly(name: "n1", secret: ClusterSecret("s"))
        settings.seeds = [NodeAddress("127.0.0.1:1")!]
        await #expect(throws: ClusterError.self) { _ = try await ClusterNode.start(settings) }
    }
}

@Suite("Memory trimming settings")
struct MemoryTrimSettingsTests {
    @Test func aNonPositiveTrimIntervalIsRejected() async throws {
        var settings = ClusterNodeSettings(name: "n1", secret: ClusterSecret("s"))
        #expect(settings.memoryTrimInterval == .milliseconds(500))
        settings.memoryTrimInterval = .zero
        await #expect(throws: ClusterError.self) { _ = try await ClusterNode.start(settings) }
    }
}
