import ClusterNode
import Testing

@testable import ProcessHub

@Suite("Registry rename on promotion")
struct RegistryRenameTests {
    static func node(_ name: String, port: Int) -> NodeID {
        NodeID(name: name, host: "127.0.0.1", port: port, incarnation: 7)
    }

    static func entry(_ id: ChildID, on node: NodeID, serial: UInt64) -> RegistryEntry {
        RegistryEntry(
            spec: ChildSpec(id: id, kind: "worker", encodedArguments: []), epoch: 1, authoredBy: node,
            actorID: ActorID(node: node, serial: serial))
    }

    /// Every slot, author and node index of the old identity names the new one; rows with several
    /// slots are re-ordered by node, and lookups by node find the renamed slots.
    @Test func everyRowNamesTheNewNodeInNodeOrder() {
        let (local, other, promoted) = (Self.node("a", port: 0), Self.node("b", port: 7002), Self.node("a", port: 7003))
        let registry = ChildRegistry(localNode: local)
        registry.register([
            Self.entry("c1", on: local, serial: 1), Self.entry("c2", on: local, serial: 2),
            Self.entry("c2", on: other, serial: 3),
        ])
        #expect(registry.actorIDs(of: "c2").map(\.node) == [local, other])

        #expect(registry.renameLocalNode(to: promoted) == local)
        #expect(registry.localNode == promoted)
        #expect(registry.actorID(of: "c1") == ActorID(node: promoted, serial: 1))
        #expect(registry.actorIDs(of: "c2") == [ActorID(node: other, serial: 3), ActorID(node: promoted, serial: 2)])
        #expect(registry.version(of: "c1")?.authoredBy == promoted)
        #expect(registry.ids(hostedOn: promoted) == ["c1", "c2"])
        #expect(registry.ids(hostedOn: local).isEmpty)
        #expect(registry.localProcessList().map(\.0) == ["c1", "c2"])
        #expect(registry.entries(ownedBy: promoted).map(\.actorID.serial) == [1, 2])
    }
}
