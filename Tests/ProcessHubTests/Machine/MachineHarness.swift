import ClusterNode

@testable import ProcessHub

/// A few ``HubMachine``s wired together by hand for unit tests: messages are delivered in FIFO
/// order, the supervisor answers at once, and timers fire only when the test moves the clock.
/// (The full seeded simulator with delays, partitions and invariant checks is
/// `ProcessHubTesting`'s `SimulatedCluster`.)
struct MachineHarness {
    struct Timer: Hashable {
        var node: NodeID
        var timer: HubTimer
    }

    var machines: [NodeID: HubMachine] = [:]
    var nodes: [NodeID] = []
    /// Simulated children: where each instance runs.
    var running: [NodeID: [ChildID: ActorID]] = [:]
    var states: [NodeID: [ChildID: HandoverPayload]] = [:]
    var queue: [(NodeID, HubInput)] = []
    var timers: [Timer: Duration] = [:]
    var outcomes: [OperationID: OperationOutcome] = [:]
    /// Pairs of nodes whose link is cut (both directions).
    var cut: Set<[NodeID]> = []
    var now: Duration = .zero
    var serial: UInt64 = 100
    var nextOperation: UInt64 = 1
    var log: [String] = []
    /// Children that defer their move whenever they are asked for consent (the others consent).
    var deferring: Set<ChildID> = []
    /// How many times each child was asked for its consent to move.
    var consentAsks: [ChildID: Int] = [:]
    /// Every hook event, by node, in order.
    var events: [NodeID: [HubEvent]] = [:]

    init(nodes count: Int, configuration: HubConfiguration = HubConfiguration(hubID: "m"), settings: MachineSettings = MachineSettings()) {
        for index in 1...count {
            let node = NodeID(name: "n\(index)", host: "sim", port: 7000 + index, incarnation: UInt64(index))
            nodes.append(node)
            machines[node] = HubMachine(local: node, configuration: configuration, settings: settings, seed: UInt64(index))
            queue.append((node, .hubStarted))
        }
        for a in nodes { for b in nodes where a != b { queue.append((a, .memberUp(b))) } }
        settle()
    }

    func isCut(_ a: NodeID, _ b: NodeID) -> Bool { cut.contains([a, b].sorted()) }

    mutating func run(_ node: NodeID, _ input: HubInput) {
        guard var machine = machines[node] else { return }
        let effects = machine.handle(input, now: now)
        machines[node] = machine
        for effect in effects { perform(effect, on: node) }
    }

    mutating func perform(_ effect: HubEffect, on node: NodeID) {
        switch effect {
        case .send(let envelope, let peer):
            guard !isCut(node, peer), machines[peer] != nil else { return }
            // Through the wire format, so the tests cover the codec too.
            let decoded = try! HubEnvelope.decode(try! envelope.encoded())
            queue.append((peer, .received(decoded, from: node)))
        case .startChildren(let launches):
            var reports: [SupervisorReport] = []
            for launch in launches {
                serial += 1
                let actorID = ActorID(node: node, serial: serial)
                running[node, default: [:]][launch.id] = actorID
                if let state = launch.state { states[node, default: [:]][launch.id] = state }
                reports.append(.started(launch.id, actorID))
            }
            queue.append((node, .supervisor(reports)))
        case .stopChildren(let ids, _):
            for id in ids { running[node]?[id] = nil }
            queue.append((node, .supervisor(ids.map { .stopped($0) })))
        case .captureStates(let ids):
            queue.append((node, .supervisor(ids.map { .stateCaptured($0, states[node]?[$0] ?? [UInt8(ids.count)]) })))
        case .deliverStates(let delivered, _):
            for (id, state) in delivered { states[node, default: [:]][id] = state }
        case .setTimer(let timer, let after):
            timers[Timer(node: node, timer: timer)] = now + after
        case .cancelTimer(let timer):
            timers[Timer(node: node, timer: timer)] = nil
        case .complete(let op, let outcome):
            outcomes[op] = outcome
        case .log(_, let line):
            log.append("\(node.name): \(line)")
        case .askConsent(let ids, let round, _):
            for id in ids { consentAsks[id, default: 0] += 1 }
            let ready = Set(ids.filter { !deferring.contains($0) && running[node]?[$0] != nil })
            queue.append((node, .consentAnswered(round: round, ready: ready)))
        case .hook(let event):
            events[node, default: []].append(event)
        case .sealCalls, .registryChanged, .deliverStrategyMessage:
            break
        }
    }

    /// Delivers everything queued (no time passes).
    mutating func settle() {
        while !queue.isEmpty {
            let (node, input) = queue.removeFirst()
            run(node, input)
        }
    }

    /// Moves the clock by `duration` in small steps, firing due timers and delivering messages.
    mutating func advance(by duration: Duration, step: Duration = .milliseconds(10)) {
        let end = now + duration
        settle()
        while now < end {
            now = min(end, now + step)
            let due = timers.filter { $0.value <= now }.keys.sorted { "\($0.node)\($0.timer)" < "\($1.node)\($1.timer)" }
            for key in due {
                timers[key] = nil
                run(key.node, .timerFired(key.timer))
                settle()
            }
        }
    }

    @discardableResult
    mutating func command(_ command: HubCommand, on node: NodeID) -> OperationID {
        let op = OperationID(nextOperation)
        nextOperation += 1
        run(node, .command(op, command))
        settle()
        return op
    }

    /// Cuts the links between the two groups; each side hears of it when `detect` says.
    mutating func split(_ a: [NodeID], _ b: [NodeID]) {
        for x in a { for y in b { cut.insert([x, y].sorted()) } }
    }

    /// `observer` declares `node` down.
    mutating func down(_ node: NodeID, seenBy observer: NodeID, reason: MemberDownReason = .heartbeatTimeout) {
        run(observer, .memberDown(node, reason: reason))
        settle()
    }

    mutating func heal() {
        let pairs = cut
        cut = []
        for pair in pairs.sorted(by: { "\($0)" < "\($1)" }) {
            queue.append((pair[0], .memberUp(pair[1])))
            queue.append((pair[1], .memberUp(pair[0])))
        }
        settle()
    }

    mutating func crash(_ node: NodeID) {
        machines[node] = nil
        running[node] = nil
        for other in nodes where other != node && machines[other] != nil {
            queue.append((other, .memberDown(node, reason: .connectionLost)))
        }
        settle()
    }

    static func specs(_ range: Range<Int>, prefix: String = "c") -> [ChildSpec] {
        range.map { ChildSpec(id: "\(prefix)\($0)", kind: "k", encodedArguments: []) }
    }

    /// How many instances of each child run, over `among` (all nodes by default).
    func instances(among: [NodeID]? = nil) -> [ChildID: Int] {
        var counts: [ChildID: Int] = [:]
        for node in among ?? nodes { for id in (running[node] ?? [:]).keys { counts[id, default: 0] += 1 } }
        return counts
    }
}

extension MachineHarness {
    /// Starts a new node and connects it to every live node.
    @discardableResult
    mutating func join(configuration: HubConfiguration = HubConfiguration(hubID: "m"), settings: MachineSettings = MachineSettings()) -> NodeID {
        let index = nodes.count + 1
        let node = NodeID(name: "n\(index)", host: "sim", port: 7000 + index, incarnation: UInt64(index))
        nodes.append(node)
        machines[node] = HubMachine(local: node, configuration: configuration, settings: settings, seed: UInt64(index))
        queue.append((node, .hubStarted))
        for other in nodes where other != node && machines[other] != nil {
            queue.append((node, .memberUp(other)))
            queue.append((other, .memberUp(node)))
        }
        settle()
        return node
    }

    /// The nodes still running a machine.
    var live: [NodeID] { nodes.filter { machines[$0] != nil } }

    /// Where the machines' strategy places `id` among `nodes`.
    func placement(of id: ChildID, among nodes: [NodeID], configuration: HubConfiguration = HubConfiguration(hubID: "m")) -> NodeID? {
        configuration.distribution.belongsTo([id], replicationFactor: 1, nodes: nodes)[id]?.first
    }
}
