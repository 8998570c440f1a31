import ClusterNode

/// Places new children by load (SPEC §4.1.3): more children go to the nodes with more spare
/// capacity.
///
/// ```swift
/// config.distribution = CentralizedLoadBalancer(pushInterval: .seconds(5))
/// ```
///
/// - **Leader.** The hub node that has been running longest (earliest hub start; on a tie the
///   smaller `NodeID`) keeps the scoreboard.
/// - **Samples.** Every ``pushInterval`` each node measures its load with its ``sampler`` and sends
///   it to the leader. The leader keeps each node's last ``maxHistorySize`` scores (each node its
///   own history, unlike ProcessHub 0.4.1, which mixed the leader's into the others'), scores a
///   node by their mean weighted `weightDecayFactor^age`, forgets nodes that left, fires
///   ``HookKey/scoreboardUpdated`` and sends the scoreboard to every hub node, so placement is
///   local (ProcessHub asks the leader for every batch).
/// - **Placement.** A new batch is split in proportion to each scored node's capacity
///   `max(0.1, 1 − score)`. Children never move afterwards: a join leaves them where they are
///   (ProcessHub's `nodeup_redistribution: false`), a running child keeps its node.
/// - **Fallback.** Without a scoreboard from the current leader (at start, or after the leader
///   left and before its successor's first round), and for the children of a node that died,
///   placement is ``ConsistentHashing``: every node agrees on it without asking anyone.
/// - **Replication** is not supported: combined with a redundancy strategy whose replication
///   factor exceeds 1, the hub refuses to start (``HubError/Code/invalidConfiguration``).
public struct CentralizedLoadBalancer: DistributionStrategy {
    /// How many scores the leader keeps per node. Default 30.
    public var maxHistorySize: Int
    /// The weight of a score is this factor to the power of its age (0 = newest). Default 0.9.
    public var weightDecayFactor: Double
    /// How often each node sends its load to the leader. Default 10 s.
    public var pushInterval: Duration
    /// Measures this node's load. Default ``SystemLoadSampler``.
    public var sampler: any LoadSampler

    private let fallback = ConsistentHashing()
    /// The hub's load-balancing state; `nil` until a hub attaches the strategy.
    private(set) var runtime: LoadBalancerRuntime?

    /// Creates the strategy.
    public init(
        maxHistorySize: Int = 30, weightDecayFactor: Double = 0.9, pushInterval: Duration = .seconds(10),
        sampler: any LoadSampler = SystemLoadSampler()
    ) {
        self.maxHistorySize = maxHistorySize
        self.weightDecayFactor = weightDecayFactor
        self.pushInterval = pushInterval
        self.sampler = sampler
    }

    // MARK: DistributionStrategy

    /// One node per child (the replication factor is ignored): the node it runs on or was
    /// placed on, if that node is in `nodes`; otherwise the ``ConsistentHashing`` node.
    public func belongsTo(_ childIDs: [ChildID], replicationFactor: Int, nodes: [NodeID]) -> [ChildID: [NodeID]] {
        guard let runtime else { return fallback.belongsTo(childIDs, replicationFactor: 1, nodes: nodes) }
        let members = Set(nodes)
        var placement: [ChildID: [NodeID]] = [:]
        var unplaced: [ChildID] = []
        for id in childIDs {
            if let node = runtime.knownNode(of: id, among: members) { placement[id] = [node] } else { unplaced.append(id) }
        }
        placement.merge(fallback.belongsTo(unplaced, replicationFactor: 1, nodes: nodes)) { known, _ in known }
        return placement
    }

    /// `true`: placement follows the registry and the placements every node learns from the
    /// start requests, and otherwise the node set.
    public var isDeterministic: Bool { true }

    /// The node set's signature (as ``ConsistentHashing``).
    public func signature(of nodes: [NodeID]) -> UInt64 { fallback.signature(of: nodes) }

    /// Places the batch's new children by the scoreboard (when there is one) and remembers it.
    public func validate(_ children: [ChildSpec], options: StartOptions, context: PlacementContext) throws(HubError) {
        runtime?.placeByLoad(children.map(\.id), among: context.nodes)
    }

    /// It learns each placement from the start requests.
    public var learnsFromStartRequests: Bool { true }

    /// Learns where the children of a start request were placed.
    public func received(_ children: [ChildStartData]) {
        runtime?.remember(children.compactMap { child in child.nodes.first.map { (child.childID, $0) } })
    }

    /// A copy with its own load-balancing state, which starts sampling on `host`.
    public func attach(to host: StrategyHost) -> any DistributionStrategy {
        var attached = self
        attached.runtime = LoadBalancerRuntime(options: self, host: host)
        return attached
    }

    /// Refuses replication and options that cannot work.
    public func validate(configuration: HubConfiguration) throws(HubError) {
        func fail(_ message: String) -> HubError { HubError(.invalidConfiguration, "CentralizedLoadBalancer: \(message)") }
        if configuration.redundancy.replicationFactor(hubNodeCount: 2) > 1 {
            throw fail("replication is not supported (the replication factor must be 1)")
        }
        if maxHistorySize < 1 { throw fail("maxHistorySize must be at least 1") }
        if !(weightDecayFactor > 0 && weightDecayFactor <= 1) { throw fail("weightDecayFactor must be in (0, 1]") }
        if pushInterval <= .zero { throw fail("pushInterval must be positive") }
    }

    // MARK: Scores and allocation

    /// The mean of `scores` (newest first) weighted `decay^age`; 0 without scores.
    static func currentScore(of scores: [Double], decay: Double) -> Double {
        var weighted = 0.0
        var weights = 0.0
        var weight = 1.0
        for score in scores {
            weighted += weight * score
            weights += weight
            weight *= decay
        }
        return weights > 0 ? weighted / weights : 0
    }

    /// Splits `ids` (in order) over the scored nodes in proportion to their capacity
    /// `max(0.1, 1 − score)`: shares rounded, missing places given to the largest shares first,
    /// extra ones cut. Nodes are taken in `NodeID` order, so every node computes the same.
    static func allocate(_ ids: [ChildID], scores: [NodeID: Double]) -> [ChildID: NodeID] {
        guard !ids.isEmpty, !scores.isEmpty else { return [:] }
        let nodes = scores.keys.sorted()
        let capacities = nodes.map { max(0.1, 1 - scores[$0]!) }
        let total = capacities.reduce(0, +)
        let shares = capacities.map { Int(($0 / total * Double(ids.count)).rounded()) }
        var slots = zip(nodes, shares).flatMap { repeatElement($0, count: $1) }
        let largestFirst = nodes.indices.sorted { (shares[$0], $1) > (shares[$1], $0) }.map { nodes[$0] }
        for index in 0..<max(ids.count - slots.count, 0) { slots.append(largestFirst[index % largestFirst.count]) }
        return Dictionary(zip(ids, slots), uniquingKeysWith: { first, _ in first })
    }

    /// The leader among `nodes`: the earliest known hub start, then the smaller `NodeID`; `nil`
    /// when no start time of `nodes` is known.
    static func leader(startTimes: [NodeID: Int64], among nodes: [NodeID]) -> NodeID? {
        nodes.compactMap { node in startTimes[node].map { (node, $0) } }
            .min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }
}
