import ClusterNode
import Distributed
import Testing

@testable import ProcessHub

distributed actor SpecTestChild: HubProcess {
    typealias ActorSystem = ClusterSystem
    static let kind: HubKind = "spec-test"
    struct Arguments: Codable, Sendable { var start: Int }
    let start: Int
    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
        self.start = arguments.start
    }
}

@Suite("Child specs")
struct ChildSpecTests {
    @Test func aTypedSpecCarriesItsKindAndEncodedArguments() throws {
        let spec = try ChildSpec(id: "c1", SpecTestChild.self, .init(start: 7), restart: .transient)
        #expect(spec.kind == "spec-test")
        #expect(spec.restart == .transient)
        let decoded = try BinaryDecoder().decode(SpecTestChild.Arguments.self, from: spec.encodedArguments)
        #expect(decoded.start == 7)
        let roundTrip = try BinaryDecoder().decode(ChildSpec.self, from: try BinaryEncoder().encode(spec))
        #expect(roundTrip == spec)
    }
}
