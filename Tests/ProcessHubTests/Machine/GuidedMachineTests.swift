import ClusterNode
import Testing

@testable import ProcessHub

/// ``Guided`` placement on the hub's state machine: the machine keeps each child's nodes from
/// its start on. Pure, no sockets, no clock.
@Suite("Guided placement on the machine")
struct GuidedMachineTests {
    private static func configuration() -> HubConfiguration {
        var config = HubConfiguration(hubID: "m")
        config.distribution = Guided()
        return config
    }

    /// Start `count` children through `origin`, child i on `nodes[i % nodes.count]`.
    private static func start(_ count: Int, on nodes: [NodeID], through origin: NodeID, _ h: inout MachineHarness) -> [ChildID: [NodeID]] {
        let specs = MachineHarness.specs(0..<count)
        let mapping = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.id, [nodes[$0 % nodes.count]]) })
        h.command(.start(specs, StartCommand(placement: mapping)), on: origin)
        return mapping
    }

    private static func host(of id: ChildID, _ h: MachineHarness) -> [NodeID] {
        h.nodes.filter { h.running[$0]?[id] != nil }
    }

    @Test func childrenRunWhereTheMappingSaysAndAJoinNeverMovesThem() {
        var h = MachineHarness(nodes: 3, configuration: Self.configuration())
        h.advance(by: .milliseconds(100))
        // All on n3, which consistent hashing would never do.
        let mapping = Self.start(30, on: [h.nodes[2]], through: h.nodes[0], &h)
        #expect(h.instances().count == 30)
        for (id, nodes) in mapping { #expect(Self.host(of: id, h) == nodes) }
        h.join(configuration: Self.configuration())
        h.advance(by: .seconds(3))
        for (id, nodes) in mapping { #expect(Self.host(of: id, h) == nodes, "\(id) moved on a join") }
        let views = h.live.map { h.machines[$0]!.registryView }
        #expect(views.allSatisfy { $0 == views[0] } && views[0].count == 30)
    }

    @Test func aChildWhoseNodeIsGoneIsNotRestartedElsewhereAndTheHubSettles() {
        var h = MachineHarness(nodes: 3, configuration: Self.configuration())
        h.advance(by: .milliseconds(100))
        let mapping = Self.start(30, on: [h.nodes[1], h.nodes[2]], through: h.nodes[0], &h)
        h.crash(h.nodes[2])
        h.advance(by: .seconds(5))
        let survivors = mapping.filter { $0.value == [h.nodes[1]] }.keys
        #expect(h.instances().count == survivors.count, "only n2's children run: \(h.instances().count)")
        #expect(survivors.allSatisfy { Self.host(of: $0, h) == [h.nodes[1]] })
        #expect(h.live.allSatisfy { h.machines[$0]!.isSettled }, "an orphan with nowhere to run keeps a node waiting")
    }

    @Test func aMovedChildStaysOnItsTarget() {
        var h = MachineHarness(nodes: 3, configuration: Self.configuration())
        h.advance(by: .milliseconds(100))
        _ = Self.start(3, on: [h.nodes[1]], through: h.nodes[0], &h)
        h.command(.migrate("c1", to: h.nodes[2]), on: h.nodes[1])
        h.advance(by: .seconds(3))
        #expect(Self.host(of: "c1", h) == [h.nodes[2]])
        h.join(configuration: Self.configuration())
        h.advance(by: .seconds(3))
        #expect(Self.host(of: "c1", h) == [h.nodes[2]], "a move is the child's new placement")
        #expect(Self.host(of: "c0", h) == [h.nodes[1]])
    }

    /// A node back from the minority side restarts its own children, which only it and the
    /// registry knew the nodes of.
    @Test func aPartitionedNodeRunsItsMappedChildrenAgainWhenQuorumReturns() {
        var config = Self.configuration()
        config.partitionTolerance = MajorityQuorum(initialClusterSize: 3)
        var h = MachineHarness(nodes: 3, configuration: config)
        h.advance(by: .milliseconds(100))
        let mapping = Self.start(12, on: h.nodes, through: h.nodes[0], &h)
        let lone = h.nodes[2], rest = Array(h.nodes[0..<2])
        h.split(rest, [lone])
        for node in rest { h.down(lone, seenBy: node); h.down(node, seenBy: lone) }
        h.advance(by: .seconds(2))
        #expect(h.machines[lone]!.partitioned)
        #expect(h.instances(among: [lone]).isEmpty)
        #expect(h.instances(among: rest).count == 8, "the majority does not take over the lone node's children")
        h.heal()
        h.advance(by: .seconds(5))
        #expect(h.instances().count == 12)
        for (id, nodes) in mapping { #expect(Self.host(of: id, h) == nodes) }
    }
}
