import ClusterNode
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One hub's side of the ``CentralizedLoadBalancer``: it elects the leader, sends this node's
/// samples to it, keeps the scoreboard while leading, and adopts the leader's scoreboard otherwise.
final class LoadBalancerRuntime: Sendable {
    /// What load-balancing nodes tell each other.
    enum Message: Codable, Sendable {
        /// A node's load, and when its hub started (for the election).
        case sample(LoadSample, startedAt: Int64)
        /// The leader's scores, and every hub start time it knows.
        case scoreboard([NodeID: Double], startTimes: [NodeID: Int64])
    }

    struct State {
        /// Hub start times (nanoseconds since the epoch) of the nodes heard of, this one included.
        var startTimes: [NodeID: Int64]
        /// Each node's own scores, newest first; kept only while this node leads.
        var histories: [NodeID: [Double]] = [:]
        /// The scoreboard in use and the leader that computed it.
        var board: (leader: NodeID, scores: [NodeID: Double])?
    }

    static let channel = "centralized_load_balancer"

    let host: StrategyHost
    let options: CentralizedLoadBalancer
    /// When this hub started.
    let startedAt: Int64
    let state: Mutex<State>
    private let placements = RecentPlacements()

    init(options: CentralizedLoadBalancer, host: StrategyHost) {
        self.options = options
        self.host = host
        self.startedAt = Self.wallClockNanoseconds()
        self.state = Mutex(State(startTimes: [host.localNode: startedAt]))
        host.receive(on: Self.channel, as: Message.self) { [weak self] message, sender in
            await self?.handle(message, from: sender)
        }
        host.every(options.pushInterval) { [weak self] in await self?.pushRound() }
    }

    var localNode: NodeID { host.localNode }

    // MARK: Placement

    /// The node a child runs on (registry) or was placed on (start requests), if in `members`.
    func knownNode(of id: ChildID, among members: Set<NodeID>) -> NodeID? {
        if let running = host.nodes(hosting: id).first(where: members.contains) { return running }
        return placements.node(of: id).flatMap { members.contains($0) ? $0 : nil }
    }

    /// Places the children that run nowhere by the scoreboard and remembers the placement;
    /// does nothing without a current scoreboard (``CentralizedLoadBalancer/belongsTo(_:replicationFactor:nodes:)``
    /// then falls back to hashing).
    func placeByLoad(_ ids: [ChildID], among nodes: [NodeID]) {
        guard let scores = scores(among: nodes) else { return }
        let fresh = ids.filter { host.nodes(hosting: $0).isEmpty }
        remember(CentralizedLoadBalancer.allocate(fresh, scores: scores).map { ($0.key, $0.value) })
    }

    func remember(_ placements: [(ChildID, NodeID)]) {
        self.placements.remember(placements)
    }

    /// The current leader's scores of `nodes`; `nil` without a scoreboard from the current leader.
    func scores(among nodes: [NodeID]) -> [NodeID: Double]? {
        state.withLock { state in
            guard let board = state.board,
                board.leader == CentralizedLoadBalancer.leader(startTimes: state.startTimes, among: nodes)
            else { return nil }
            let members = Set(nodes)
            let scores = board.scores.filter { members.contains($0.key) }
            return scores.isEmpty ? nil : scores
        }
    }

    /// The leader as this node sees it.
    var leader: NodeID? {
        let nodes = host.hubNodes
        return state.withLock { CentralizedLoadBalancer.leader(startTimes: $0.startTimes, among: nodes) }
    }

    // MARK: Rounds

    /// Every push interval: forget departed nodes, sample, and either score the sample and send
    /// the scoreboard to every node (leader) or send the sample to the leader.
    private func pushRound() async {
        let nodes = host.hubNodes
        let leader = forgetDeparted(keeping: nodes)
        let context = LoadSamplingContext(
            node: localNode, childCount: await host.localChildCount(), pendingWork: host.pendingWork)
        let sample = await options.sampler.sample(context)
        if leader == localNode {
            let scores = await record(sample.score, of: localNode)
            let startTimes = state.withLock { $0.startTimes }
            let others = nodes.filter { $0 != localNode }
            await host.send(Message.scoreboard(scores, startTimes: startTimes), on: Self.channel, to: others)
        } else {
            await host.send(Message.sample(sample, startedAt: startedAt), on: Self.channel, to: [leader])
        }
    }

    /// Drops the nodes that left; returns the leader. A node that does not lead keeps no
    /// histories; one that just took over starts them from the scoreboard it last adopted.
    private func forgetDeparted(keeping nodes: [NodeID]) -> NodeID {
        let members = Set(nodes)
        let local = localNode
        return state.withLock { state in
            state.startTimes = state.startTimes.filter { members.contains($0.key) }
            state.histories = state.histories.filter { members.contains($0.key) }
            let leader = CentralizedLoadBalancer.leader(startTimes: state.startTimes, among: nodes) ?? local
            if leader != local {
                state.histories = [:]
            } else if state.histories.isEmpty, let board = state.board {
                state.histories = board.scores.filter { members.contains($0.key) }.mapValues { [$0] }
            }
            return leader
        }
    }

    func handle(_ message: Message, from sender: NodeID) async {
        let nodes = host.hubNodes
        switch message {
        case .sample(let sample, let startedAt):
            let leads = state.withLock { state in
                state.startTimes[sender] = startedAt
                return CentralizedLoadBalancer.leader(startTimes: state.startTimes, among: nodes) == localNode
            }
            if leads { _ = await record(sample.score, of: sender) }
        case .scoreboard(let scores, let startTimes):
            state.withLock { state in
                state.startTimes.merge(startTimes) { known, _ in known }
                if CentralizedLoadBalancer.leader(startTimes: state.startTimes, among: nodes) == sender {
                    state.board = (sender, scores)
                }
            }
        }
    }

    /// Adds a score to `node`'s history, makes the resulting scoreboard current and fires
    /// ``HookKey/scoreboardUpdated``; returns the scoreboard.
    private func record(_ score: Double, of node: NodeID) async -> [NodeID: Double] {
        let (limit, decay, local) = (options.maxHistorySize, options.weightDecayFactor, localNode)
        let scores = state.withLock { state in
            state.histories[node, default: []].insert(score, at: 0)
            state.histories[node]!.removeLast(max(state.histories[node]!.count - limit, 0))
            let scores = state.histories.mapValues { CentralizedLoadBalancer.currentScore(of: $0, decay: decay) }
            state.board = (local, scores)
            return scores
        }
        await host.fire(.scoreboardUpdated, ScoreboardUpdatedEvent(scores: scores, node: local))
        return scores
    }

    static func wallClockNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// Where recently started children were placed: what a node needs between placing a batch (or
/// receiving a start request) and the registry listing the children. Entries live between one
/// and two ``lifetime``s, so the memory never grows with the number of children ever started.
final class RecentPlacements: Sendable {
    static let lifetime: Duration = .seconds(30)

    private struct Generations {
        var current: [ChildID: NodeID] = [:]
        var previous: [ChildID: NodeID] = [:]
        var since = ContinuousClock.now
    }

    private let state = Mutex(Generations())

    func remember(_ placements: [(ChildID, NodeID)]) {
        guard !placements.isEmpty else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            if now - state.since > Self.lifetime {
                state.previous = state.current
                state.current = [:]
                state.since = now
            }
            for (id, node) in placements { state.current[id] = node }
        }
    }

    func node(of id: ChildID) -> NodeID? {
        state.withLock { $0.current[id] ?? $0.previous[id] }
    }
}
