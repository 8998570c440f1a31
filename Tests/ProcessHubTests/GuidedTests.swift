import ClusterNode
import DemoActors
import ProcessHubTesting
import Testing

@testable import ProcessHub

@Suite("Guided distribution", .serialized, .timeLimit(.minutes(3)))
struct GuidedTests {
    func guidedHubs() async throws -> LocalHubCluster {
        var configuration = testConfiguration("guided")
        configuration.distribution = Guided()
        return try await LocalHubCluster.start(nodes: 3, configuration: configuration)
    }

    @Test func theFourValidationFailuresAreTypedErrors() async throws {
        let hubs = try await guidedHubs()
        defer { Task { await hubs.shutdown() } }
        let hub = hubs.hubs[0]
        let (n2, n3) = (hubs.cluster.nodes[1].id, hubs.cluster.nodes[2].id)
        let specs = try counters(2, prefix: "g")
        let stranger = NodeID(name: "x", host: "127.0.0.1", port: 1, incarnation: 1)
        let cases: [(StartOptions, HubError.Code)] = [
            (.init(), .missingChildMapping),
            (.init(childMapping: ["g0": [stranger], "g1": [n2]]), .invalidChildMapping),
            (.init(childMapping: ["g0": [n2]]), .childMappingMismatch),
            (.init(childMapping: ["g0": [n2], "g1": [n2, n3]]), .childReplicationMismatch),
        ]
        for (options, code) in cases {
            let error = #expect(throws: HubError.self) { try hub.startChildren(specs, options: options) }
            #expect(error?.code == code)
        }
        #expect(hub.registryDump().isEmpty)
    }

    @Test func childrenRunWhereTheMappingSaysAndAJoinNeverMovesThem() async throws {
        let hubs = try await guidedHubs()
        defer { Task { await hubs.shutdown() } }
        let (n2, n3) = (hubs.cluster.nodes[1].id, hubs.cluster.nodes[2].id)
        let mapping: [ChildID: [NodeID]] = ["g0": [n2], "g1": [n3], "g2": [n3]]
        let result = try await hubs.hubs[0].startChildren(
            try counters(3, prefix: "g"), options: .init(childMapping: mapping)
        ).result()
        #expect(result.status == .ok)
        for (id, locations) in result.started { #expect(locations.map(\.node) == mapping[id]) }
        try await hubs.waitForIdenticalRegistries(count: 3)
        let before = hubs.hubs[0].registryDump().mapValues(\.locations)

        let (node4, hub4) = try await hubs.addNode(name: "n4")
        defer { Task { await hub4.stop(); await node4.shutdown() } }
        try await hubs.waitForIdenticalRegistries(hubs.hubs + [hub4], count: 3)
        #expect(hub4.registryDump().mapValues(\.locations) == before)
        #expect(await hub4.whichChildren().isEmpty)
    }
}
