import ClusterNode
import DemoActors
import Foundation
import ProcessHubTesting
import Synchronization
import Testing

@testable import ProcessHub

/// Five `processhub node` OS processes run one hub under a continuous stream of starts, stops and
/// remote calls while faults are injected at random: SIGKILL (and a restart), SIGSTOP/SIGCONT and,
/// when the test runs as root, real network partitions (each node in its own network namespace,
/// its link to the others cut and healed). Then everything heals and the invariants of DESIGN §5
/// are checked: identical registries on every node, every child on exactly its strategy's node, no
/// confirmed child lost, and no child whose stop was confirmed running again (resurrected): a
/// stop on one side of a split outlives a lost-node restart on the other (``StopLedger``).
///
/// The test watches and drives the cluster through a hub-less node of its own, which reaches
/// every node whatever is cut. `CHAOS_SEED` replays a run's choices; `CHAOS_SECONDS` sets how
/// long faults are injected (default 30).
@Suite("Chaos", .serialized, .timeLimit(.minutes(6)))
struct ChaosTests {
    @Test func theClusterSurvivesRandomFaultsAndConverges() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["CHAOS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        let seconds = environment["CHAOS_SECONDS"].flatMap(Int.init) ?? 30
        let network: any ChaosNetwork
        if let reason = NetworkLab.unavailableReason {
            print("CHAOS without partitions: \(reason)")
            network = LoopbackNetwork()
        } else {
            network = try LabNetwork(nodes: 5)
        }
        print("CHAOS seed=\(seed) (replay with CHAOS_SEED=\(seed))")
        let run = try await ChaosRun.start(seed: seed, nodes: 5, network: network)
        defer { run.end() }
        try await run.inject(for: .seconds(seconds))
        let (violations, resurrected) = try await run.healAndCheck()
        print("CHAOS seed=\(seed) \(run.summary) violations=\(violations.count) resurrected=\(resurrected.count)")
        for violation in violations.prefix(20) { print("CHAOS violation: \(violation)") }
        for child in resurrected.prefix(10) { print("CHAOS resurrected: \(child)") }
        #expect(violations.count == 0, "chaos seed \(seed): see the CHAOS violation lines")
        // A stopped child stays stopped: a stop is a tombstone every node keeps (StopLedger).
        #expect(resurrected.count == 0, "chaos seed \(seed): see the CHAOS resurrected lines")
    }
}

// MARK: Where the nodes run

/// Where the chaos run's node processes live, and whether their links can be cut.
protocol ChaosNetwork: Sendable {
    var canPartition: Bool { get }
    /// The address node `index` listens on.
    func host(of index: Int) -> String
    /// The address the test's observing node listens on.
    var observerHost: String { get }
    /// The fixed port of node `index` (0: any, remembered after the first start).
    func port(of index: Int) -> Int
    func launch(_ index: Int, _ arguments: [String]) throws -> NodeProcess
    func cut(_ index: Int) throws
    func heal(_ index: Int) throws
    func tearDown()
}

/// All nodes on 127.0.0.1; no partitions.
struct LoopbackNetwork: ChaosNetwork {
    var canPartition: Bool { false }
    func host(of index: Int) -> String { "127.0.0.1" }
    var observerHost: String { "127.0.0.1" }
    func port(of index: Int) -> Int { 0 }
    func launch(_ index: Int, _ arguments: [String]) throws -> NodeProcess { try NodeProcess.launch(arguments) }
    func cut(_ index: Int) throws {}
    func heal(_ index: Int) throws {}
    func tearDown() {}
}

/// Each node in its own network namespace (``NetworkLab``).
struct LabNetwork: ChaosNetwork {
    let lab: NetworkLab
    init(nodes: Int) throws { lab = try NetworkLab.start(nodes: nodes) }
    var canPartition: Bool { true }
    func host(of index: Int) -> String { lab.address(of: index) }
    var observerHost: String { lab.controlAddress }
    func port(of index: Int) -> Int { 7600 }
    func launch(_ index: Int, _ arguments: [String]) throws -> NodeProcess { try lab.launch(node: index, arguments) }
    func cut(_ index: Int) throws { try lab.cut(index) }
    func heal(_ index: Int) throws { try lab.heal(index) }
    func tearDown() { lab.tearDown() }
}

// MARK: The run

struct ChaosFailure: Error, CustomStringConvertible {
    var description: String
}

/// One chaos run: the node processes, the observing node, and the book of what was confirmed.
final class ChaosRun: Sendable {
    static let hubID: HubID = "chaos"
    static let secret = "chaos-secret"

    let observer: ClusterNode
    let network: any ChaosNetwork
    private let slots: [Slot]
    private let book = Mutex(Book())
    /// One generator for the operations, one for the faults: each stream replays on its own.
    private let random: Mutex<SeededGenerator>
    private let faultRandom: Mutex<SeededGenerator>

    /// One node position: the process running there now, its port, whether its link is cut.
    final class Slot: Sendable {
        let index: Int
        let process = Mutex<NodeProcess?>(nil)
        let node = Mutex<NodeID?>(nil)
        let port: Mutex<Int>
        init(index: Int, port: Int) {
            self.index = index
            self.port = Mutex(port)
        }
    }

    /// What the test knows for sure: children whose start or stop was confirmed.
    struct Book {
        var started: [ChildID: ActorID] = [:]
        /// Confirmed stops, with the nodes that stopped an instance.
        var stopped: [ChildID: [NodeID]] = [:]
        var nextID = 0
        var kills = 0, stalls = 0, partitions = 0
        var starts = 0, stops = 0, calls = 0, answeredCalls = 0
    }

    var summary: String {
        book.withLock { book in
            "faults=\(book.kills + book.stalls + book.partitions) (kill=\(book.kills) stall=\(book.stalls) partition=\(book.partitions)) "
                + "operations=\(book.starts + book.stops + book.calls) (start=\(book.starts) stop=\(book.stops) call=\(book.calls), answered \(book.answeredCalls))"
        }
    }

    private init(observer: ClusterNode, network: any ChaosNetwork, slots: [Slot], seed: UInt64) {
        self.observer = observer
        self.network = network
        self.slots = slots
        self.random = Mutex(SeededGenerator(seed: seed))
        self.faultRandom = Mutex(SeededGenerator(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B))
    }

    static func start(seed: UInt64, nodes count: Int, network: any ChaosNetwork) async throws -> ChaosRun {
        var settings = ClusterNodeSettings(name: "observer", host: network.observerHost, secret: ClusterSecret(secret))
        settings.heartbeatInterval = .milliseconds(100)
        settings.heartbeatTimeout = .milliseconds(800)
        let observer: ClusterNode
        do {
            observer = try await ClusterNode.start(settings)
        } catch {
            network.tearDown()
            throw error
        }
        let slots = (0..<count).map { Slot(index: $0, port: network.port(of: $0)) }
        let run = ChaosRun(observer: observer, network: network, slots: slots, seed: seed)
        do {
            for slot in slots { try await run.launch(slot) }
            try await run.waitUntilFormed(timeout: .seconds(60))
        } catch {
            run.end()
            throw error
        }
        return run
    }

    /// The arguments of node `slot`: every node seeds with the observer and the fixed addresses.
    private func arguments(_ slot: Slot) -> [String] {
        let port = slot.port.withLock { $0 }
        let seeds = ["--seed", "\(observer.id.address)"] + slots.compactMap { other in
            let port = other.port.withLock { $0 }
            return port == 0 || other.index == slot.index ? nil : "\(network.host(of: other.index)):\(port)"
        }.flatMap { ["--seed", $0] }
        return ["node", "--name", "p\(slot.index)", "--host", network.host(of: slot.index), "--port", "\(port)",
                "--secret", Self.secret, "--hub", Self.hubID.name, "--log-level", "error",
                "--heartbeat-interval-ms", "100", "--heartbeat-timeout-ms", "800"] + seeds
    }

    private func launch(_ slot: Slot) async throws {
        let process = try network.launch(slot.index, arguments(slot))
        slot.process.withLock { $0 = process }
        let text = try await process.waitUntilReady()
        let id = try #require(NodeID(text))
        slot.node.withLock { $0 = id }
        slot.port.withLock { if $0 == 0 { $0 = id.port } }
    }

    /// Ends every process this run started (also on failure), the network it made, and the
    /// observing node.
    func end() {
        for slot in slots { slot.process.withLock { $0 }?.kill() }
        network.tearDown()
        let observer = self.observer
        Task { await observer.shutdown() }
    }

    private func roll(_ range: Range<Int>) -> Int { random.withLock { Int.random(in: range, using: &$0) } }
    private func faultRoll(_ range: Range<Int>) -> Int { faultRandom.withLock { Int.random(in: range, using: &$0) } }

    private var nodes: [NodeID] { slots.compactMap { $0.node.withLock { $0 } } }

    private func endpoint(_ node: NodeID) throws -> HubControlEndpoint {
        try HubControlEndpoint.resolve(Self.hubID, on: node, using: observer.system)
    }

    /// A node to send an operation to: any, cut or not (the observer reaches all).
    private func anyNode() -> NodeID? {
        let nodes = self.nodes
        return nodes.isEmpty ? nil : nodes[roll(0..<nodes.count)]
    }

    // MARK: Load and faults

    /// Runs the operation stream and the fault injector side by side for `duration`.
    func inject(for duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        async let load: Void = operate(until: deadline)
        async let faults: Void = injectFaults(until: deadline)
        _ = await (load, faults)
    }

    private func operate(until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline {
            switch roll(0..<10) {
            case 0..<4: await startSome()
            case 4..<6: await stopSome()
            default: await callOne()
            }
            try? await Task.sleep(for: .milliseconds(roll(5..<40)))
        }
    }

    private func startSome() async {
        guard let node = anyNode() else { return }
        let count = roll(1..<15)
        let ids: [ChildID] = book.withLock { book in
            defer { book.nextID += count; book.starts += 1 }
            return (book.nextID..<book.nextID + count).map { "k\($0)" }
        }
        guard let specs = try? ids.map({ try ChildSpec(id: $0, Counter.self, .init()) }) else { return }
        let request = ControlStartRequest(
            specs: specs, checkExisting: true, rollback: false, metadata: [:], timeout: .seconds(4), awaitResult: true)
        guard let reply = try? await ClusterSystem.withCallTimeout(.seconds(6), operation: { try await self.endpoint(node).controlStart(request) }),
              let started = reply.started else { return }
        book.withLock { book in
            for child in started {
                if let actorID = child.locations.first?.actorID { book.started[child.id] = actorID }
            }
        }
    }

    private func stopSome() async {
        guard let node = anyNode() else { return }
        let ids: [ChildID] = book.withLock { book in
            book.stops += 1
            return Array(book.started.keys.sorted().prefix(200).shuffled().prefix(5))
        }
        guard !ids.isEmpty else { return }
        // Until the stop is confirmed, these children are neither: they may run or not.
        book.withLock { book in for id in ids { book.started[id] = nil } }
        let request = ControlStopRequest(ids: ids, timeout: .seconds(4), awaitResult: true)
        guard let reply = try? await ClusterSystem.withCallTimeout(.seconds(6), operation: { try await self.endpoint(node).controlStop(request) }),
              let stopped = reply.stopped else { return }
        book.withLock { book in for child in stopped { book.stopped[child.id] = child.nodes } }
    }

    private func callOne() async {
        let target: ActorID? = book.withLock { book in
            book.calls += 1
            return book.started.isEmpty ? nil : Array(book.started.values)[roll(0..<book.started.count)]
        }
        guard let target, let counter = try? Counter.resolve(id: target, using: observer.system) else { return }
        if (try? await ClusterSystem.withCallTimeout(.seconds(2), operation: { try await counter.increment() })) != nil {
            book.withLock { $0.answeredCalls += 1 }
        }
    }

    private func injectFaults(until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(faultRoll(1_500..<4_000)))
            let slot = slots[faultRoll(0..<slots.count)]
            guard let process = slot.process.withLock({ $0 }), process.isRunning else {
                try? await launch(slot)
                continue
            }
            let kinds = network.canPartition ? 3 : 2
            // Shorter or longer than the heartbeat timeout: a stall, or a node given up on.
            let duration = Duration.milliseconds(faultRoll(200..<2_500))
            switch faultRoll(0..<kinds) {
            case 0:
                book.withLock { $0.kills += 1 }
                process.kill()
                try? await Task.sleep(for: duration)
                try? await launch(slot)
            case 1:
                book.withLock { $0.stalls += 1 }
                process.send(SIGSTOP)
                try? await Task.sleep(for: duration)
                process.send(SIGCONT)
            default:
                book.withLock { $0.partitions += 1 }
                try? network.cut(slot.index)
                try? await Task.sleep(for: duration * 2)
                try? network.heal(slot.index)
            }
        }
    }

    // MARK: Heal and check

    /// Heals every link, resumes every node, restarts the dead ones, waits for the cluster to
    /// converge, and lists every broken invariant (none when it converged).
    func healAndCheck(timeout: Duration = .seconds(90)) async throws -> (violations: [String], resurrected: [String]) {
        for slot in slots {
            try? network.heal(slot.index)
            if let process = slot.process.withLock({ $0 }), process.isRunning {
                process.send(SIGCONT)
            } else {
                try await launch(slot)
            }
        }
        var result: (violations: [String], resurrected: [String]) = ([], [])
        let deadline = ContinuousClock.now + timeout
        repeat {
            result = await check()
            if result.violations.isEmpty { return result }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        return result
    }

    private func waitUntilFormed(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while await !formed().isEmpty {
            guard ContinuousClock.now < deadline else { throw ChaosFailure(description: "the hub did not form: \(await formed())") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Why the hub is not formed yet: each node must list exactly the current nodes, unlocked,
    /// not partitioned.
    private func formed() async -> [String] {
        let nodes = Set(self.nodes)
        var problems: [String] = []
        for node in nodes {
            guard let status = try? await ClusterSystem.withCallTimeout(.seconds(3), operation: { try await self.endpoint(node).status() }) else {
                problems.append("no status from \(node)")
                continue
            }
            if Set(status.members) != nodes { problems.append("\(node) sees \(status.members.count) of \(nodes.count) nodes") }
            if status.isLocked || status.isPartitioned { problems.append("\(node) is locked or partitioned") }
        }
        return problems
    }

    private func check() async -> (violations: [String], resurrected: [String]) {
        let problems = await formed()
        guard problems.isEmpty else { return (problems, []) }
        let nodes = self.nodes.sorted()
        var registries: [NodeID: [ChildID: [ActorID]]] = [:]
        for node in nodes {
            guard let view = try? await ClusterSystem.withCallTimeout(.seconds(5), operation: { try await self.endpoint(node).registryView() }) else {
                return (["no registry from \(node)"], [])
            }
            registries[node] = view
        }
        var violations: [String] = []
        let reference = registries[nodes[0]] ?? [:]
        for node in nodes.dropFirst() where registries[node] != reference {
            violations.append("\(node)'s registry differs from \(nodes[0])'s (\(registries[node]?.count ?? 0) vs \(reference.count) children)")
        }
        let placement = ConsistentHashing().belongsTo(Array(reference.keys), replicationFactor: 1, nodes: nodes)
        for (id, actors) in reference where actors.map(\.node) != placement[id] {
            violations.append("\(id) runs on \(actors.map(\.node)), its strategy says \(placement[id] ?? [])")
        }
        let (started, stopped) = book.withLock { (Set($0.started.keys), $0.stopped) }
        for id in started where reference[id] == nil { violations.append("\(id) was started and is lost") }
        let resurrected = stopped.filter { reference[$0.key] != nil }.map { id, by in
            "\(id) was stopped (on \(by.map(\.name))) and runs on \(reference[id]?.map(\.node.name) ?? [])"
        }
        return (violations, resurrected)
    }
}
