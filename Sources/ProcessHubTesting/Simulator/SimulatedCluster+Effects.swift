import ClusterNode
import ProcessHub

/// Carrying out what a machine asks for: messages, the simulated supervisor, timers, answers.
extension SimulatedCluster {
    func perform(_ effect: HubEffect, on slot: Int) {
        switch effect {
        case .send(let envelope, let target): send(envelope, from: slot, to: target)
        case .startChildren(let launches): startChildren(launches, on: slot)
        case .stopChildren(let ids, let cause): stopChildren(ids, cause, on: slot)
        case .captureStates(let ids): captureStates(ids, on: slot)
        case .askConsent(let ids, let round, let within): askConsent(ids, round: round, within: within, on: slot)
        case .sealCalls(let ids): sealCalls(ids, on: slot)
        case .deliverStates(let states, let release): deliverStates(states, release: release, on: slot)
        case .setTimer(let timer, let after): arm(timer, after: after, on: slot)
        case .cancelTimer(let timer): nodes[slot].timers[timer] = nil
        case .complete(let op, let outcome): completed(op, outcome, on: slot)
        case .hook(.replicaRoles(let roles)): for (id, role) in roles { nodes[slot].children[id]?.role = role }
        case .hook, .registryChanged, .log, .deliverStrategyMessage: break  // in the trace already (no strategy host here)
        }
    }

    // MARK: Messages

    /// Sends on the link to `target`, FIFO: never delivered before an earlier message on it.
    private func send(_ envelope: HubEnvelope, from slot: Int, to target: NodeID) {
        messageCount += 1
        guard let to = self.slot(of: target), to != slot else { return }
        let pair = SlotPair(from: slot, to: to)
        let link = network.link(pair)
        guard link.open, !network.isBlocked(pair) else {
            deliveryLog?.append(DeliveryRecord(pair: pair, number: messageCount, time: now, event: .dropped))
            return
        }
        let time = max(now + draw(options.linkDelay), network.lastDelivery[pair] ?? 0)
        network.lastDelivery[pair] = time
        deliveryLog?.append(DeliveryRecord(pair: pair, number: messageCount, time: now, event: .sent))
        queue.schedule(.message(from: slot, to: to, epoch: link.epoch, number: messageCount, envelope), at: time)
    }

    /// A message reaches its target unless its connection broke (or its direction is cut) meanwhile.
    func arrive(_ envelope: HubEnvelope, from: Int, to: Int, epoch: Int, number: Int) {
        let pair = SlotPair(from: from, to: to)
        let link = network.link(pair)
        let arrives = link.open && link.epoch == epoch && !network.isBlocked(pair) && nodes[to].alive
        deliveryLog?.append(DeliveryRecord(pair: pair, number: number, time: now, event: arrives ? .delivered : .dropped))
        if arrives { deliver(.received(envelope, from: nodes[from].id), to: to) }
    }

    // MARK: The supervisor

    /// Reports of one effect arrive together, after the reports of earlier effects.
    private func report(_ reports: [SupervisorReport], on slot: Int) {
        guard !reports.isEmpty else { return }
        let time = max(now + draw(options.supervisorDelay), nodes[slot].supervisorClock)
        nodes[slot].supervisorClock = time
        queue.schedule(.input(slot: slot, incarnation: nodes[slot].id.incarnation, .supervisor(reports)), at: time)
    }

    private func startChildren(_ launches: [ChildLaunch], on slot: Int) {
        var reports: [SupervisorReport] = []
        for launch in launches {
            if let running = nodes[slot].children[launch.id] {
                violation(.supervisorMisuse, "\(nodes[slot].id.name) asked to start \(launch.id), which already runs there as \(running.actorID)")
                reports.append(.started(launch.id, running.actorID))
            } else if launch.spec.kind == SimulatedCluster.failingKind {
                reports.append(.startFailed(launch.id, ChildError(.startFailed, "a simulated kind that never starts")))
            } else if options.startFailureRate > 0, Double.random(in: 0..<1, using: &random) < options.startFailureRate {
                startFailedByChance(launch.id, on: slot)
                reports.append(.startFailed(launch.id, ChildError(.startFailed, "simulated start failure")))
            } else {
                if let state = launch.state { checkHandedOver(launch.id, SimulatedChild.counter(from: state), on: slot) }
                let actorID = nodes[slot].newActorID()
                nodes[slot].children[launch.id] = SimulatedChild(
                    actorID: actorID, counter: SimulatedChild.counter(from: launch.state), holdsCalls: launch.holdsCalls, at: now)
                reports.append(.started(launch.id, actorID))
            }
        }
        report(reports, on: slot)
    }

    /// Stops at once; every id is answered, even one that was not running. An origin that
    /// stops after its state was captured must not have served a call since.
    private func stopChildren(_ ids: [ChildID], _ cause: StopCause, on slot: Int) {
        for id in ids {
            if cause == .migrated, var child = nodes[slot].children[id], let captured = captures[id]?[child.actorID] {
                child.catchUp(to: now)
                if child.counter != captured {
                    violation(.lostIncrements, "\(id) on \(nodes[slot].id.name) served \(child.counter &- captured) calls after its state (\(captured)) was captured")
                }
            }
            nodes[slot].children[id] = nil
        }
        report(ids.map { .stopped($0) }, on: slot)
    }

    /// A sealed child serves no call: what it served up to now is counted first.
    private func sealCalls(_ ids: [ChildID], on slot: Int) {
        for id in ids {
            nodes[slot].children[id]?.catchUp(to: now)
            nodes[slot].children[id]?.sealed = true
        }
    }

    /// Captures each counter as it is now, and remembers it: the child's next instance must
    /// start from exactly this value.
    private func captureStates(_ ids: [ChildID], on slot: Int) {
        var reports: [SupervisorReport] = []
        for id in ids {
            nodes[slot].children[id]?.catchUp(to: now)
            let child = nodes[slot].children[id]
            if let child { captures[id, default: [:]][child.actorID] = child.counter }
            reports.append(.stateCaptured(id, child?.payload))
        }
        report(reports, on: slot)
    }

    /// A held instance takes its state (it must not have served a call before) and serves calls.
    private func deliverStates(_ states: [ChildID: HandoverPayload], release: [ChildID], on slot: Int) {
        for (id, state) in states.sorted(by: { $0.key < $1.key }) {
            guard var child = nodes[slot].children[id] else { continue }
            child.catchUp(to: now)
            if child.counter != child.startValue {
                violation(.lostIncrements, "\(id) on \(nodes[slot].id.name) served \(child.counter &- child.startValue) calls before its state came; they are overwritten")
            }
            let value = SimulatedChild.counter(from: state)
            checkHandedOver(id, value, on: slot)
            child.counter = value
            nodes[slot].children[id] = child
        }
        for id in release {
            nodes[slot].children[id]?.catchUp(to: now)
            nodes[slot].children[id]?.holdsCalls = false
            nodes[slot].children[id]?.sealed = false
        }
    }

    /// A handed-over value must be one its origin's capture took (duplicates that meet at one
    /// target each captured their own: the target keeps one of them).
    private func checkHandedOver(_ id: ChildID, _ value: UInt64, on slot: Int) {
        guard let captured = captures[id], !captured.values.contains(value) else { return }
        let taken = captured.sorted { $0.key.serial < $1.key.serial }.map { "\($0.value) on \($0.key.node.name)" }
        violation(.lostIncrements, "\(id) on \(nodes[slot].id.name) got \(value); captured: \(taken.joined(separator: ", "))")
    }

    /// A child that failed to start by chance is no longer expected to run (a start the hub
    /// does not retry); one still starting is judged when its operation answers.
    private func startFailedByChance(_ id: ChildID, on slot: Int) {
        note("\(id) fails to start", node: slot)
        switch truth.states[id] {
        case .wanted: truth.states[id] = .uncertain
        case .starting: truth.failedWhileStarting.insert(id)
        default: break
        }
    }

    // MARK: Consent

    /// Each child draws whether it defers and how long it takes to answer; the round is
    /// answered when the slowest child did, or at the deadline, whichever comes first. A child
    /// that answers after the deadline, or no longer runs here, counts as deferring. Now and then
    /// an operator lets one of the deferring children go a little later.
    private func askConsent(_ ids: [ChildID], round: UInt64, within deadline: Duration, on slot: Int) {
        var ready: Set<ChildID> = []
        var slowest: Int64 = 0
        for id in ids {
            let delay = draw(options.consentDelay)
            let defers = Double.random(in: 0..<1, using: &random) < options.consentDeferRate
            slowest = max(slowest, delay)
            if !defers, delay <= deadline.nanoseconds, nodes[slot].children[id] != nil { ready.insert(id) }
        }
        let answeredAt = now + min(slowest, deadline.nanoseconds)
        let input = HubInput.consentAnswered(round: round, ready: ready)
        queue.schedule(.input(slot: slot, incarnation: nodes[slot].id.incarnation, input), at: answeredAt)
        let deferring = ids.filter { !ready.contains($0) }
        if !deferring.isEmpty, Double.random(in: 0..<1, using: &random) < options.letGoRate {
            let id = deferring[Int.random(in: 0..<deferring.count, using: &random)]
            letGo([id], on: slot, at: answeredAt + draw(options.consentDelay))
        }
    }

    // MARK: Timers

    /// One armed instance per timer and node: arming again replaces it.
    private func arm(_ timer: HubTimer, after: Duration, on slot: Int) {
        timerTokens += 1
        let token = timerTokens
        nodes[slot].timers[timer] = token
        let time = now + max(0, after.nanoseconds)
        queue.schedule(.timer(slot: slot, incarnation: nodes[slot].id.incarnation, timer, token: token), at: time)
    }

    func violation(_ kind: SimulationViolation.Kind, _ message: String) {
        violations.append(SimulationViolation(kind, at: .nanoseconds(now), message))
        note("VIOLATION \(kind.rawValue): \(message)")
    }
}
