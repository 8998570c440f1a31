import ClusterNode

/// What one node does about the children it hosts after the hub's topology changed: a pure
/// function of its registry view and the new placement, so every node decides alike.
///
/// For each local child, with `T` its new nodes and `H` the live nodes hosting it now, one
/// holder — the *sender*, the smallest of `H ∩ T`, or of `H` when none stays — starts it where
/// it is missing (`T` minus `H`):
/// - when this node leaves `T` and the primary is missing, the sender **moves** its instance
///   there (the migration strategy's job, possibly with handover), and starts missing replicas;
/// - otherwise missing nodes get plain **replica starts** from the sender;
/// - a holder no longer in `T` that moves nothing stops its instance (**surplus**).
///
/// Starting a child that already runs on a node is harmless (the node answers with its actor
/// id), so two holders with slightly different views cost a message, not a duplicate.
struct RedistributionPlan: Equatable {
    /// Local instances handed to a new primary.
    var moves: [ChildMove] = []
    /// Plain starts this node sends, per node.
    var replicaStarts: [NodeID: [ChildStartData]] = [:]
    /// Local instances stopped without a move.
    var surplus: [ChildID] = []

    /// An empty plan.
    init() {}

    var isEmpty: Bool { moves.isEmpty && replicaStarts.isEmpty && surplus.isEmpty }

    /// The plan of `local` for the children it hosts.
    ///
    /// - Parameters:
    ///   - children: The local children's registry rows.
    ///   - placement: Their new nodes (a child without an entry is left alone).
    ///   - live: The nodes that count as holders (hub members, this node included).
    init(local: NodeID, children: [ChildInfo], placement: [ChildID: [NodeID]], live: Set<NodeID>) {
        for child in children {
            guard let targets = placement[child.spec.id], !targets.isEmpty else { continue }
            let holders = Set(child.locations.map(\.node)).filter { live.contains($0) || $0 == local }
            let sender = holders.filter(targets.contains).min() ?? holders.min()
            let missing = targets.filter { !holders.contains($0) }
            let data = ChildStartData(childID: child.spec.id, spec: child.spec, nodes: targets, metadata: child.metadata)
            var replicas = missing
            if !targets.contains(local) {
                if sender == local, let primary = targets.first, missing.contains(primary) {
                    moves.append(ChildMove(data: data, target: primary))
                    replicas.removeAll { $0 == primary }
                } else {
                    surplus.append(child.spec.id)
                }
            }
            guard sender == local else { continue }
            for node in replicas { replicaStarts[node, default: []].append(data) }
        }
    }
}
