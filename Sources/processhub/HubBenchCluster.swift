import ClusterNode
import DemoActors
import Foundation
import Logging
import ProcessHub
import ProcessHubTesting
import Synchronization

/// A node process of a benchmark cluster, with the instants it was launched and printed READY.
struct BenchNode: Sendable {
    var id: NodeID
    var process: NodeProcess
    var launched: ContinuousClock.Instant
    var ready: ContinuousClock.Instant
}

/// A benchmark hub cluster: this process is node 1 (its own `ClusterNode` and hub), the other
/// nodes are `processhub node --hub bench` OS processes seeded with node 1.
final class HubBenchCluster: Sendable {
    static let hubID: HubID = "bench"
    /// How long a node process may take to print READY and the hub cluster to form.
    static let setupTimeout: Duration = .seconds(60)

    let node: ClusterNode
    let hub: ProcessHub
    private let secret: String
    private let handover: Bool
    private let processes = Mutex<[BenchNode]>([])

    private init(node: ClusterNode, hub: ProcessHub, secret: String, handover: Bool) {
        self.node = node
        self.hub = hub
        self.secret = secret
        self.handover = handover
    }

    /// Starts node 1 and its hub, launches `processCount` node processes and waits until every
    /// node's hub lists all of them, unlocked. The default hub configuration with the demo kinds;
    /// with `handover`, every node migrates by ``HotSwap`` with state handover.
    static func start(processes processCount: Int, handover: Bool = false) async throws -> HubBenchCluster {
        let secret = "hubbench-\(UInt64.random(in: 0 ... .max))"
        var logger = Logger(label: "processhub.bench")
        logger.logLevel = .warning
        let node = try await ClusterNode.start(.init(name: "n1", secret: ClusterSecret(secret)), logger: logger)
        var configuration = HubConfiguration(hubID: hubID)
        registerDemoKinds(in: &configuration)
        if handover { configuration.migration = HotSwap(handover: true) }
        let hub: ProcessHub
        do {
            hub = try await ProcessHub.start(configuration, on: node, logger: logger)
        } catch {
            await node.shutdown()
            throw error
        }
        let cluster = HubBenchCluster(node: node, hub: hub, secret: secret, handover: handover)
        do {
            for _ in 0..<processCount { _ = try await cluster.launchNode() }
            try await cluster.waitUntilFormed()
        } catch {
            cluster.printLogTails()
            await cluster.shutdown()
            throw error
        }
        return cluster
    }

    /// Runs `body` on a fresh cluster and shuts the cluster down afterwards, also when it throws.
    static func with<T: Sendable>(
        processes processCount: Int, handover: Bool = false, _ body: (HubBenchCluster) async throws -> T
    ) async throws -> T {
        let cluster = try await start(processes: processCount, handover: handover)
        do {
            let value = try await body(cluster)
            await cluster.shutdown()
            return value
        } catch {
            cluster.printLogTails()
            await cluster.shutdown()
            throw error
        }
    }

    /// Prints the last lines each node process logged (standard error), to diagnose a failed run.
    func printLogTails(lines: Int = 15) {
        for launched in nodeProcesses {
            let tail = launched.process.log.split(separator: "\n").suffix(lines).joined(separator: "\n")
            progress("log of \(launched.id.name) (pid \(launched.process.pid), last \(lines) lines):\n\(tail)")
        }
    }

    /// Builds `count` counter specs, then (the specs are built before any node runs: building a
    /// million of them would hold an event loop past the heartbeat timeout) runs `body` on a
    /// fresh cluster of node 1 and `processCount` node processes once it runs the counters.
    static func withCounters<T: Sendable>(
        _ count: Int, processes processCount: Int, timeout: Duration = .seconds(120), handover: Bool = false,
        _ body: (HubBenchCluster, StartTiming) async throws -> T
    ) async throws -> T {
        let specs = try BenchChildren.specs(count)
        return try await with(processes: processCount, handover: handover) { cluster in
            try await body(cluster, try await cluster.startCounters(specs, timeout: timeout))
        }
    }

    /// Launches one more node process and waits for its READY line (checked every ~2 ms).
    func launchNode() async throws -> BenchNode {
        let name = "n\(processes.withLock { $0.count } + 2)"
        let launched = ContinuousClock.now
        let process = try NodeProcess.launch([
            "node", "--name", name, "--secret", secret, "--seed", "\(node.id.address)",
            "--hub", Self.hubID.name, "--log-level", "warning",
        ] + (handover ? ["--migration", "hot", "--handover"] : []))
        var readyLine: String?
        let untilReady = try await Poll.until(since: launched, timeout: Self.setupTimeout, "\(name) to print READY") {
            readyLine = process.lines.first { $0.hasPrefix("READY ") }
            if readyLine == nil && !process.isRunning { throw BenchFailure("\(name) exited before READY:\n\(process.log)") }
            return readyLine != nil
        }
        let text = readyLine.map { String($0.dropFirst("READY ".count)) } ?? ""
        guard let id = NodeID(text) else { throw BenchFailure("\(name) printed an unreadable READY line: \(text)") }
        let launchedNode = BenchNode(id: id, process: process, launched: launched, ready: launched + untilReady)
        processes.withLock { $0.append(launchedNode) }
        return launchedNode
    }

    /// The node processes launched so far (a killed one included).
    var nodeProcesses: [BenchNode] { processes.withLock { $0 } }

    /// Node 1 and every launched node process, sorted like hub member lists.
    var allNodes: [NodeID] { ([node.id] + nodeProcesses.map(\.id)).sorted() }

    /// Polls until every node in `nodes` reports exactly `nodes` as hub members and is not locked.
    func waitUntilFormed(_ nodes: [NodeID]? = nil) async throws {
        let expected = nodes ?? allNodes
        _ = try await waitForAll(expected, timeout: Self.setupTimeout, "the hub cluster to form") { statuses in
            statuses.allSatisfy { $0.members == expected && !$0.isLocked }
        }
    }

    /// The hub's status on `node`: a remote call, or this node's own status.
    func status(of node: NodeID) async throws -> HubNodeStatus {
        node == self.node.id ? try await hub.status() : try await hub.status(of: node)
    }

    /// The statuses of `nodes`, asked concurrently; `nil` when any node does not answer.
    func statuses(of nodes: [NodeID]) async -> [HubNodeStatus]? {
        await withTaskGroup(of: HubNodeStatus?.self) { group in
            for node in nodes { group.addTask { try? await self.status(of: node) } }
            var statuses: [HubNodeStatus] = []
            for await status in group {
                guard let status else { return nil }
                statuses.append(status)
            }
            return statuses
        }
    }

    /// Polls the statuses of `nodes` in rounds until one round satisfies `condition`; returns the
    /// time from `start`.
    func waitForAll(
        _ nodes: [NodeID], since start: ContinuousClock.Instant = .now, timeout: Duration, _ what: String,
        _ condition: ([HubNodeStatus]) -> Bool
    ) async throws -> Duration {
        try await Poll.until(since: start, timeout: timeout, what) {
            await statuses(of: nodes).map(condition) ?? false
        }
    }

    /// Polls each node of `nodes` on its own until its status satisfies `condition` (which must
    /// stay true once reached); returns the time from `start` until the last node got there.
    /// A node is not asked again once it got there, which keeps the polling light.
    func waitForEach(
        _ nodes: [NodeID], since start: ContinuousClock.Instant, timeout: Duration, _ what: String,
        _ condition: @escaping @Sendable (HubNodeStatus) -> Bool
    ) async throws -> Duration {
        try await withThrowingTaskGroup(of: Duration.self) { group in
            for node in nodes {
                group.addTask {
                    try await Poll.until(since: start, timeout: timeout, "\(node.name) \(what)") {
                        (try? await self.status(of: node)).map(condition) ?? false
                    }
                }
            }
            return try await group.reduce(.zero) { max($0, $1) }
        }
    }

    /// The figures of one awaited start of counters.
    struct StartTiming {
        /// From the `startChildren` call until its result returned.
        var awaited: Duration
        /// From the same instant until every node's registry listed all the children.
        var registriesFull: Duration
    }

    /// Starts the counters `specs` from node 1 in one batch, awaits the result (which must be
    /// `.ok`) and waits until every node's registry lists `registryCount` children (by default
    /// just `specs`: an empty hub before).
    func startCounters(_ specs: [ChildSpec], registryCount: Int? = nil, timeout: Duration) async throws -> StartTiming {
        let count = registryCount ?? specs.count
        let nodes = allNodes
        let start = ContinuousClock.now
        let operation = try hub.startChildren(specs)
        async let registriesFull = waitForEach(nodes, since: start, timeout: timeout, "registry to list \(count) children") {
            $0.registryCount == count
        }
        let result = try await operation.result(timeout: timeout)
        let awaited = ContinuousClock.now - start
        if let failed = result.errors.first {
            throw BenchFailure("\(result.errors.count) of \(specs.count) children failed to start; first: \(failed.id): \(failed.error)")
        }
        return StartTiming(awaited: awaited, registriesFull: try await registriesFull)
    }

    /// Stops node 1's hub (its peers are told it leaves), kills the node processes and shuts
    /// node 1 down.
    func shutdown() async {
        for launched in nodeProcesses { launched.process.send(SIGCONT) }
        await hub.stop(movingChildren: false)
        for launched in nodeProcesses { launched.process.kill() }
        await node.shutdown()
    }
}
