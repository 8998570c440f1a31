import Distributed

/// Whether inbound remote calls reach a local actor.
///
/// A hub moving a child with its state uses the gates to make the move exact: the new instance
/// holds its calls until the state has arrived, and the old one is sealed (no new call admitted,
/// the running ones finished) before its state is captured. So every call lands either on the old
/// instance before the capture or on the new one after the handover, never in between.
///
/// Gates act on calls from other nodes only: a call on a local actor does not pass through the
/// system.
enum CallGate {
    /// Calls run.
    case open
    /// Calls wait until the gate opens (or is sealed, which refuses them).
    case holding([@Sendable (_ admitted: (any DistributedActor)?) -> Void])
    /// Calls are refused with ``ClusterError/Code/unknownActor``, as if the actor were gone.
    case sealed
}

extension ClusterSystem {
    /// What happens to one inbound call.
    enum Admission {
        case admitted(any DistributedActor)
        case held
        case sealed
        case unknown
    }

    /// Decides in one lock whether a call to `ref` runs now, waits, or is refused; an admitted
    /// call counts as in flight until ``callFinished(on:)``.
    func admit(
        _ ref: LocalActorRef, whenHeld resume: @escaping @Sendable ((any DistributedActor)?) -> Void
    ) -> Admission {
        state.withLock { state in
            guard var entry = state.actors[ref], let actor = entry.actor else { return .unknown }
            switch entry.gate {
            case .sealed:
                return .sealed
            case .holding(var waiting):
                waiting.append(resume)
                entry.gate = .holding(waiting)
                entry.callsInFlight += 1
                state.actors[ref] = entry
                return .held
            case .open:
                state.actors[ref]?.callsInFlight += 1
                return .admitted(actor)
            }
        }
    }

    /// An admitted call was answered.
    func callFinished(on ref: LocalActorRef) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.actors[ref] != nil else { return state.sealWaiters.removeValue(forKey: ref) ?? [] }
            state.actors[ref]?.callsInFlight -= 1
            guard state.actors[ref]?.callsInFlight == 0 else { return [] }
            return state.sealWaiters.removeValue(forKey: ref) ?? []
        }
        waiters.forEach { $0.resume() }
    }

    /// Makes inbound remote calls to a local actor wait until ``releaseCalls(to:)``.
    package func holdCalls(to id: ActorID) {
        state.withLock { state in
            guard case .open = state.actors[id.localRef]?.gate else { return }
            state.actors[id.localRef]?.gate = .holding([])
        }
    }

    /// Runs the calls held for a local actor and lets later ones through.
    package func releaseCalls(to id: ActorID) {
        let (actor, held) = state.withLock { state -> ((any DistributedActor)?, [@Sendable ((any DistributedActor)?) -> Void]) in
            guard let entry = state.actors[id.localRef], case .holding(let held) = entry.gate else { return (nil, []) }
            state.actors[id.localRef]?.gate = .open
            return (entry.actor, held)
        }
        held.forEach { $0(actor) }
    }

    /// Refuses every later inbound remote call to a local actor (as if it were gone) and returns
    /// once the calls already admitted have been answered. Held calls are refused too.
    package func sealCalls(to id: ActorID) async {
        let ref = id.localRef
        let held = state.withLock { state -> [@Sendable ((any DistributedActor)?) -> Void] in
            guard let entry = state.actors[ref] else { return [] }
            state.actors[ref]?.gate = .sealed
            if case .holding(let held) = entry.gate { return held }
            return []
        }
        held.forEach { $0(nil) }
        // Refused held calls were counted as in flight; they finish through their rejection path.
        for _ in held { callFinished(on: ref) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state -> Bool in
                guard let entry = state.actors[ref], entry.callsInFlight > 0 else { return true }
                state.sealWaiters[ref, default: []].append(continuation)
                return false
            }
            if finished { continuation.resume() }
        }
    }
}
