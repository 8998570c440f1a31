import ArgumentParser
import ClusterNode
import DemoActors
import Foundation
import ProcessHub
import ProcessHubTesting

/// `processhub demo`: the main job, end to end, on loopback.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a 3-node cluster on loopback: distribute children, crash a node, add a node, shut down.",
        discussion: """
            This process is node n1; n2 and n3 are `processhub node` OS processes. The demo \
            starts the children (counters), looks some up, SIGKILLs n3 and times the failover, \
            starts n4 and shows the migration with state handover (HotSwap), then shuts \
            everything down. Exits 0 on success; it never leaves node processes behind.
            """
    )

    @Option(help: "How many children to distribute.")
    var children = 10_000

    @Option(help: ArgumentHelp("Exit when the process with this pid is no longer our parent.", visibility: .hidden))
    var parentPid: Int32?

    func validate() throws {
        guard children >= 100 else { throw ValidationError("--children must be at least 100") }
    }

    func run() async throws {
        exitWhenOrphaned(parentPid)
        defer { NodeProcess.endAll() }
        do {
            try await DemoRun(children: children).run()
        } catch {
            say("\nDemo failed: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The demo's steps, one method each.
private struct DemoRun {
    let children: Int
    /// Counters given a known value before the crash and the join, to show their state moving.
    let stateful = 12

    func run() async throws {
        say("swift-process-hub demo: \(children) children on 3 nodes (127.0.0.1)\n")
        try await HubBenchCluster.with(processes: 2, handover: true) { cluster in
            say("1. Nodes: n1 (this process, pid \(getpid())) and \(cluster.nodeProcesses.map { "\($0.id.name) (pid \($0.process.pid))" }.joined(separator: " and ")) form the hub 'bench'.")
            try await distribute(cluster)
            var marked = try await markCounters(cluster)
            try await crash(cluster)
            for id in marked.keys { marked[id]?.path.append(nodeName(of: id, cluster)) }
            try await join(cluster, marked: marked)
            say("\n5. Shutting down: node processes get SIGTERM, n1 leaves.")
        }
        say("Done.")
    }

    private func distribute(_ cluster: HubBenchCluster) async throws {
        say("\n2. Starting \(children) counters…")
        let specs = try BenchChildren.specs(children)
        let start = ContinuousClock.now
        let operation = try cluster.hub.startChildren(specs)
        let progress = ProgressBar(total: children, label: "registered on n1")
        let watcher = Task { while !Task.isCancelled { progress.show(cluster.hub.registryDump().count); try? await Task.sleep(for: .milliseconds(50)) } }
        let result = try await operation.result(timeout: .seconds(120))
        watcher.cancel()
        progress.finish()
        guard result.status == .ok else { throw DemoFailure("\(result.errors.count) children failed; first: \(result.errors[0])") }
        say("   all started in \(format(ContinuousClock.now - start)).")
        try await showCounts(cluster, cluster.allNodes)
        say("   Lookups on n1 (local registry, no network):")
        for id in ["c0", "c\(children / 2)", "c\(children - 1)"] {
            let began = ContinuousClock.now
            let location = cluster.hub.child(id)?.locations.first
            let took = ContinuousClock.now - began
            say("     \(id) → \(location.map { "\($0.node.name), actor \($0.actorID)" } ?? "?") (\(format(took)))")
        }
    }

    /// A counter followed through the demo: its value and the nodes it ran on.
    struct Marked {
        var value: Int
        var path: [String]
    }

    /// Adds 1000 to a few counters, so their values can be followed.
    private func markCounters(_ cluster: HubBenchCluster) async throws -> [ChildID: Marked] {
        var marked: [ChildID: Marked] = [:]
        for index in 0..<stateful {
            let id = BenchChildren.id(index * (children / stateful))
            guard let counter = try cluster.hub.resolve(id, as: Counter.self) else { continue }
            marked[id] = Marked(value: try await counter.increment(by: 1000), path: [nodeName(of: id, cluster)])
        }
        return marked
    }

    private func nodeName(of id: ChildID, _ cluster: HubBenchCluster) -> String {
        cluster.hub.child(id)?.locations.first?.node.name ?? "?"
    }

    private func crash(_ cluster: HubBenchCluster) async throws {
        guard let victim = cluster.nodeProcesses.last else { return }
        let survivors = cluster.allNodes.filter { $0 != victim.id }
        let lost = cluster.hub.registryDump().values.filter { $0.locations.contains { $0.node == victim.id } }.count
        say("\n3. SIGKILL \(victim.id.name) (pid \(victim.process.pid)), which runs \(lost) children…")
        let killed = ContinuousClock.now
        victim.process.kill()
        let detected = try await cluster.waitForAll(survivors, since: killed, timeout: .seconds(30), "the crash to be noticed") {
            $0.allSatisfy { $0.members == survivors }
        }
        let recovered = try await cluster.waitForAll(survivors, since: killed, timeout: .seconds(60), "the failover") { statuses in
            statuses.allSatisfy { $0.registryCount == children && !$0.isLocked }
                && statuses.map(\.localCount).reduce(0, +) == children
        }
        say("   noticed after \(format(detected)); all \(lost) restarted on the survivors after \(format(recovered)).")
        try await showCounts(cluster, survivors)
    }

    private func join(_ cluster: HubBenchCluster, marked: [ChildID: Marked]) async throws {
        say("\n4. Starting n4; children whose ring position moves go there with their state (HotSwap + handover)…")
        let joiner = try await cluster.launchNode()
        say("   n4 is pid \(joiner.process.pid).")
        let nodes = cluster.allNodes.filter { node in cluster.nodeProcesses.first { $0.id == node }?.process.isRunning ?? true }
        let share = ConsistentHashing().belongsTo(BenchChildren.ids(children), replicationFactor: 1, nodes: nodes)
            .values.filter { $0.first == joiner.id }.count
        let converged = try await cluster.waitForAll(nodes, since: joiner.ready, timeout: .seconds(60), "the join") { statuses in
            statuses.allSatisfy { $0.members == nodes && $0.registryCount == children && !$0.isLocked }
                && statuses.first { $0.node == joiner.id }.map { $0.localCount == share && $0.handoversApplied == share } == true
        }
        say("   \(share) children moved to n4 with their state in \(format(converged)) (since n4 was ready).")
        try await showCounts(cluster, nodes)
        say("   Counters given +1000 before the crash (their nodes: before the crash → after it → after the join):")
        for (id, mark) in marked.sorted(by: { $0.key < $1.key }) {
            guard let current = try await currentValue(of: id, cluster) else { continue }
            let path = (mark.path + [nodeName(of: id, cluster)]).joined(separator: " → ")
            let verdict = current == mark.value ? "kept its value" : "restarted fresh: its node was SIGKILLed, no state survives that"
            say("     \(id): \(mark.value) → \(current)  [\(path)] \(verdict)")
        }
    }

    /// A counter's value, read through this node's registry. Right after a move the registry may
    /// still name the old instance for a moment (the origin's withdrawal is on its way, as in any
    /// eventually consistent registry): while the instance it names is gone, look it up again,
    /// for up to 2 s.
    private func currentValue(of id: ChildID, _ cluster: HubBenchCluster) async throws -> Int? {
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            guard let counter = try cluster.hub.resolve(id, as: Counter.self) else { return nil }
            do {
                return try await counter.current()
            } catch let error as ClusterError where error.code == .unknownActor && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private func showCounts(_ cluster: HubBenchCluster, _ nodes: [NodeID]) async throws {
        guard let statuses = await cluster.statuses(of: nodes) else { throw DemoFailure("a node did not answer its status") }
        let line = statuses.sorted { $0.node.name < $1.node.name }.map { "\($0.node.name): \($0.localCount)" }
        say("   children per node: " + line.joined(separator: ", "))
    }
}

struct DemoFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A one-line progress bar on a terminal; occasional lines otherwise.
private final class ProgressBar: Sendable {
    let total: Int
    let label: String
    private let isTerminal = isatty(STDOUT_FILENO) != 0

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func show(_ done: Int) {
        guard isTerminal else { return }
        let width = 30
        let filled = min(width, done * width / max(total, 1))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        print("\r   [\(bar)] \(done)/\(total) \(label)", terminator: "")
        fflush(nil)
    }

    func finish() {
        show(total)
        if isTerminal { print("") }
    }
}

private func say(_ line: String) { emit(line) }

private func format(_ duration: Duration) -> String {
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    if seconds < 1e-3 { return String(format: "%.0f ns", seconds * 1e9) }
    if seconds < 1 { return String(format: "%.1f ms", seconds * 1e3) }
    return String(format: "%.2f s", seconds)
}
