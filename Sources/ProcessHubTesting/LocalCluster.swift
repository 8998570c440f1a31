import ClusterNode
import Synchronization

/// Several nodes inside one process, connected over real TCP on 127.0.0.1: a real cluster for
/// tests, without OS processes. The first node is every other node's seed.
public final class LocalCluster: Sendable {
    /// The running nodes, in start order.
    public let nodes: [ClusterNode]
    /// The secret the nodes share.
    public let secret: String

    private init(nodes: [ClusterNode], secret: String) {
        self.nodes = nodes
        self.secret = secret
    }

    /// Starts `count` nodes named `n1…` and waits until they form a full mesh.
    /// - Parameter configure: adjusts each node's settings (its index is passed).
    public static func start(
        nodes count: Int, secret: String = "test-\(UInt64.random(in: 0 ... .max))",
        timeout: Duration = .seconds(30),
        configure: (Int, inout ClusterNodeSettings) -> Void = { _, _ in }
    ) async throws -> LocalCluster {
        var nodes: [ClusterNode] = []
        do {
            for index in 0..<count {
                var settings = ClusterNodeSettings(name: "n\(index + 1)", secret: ClusterSecret(secret))
                if let seed = nodes.first { settings.seeds = [seed.id.address] }
                configure(index, &settings)
                nodes.append(try await ClusterNode.start(settings))
            }
            let cluster = LocalCluster(nodes: nodes, secret: secret)
            try await cluster.waitForFullMesh(timeout: timeout)
            return cluster
        } catch {
            for node in nodes { await node.shutdown() }
            throw error
        }
    }

    /// Waits until every running node is connected to every other one in `nodes`.
    public func waitForFullMesh(_ nodes: [ClusterNode]? = nil, timeout: Duration = .seconds(30)) async throws {
        let nodes = nodes ?? self.nodes
        try await waitUntil(timeout: timeout, "a full mesh of \(nodes.count) nodes") {
            nodes.allSatisfy { node in Set(node.members).isSuperset(of: nodes.map(\.id).filter { $0 != node.id }) }
        }
    }

    /// Shuts every node down gracefully.
    public func shutdown() async {
        for node in nodes { await node.shutdown() }
    }
}

/// Thrown by ``waitUntil(timeout:_:condition:)`` when the condition never held.
public struct WaitTimeout: Error, CustomStringConvertible {
    /// What was waited for.
    public var description: String

    /// Creates the error.
    public init(description: String) { self.description = description }
}

/// Polls `condition` every few milliseconds until it holds; throws ``WaitTimeout`` after `timeout`.
/// A generous bound for tests, never a speed claim.
public func waitUntil(
    timeout: Duration = .seconds(30), _ what: String = "a condition", condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { throw WaitTimeout(description: "timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// Records a node's membership events, for tests that check what a node saw.
public final class MembershipRecorder: Sendable {
    private final class Log: Sendable {
        let entries = Mutex<[(at: ContinuousClock.Instant, event: MembershipEvent)]>([])
    }

    private let log = Log()
    private let task: Task<Void, Never>

    /// Starts recording `node`'s events (its current members arrive first as `up`).
    public init(_ node: ClusterNode) {
        let stream = node.events
        let log = self.log
        task = Task {
            for await event in stream { log.entries.withLock { $0.append((.now, event)) } }
        }
    }

    deinit { task.cancel() }

    /// Every event so far.
    public var events: [MembershipEvent] { log.entries.withLock { $0.map(\.event) } }

    /// Waits for an event matching `predicate` and returns when it was recorded.
    @discardableResult
    public func waitFor(
        timeout: Duration = .seconds(30), _ what: String = "an event",
        where predicate: @escaping (MembershipEvent) -> Bool
    ) async throws -> ContinuousClock.Instant {
        var found: ContinuousClock.Instant?
        try await waitUntil(timeout: timeout, what) {
            found = log.entries.withLock { $0.first { predicate($0.event) }?.at }
            return found != nil
        }
        return found!
    }
}
