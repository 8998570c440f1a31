import ClusterNode
import Tracing

/// The hub's spans (swift-distributed-tracing). Without a bootstrapped tracer they are no-op
/// spans: a task-local read and a few calls per operation, never per child or per lookup.
///
/// | operation | span | attributes |
/// | --- | --- | --- |
/// | a start | `processhub.start_children` | `processhub.hub`, `processhub.child_count`, `processhub.nodes` (the hub's nodes when placed) |
/// | a migration pass | `processhub.migrate` | `processhub.hub`, `processhub.child_count` (moves), `processhub.nodes` (target nodes) |
enum HubTracing {
    /// Runs a start operation in a span.
    static func startChildren<T>(
        hub: HubID, count: Int, nodes: [NodeID], _ operation: () async -> T
    ) async -> T {
        await traced("processhub.start_children", hub: hub, count: count, nodes: nodes, operation)
    }

    /// Runs a migration of `moves` in a span.
    static func migrate<T>(hub: HubID, moves: [ChildMove], _ operation: () async -> T) async -> T {
        let targets = Set(moves.map(\.target)).sorted()
        return await traced("processhub.migrate", hub: hub, count: moves.count, nodes: targets, operation)
    }

    /// The span of a migration the state machine drives over several inputs: the caller ends it.
    static func startMigration(hub: HubID, count: Int, target: NodeID) -> any Span {
        let span = startSpan("processhub.migrate")
        span.attributes["processhub.hub"] = hub.name
        span.attributes["processhub.child_count"] = count
        span.attributes["processhub.nodes"] = ["\(target)"]
        return span
    }

    private static func traced<T>(
        _ name: String, hub: HubID, count: Int, nodes: [NodeID], _ operation: () async -> T
    ) async -> T {
        await withSpan(name) { span in
            span.attributes["processhub.hub"] = hub.name
            span.attributes["processhub.child_count"] = count
            span.attributes["processhub.nodes"] = nodes.map(\.description)
            return await operation()
        }
    }
}
