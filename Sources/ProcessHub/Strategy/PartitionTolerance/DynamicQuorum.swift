import ClusterNode

/// A quorum in percent of the recently seen cluster (SPEC §4.5): the hub is partitioned when the
/// hub nodes lost within ``thresholdTime`` make up too large a share.
///
/// ```swift
/// config.partitionTolerance = DynamicQuorum(quorumSize: 80)   // 10 nodes: 2 down is fine, 3 is not
/// ```
///
/// Every hub node keeps a *down log*: which hub nodes left, and when (wall-clock time, so logs
/// from different nodes compare). With `connected` reachable hub nodes (this one included) and
/// `down` nodes in the log, the hub is partitioned when `connected / (connected + down)` falls
/// below ``quorumSize`` percent. Entries older than ``thresholdTime`` drop out, and a node that
/// joins again (any incarnation of its endpoint) leaves the log. On a join each side sends the
/// joined node its log, and a node keeps whichever log is longer: a node that comes back from the
/// minority side learns how many nodes the majority lost meanwhile.
///
/// Caveat (as in ProcessHub): scaling down several nodes within ``thresholdTime`` looks like a
/// partition.
public struct DynamicQuorum: PartitionToleranceStrategy {
    /// The share of the recently seen cluster, in percent (1…100), that must stay reachable.
    public var quorumSize: Int
    /// How long a departure counts. Default 30 s; must be positive.
    public var thresholdTime: Duration

    /// This hub's down log and how to reach its peers' logs; `nil` until a hub attaches it.
    private var runtime: Runtime?

    /// Creates the strategy.
    public init(quorumSize: Int, thresholdTime: Duration = .seconds(30)) {
        self.quorumSize = quorumSize
        self.thresholdTime = thresholdTime
    }

    /// Logs the departures and tells whether the lost share is too large.
    public func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool {
        guard let runtime else { return false }
        let now = Self.now()
        let log = runtime.log.withLock { log in
            for node in left { log.recordDown(node, at: now, threshold: thresholdMilliseconds) }
            return log
        }
        return log.isFailing(connected: members.count, quorumPercent: quorumSize)
    }

    /// Drops the joined nodes from the log, sends them the log, and tells whether the lost share
    /// is small enough again.
    public func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool {
        guard let runtime else { return true }
        let now = Self.now()
        let log = runtime.log.withLock { log in
            for node in joined { log.recordUp(node, at: now, threshold: thresholdMilliseconds) }
            return log
        }
        let host = runtime.host
        Task { await host.send(log, on: Self.channel, to: joined) }
        return !log.isFailing(connected: members.count, quorumPercent: quorumSize)
    }

    /// A fresh instance with an empty log, receiving the logs its peers send.
    public func attach(to host: StrategyHost) -> any PartitionToleranceStrategy {
        var attached = self
        let runtime = Runtime(host: host)
        host.receive(on: Self.channel, as: DownLog.self) { log, _ in
            let members = host.hubNodes + [host.localNode]
            runtime.log.withLock { $0.adopt(log, reachable: members) }
        }
        attached.runtime = runtime
        return attached
    }

    /// Refuses a percentage outside 1…100 and a threshold that is not positive.
    public func validate(configuration: HubConfiguration) throws(HubError) {
        if !(1...100).contains(quorumSize) {
            throw HubError(.invalidConfiguration, "DynamicQuorum's quorumSize is a percentage in 1...100 (got \(quorumSize))")
        }
        if thresholdTime <= .zero {
            throw HubError(.invalidConfiguration, "DynamicQuorum's thresholdTime must be positive")
        }
    }

    /// The departures this hub has logged (empty before a hub attaches the strategy).
    var downLog: DownLog { runtime?.log.withLock { $0 } ?? DownLog() }

    private var thresholdMilliseconds: Int64 {
        thresholdTime.components.seconds * 1000 + thresholdTime.components.attoseconds / 1_000_000_000_000_000
    }

    static let channel = "processhub.dynamicQuorum.downLog"

    /// A policy holding this hub's down log, on the machine's clock.
    public func makePolicy() -> any PartitionPolicy {
        DynamicQuorumPolicy(quorumSize: quorumSize, threshold: thresholdMilliseconds)
    }

    private static func now() -> Int64 { LoadBalancerRuntime.wallClockNanoseconds() / 1_000_000 }

    private final class Runtime: Sendable {
        let host: StrategyHost
        let log = StrategyState(DownLog())

        init(host: StrategyHost) { self.host = host }
    }
}

/// The hub nodes that left recently, newest first, with when they left (wall-clock milliseconds
/// since the epoch): ``DynamicQuorum``'s state, a plain value.
struct DownLog: Codable, Sendable, Equatable {
    struct Entry: Codable, Sendable, Equatable {
        var node: NodeID
        var at: Int64
    }

    private(set) var entries: [Entry] = []

    init(entries: [Entry] = []) { self.entries = entries }

    /// Forgets entries older than `threshold` and `node`'s previous entry, then logs `node`.
    mutating func recordDown(_ node: NodeID, at now: Int64, threshold: Int64) {
        prune(now: now, threshold: threshold)
        entries.removeAll { $0.node.sameEndpoint(as: node) }
        entries.insert(Entry(node: node, at: now), at: 0)
    }

    /// Forgets `node` (any incarnation of its endpoint) and entries older than `threshold`.
    mutating func recordUp(_ node: NodeID, at now: Int64, threshold: Int64) {
        prune(now: now, threshold: threshold)
        entries.removeAll { $0.node.sameEndpoint(as: node) }
    }

    /// Forgets entries older than `threshold`.
    mutating func prune(now: Int64, threshold: Int64) {
        entries.removeAll { $0.at < now - threshold }
    }

    /// Takes `other` if it is longer (SPEC: the receiver keeps whichever log is longer), once the
    /// nodes this node reaches are taken out of it: the minority side of a split logs the
    /// majority's nodes as down, and they must not count against the majority.
    mutating func adopt(_ other: DownLog, reachable: [NodeID]) {
        var candidate = other
        candidate.entries.removeAll { entry in reachable.contains { $0.sameEndpoint(as: entry.node) } }
        if candidate.entries.count > entries.count { self = candidate }
    }

    /// Whether `connected` reachable nodes are less than `quorumPercent` % of them plus the logged ones.
    func isFailing(connected: Int, quorumPercent: Int) -> Bool {
        let total = connected + entries.count
        guard total > 0 else { return false }
        return connected * 100 < quorumPercent * total
    }
}

/// ``DynamicQuorum`` as a value the hub's state machine owns: the down log, timed by the
/// machine's clock (milliseconds since its origin). Peers' clocks have other origins, so a log
/// travels as ages ("left 2.1 s ago"), which the receiver turns into times on its own clock.
struct DynamicQuorumPolicy: PartitionPolicy {
    let quorumSize: Int
    /// How long a departure counts, in milliseconds.
    let threshold: Int64
    private(set) var log = DownLog()
    /// The time of the last decision, for the callers that pass none.
    private var lastMilliseconds: Int64 = 0

    init(quorumSize: Int, threshold: Int64) {
        self.quorumSize = quorumSize
        self.threshold = threshold
    }

    mutating func lostQuorum(afterLeaving left: [NodeID], members: [NodeID], at now: Duration) -> Bool {
        let time = advance(to: now)
        for node in left { log.recordDown(node, at: time, threshold: threshold) }
        return log.isFailing(connected: members.count, quorumPercent: quorumSize)
    }

    mutating func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID], at now: Duration) -> Bool {
        let time = advance(to: now)
        for node in joined { log.recordUp(node, at: time, threshold: threshold) }
        return !log.isFailing(connected: members.count, quorumPercent: quorumSize)
    }

    mutating func lostQuorum(afterLeaving left: [NodeID], members: [NodeID]) -> Bool {
        lostQuorum(afterLeaving: left, members: members, at: .milliseconds(lastMilliseconds))
    }

    mutating func regainedQuorum(afterJoining joined: [NodeID], members: [NodeID]) -> Bool {
        regainedQuorum(afterJoining: joined, members: members, at: .milliseconds(lastMilliseconds))
    }

    mutating func startsWithoutQuorum(members: [NodeID]) -> Bool { false }

    func sharedState(at now: Duration) -> [UInt8]? {
        let time = Self.milliseconds(now)
        let ages = SharedDownLog(entries: log.entries.map { .init(node: $0.node, ageMilliseconds: max(0, time - $0.at)) })
        return try? BinaryEncoder().encode(ages)
    }

    mutating func adoptShared(_ state: [UInt8], from peer: NodeID, reachable: [NodeID], at now: Duration) -> Bool {
        guard let shared = try? BinaryDecoder().decode(SharedDownLog.self, from: state) else { return false }
        let time = advance(to: now)
        var theirs = DownLog(entries: shared.entries.map { .init(node: $0.node, at: time - $0.ageMilliseconds) })
        theirs.prune(now: time, threshold: threshold)
        log.adopt(theirs, reachable: reachable)
        return true
    }

    private mutating func advance(to now: Duration) -> Int64 {
        lastMilliseconds = max(lastMilliseconds, Self.milliseconds(now))
        return lastMilliseconds
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// A down log as it travels: each departure's age, not its time.
private struct SharedDownLog: Codable {
    struct Entry: Codable {
        var node: NodeID
        var ageMilliseconds: Int64
    }

    var entries: [Entry]
}
