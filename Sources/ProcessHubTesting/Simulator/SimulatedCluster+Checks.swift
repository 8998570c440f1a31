import ClusterNode
import ProcessHub

/// The invariants: at quiescence (DESIGN §5, stopped children stay stopped, nothing lost) and
/// during splits (each side, or the quorum side, serves every child exactly once).
extension SimulatedCluster {
    // MARK: Quiescence

    /// Runs until the cluster is quiet (nothing pending but periodic timers, no stall, every
    /// machine settled) and passes the checks, or until `deadline`; keeps what failed last.
    func settle(deadline: Int64) {
        while true {
            if isQuiet, finalViolations().isEmpty { return }
            guard let event = queue.next, event.time <= deadline else { break }
            _ = queue.pop()
            handle(event)
        }
        now = max(now, deadline)
        if !isQuiet { violation(.noConvergence, "not settled within \(SimulationTrace.time(options.convergenceBound.nanoseconds)) of the last step: \(unsettledSummary())") }
        for found in finalViolations() { violation(found.kind, found.message) }
    }

    private var isQuiet: Bool {
        queue.activeCount == 0 && liveSlots.allSatisfy { nodes[$0].stall == nil && nodes[$0].machine.isSettled }
    }

    private func unsettledSummary() -> String {
        let busy = liveSlots.filter { !nodes[$0].machine.isSettled }.map { slot in
            "\(nodes[slot].id.name)\(nodes[slot].machine.isBusy ? " busy" : " waits (orphans or duplicates)")"
        }
        return "\(queue.activeCount) events pending; " + (busy.isEmpty ? "every machine settled" : busy.joined(separator: ", "))
    }

    /// Every check of a settled cluster, as violations at the current time.
    func finalViolations() -> [SimulationViolation] {
        var found = ViolationList(time: now)
        let live = liveSlots
        guard let first = live.first else { return [] }
        let hubNodes = nodes[first].machine.hubNodes
        checkAgreement(live, hubNodes: hubNodes, into: &found)
        let registry = nodes[first].machine.registryView
        let instances = runningInstances(on: live)
        let rf = configuration.redundancy.replicationFactor(hubNodeCount: hubNodes.count)
        checkPartitionFlags(live, into: &found)
        // Nodes that disagree on quorum were reported just above; their children are not judged.
        guard let serving = quorum(of: live) else { return found.violations }
        let placement = expectedPlacement(truth.ids(in: .wanted), rf: rf, nodes: hubNodes)
        let ids = Set(truth.states.keys).union(instances.keys).union(registry.keys).sorted()
        for id in ids {
            let running = instances[id] ?? []
            checkChild(id, running: running, serving: serving, rf: rf, placed: placement?[id], into: &found)
            if serving, let placed = placement?[id] { checkRoles(id, placed: placed, on: live, into: &found) }
            let listed = (registry[id] ?? []).sorted { $0.node < $1.node }
            if listed != running { found.add(.registryMismatch, "\(id) (lists \(listed.map { $0.node.name }), runs on \(running.map { $0.node.name }))") }
        }
        for slot in live {
            for (id, child) in nodes[slot].children where child.holdsCalls || child.sealed {
                found.add(.heldCalls, "\(id) on \(nodes[slot].id.name)")
            }
        }
        return found.violations
    }

    /// Same registry and node list everywhere, and the node list is the live, undrained nodes.
    private func checkAgreement(_ live: [Int], hubNodes: [NodeID], into found: inout ViolationList) {
        let expected = live.filter { !nodes[$0].drained }.map { nodes[$0].id }.sorted()
        for slot in live where nodes[slot].machine.hubNodes != expected {
            found.add(.nodesDiffer, "\(nodes[slot].id.name) places on \(nodes[slot].machine.hubNodes.map(\.name)), the live undrained nodes are \(expected.map(\.name))")
        }
        let reference = nodes[live[0]].machine.registryView
        for slot in live.dropFirst() {
            let other = nodes[slot].machine.registryView
            guard other != reference else { continue }
            let differing = Set(reference.keys).union(other.keys).filter { reference[$0] != other[$0] }.sorted()
            found.add(.registriesDiffer, "\(nodes[live[0]].id.name) and \(nodes[slot].id.name) differ on \(differing.count) children, e.g. \(SimulationTrace.ids(differing, limit: 4))")
        }
    }

    private func checkChild(_ id: ChildID, running: [ActorID], serving: Bool, rf: Int, placed: [NodeID]?, into found: inout ViolationList) {
        let where_ = running.map { $0.node.name }
        switch truth.states[id] {
        case .wanted where serving:
            if running.isEmpty { found.add(.lost, id) }
            else if running.count > rf { found.add(.duplicated, "\(id) on \(where_)") }
            else if let placed, Set(placed) != Set(running.map(\.node)) { found.add(.misplaced, "\(id) on \(where_), placed on \(placed.map(\.name))") }
        case .stopped:
            if !running.isEmpty { found.add(.resurrected, "\(id) on \(where_)") }
        case nil:
            if !running.isEmpty { found.add(.phantom, "\(id) on \(where_)") }
        case .failed:
            if !running.isEmpty { found.add(.failureHidden, "\(id), of a kind that never starts, runs on \(where_)") }
        default:
            if running.count > (serving ? rf : 0) { found.add(serving ? .duplicated : .minorityRuns, "\(id) on \(where_)") }
        }
    }

    /// Each instance of a replicated child holds the role its placement gives it, as far as the
    /// strategy signals that role: in active/passive, exactly one of them is active.
    private func checkRoles(_ id: ChildID, placed: [NodeID], on slots: [Int], into found: inout ViolationList) {
        let redundancy = configuration.redundancy
        guard redundancy.signals(.active) || redundancy.signals(.passive) else { return }
        for slot in slots {
            guard let child = nodes[slot].children[id], placed.contains(nodes[slot].id) else { continue }
            let expected = redundancy.mode(of: id, on: nodes[slot].id, nodes: placed)
            let wrong = redundancy.signals(expected) ? child.role != expected : child.role.map { $0 != expected } ?? false
            if wrong {
                found.add(.wrongRole, "\(id) on \(nodes[slot].id.name) is \(child.role.map { "\($0)" } ?? "unsignalled"), its placement \(placed.map(\.name)) makes it \(expected)")
            }
        }
    }

    /// Where the distribution strategy places `ids` (nil when it does not place deterministically).
    private func expectedPlacement(_ ids: [ChildID], rf: Int, nodes: [NodeID]) -> [ChildID: [NodeID]]? {
        guard configuration.distribution.isDeterministic, !nodes.isEmpty else { return nil }
        return configuration.distribution.belongsTo(ids, replicationFactor: rf, nodes: nodes)
    }

    /// Every simulated instance on `slots`, by child, ordered by node.
    private func runningInstances(on slots: [Int]) -> [ChildID: [ActorID]] {
        var instances: [ChildID: [ActorID]] = [:]
        for slot in slots { for (id, child) in nodes[slot].children { instances[id, default: []].append(child.actorID) } }
        return instances.mapValues { $0.sorted { $0.node < $1.node } }
    }

    /// Whether node `slot` should have quorum: its partition strategy asked, as hub peers come
    /// and go on that node, by a model beside its machine (nil when the strategy depends on more
    /// than sizes, such as time: the machine's own flag is then taken).
    func expectsQuorum(_ slot: Int) -> Bool? {
        let strategy = configuration.partitionTolerance
        if strategy is Divergence { return true }
        if strategy is DynamicQuorum { return nil }
        return quorumModels[slot].map { !$0.partitioned }
    }

    /// Whether every node of `slots` should have quorum (true), none should (false), or they differ (nil).
    func quorum(of slots: [Int]) -> Bool? {
        let expected = Set(slots.map { expectsQuorum($0) ?? !nodes[$0].machine.partitioned })
        return expected.count == 1 ? expected.first : nil
    }

    /// Nodes that should not (or should) report a lost quorum, as violations.
    private func checkPartitionFlags(_ slots: [Int], into found: inout ViolationList) {
        for slot in slots {
            guard let expected = expectsQuorum(slot) else { continue }
            if expected && nodes[slot].machine.partitioned { found.add(.wronglyPartitioned, nodes[slot].id.name) }
            if !expected && !nodes[slot].machine.partitioned { found.add(.minorityNotPartitioned, nodes[slot].id.name) }
        }
    }

    // MARK: Splits

    /// During a split: a side with quorum (every side, under Divergence) runs every wanted child
    /// one of its nodes knew of when the split began exactly once; a side without runs none, and its machines say they are partitioned.
    func checkSplit() {
        let sides = splitSides()
        guard sides.count >= 2 else { return note("checkSplit: no split to check") }
        var found = ViolationList(time: now)
        let wanted = truth.ids(in: .wanted)
        for side in sides {
            let names = side.map { nodes[$0].id.name }.joined(separator: ",")
            let instances = runningInstances(on: side)
            checkPartitionFlags(side, into: &found)
            guard let serving = quorum(of: side) else { continue }
            if serving, side.allSatisfy({ nodes[$0].drained }) {
                note("checkSplit: side [\(names)] only has drained nodes, which host nothing")
            } else if serving {
                let rf = configuration.redundancy.replicationFactor(hubNodeCount: side.count)
                // What the side knew, at the version it knew: a side that only knew a child
                // stopped and started anew since (a newer epoch elsewhere) cannot serve the new one.
                let known = side.reduce(into: [ChildID: UInt64]()) { $0.merge(knownAtSplit[$1] ?? [:], uniquingKeysWith: max) }
                let current = currentEpochs(of: wanted)
                for id in wanted where (known[id].map { $0 >= current[id] ?? 0 } ?? false) && (instances[id]?.count ?? 0) == 0 {
                    found.add(.splitSideMissing, "\(id) on side [\(names)]")
                }
                for id in wanted where (instances[id]?.count ?? 0) > rf { found.add(.splitSideDuplicated, "\(id) on side [\(names)]") }
            } else {
                for id in instances.keys.sorted() { found.add(.minorityRuns, "\(id) on side [\(names)]") }
            }
        }
        for item in found.violations { violation(item.kind, item.message) }
        note("checkSplit: \(sides.map { $0.map { nodes[$0].id.name } }), \(wanted.count) wanted, \(found.violations.count) violation kinds")
    }

    /// The newest epoch any live node knows for each of `ids`.
    private func currentEpochs(of ids: [ChildID]) -> [ChildID: UInt64] {
        var epochs: [ChildID: UInt64] = [:]
        for slot in liveSlots {
            for id in ids { if let epoch = nodes[slot].machine.epoch(of: id) { epochs[id] = max(epochs[id] ?? 0, epoch) } }
        }
        return epochs
    }

    /// The groups of live nodes that hear each other both ways (empty when a group is not
    /// fully connected: such a split has no sides to check).
    private func splitSides() -> [[Int]] {
        var sides: [[Int]] = []
        for slot in liveSlots {
            if let index = sides.firstIndex(where: { connected(slot, $0[0]) }) { sides[index].append(slot) } else { sides.append([slot]) }
        }
        let cliques = sides.allSatisfy { side in side.allSatisfy { a in side.allSatisfy { b in a == b || connected(a, b) } } }
        return cliques ? sides : []
    }

    private func connected(_ a: Int, _ b: Int) -> Bool {
        !network.isBlocked(SlotPair(from: a, to: b)) && !network.isBlocked(SlotPair(from: b, to: a))
    }
}

/// Violations gathered by kind, so that a hundred lost children make one readable line.
struct ViolationList {
    let time: Int64
    private var items: [SimulationViolation.Kind: [String]] = [:]

    init(time: Int64) { self.time = time }

    mutating func add(_ kind: SimulationViolation.Kind, _ detail: String) { items[kind, default: []].append(detail) }

    var violations: [SimulationViolation] {
        SimulationViolation.Kind.allCases.compactMap { kind in
            guard let details = items[kind] else { return nil }
            let shown = details.prefix(8).joined(separator: "; ")
            return SimulationViolation(kind, at: .nanoseconds(time), "\(details.count): \(shown)\(details.count > 8 ? "; …" : "")")
        }
    }
}
