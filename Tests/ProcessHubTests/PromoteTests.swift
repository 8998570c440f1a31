import ClusterNode
import DemoActors
import ProcessHubTesting
import Testing

@testable import ProcessHub

@Suite("Promoting a hub's node", .serialized, .timeLimit(.minutes(3)))
struct PromoteTests {
    /// Guided placement: a join never moves a child, so the children stay on the promoted node.
    func configuration() -> HubConfiguration {
        var configuration = testConfiguration("promote")
        configuration.distribution = Guided()
        return configuration
    }

    @Test func childrenStartedLocalOnlyAreSeenAndCalledUnderTheNewNodeID() async throws {
        let secret = ClusterSecret("promote-hub-\(UInt64.random(in: 0 ... .max))")
        let n1 = try await ClusterNode.start(.localOnly(name: "n1", secret: secret))
        defer { Task { await n1.shutdown() } }
        let hub1 = try await ProcessHub.start(configuration(), on: n1)
        defer { Task { await hub1.stop() } }
        let specs = try counters(3, prefix: "p")
        let mapping = Dictionary(uniqueKeysWithValues: specs.map { ($0.id, [n1.id]) })
        let result = try await hub1.startChildren(specs, options: .init(childMapping: mapping)).result()
        #expect(result.status == .ok)

        let notYet = await #expect(throws: HubError.self) { try await hub1.promote() }
        #expect(notYet?.code == .notAlive)

        try await n1.promote()
        try await hub1.promote()
        let promoted = n1.id
        #expect(hub1.processList().allSatisfy { $0.locations.map(\.node) == [promoted] })
        #expect(hub1.nodes(includeLocal: true) == [promoted])

        let n2 = try await ClusterNode.start(.init(name: "n2", secret: secret, seeds: [promoted.address]))
        defer { Task { await n2.shutdown() } }
        let hub2 = try await ProcessHub.start(configuration(), on: n2)
        defer { Task { await hub2.stop() } }
        try await waitUntil("n2's registry to list the children under the promoted node") {
            let view = hub2.registryDump()
            return view.count == 3 && view.values.allSatisfy { $0.locations.map(\.node) == [promoted] }
        }
        for (index, spec) in specs.enumerated() {
            let counter = try #require(try hub2.resolve(spec.id, as: Counter.self))
            #expect(try await counter.increment(by: 1) == index + 1)
        }
    }
}
