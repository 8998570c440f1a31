import ClusterNode
import Testing

@testable import ProcessHub

@Suite("RowTable")
struct RowTableTests {
    private static let node = NodeID(name: "a", host: "127.0.0.1", port: 7001, incarnation: 1)

    private static func row(_ id: ChildID, serial: UInt64) -> RegistryRow {
        let entry = RegistryEntry(
            spec: ChildSpec(id: id, kind: "worker", encodedArguments: []), epoch: 1, authoredBy: node,
            actorID: ActorID(node: node, serial: serial))
        return RegistryRow(entry, slot: PackedSlot(space: 0, serial: serial), author: 0)
    }

    /// Removal shifts probe chains back and moves the last row into the hole: after heavy churn
    /// (through several growths) every present id is still found with its own row, and no removed
    /// id is.
    @Test func findsExactlyThePresentRowsAfterChurn() {
        var table = RowTable()
        var model: [ChildID: UInt64] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let id = "c\(Int.random(in: 0..<3_000, using: &generator))"
            if let index = table.index(of: id) {
                #expect(table.rows[index].first.serial == model[id])
                if step % 3 != 0 {
                    table.remove(at: index)
                    model[id] = nil
                }
            } else {
                #expect(model[id] == nil)
                table.insert(Self.row(id, serial: UInt64(step)))
                model[id] = UInt64(step)
            }
        }
        #expect(table.count == model.count)
        for (id, serial) in model { #expect(table.index(of: id).map { table.rows[$0].first.serial } == serial) }
        for number in 0..<3_000 where model["c\(number)"] == nil { #expect(table.index(of: "c\(number)") == nil) }
    }

    @Test func emptyTableFindsNothing() {
        #expect(RowTable().index(of: "c1") == nil)
    }
}
