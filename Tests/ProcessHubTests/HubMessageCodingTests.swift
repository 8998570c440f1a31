import ClusterNode
import Testing

@testable import ProcessHub

@Suite("Hub messages on the wire")
struct HubMessageCodingTests {
    let node = NodeID(name: "n", host: "127.0.0.1", port: 1, incarnation: 2)

    func roundTrip<T: Codable>(_ value: T) throws -> T {
        try BinaryDecoder().decode(T.self, from: try BinaryEncoder().encode(value))
    }

    @Test func registryUpdatesRoundTrip() throws {
        let actor = ActorID(node: node, serial: 1500)
        let spec = ChildSpec(id: "c1", kind: "counter", encodedArguments: [1, 2])
        let entry = RegistryEntry(spec: spec, metadata: ["tag": "x"], epoch: 1, authoredBy: node, actorID: actor)
        guard case .registered(let entries) = try roundTrip(RegistryUpdate.registered([entry])) else {
            Issue.record("registered")
            return
        }
        #expect(entries == [entry])
        guard case .unregistered(let ids) = try roundTrip(RegistryUpdate.unregistered(["a", "b"])) else {
            Issue.record("unregistered")
            return
        }
        #expect(ids == ["a", "b"])
        guard case .actorUpdated(let id, let updated) = try roundTrip(RegistryUpdate.actorUpdated("c1", actor)) else {
            Issue.record("actorUpdated")
            return
        }
        #expect(id == "c1" && updated == actor)
    }
}
