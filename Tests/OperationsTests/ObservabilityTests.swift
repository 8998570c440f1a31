import ClusterNode
import DemoActors
import InMemoryTracing
import MetricsTestKit
import ProcessHub
import ProcessHubTesting
import Synchronization
import Testing
import Tracing

/// Metrics and spans of a real hub cluster on loopback, read from in-memory backends.
@Suite("Metrics and tracing", .serialized, .timeLimit(.minutes(3)))
struct ObservabilityTests {
    private static func dimensions(_ node: ClusterNode, hub: String? = nil) -> [(String, String)] {
        let name = "\(node.id.name)@\(node.id.host):\(node.id.port)"
        return hub.map { [("hub", $0), ("node", name)] } ?? [("node", name)]
    }

    private static func counter(_ label: String, _ node: ClusterNode, hub: String) -> Int64 {
        (try? Backends.metrics.expectCounter(label, dimensions(node, hub: hub)).totalValue) ?? 0
    }

    private static func gauge(_ label: String, _ node: ClusterNode, hub: String? = nil) -> Double? {
        try? Backends.metrics.expectGauge(label, dimensions(node, hub: hub)).lastValue
    }

    /// Starts, stops, a join with handover: every metric moves as documented, and the start
    /// and the migration leave spans with their attributes.
    @Test func aHubClusterReportsItsMetricsAndSpans() async throws {
        Backends.bootstrap()
        let hub = "obs-\(UInt64.random(in: 0 ... .max))"
        var configuration = HubConfiguration(hubID: HubID(hub))
        registerDemoKinds(in: &configuration)
        configuration.migration = HotSwap(handover: true)
        let cluster = try await LocalHubCluster.start(nodes: 2, configuration: configuration)
        let extra = Joiner()
        defer {
            Task {
                if let (node, hub) = extra.value.withLock({ $0 }) {
                    await hub.stop(movingChildren: false)
                    await node.shutdown()
                }
                await cluster.shutdown()
            }
        }
        let nodes = cluster.cluster.nodes
        #expect(Self.gauge("processhub.node.peers", nodes[0]) == 1)

        let ids = (0..<40).map { "o\($0)" }
        let result = try await cluster.hubs[0].startChildren(ids.map { try ChildSpec(id: $0, Counter.self, .init()) }).result()
        #expect(result.status == .ok)
        try await cluster.waitForIdenticalRegistries(count: 40)

        // Started here and there, 40 in all; each node's gauges say what it runs and lists.
        #expect(nodes.map { Self.counter("processhub.hub.children.started", $0, hub: hub) }.reduce(0, +) == 40)
        let local = nodes.map { Self.gauge("processhub.hub.children.local", $0, hub: hub) ?? -1 }
        #expect(local.reduce(0, +) == 40 && local.allSatisfy { $0 > 0 })
        try await waitUntil(timeout: .seconds(10), "registry gauges at 40") {
            nodes.allSatisfy { Self.gauge("processhub.hub.registry.size", $0, hub: hub) == 40 }
        }
        // The originator's start call to the other node was timed; each node's registrations
        // reached the other, and the lag was measured.
        let calls = try Backends.metrics.expectTimer("processhub.node.remote_call.duration", Self.dimensions(nodes[0]))
        #expect(!calls.values.isEmpty && calls.values.allSatisfy { $0 > 0 })
        // The lag is recorded when the peer's acknowledgement is back, a moment after the peer
        // applied the change (which is what waitForIdenticalRegistries saw).
        try await waitUntil(timeout: .seconds(10), "a sync lag measured on each node") {
            nodes.allSatisfy { node in
                (try? Backends.metrics.expectTimer("processhub.hub.registry.sync_lag", Self.dimensions(node, hub: hub)))
                    .map { !$0.values.isEmpty } ?? false
            }
        }
        for node in nodes {
            let lag = try Backends.metrics.expectTimer("processhub.hub.registry.sync_lag", Self.dimensions(node, hub: hub))
            #expect(lag.values.allSatisfy { $0 > 0 })
        }

        // The start's span.
        let startSpan = try #require(Backends.tracer.finishedSpans.last {
            $0.operationName == "processhub.start_children" && $0.attributes["processhub.hub"]?.toSpanAttribute() == .string(hub)
        })
        #expect(startSpan.attributes["processhub.child_count"]?.toSpanAttribute() == .int64(40))
        #expect(startSpan.attributes["processhub.nodes"]?.toSpanAttribute() == .stringArray(nodes.map(\.id).sorted().map { "\($0)" }))

        // Stops are counted where the children ran.
        _ = try await cluster.hubs[0].stopChildren(["o0", "o1", "o2"]).result()
        #expect(nodes.map { Self.counter("processhub.hub.children.stopped", $0, hub: hub) }.reduce(0, +) == 3)

        // A third node joins: children move to it with their state.
        let (joiner, joinerHub) = try await cluster.addNode(name: "joiner")
        extra.value.withLock { $0 = (joiner, joinerHub) }
        let remaining = Array(ids.dropFirst(3))
        let all = joinerHub.nodes(includeLocal: true)
        let share = ConsistentHashing().belongsTo(remaining, replicationFactor: 1, nodes: all).filter { $0.value == [joiner.id] }.count
        #expect(share > 0)
        try await waitUntil(timeout: .seconds(30), "the joiner's share on the joiner") {
            joinerHub.processList(.local).count == share && !joinerHub.isLocked && cluster.hubs.allSatisfy { !$0.isLocked }
        }
        let moved = share
        try await waitUntil(timeout: .seconds(10), "the moves counted") {
            nodes.map { Self.counter("processhub.hub.migrations", $0, hub: hub) }.reduce(0, +) == moved
                && Self.counter("processhub.hub.handovers", joiner, hub: hub) == moved
        }
        #expect(Self.gauge("processhub.node.peers", joiner) == 2)
        let migrateSpans = Backends.tracer.finishedSpans.filter {
            $0.operationName == "processhub.migrate" && $0.attributes["processhub.hub"]?.toSpanAttribute() == .string(hub)
        }
        #expect(!migrateSpans.isEmpty)
        #expect(migrateSpans.allSatisfy { $0.attributes["processhub.nodes"]?.toSpanAttribute() == .stringArray(["\(joiner.id)"]) })
        let movedInSpans = migrateSpans.compactMap { span -> Int64? in
            if case .int64(let count) = span.attributes["processhub.child_count"]?.toSpanAttribute() { return count }
            return nil
        }
        #expect(movedInSpans.reduce(0, +) == Int64(moved))
    }
}

/// The node a test adds, for its cleanup.
private final class Joiner: Sendable {
    let value = Mutex<(ClusterNode, ProcessHub)?>(nil)
}
