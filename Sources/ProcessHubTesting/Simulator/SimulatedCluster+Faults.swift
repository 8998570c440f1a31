import ClusterNode
import ProcessHub

/// Scenario steps: operations through a node's API, and faults.
extension SimulatedCluster {
    func perform(_ action: SimulationAction) {
        note("step \(action)")
        switch action {
        case .start(let count, let on, let awaited): startBatch(count, through: pick(on, among: apiNodes), awaited: awaited)
        case .stop(let count, let on): stopSome(count, through: pick(on, among: apiNodes))
        case .migrate(let on): migrateOne(from: pick(on, among: apiNodes.filter { !nodes[$0].machine.localChildren.isEmpty }))
        case .drain(let slot): drain(pick(slot, among: apiNodes, keeping: 2))
        case .join: join()
        case .leave(let slot): leave(pick(slot, among: apiNodes, keeping: 3))
        case .crash(let slot, let restartAfter): crash(pick(slot, among: liveSlots, keeping: 2), restartAfter: restartAfter)
        case .split(let shape): split(shape)
        case .heal: healEverything()
        case .stall(let slot, let duration): stall(pick(slot, among: liveSlots.filter { nodes[$0].stall == nil }), for: duration)
        case .checkSplit: checkSplit()
        }
    }

    /// Running nodes that are part of the hub.
    var liveSlots: [Int] { nodes.indices.filter { nodes[$0].isLive } }

    /// Nodes whose API a scenario may use.
    var apiNodes: [Int] { liveSlots.filter { !nodes[$0].leaving } }

    /// `slot` if given and usable, else a random one of `candidates`, as long as `keeping` nodes
    /// of the hub would still run and take children afterwards.
    private func pick(_ slot: Int?, among candidates: [Int], keeping: Int = 0) -> Int? {
        let serving = liveSlots.filter { !nodes[$0].leaving && !nodes[$0].drained }.count
        guard keeping == 0 || serving > keeping else { return nil }
        if let slot { return candidates.contains(slot) ? slot : nil }
        return candidates.isEmpty ? nil : candidates[Int.random(in: 0..<candidates.count, using: &random)]
    }

    // MARK: Crash, restart, stall

    func crash(_ slot: Int?, restartAfter: Duration?) {
        guard let slot else { return note("crash skipped: too few nodes") }
        note("crash \(SimulationTrace.name(nodes[slot].id))", node: slot)
        forgetChildrenKnownOnlyBy(slot)
        // During a split, what the node knew goes with it: its side cannot be asked to serve it.
        knownAtSplit[slot] = nil
        nodes[slot].alive = false
        nodes[slot].children = [:]
        nodes[slot].timers = [:]
        nodes[slot].inbox = []
        nodes[slot].stall = nil
        disconnect(slot, reason: .connectionLost, delay: options.crashDetectionDelay)
        abandonOperations(on: slot)
        if let restartAfter { queue.schedule(.restart(slot: slot), at: now + restartAfter.nanoseconds) }
    }

    /// The node comes back under the same name and port, as a new incarnation with a new machine.
    func restart(_ slot: Int) {
        guard !nodes[slot].alive, !nodes[slot].gone else { return }
        var id = nodes[slot].id
        id.incarnation = random.next()
        nodes[slot] = SimulatedNode(id: id, configuration: configuration, seed: random.next())
        start(slot)
        reconnectAll()
    }

    func stall(_ slot: Int?, for duration: Duration) {
        guard let slot else { return }
        stallCount += 1
        nodes[slot].stall = stallCount
        note("stall for \(SimulationTrace.time(duration.nanoseconds))", node: slot)
        for peer in liveSlots where peer != slot { suspect(observer: peer, subject: slot, stall: stallCount) }
        queue.schedule(.resume(slot: slot, stall: stallCount), at: now + duration.nanoseconds)
    }

    /// Processes what queued up while stalled, in order, then reconnects where links closed.
    func resume(_ slot: Int, stall: UInt64) {
        guard nodes[slot].alive, nodes[slot].stall == stall else { return }
        nodes[slot].stall = nil
        note("resume with \(nodes[slot].inbox.count) queued inputs", node: slot)
        while !nodes[slot].inbox.isEmpty, nodes[slot].stall == nil, nodes[slot].alive {
            deliver(nodes[slot].inbox.removeFirst(), to: slot)
        }
        reconnectAll()
    }

    // MARK: Splits

    func split(_ shape: SplitShape) {
        let live = liveSlots
        let cutOff: [Int]
        switch shape {
        case .isolate(let slots): cutOff = slots.filter { live.contains($0) }
        case .groups(let minority), .oneWay(let minority): cutOff = choose(min(minority, live.count / 2), of: live)
        }
        let rest = nodes.indices.filter { !cutOff.contains($0) }
        guard !cutOff.isEmpty else { return note("split skipped") }
        note("split: \(cutOff.map { nodes[$0].id.name }) | \(rest.filter { nodes[$0].isLive }.map { nodes[$0].id.name })")
        var directions: [SlotPair] = []
        for a in cutOff {
            for b in rest {
                if case .oneWay = shape {} else { directions.append(SlotPair(from: a, to: b)) }
                directions.append(SlotPair(from: b, to: a))
            }
        }
        rememberWhatEachNodeKnows()
        currentSplit = (cutOff, { if case .oneWay = shape { true } else { false } }())
        cut(directions)
    }

    /// What each node's registry lists as the split begins: a side can only be asked to serve
    /// the children one of its nodes knew of (a registration lost in flight reached nobody there).
    private func rememberWhatEachNodeKnows() {
        knownAtSplit = [:]
        for slot in liveSlots {
            let machine = nodes[slot].machine
            knownAtSplit[slot] = Dictionary(uniqueKeysWithValues: machine.registryView.keys.map { ($0, machine.epoch(of: $0) ?? 0) })
        }
    }

    /// `count` distinct random elements of `slots`, sorted.
    private func choose(_ count: Int, of slots: [Int]) -> [Int] {
        var pool = slots
        var chosen: [Int] = []
        while chosen.count < count, !pool.isEmpty { chosen.append(pool.remove(at: Int.random(in: 0..<pool.count, using: &random))) }
        return chosen.sorted()
    }

    // MARK: Membership changes

    func join() {
        guard nodes.count < options.maxNodes + 4 else { return note("join skipped") }
        let slot = addNode()
        if let split = currentSplit {
            // A node that joins during a split joins the side that was not cut off.
            cut(split.cutOff.flatMap { far in
                split.oneWay ? [SlotPair(from: slot, to: far)] : [SlotPair(from: slot, to: far), SlotPair(from: far, to: slot)]
            })
        }
        start(slot)
        reconnectAll()
    }

    /// Once the leave completes, the node goes away (its peers see it leave).
    func remove(_ slot: Int, incarnation: UInt64) {
        guard nodes[slot].alive, nodes[slot].id.incarnation == incarnation else { return }
        note("gone", node: slot)
        nodes[slot].alive = false
        nodes[slot].gone = true
        nodes[slot].children = [:]
        knownAtSplit[slot] = nil
        disconnect(slot, reason: .left, delay: .milliseconds(1) ... .milliseconds(5))
        abandonOperations(on: slot)
    }
}
