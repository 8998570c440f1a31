import ClusterNode
import DemoActors
import Foundation
import ProcessHubTesting
import Testing

@testable import ProcessHub

/// Real partitions: `processhub node` OS processes in network namespaces whose links are cut and
/// healed (``NetworkLab``). The test process watches through a hub-less node of its own that
/// reaches every node over a control link the cuts never touch.
///
/// Skipped (with the reason) without root or without `ip` (iproute2). `NETNS_LOG_LEVEL=info`
/// runs the nodes at that log level and prints a side's node logs when it fails to settle.
@Suite(
    "Real network partitions (network namespaces)", .serialized, .timeLimit(.minutes(3)),
    .enabled(if: NetworkLab.unavailableReason == nil, Comment(rawValue: NetworkLab.unavailableReason ?? "")))
struct NetworkPartitionTests {
    /// Node processes in a lab (three unless a test asks for more), and the test's observing node.
    final class Cluster: Sendable {
        let lab: NetworkLab
        let observer: ClusterNode
        let hubID: HubID
        let nodes: [NodeID]
        let arguments: @Sendable (Int) -> [String]

        init(lab: NetworkLab, observer: ClusterNode, hubID: HubID, nodes: [NodeID], arguments: @escaping @Sendable (Int) -> [String]) {
            self.lab = lab
            self.observer = observer
            self.hubID = hubID
            self.nodes = nodes
            self.arguments = arguments
        }

        static let port = 7400

        /// Starts the lab, `count` nodes (hub `hubID`, the given partition flag) and the observer.
        static func start(partition: String, nodes count: Int = 3, heartbeatTimeoutMs: Int = 700) async throws -> Cluster {
            let lab = try NetworkLab.start(nodes: count)
            do {
                let secret = "netns-\(UInt64.random(in: 0 ... .max))"
                let hubID = "np"
                let seeds = (0..<count).flatMap { ["--seed", "\(lab.address(of: $0)):\(port)"] }
                let arguments: @Sendable (Int) -> [String] = { index in
                    [
                        "node", "--name", "p\(index + 1)", "--host", lab.address(of: index), "--port", "\(port)",
                        "--secret", secret, "--hub", hubID, "--partition", partition,
                        "--heartbeat-interval-ms", "100", "--heartbeat-timeout-ms", "\(heartbeatTimeoutMs)",
                        "--log-level", ProcessInfo.processInfo.environment["NETNS_LOG_LEVEL"] ?? "warning",
                    ] + seeds
                }
                var nodes: [NodeID] = []
                let processes = try (0..<count).map { try lab.launch(node: $0, arguments($0)) }
                for process in processes { nodes.append(try #require(NodeID(try await process.waitUntilReady()))) }
                var settings = ClusterNodeSettings(name: "observer", host: lab.controlAddress, secret: ClusterSecret(secret))
                settings.seeds = nodes.map(\.address)
                let observer = try await ClusterNode.start(settings)
                return Cluster(lab: lab, observer: observer, hubID: HubID(hubID), nodes: nodes, arguments: arguments)
            } catch {
                lab.tearDown()
                throw error
            }
        }

        func endpoint(_ node: NodeID) throws -> HubControlEndpoint {
            try HubControlEndpoint.resolve(hubID, on: node, using: observer.system)
        }

        func status(_ node: NodeID) async throws -> HubNodeStatus {
            try await ClusterSystem.withCallTimeout(.seconds(3)) { try await self.endpoint(node).status() }
        }

        func registry(_ node: NodeID) async throws -> [ChildID: [NodeID]] {
            try await ClusterSystem.withCallTimeout(.seconds(3)) { try await self.endpoint(node).registryView() }
                .mapValues { $0.map(\.node) }
        }

        /// Whether every node in `nodes` sees exactly `nodes` as members, with no pending work.
        func formed(_ nodes: [NodeID]) async -> Bool {
            for node in nodes {
                guard let status = try? await status(node), Set(status.members) == Set(nodes), !status.isLocked else { return false }
            }
            return true
        }

        /// Starts `count` counters through node 1 (which places and forwards them).
        func startCounters(_ count: Int) async throws -> [ChildID] {
            let specs = try (0..<count).map { index in try ChildSpec(id: "k\(index)", Counter.self, .init(start: index)) }
            let request = ControlStartRequest(
                specs: specs, checkExisting: true, rollback: false, metadata: [:], timeout: .seconds(20), awaitResult: true)
            let reply = try await ClusterSystem.withCallTimeout(.seconds(25)) { try await self.endpoint(self.nodes[0]).controlStart(request) }
            let result = try #require(reply.result)
            #expect(result.errors.isEmpty && result.started.count == count)
            return specs.map(\.id)
        }

        /// Whether `nodes` agree on a registry of exactly `ids`, each child on exactly its ring
        /// placement over `nodes`, and run `ids.count` instances in all.
        func converged(_ nodes: [NodeID], ids: [ChildID]) async -> Bool {
            guard await formed(nodes) else { return false }
            let placement = ConsistentHashing().belongsTo(ids, replicationFactor: 1, nodes: nodes)
            var running = 0
            for node in nodes {
                guard let registry = try? await registry(node), let status = try? await status(node) else { return false }
                guard registry.count == ids.count, ids.allSatisfy({ registry[$0] == placement[$0] }) else { return false }
                running += status.localCount
            }
            return running == ids.count
        }

        /// Ends the node processes and removes the lab at once (a test process may exit right
        /// after the test); the observer shuts down in the background.
        /// Each node's view, for a failed wait's message.
        func describe(_ nodes: [NodeID], ids: [ChildID]) async -> String {
            let placement = ConsistentHashing().belongsTo(ids, replicationFactor: 1, nodes: nodes)
            var lines: [String] = []
            for node in nodes {
                let status = try? await status(node)
                let registry = (try? await registry(node)) ?? [:]
                let misplaced = ids.filter { registry[$0] != placement[$0] }.map { "\($0)=\(registry[$0]?.map(\.name) ?? [])" }
                lines.append("\(node.name): \(status.map { "members \($0.members.count) local \($0.localCount) partitioned \($0.isPartitioned) locked \($0.isLocked)" } ?? "no status"), registry \(registry.count), misplaced \(misplaced.prefix(8))")
            }
            return lines.joined(separator: "\n")
        }

        /// Waits until `nodes` converge on `ids`; the failure says what each node sees.
        func waitForConvergence(_ nodes: [NodeID], ids: [ChildID], _ what: String, timeout: Duration = .seconds(30)) async throws {
            do {
                try await waitUntil(timeout: timeout, what) { await converged(nodes, ids: ids) }
            } catch {
                Issue.record("\(what) did not happen:\n\(await describe(nodes, ids: ids))")
                throw error
            }
        }

        /// Waits for the hub of every node, starts `count` counters and waits until they are placed.
        func formWithCounters(_ count: Int = 60) async throws -> [ChildID] {
            try await waitUntil(timeout: .seconds(30), "the hub of \(nodes.count)") { await formed(nodes) }
            let ids = try await startCounters(count)
            try await waitUntil(timeout: .seconds(30), "\(count) children placed") { await converged(nodes, ids: ids) }
            return ids
        }

        /// Cuts the third node off and waits until each side runs every child (Divergence).
        func splitThirdNodeOff(children count: Int) async throws {
            let (a, b, c) = (nodes[0], nodes[1], nodes[2])
            try lab.cut(2)
            try await waitUntil(timeout: .seconds(20), "both sides running every child") {
                guard await formed([a, b]), await formed([c]) else { return false }
                let onA = try await status(a).localCount
                let onB = try await status(b).localCount
                let onC = try await status(c).localCount
                return onA + onB == count && onC == count
            }
        }

        /// Moves the nodes at `indexes` to the lab's island one after the other, `gap` apart:
        /// each side's nodes see the others go down in separate topology batches (the gap is
        /// far longer than the debounce, far shorter than the heartbeat timeout, so the island's
        /// nodes never lose each other).
        func split(_ indexes: [Int], gap: Duration) async throws {
            for (step, index) in indexes.enumerated() {
                if step > 0 { try await Task.sleep(for: gap) }
                try lab.moveToIsland(index)
            }
        }

        func heal(_ indexes: [Int]) throws {
            for index in indexes { try lab.leaveIsland(index) }
        }

        /// Whether `side` is a hub of its own that runs every one of `ids` exactly once: each of
        /// its nodes lists exactly `side` and registers each child on one node of `side`, and
        /// its nodes run `ids.count` instances in all.
        func runsEachOnce(_ side: [NodeID], ids: [ChildID]) async -> Bool {
            guard await formed(side) else { return false }
            var running = 0
            for node in side {
                guard let registry = try? await registry(node), let status = try? await status(node) else { return false }
                let once = ids.allSatisfy { registry[$0].map { $0.count == 1 && side.contains($0[0]) } ?? false }
                guard registry.count == ids.count, once else { return false }
                running += status.localCount
            }
            return running == ids.count
        }

        /// Waits until `side` runs every child exactly once, then checks it still does a few
        /// seconds later (a lost child is not brought back by a later repair either way).
        func waitUntilEachRunsOnce(_ side: [NodeID], ids: [ChildID], within timeout: Duration, _ what: String) async throws {
            do {
                try await waitUntil(timeout: timeout, what) { await runsEachOnce(side, ids: ids) }
                try await Task.sleep(for: .seconds(3))
                #expect(await runsEachOnce(side, ids: ids), "\(what): no longer so 3 s later")
            } catch {
                Issue.record("\(what) did not happen:\n\(await describe(side, ids: ids))")
                if ProcessInfo.processInfo.environment["NETNS_LOG_LEVEL"] != nil { printLogs(of: side, ids: ids) }
                throw error
            }
        }

        /// With `NETNS_LOG_LEVEL` set: the missing children and the logs of `side`'s processes.
        func printLogs(of side: [NodeID], ids: [ChildID]) {
            for (index, node) in nodes.enumerated() where side.contains(node) {
                for process in lab.processes(of: index) { print("==== \(node.name)\n\(process.log)") }
            }
        }

        func tearDown() {
            lab.tearDown()
            Task { [observer] in await observer.shutdown() }
        }
    }

    /// Divergence: a 2|1 split; each side restarts the other's children; after the heal every
    /// duplicate is resolved, no child is lost, and every registry agrees.
    @Test func divergenceSplitHealsIntoOneRegistryWithoutDuplicatesOrLosses() async throws {
        let cluster = try await Cluster.start(partition: "divergence")
        defer { cluster.tearDown() }
        let (a, b, c) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        let ids = try await cluster.formWithCounters()

        try await cluster.splitThirdNodeOff(children: 60)

        try cluster.lab.heal(2)
        try await cluster.waitForConvergence([a, b, c], ids: ids, "one registry, every child once on its node")
    }

    /// Divergence: children stopped on purpose during a split — on the majority side and on the
    /// cut-off side — stay stopped after the heal, although the other side still ran them.
    @Test func childrenStoppedDuringASplitStayStoppedAfterTheHeal() async throws {
        let cluster = try await Cluster.start(partition: "divergence")
        defer { cluster.tearDown() }
        let (a, b, c) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        let ids = try await cluster.formWithCounters()
        let before = try await cluster.registry(a)
        let fromC = ids.filter { before[$0] == [c] }.prefix(3)
        let fromAB = ids.filter { before[$0] != [c] }.prefix(3)
        #expect(fromC.count == 3 && fromAB.count == 3)

        try await cluster.splitThirdNodeOff(children: 60)
        // The majority stops children that were the cut-off node's; the cut-off node stops some
        // of the majority's (its own copies of them).
        let byMajority = try await cluster.endpoint(a).controlStop(ControlStopRequest(ids: Array(fromC), timeout: .seconds(5), awaitResult: true))
        let byMinority = try await cluster.endpoint(c).controlStop(ControlStopRequest(ids: Array(fromAB), timeout: .seconds(5), awaitResult: true))
        #expect(Set(byMajority.stopped?.map(\.id) ?? []) == Set(fromC))
        #expect(Set(byMinority.stopped?.map(\.id) ?? []) == Set(fromAB))

        try cluster.lab.heal(2)
        let remaining = ids.filter { !fromC.contains($0) && !fromAB.contains($0) }
        try await cluster.waitForConvergence([a, b, c], ids: remaining, "one registry without the stopped children")
    }

    /// StaticQuorum 2: the cut-off node becomes partitioned (stops its children, refuses
    /// starts), the majority keeps everything running; after the heal the cluster converges.
    @Test func staticQuorumStopsTheMinorityAndRecoversAfterTheHeal() async throws {
        let cluster = try await Cluster.start(partition: "static:2")
        defer { cluster.tearDown() }
        let (a, b, c) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        let ids = try await cluster.formWithCounters()

        try cluster.lab.cut(2)
        try await waitUntil(timeout: .seconds(20), "the minority partitioned and stopped") {
            let status = try await cluster.status(c)
            return status.isPartitioned && status.localCount == 0 && status.members == [c]
        }
        try await waitUntil(timeout: .seconds(20), "the majority running every child") {
            await cluster.converged([a, b], ids: ids)
        }
        for node in [a, b] { #expect(try await cluster.status(node).isPartitioned == false) }
        let spec = try ChildSpec(id: "during-split", Counter.self, .init())
        let request = ControlStartRequest(
            specs: [spec], checkExisting: true, rollback: false, metadata: [:], timeout: .seconds(5), awaitResult: true)
        let refused = try await cluster.endpoint(c).controlStart(request)
        #expect(refused.error?.code == .partitioned)

        try cluster.lab.heal(2)
        try await cluster.waitForConvergence([a, b, c], ids: ids, "quorum back and one registry")
        #expect(try await !cluster.status(c).isPartitioned)
    }

    /// A node killed while cut off and restarted on the same address: its peers never saw the
    /// old incarnation go down (long heartbeat timeout), so only the new incarnation's arrival
    /// tells them. Its old entries vanish, its children are restarted, nothing is lost.
    @Test func aNodeRestartedBehindACutLeavesNoStaleEntries() async throws {
        let cluster = try await Cluster.start(partition: "divergence", heartbeatTimeoutMs: 30_000)
        defer { cluster.tearDown() }
        let (a, b, old) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        let ids = try await cluster.formWithCounters()
        #expect(try await cluster.registry(a).values.contains { $0 == [old] })

        try cluster.lab.cut(2)
        let processes = cluster.lab.processes(of: 2)
        for process in processes { process.kill() }
        let restarted = try cluster.lab.launch(node: 2, cluster.arguments(2))
        let new = try #require(NodeID(try await restarted.waitUntilReady()))
        #expect(new.sameEndpoint(as: old) && new != old)
        try cluster.lab.heal(2)
        try await waitUntil(timeout: .seconds(30), "the new incarnation in, every child once on its node") {
            await cluster.converged([a, b, new], ids: ids)
        }
        for node in [a, b, new] {
            #expect(try await cluster.registry(node).values.allSatisfy { !$0.contains(old) })
        }
    }

    /// MajorityQuorum, five nodes, a 3|2 split whose two minority nodes are cut 300 ms apart:
    /// the majority sees them go down in two topology batches. The children the first batch
    /// gives to the second minority node (restarts of the first one's) never reach the majority
    /// as registrations; they must not be lost when the second goes down. During the split the
    /// majority runs every child exactly once within a few seconds, the minority none.
    @Test func majorityQuorumRunsEveryChildOnceWhenTheMinorityIsCutNodeByNode() async throws {
        let cluster = try await Cluster.start(partition: "majority", nodes: 5)
        defer { cluster.tearDown() }
        let ids = try await cluster.formWithCounters(500)
        let majority = Array(cluster.nodes.prefix(3)), minority = Array(cluster.nodes.suffix(2))

        try await cluster.split([3, 4], gap: .milliseconds(300))
        try await cluster.waitUntilEachRunsOnce(majority, ids: ids, within: .seconds(10), "the majority running every child once")
        for node in minority {
            let status = try await cluster.status(node)
            #expect(status.isPartitioned && status.localCount == 0, "\(node.name) runs \(status.localCount) children during the split")
        }

        try cluster.heal([3, 4])
        try await cluster.waitForConvergence(cluster.nodes, ids: ids, "one registry, every child once on its node", timeout: .seconds(60))
    }

    /// Divergence, five nodes, a 3|2 split whose two minority nodes are cut 300 ms apart: each
    /// side sees the other's nodes go down in more than one batch. Each side runs every child
    /// exactly once within a few seconds; after the heal the duplicates are resolved.
    @Test func divergenceRunsEveryChildOnceOnEachSideWhenCutNodeByNode() async throws {
        let cluster = try await Cluster.start(partition: "divergence", nodes: 5)
        defer { cluster.tearDown() }
        let ids = try await cluster.formWithCounters(300)
        let majority = Array(cluster.nodes.prefix(3)), minority = Array(cluster.nodes.suffix(2))

        try await cluster.split([3, 4], gap: .milliseconds(300))
        try await cluster.waitUntilEachRunsOnce(majority, ids: ids, within: .seconds(10), "the majority running every child once")
        try await cluster.waitUntilEachRunsOnce(minority, ids: ids, within: .seconds(5), "the minority running every child once")

        try cluster.heal([3, 4])
        try await cluster.waitForConvergence(cluster.nodes, ids: ids, "one registry, every child once on its node", timeout: .seconds(60))
    }
}
