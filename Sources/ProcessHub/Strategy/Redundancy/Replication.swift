import ClusterNode

/// Several instances per child, on distinct nodes (SPEC §4.2.2).
///
/// ```swift
/// config.redundancy = Replication(factor: .count(3), model: .activePassive, signal: .all)
/// ```
/// The distribution strategy names the nodes (the primary first). In ``Model/activePassive``
/// exactly one of them is active — chosen by a rule every node computes alike, independent of
/// ring order: the child's nodes sorted, indexed by the sum of the id's Unicode scalars modulo
/// their count. Instances hear their role through ``HubProcess/redundancySignal(_:)`` as `signal`
/// asks: after they start, and whenever a join or leave changes the active node.
///
/// When nodes join or leave, missing replicas are started and surplus ones stopped. Replication
/// cannot be combined with handover migration (a configuration error).
public struct Replication: RedundancyStrategy {
    /// How many instances.
    public enum Factor: Sendable, Hashable {
        /// This many (at most one per hub node).
        case count(Int)
        /// One on every hub node (ProcessHub's `:cluster_size`, counted over hub members rather
        /// than every connected node).
        case clusterSize
    }

    /// Whether replicas are equal.
    public enum Model: Sendable, Hashable {
        /// Every instance is active.
        case activeActive
        /// One instance is active, the others passive.
        case activePassive
    }

    /// Which instances hear their role.
    public enum Signal: Sendable, Hashable {
        /// None.
        case none
        /// Only active ones.
        case active
        /// Only passive ones.
        case passive
        /// All.
        case all
    }

    /// How many instances. Default `.count(2)`.
    public var factor: Factor
    /// Default ``Model/activeActive``.
    public var model: Model
    /// Default ``Signal/none``.
    public var signal: Signal

    /// Creates the strategy.
    public init(factor: Factor = .count(2), model: Model = .activeActive, signal: Signal = .none) {
        self.factor = factor
        self.model = model
        self.signal = signal
    }

    /// The factor, or the hub node count for ``Factor/clusterSize``.
    public func replicationFactor(hubNodeCount: Int) -> Int {
        switch factor {
        case .count(let count): count
        case .clusterSize: max(hubNodeCount, 1)
        }
    }

    /// Active for every instance in active/active; in active/passive only on ``activeNode(of:among:)``.
    public func mode(of childID: ChildID, on node: NodeID, nodes: [NodeID]) -> ReplicaMode {
        switch model {
        case .activeActive: .active
        case .activePassive: Self.activeNode(of: childID, among: nodes) == node ? .active : .passive
        }
    }

    /// Whether `signal` covers `mode`.
    public func signals(_ mode: ReplicaMode) -> Bool {
        switch signal {
        case .none: false
        case .all: true
        case .active: mode == .active
        case .passive: mode == .passive
        }
    }

    /// The active node of a child placed on `nodes`: sorted, indexed by the sum of the id's
    /// Unicode scalar values modulo their count (ProcessHub's rule), `nil` without nodes.
    public static func activeNode(of childID: ChildID, among nodes: [NodeID]) -> NodeID? {
        guard !nodes.isEmpty else { return nil }
        let sorted = nodes.sorted()
        let sum = childID.unicodeScalars.reduce(0) { $0 &+ Int($1.value) }
        return sorted[sum % sorted.count]
    }
}
