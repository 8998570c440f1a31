import ClusterNode
import ProcessHub

/// What should run, as the answers to the scenario's own requests tell it: the ground truth the
/// checks compare the cluster with.
struct GroundTruth {
    enum State: Hashable {
        /// A start was asked for and not answered yet.
        case starting
        /// Its start succeeded: it must run, exactly where its strategies say.
        case wanted
        /// A stop was asked for and not answered yet.
        case stopping
        /// Stopped on purpose: it must not run again (until a new start of the same id).
        case stopped
        /// Nobody can tell (a request timed out, or its node crashed): it runs at most once.
        case uncertain
        /// Of a kind that never starts, and its start was answered: it must not run.
        case failed
    }

    var states: [ChildID: State] = [:]
    var nextChild = 1
    /// Children whose latest start is of ``SimulatedCluster/failingKind``.
    var failing: Set<ChildID> = []
    /// Children still starting that failed to start by chance somewhere: their start's answer
    /// cannot make them wanted.
    var failedWhileStarting: Set<ChildID> = []

    func ids(in state: State) -> [ChildID] { states.filter { $0.value == state }.keys.sorted() }
}

/// A scenario request not answered yet.
struct PendingOperation {
    var slot: Int
    var kind: Kind

    enum Kind {
        case start([ChildID], previous: [ChildID: GroundTruth.State])
        case stop([ChildID])
        case migrate
        case migrationReady
        case drain
        case leave
    }
}

extension SimulatedCluster {
    /// The kind of child whose every start fails (``SimulationOptions/failingKindRate``).
    static let failingKind: HubKind = "simulated-failing"

    private func newOperation(_ kind: PendingOperation.Kind, on slot: Int) -> OperationID {
        let op = OperationID(nextOperation)
        nextOperation += 1
        operations[op] = PendingOperation(slot: slot, kind: kind)
        return op
    }

    /// New ids, and now and then an id stopped before (a new child, not a resurrection).
    func startBatch(_ count: Int, through slot: Int?, awaited: Bool) {
        guard let slot, count > 0 else { return }
        var reusable = truth.ids(in: .stopped)
        var ids: [ChildID] = []
        for _ in 0..<count {
            if !reusable.isEmpty, Int.random(in: 0..<5, using: &random) == 0 {
                ids.append(reusable.remove(at: Int.random(in: 0..<reusable.count, using: &random)))
            } else {
                ids.append("c\(truth.nextChild)")
                truth.nextChild += 1
            }
        }
        let previous = Dictionary(uniqueKeysWithValues: ids.compactMap { id in truth.states[id].map { (id, $0) } })
        for id in ids {
            truth.states[id] = .starting
            truth.failedWhileStarting.remove(id)
            // Drawn only when asked for, so that schedules without failing kinds stay the same.
            if options.failingKindRate > 0, Double.random(in: 0..<1, using: &random) < options.failingKindRate {
                truth.failing.insert(id)
            } else {
                truth.failing.remove(id)
            }
        }
        let specs = ids.map { ChildSpec(id: $0, kind: truth.failing.contains($0) ? Self.failingKind : "simulated", encodedArguments: []) }
        let op = newOperation(.start(ids, previous: previous), on: slot)
        deliver(.command(op, .start(specs, StartCommand(awaited: awaited))), to: slot)
    }

    func stopSome(_ count: Int, through slot: Int?) {
        guard let slot else { return }
        var wanted = truth.ids(in: .wanted)
        var ids: [ChildID] = []
        while ids.count < count, !wanted.isEmpty { ids.append(wanted.remove(at: Int.random(in: 0..<wanted.count, using: &random))) }
        guard !ids.isEmpty else { return }
        for id in ids { truth.states[id] = .stopping }
        let op = newOperation(.stop(ids), on: slot)
        deliver(.command(op, .stop(ids, StopCommand())), to: slot)
    }

    func migrateOne(from slot: Int?) {
        guard let slot else { return }
        let running = nodes[slot].machine.localChildren.compactMap { $0.value == nil ? nil : $0.key }.sorted()
        let targets = apiNodes.filter { $0 != slot && !nodes[$0].drained }
        guard !running.isEmpty, !targets.isEmpty else { return }
        let id = running[Int.random(in: 0..<running.count, using: &random)]
        let target = targets[Int.random(in: 0..<targets.count, using: &random)]
        let op = newOperation(.migrate, on: slot)
        deliver(.command(op, .migrate(id, to: nodes[target].id)), to: slot)
    }

    func drain(_ slot: Int?) {
        guard let slot else { return note("drain skipped: too few nodes") }
        nodes[slot].drained = true
        // Children that defer are waited for a little, as `ProcessHub.drain(timeout:)` does.
        deliver(.command(newOperation(.drain, on: slot), .drain(askingConsentFor: .seconds(2))), to: slot)
    }

    /// An operator lets `ids` go on `slot` at `time` (``HubCommand/migrationReady(_:)``), if
    /// that incarnation still runs then.
    func letGo(_ ids: [ChildID], on slot: Int, at time: Int64) {
        let op = newOperation(.migrationReady, on: slot)
        let input = HubInput.command(op, .migrationReady(Set(ids)))
        queue.schedule(.input(slot: slot, incarnation: nodes[slot].id.incarnation, input), at: time)
    }

    /// The node goes away when its leave completes (or after 30 s, as a process that gives up would).
    func leave(_ slot: Int?) {
        guard let slot else { return note("leave skipped: too few nodes") }
        nodes[slot].leaving = true
        queue.schedule(.remove(slot: slot, incarnation: nodes[slot].id.incarnation), at: now + 30_000_000_000)
        deliver(.command(newOperation(.leave, on: slot), .leave), to: slot)
    }

    /// The ground truth learns from each answer.
    func completed(_ op: OperationID, _ outcome: OperationOutcome, on slot: Int) {
        guard let pending = operations.removeValue(forKey: op) else {
            return violation(.supervisorMisuse, "\(nodes[slot].id.name) completed \(op) twice (or one it was never given)")
        }
        switch pending.kind {
        case .start(let ids, let previous): startAnswered(ids, previous: previous, outcome)
        case .stop(let ids): stopAnswered(ids, outcome)
        case .leave:
            forgetChildrenKnownOnlyBy(slot)
            queue.schedule(.remove(slot: slot, incarnation: nodes[slot].id.incarnation), at: now + 5_000_000)
        case .migrate, .migrationReady, .drain:
            break
        }
    }

    private func startAnswered(_ ids: [ChildID], previous: [ChildID: GroundTruth.State], _ outcome: OperationOutcome) {
        switch outcome {
        case .dispatched, .done, .drained:
            for id in ids { truth.states[id] = startedState(id) }
        case .failed:
            // Refused as a whole: nothing was started.
            for id in ids { truth.states[id] = previous[id] }
        case .children(let outcomes):
            let succeeded = Self.succeeded(outcomes)
            let hidden = ids.filter { truth.failing.contains($0) && succeeded.contains($0) }
            if !hidden.isEmpty { violation(.failureHidden, "\(hidden.count) children of a kind that never starts were reported started: \(SimulationTrace.ids(hidden, limit: 8))") }
            for id in ids { truth.states[id] = succeeded.contains(id) ? startedState(id) : truth.failing.contains(id) ? .failed : .uncertain }
        }
    }

    /// What a start reported successful (or dispatched) leaves: wanted, unless it cannot run.
    private func startedState(_ id: ChildID) -> GroundTruth.State {
        if truth.failing.contains(id) { return .failed }
        return truth.failedWhileStarting.remove(id) != nil ? .uncertain : .wanted
    }

    private func stopAnswered(_ ids: [ChildID], _ outcome: OperationOutcome) {
        switch outcome {
        case .dispatched, .done, .drained:
            for id in ids { truth.states[id] = .stopped }
        case .failed:
            for id in ids { truth.states[id] = .wanted }
        case .children(let outcomes):
            let succeeded = Self.succeeded(outcomes)
            for id in ids { truth.states[id] = succeeded.contains(id) ? .stopped : .uncertain }
        }
    }

    /// Children whose outcome carries no error (a child the answer leaves out is not among them).
    private static func succeeded(_ outcomes: [ChildOutcome]) -> Set<ChildID> {
        Set(outcomes.filter { $0.error == nil }.map(\.childID))
    }

    /// `slot` goes away (a crash, or a leave): wanted children no other live node knows of in
    /// any way (registry, orphan, manifest, start in flight) can come back from nowhere, so the
    /// truth no longer expects them — at most once still holds.
    func forgetChildrenKnownOnlyBy(_ slot: Int) {
        let others = nodes.indices.filter { $0 != slot && nodes[$0].alive && !nodes[$0].gone }
        for id in truth.ids(in: .wanted) where !others.contains(where: { nodes[$0].machine.knowsOf(id) }) {
            truth.states[id] = .uncertain
            note("\(id) was known only to \(nodes[slot].id.name): uncertain")
        }
        // Likewise a stop only this node remembers (it was cut off when it made it): copies the
        // other side restarted meanwhile can never hear of it.
        for id in truth.ids(in: .stopped) where !others.contains(where: { nodes[$0].machine.remembersStop(of: id) }) {
            truth.states[id] = .uncertain
            note("the stop of \(id) was known only to \(nodes[slot].id.name): uncertain")
        }
    }

    /// The node that was asked died: its requests will never be answered.
    func abandonOperations(on slot: Int) {
        for (op, pending) in operations.sorted(by: { $0.key < $1.key }) where pending.slot == slot {
            operations[op] = nil
            switch pending.kind {
            case .start(let ids, _), .stop(let ids): for id in ids { truth.states[id] = .uncertain }
            case .migrate, .migrationReady, .drain, .leave: break
            }
        }
    }
}
