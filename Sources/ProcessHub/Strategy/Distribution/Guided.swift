import ClusterNode
import Synchronization

/// Manual placement (SPEC §4.1.2): each start names its children's nodes in
/// ``StartOptions/childMapping``, and children stay on those nodes — a join never moves them, and
/// a child whose node is gone has nowhere to run.
///
/// ```swift
/// config.distribution = Guided()
/// try hub.startChildren(specs, options: .init(childMapping: ["c1": [n2], "c2": [n3]]))
/// ```
/// Validation, in ProcessHub's order: no mapping → ``HubError/Code/missingChildMapping``; a mapping
/// naming a non-member (or no node) → ``HubError/Code/invalidChildMapping``; a child missing from
/// the mapping → ``HubError/Code/childMappingMismatch``; a list of the wrong length →
/// ``HubError/Code/childReplicationMismatch``.
public struct Guided: DistributionStrategy {
    /// The placements this node has learned (validated here, or received in start requests).
    private final class Mapping: Sendable {
        let nodes = Mutex<[ChildID: [NodeID]]>([:])
    }

    private let mapping = Mapping()

    /// Creates the strategy.
    public init() {}

    /// The learned nodes of each child; `[]` for a child this node never learned about.
    public func belongsTo(_ childIDs: [ChildID], replicationFactor: Int, nodes: [NodeID]) -> [ChildID: [NodeID]] {
        mapping.nodes.withLock { known in
            Dictionary(childIDs.map { ($0, Array((known[$0] ?? []).prefix(max(replicationFactor, 0)))) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Placement follows the mapping, which every node learns from the requests.
    public var isDeterministic: Bool { true }

    /// The hub keeps each child's nodes from its start on.
    public var placesByChildMapping: Bool { true }

    /// The node set's signature (as ``ConsistentHashing``).
    public func signature(of nodes: [NodeID]) -> UInt64 { ConsistentHashing().signature(of: nodes) }

    /// Checks the mapping and learns it.
    public func validate(_ children: [ChildSpec], options: StartOptions, context: PlacementContext) throws(HubError) {
        guard let childMapping = options.childMapping else {
            throw HubError(.missingChildMapping, "Guided placement needs a childMapping")
        }
        let members = Set(context.nodes)
        let invalid = childMapping.filter { $0.value.isEmpty || !$0.value.allSatisfy(members.contains) }.keys.sorted()
        if !invalid.isEmpty {
            throw HubError(.invalidChildMapping, "the mapping names no node or non-members", childIDs: invalid)
        }
        let unmapped = children.map(\.id).filter { childMapping[$0] == nil }
        if !unmapped.isEmpty {
            throw HubError(.childMappingMismatch, "children without a mapping", childIDs: unmapped)
        }
        let wrongLength = children.map(\.id).filter { childMapping[$0]?.count != context.replicationFactor }
        if !wrongLength.isEmpty {
            throw HubError(
                .childReplicationMismatch, "mappings must list \(context.replicationFactor) nodes", childIDs: wrongLength)
        }
        learn(children.map { ($0.id, childMapping[$0.id]!) })
    }

    /// Learns the placement of children started through another node.
    public func received(_ children: [ChildStartData]) {
        learn(children.map { ($0.childID, $0.nodes) })
    }

    private func learn(_ placements: [(ChildID, [NodeID])]) {
        mapping.nodes.withLock { known in
            for (id, nodes) in placements { known[id] = nodes }
        }
    }
}
