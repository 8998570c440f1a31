import ClusterNode
import ProcessHub

/// The last inputs and effects of every node, kept as values and only turned into text when a
/// report asks: formatting every line of thousands of runs would cost more than running them.
struct SimulationTrace {
    enum Content {
        case input(HubInput)
        case effect(HubEffect)
        case note(String)
    }

    struct Entry {
        var sequence: UInt64
        var time: Int64
        var node: String
        var content: Content
    }

    /// One ring per node name (`sim` for the simulator's own lines).
    private var rings: [String: Ring] = [:]
    private var sequence: UInt64 = 0
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    mutating func record(_ content: Content, node: String, at time: Int64) {
        sequence += 1
        rings[node, default: Ring(limit: limit)].append(Entry(sequence: sequence, time: time, node: node, content: content))
    }

    /// Every kept line, in the order things happened.
    func lines() -> [String] {
        rings.values.flatMap(\.entries).sorted { $0.sequence < $1.sequence }.map(Self.line)
    }

    private struct Ring {
        let limit: Int
        private var storage: [Entry] = []
        private var head = 0

        init(limit: Int) { self.limit = limit }

        mutating func append(_ entry: Entry) {
            if storage.count < limit {
                storage.append(entry)
            } else {
                storage[head] = entry
                head = (head + 1) % limit
            }
        }

        var entries: [Entry] { Array(storage[head...] + storage[..<head]) }
    }
}

// MARK: Formatting

extension SimulationTrace {
    static func line(_ entry: Entry) -> String {
        let prefix = "\(time(entry.time)) \(entry.node)"
        switch entry.content {
        case .input(let input): return "\(prefix) <- \(describe(input))"
        case .effect(let effect): return "\(prefix) -> \(describe(effect))"
        case .note(let note): return "\(prefix) \(note)"
        }
    }

    /// `12.345s` (milliseconds, which orders a trace well enough: lines keep their true order).
    static func time(_ nanoseconds: Int64) -> String {
        let millis = nanoseconds / 1_000_000
        let fraction = String(millis % 1_000)
        return "\(millis / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
    }

    /// A node's name and the last hex digits of its incarnation (restarts keep the name).
    static func name(_ node: NodeID) -> String {
        "\(node.name)#\(String(String(node.incarnation & 0xFFFF, radix: 16)))"
    }

    static func ids(_ ids: [ChildID], limit: Int = 6) -> String {
        ids.prefix(limit).joined(separator: ",") + (ids.count > limit ? "… (\(ids.count))" : "")
    }

    static func describe(_ input: HubInput) -> String {
        switch input {
        case .hubStarted: return "hubStarted"
        case .memberUp(let node): return "memberUp \(name(node))"
        case .memberDown(let node, let reason): return "memberDown \(name(node)) (\(reason.rawValue))"
        case .received(let envelope, let from): return "received \(envelope) from \(from.name)"
        case .command(let op, let command): return "command \(op) \(describe(command))"
        case .timerFired(let timer): return "timer \(timer)"
        case .supervisor(let reports): return "supervisor " + reports.map(describe).joined(separator: ", ")
        case .renamed(let node): return "renamed to \(node)"
        case .strategyMessage(let envelope, let nodes): return "strategy message on \(envelope.channel) to \(nodes.count) nodes"
        case .consentAnswered(let round, let ready): return "consent round \(round): \(ids(ready.sorted())) ready"
        }
    }

    static func describe(_ command: HubCommand) -> String {
        switch command {
        case .start(let specs, let options): return "start(\(specs.count)\(options.awaited ? "" : ", not awaited"): \(ids(specs.map(\.id))))"
        case .stop(let children, _): return "stop(\(ids(children)))"
        case .migrate(let id, let target): return "migrate(\(id) to \(target.name))"
        case .drain(let wait): return "drain\(wait.map { " (consent for \(time($0.nanoseconds)))" } ?? "")"
        case .migrationReady(let children): return "migrationReady(\(ids(children.sorted())))"
        case .leave: return "leave"
        case .ready: return "ready"
        case .resetQuorumSize(let size): return "resetQuorumSize(\(size))"
        case .startStatic(let specs): return "startStatic(\(ids(specs.map(\.id))))"
        case .forgetSlots(let node): return "forgetSlots(of \(name(node)))"
        }
    }

    static func describe(_ report: SupervisorReport) -> String {
        switch report {
        case .started(let id, let actorID): return "started \(id)/\(actorID.serial)"
        case .startDataAltered(let id, _, _): return "startDataAltered \(id)"
        case .startFailed(let id, let error): return "startFailed \(id) (\(error.code.rawValue))"
        case .restarted(let id, _): return "restarted \(id)"
        case .stopped(let id): return "stopped \(id)"
        case .ended(let id): return "ended \(id)"
        case .stateCaptured(let id, let state): return "captured \(id)\(state == nil ? " (none)" : "")"
        }
    }

    static func describe(_ effect: HubEffect) -> String {
        switch effect {
        case .send(let envelope, let to): return "send \(envelope) to \(to.name)"
        case .startChildren(let launches):
            let held = launches.contains(where: \.holdsCalls) ? " holding calls" : ""
            let states = launches.filter { $0.state != nil }.count
            return "startChildren \(ids(launches.map(\.id)))\(held)\(states > 0 ? " with \(states) states" : "")"
        case .stopChildren(let children, let cause): return "stopChildren(\(cause.rawValue)) \(ids(children))"
        case .captureStates(let children): return "captureStates \(ids(children))"
        case .sealCalls(let children): return "sealCalls \(ids(children))"
        case .askConsent(let children, let round, let within): return "askConsent round \(round) \(ids(children)) within \(time(within.nanoseconds))"
        case .deliverStates(let states, let release): return "deliverStates \(states.count) states, release \(ids(release.sorted()))"
        case .hook(let event): return "hook \(event)"
        case .setTimer(let timer, let after): return "setTimer \(timer) +\(time(after.nanoseconds))"
        case .cancelTimer(let timer): return "cancelTimer \(timer)"
        case .complete(let op, let outcome): return "complete \(op) \(describe(outcome))"
        case .registryChanged(let changes): return "registryChanged(\(changes.count))"
        case .log(let level, let message): return "log \(level.rawValue): \(message)"
        case .deliverStrategyMessage(let envelope, let peer): return "deliver strategy message on \(envelope.channel) from \(peer.name)"
        }
    }

    static func describe(_ outcome: OperationOutcome) -> String {
        switch outcome {
        case .dispatched: return "dispatched"
        case .done: return "done"
        case .drained(let forced): return "drained (\(forced) forced)"
        case .failed(let error): return "failed(\(error))"
        case .children(let outcomes):
            let failed = outcomes.filter { $0.error != nil }
            let detail = failed.prefix(3).map { "\($0.childID): \($0.error!.code.rawValue)" }.joined(separator: ", ")
            return "children(\(outcomes.count - failed.count) ok, \(failed.count) failed\(detail.isEmpty ? "" : ": \(detail)"))"
        }
    }
}
