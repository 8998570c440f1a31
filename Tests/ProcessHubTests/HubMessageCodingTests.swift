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

    @Test func startRequestsAndRepliesRoundTripWithTheirNodeTables() throws {
        let other = NodeID(name: "m", host: "10.0.0.2", port: 9, incarnation: 7)
        let spec = ChildSpec(id: "c1", kind: "counter", encodedArguments: [0, 200, 255], restart: .transient, shutdownTimeout: .milliseconds(1500))
        let children = [
            ChildStartData(childID: "c1", spec: spec, nodes: [node, other], metadata: ["tag": "t", "ü": "✓"]),
            ChildStartData(childID: "c2", spec: ChildSpec(id: "c2", kind: "k", encodedArguments: []), nodes: [other]),
        ]
        let request = try roundTrip(StartRequest(originator: other, signature: 42, children: children, isForwarded: true))
        #expect(request.originator == other && request.signature == 42 && request.isForwarded)
        #expect(request.children == children)
        #expect(!request.isRecovery)
        let recovery = try roundTrip(StartRequest(originator: other, signature: 1, children: children, isForwarded: true, isRecovery: true))
        #expect(recovery.isRecovery && recovery.isForwarded)

        let outcomes = [
            ChildStartOutcome(childID: "c1", node: node, actorID: ActorID(node: node, serial: 2000), error: nil),
            ChildStartOutcome(childID: "c2", node: other, actorID: nil, error: ChildError(.unknownKind, "k")),
        ]
        let reply = try roundTrip(StartReply(outcomes: outcomes))
        #expect(reply.outcomes.map(\.childID) == ["c1", "c2"])
        #expect(reply.outcomes[0].actorID == ActorID(node: node, serial: 2000) && reply.outcomes[0].node == node)
        #expect(reply.outcomes[1].actorID == nil && reply.outcomes[1].error == ChildError(.unknownKind, "k"))
    }

    /// Tombstones, and the epochs a restart or move carries: a request without epochs is the
    /// older form and decodes to none (a new start).
    @Test func tombstonesAndStartEpochsRoundTrip() throws {
        guard case .stopped(let stops) = try roundTrip(RegistryUpdate.stopped(["a": 3, "b": 1])) else {
            Issue.record("stopped")
            return
        }
        #expect(stops == ["a": 3, "b": 1])
        let children = [ChildStartData(childID: "c1", spec: ChildSpec(id: "c1", kind: "k", encodedArguments: []), nodes: [node])]
        let moved = try roundTrip(StartRequest(originator: node, signature: 1, children: children, isForwarded: true, epochs: ["c1": 4]))
        #expect(moved.epochs == ["c1": 4] && moved.children == children)
        let fresh = try roundTrip(StartRequest(originator: node, signature: 1, children: children))
        #expect(fresh.epochs.isEmpty && fresh.children == children)
    }

    @Test func aNodeIndexOutOfRangeIsADecodingErrorNotACrash() throws {
        var bytes = try BinaryEncoder().encode(RegistryUpdate.registered([
            RegistryEntry(spec: ChildSpec(id: "x", kind: "k", encodedArguments: []), epoch: 1, authoredBy: node, actorID: ActorID(node: node, serial: 1))
        ]))
        // Corrupt every byte in turn: decoding must throw or succeed, never trap.
        for index in bytes.indices {
            let original = bytes[index]
            bytes[index] = original &+ 37
            _ = try? BinaryDecoder().decode(RegistryUpdate.self, from: bytes)
            bytes[index] = original
        }
    }
}
