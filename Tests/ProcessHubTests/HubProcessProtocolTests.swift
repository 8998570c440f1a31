import ClusterNode
import DemoActors
import Distributed
import Testing

@testable import ProcessHub

/// A child that hands its count over and records its replica role.
distributed actor HandingOver: HubProcess {
    typealias ActorSystem = ClusterSystem
    typealias HandoverState = Int
    static let kind: HubKind = "handing-over"
    struct Arguments: Codable, Sendable { var count: Int }
    var count: Int
    var mode: ReplicaMode?

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
        self.count = arguments.count
    }

    func prepareHandoverState() async -> Int? { count }
    func alterHandoverState(_ state: Int) async { count += state }
    func redundancySignal(_ mode: ReplicaMode) async { self.mode = mode }

    distributed func snapshot() -> String { "\(count)/\(mode?.rawValue ?? "none")" }
}

/// A child that keeps every default.
distributed actor PlainChild: HubProcess {
    typealias ActorSystem = ClusterSystem
    static let kind: HubKind = "plain"
    struct Arguments: Codable, Sendable {}

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
    }
}

@Suite("HubProcess requirements")
struct HubProcessProtocolTests {
    @Test func handoverAndRedundancyHooksHaveDefaultsAndCanBeOverridden() async throws {
        let node = try await ClusterNode.start(.init(name: "solo", secret: "s"))
        defer { Task { await node.shutdown() } }
        let context = ChildContext(childID: "x", hubID: "h", epoch: 1)
        let plain = PlainChild(actorSystem: node.system, arguments: .init(), context: context)
        let noState = await plain.whenLocal { await $0.prepareHandoverState() }
        #expect(noState == .some(nil))
        #expect(await plain.whenLocal { await $0.migrationConsent() } == .ready)

        let old = HandingOver(actorSystem: node.system, arguments: .init(count: 5), context: context)
        let successor = HandingOver(actorSystem: node.system, arguments: .init(count: 1), context: context)
        let state = try #require(await old.whenLocal { await $0.prepareHandoverState() } ?? nil)
        await successor.whenLocal { await $0.alterHandoverState(state) }
        await successor.whenLocal { await $0.redundancySignal(.passive) }
        #expect(try await successor.snapshot() == "6/passive")
    }
}
