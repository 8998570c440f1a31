import Foundation
import Synchronization

/// Real network partitions for tests: node OS processes in their own network namespaces, joined
/// by veth pairs to a bridge, whose links can be cut and healed (Linux, root, `ip` from iproute2).
///
/// ```
///   root namespace (the test process, bridge address .254)
///        bridge ── veth ── ns 1 (node at .1)        every ns also has a control veth to the
///               ── veth ── ns 2 (node at .2)        root namespace, never cut, so the test
///               ── veth ── ns 3 (node at .3)        reaches every node during a split
/// ```
///
/// ``cut(_:)`` sets the bridge side of a node's veth down: that node and the others no longer
/// reach each other (a silent partition: no FIN, no RST, only heartbeats stop), while the test
/// process still reaches it over its control link. ``heal(_:)`` sets it up again.
///
/// ``moveToIsland(_:)`` moves a node's bridge port to a second bridge, the island: the nodes
/// moved there reach each other and nobody else (a split into two sides, `3|2` say, made one node
/// at a time). ``leaveIsland(_:)`` moves it back.
///
/// Names are unique per run (they contain this process's id and a counter). The lab records every
/// namespace, link and process it makes; ``tearDown()`` (call it in a `defer`) ends those
/// processes by their recorded pid and deletes those namespaces and links, whatever happened.
public final class NetworkLab: Sendable {
    /// Errors of setting the lab up.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// Why labs cannot run here (not root, no `ip`), or `nil` when they can.
    public static var unavailableReason: String? {
        if getuid() != 0 { return "network-namespace tests need root (uid is \(getuid()))" }
        if ipPath == nil { return "network-namespace tests need `ip` (iproute2): apt-get install -y iproute2" }
        return nil
    }

    private static var ipPath: String? {
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The address of node `index` (0-based), to pass as `--host`.
    public func address(of index: Int) -> String { "\(subnet).\(index + 1)" }
    /// The root namespace's address on the bridge: where a test's own node listens.
    public var controlAddress: String { "\(subnet).254" }
    /// How many node namespaces the lab has.
    public let nodeCount: Int

    private let tag: String
    private let subnet: String
    private let ip: String
    private struct Made {
        var namespaces: [String] = []
        var links: [String] = []
        var processes: [NodeProcess] = []
        var isTornDown = false
    }

    private let made = Mutex(Made())
    private static let counter = Atomic<Int>(0)

    private init(nodeCount: Int, tag: String, subnet: String, ip: String) {
        self.nodeCount = nodeCount
        self.tag = tag
        self.subnet = subnet
        self.ip = ip
    }

    /// Creates the bridge and `nodes` namespaces, each with its cluster and control links.
    /// Everything made so far is removed again if a step fails.
    public static func start(nodes: Int) throws -> NetworkLab {
        if let reason = unavailableReason { throw Failure(description: reason) }
        let run = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let pid = Int(getpid())
        let tag = String(pid, radix: 36) + String(run, radix: 36)
        let subnet = "10.\(200 + run % 50).\(pid % 256)"
        let lab = NetworkLab(nodeCount: nodes, tag: tag, subnet: subnet, ip: ipPath!)
        do {
            try lab.build()
        } catch {
            lab.tearDown()
            throw error
        }
        return lab
    }

    private var bridge: String { "ph\(tag)b" }
    private var island: String { "ph\(tag)i" }
    private func namespace(_ index: Int) -> String { "processhub-\(tag)-\(index + 1)" }
    private func clusterLink(_ index: Int) -> String { "ph\(tag)c\(index + 1)" }
    private func controlLink(_ index: Int) -> String { "ph\(tag)k\(index + 1)" }
    private let inner = (cluster: "eth0", control: "ctl0")

    private func build() throws {
        try run(["link", "add", bridge, "type", "bridge"])
        made.withLock { $0.links.append(bridge) }
        try run(["addr", "add", "\(controlAddress)/24", "dev", bridge])
        try run(["link", "set", bridge, "up"])
        try run(["link", "add", island, "type", "bridge"])
        made.withLock { $0.links.append(island) }
        try run(["link", "set", island, "up"])
        for index in 0..<nodeCount {
            let ns = namespace(index)
            try run(["netns", "add", ns])
            made.withLock { $0.namespaces.append(ns) }
            try run(["-n", ns, "link", "set", "lo", "up"])
            // Cluster link: ns eth0 <-> bridge.
            try run(["link", "add", clusterLink(index), "type", "veth", "peer", "name", inner.cluster, "netns", ns])
            made.withLock { $0.links.append(clusterLink(index)) }
            try run(["-n", ns, "addr", "add", "\(address(of: index))/24", "dev", inner.cluster])
            try run(["-n", ns, "link", "set", inner.cluster, "up"])
            try run(["link", "set", clusterLink(index), "master", bridge, "up"])
            // Control link: a point-to-point path between the test's address and this node only.
            try run(["link", "add", controlLink(index), "type", "veth", "peer", "name", inner.control, "netns", ns])
            made.withLock { $0.links.append(controlLink(index)) }
            try run(["link", "set", controlLink(index), "up"])
            try run(["-n", ns, "link", "set", inner.control, "up"])
            try run(["route", "add", "\(address(of: index))/32", "dev", controlLink(index), "src", controlAddress])
            try run(["-n", ns, "route", "add", "\(controlAddress)/32", "dev", inner.control])
        }
    }

    /// Starts `processhub <arguments…>` inside node `index`'s namespace (it should listen on
    /// ``address(of:)``). The process is recorded and ended by ``tearDown()``.
    public func launch(node index: Int, _ arguments: [String]) throws -> NodeProcess {
        let processhub = try NodeProcess.defaultExecutable()
        // `ip netns exec` replaces itself with the program: the recorded pid is the node's, and
        // the node's parent is this process (its --parent-pid watch works).
        let process = try NodeProcess.launch(["netns", "exec", namespace(index), processhub] + arguments, executable: ip)
        made.withLock { $0.processes.append(process) }
        return process
    }

    /// The processes started in node `index`'s namespace, in start order.
    public func processes(of index: Int) -> [NodeProcess] {
        made.withLock { $0.processes.filter { $0.arguments.prefix(3) == ["netns", "exec", namespace(index)] } }
    }

    /// Cuts node `index` off from the other nodes (its bridge port goes down).
    public func cut(_ index: Int) throws {
        try run(["link", "set", clusterLink(index), "down"])
    }

    /// Reconnects node `index` to the other nodes.
    public func heal(_ index: Int) throws {
        try run(["link", "set", clusterLink(index), "up"])
    }

    /// Moves node `index` to the island: from now on it reaches only the nodes moved there.
    public func moveToIsland(_ index: Int) throws {
        try run(["link", "set", clusterLink(index), "master", island])
    }

    /// Moves node `index` back from the island: it reaches the other nodes again.
    public func leaveIsland(_ index: Int) throws {
        try run(["link", "set", clusterLink(index), "master", bridge])
    }

    /// Ends every process the lab started (SIGKILL, by recorded pid) and deletes every namespace
    /// and link it made. Safe to call more than once.
    public func tearDown() {
        let made = self.made.withLock { made -> Made in
            defer { made = Made(isTornDown: true) }
            return made
        }
        guard !made.isTornDown else { return }
        for process in made.processes { process.kill() }
        for ns in made.namespaces.reversed() { _ = try? run(["netns", "del", ns]) }
        // Deleting a namespace deletes the veth ends inside it and so their pairs; whatever
        // is still there (the bridge, a pair whose namespace step failed) goes now.
        let existing = Set((try? run(["-o", "link", "show"]))?.split(separator: "\n").compactMap { line in
            line.split(separator: ":").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces).split(separator: "@")[0] }
        }.map(String.init) ?? [])
        for link in made.links.reversed() where existing.contains(link) { _ = try? run(["link", "del", link]) }
    }

    /// Runs `ip <arguments…>`; throws with its error output when it fails.
    @discardableResult
    private func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "ip \(arguments.joined(separator: " ")) failed: \(problem)")
        }
        return text
    }
}
