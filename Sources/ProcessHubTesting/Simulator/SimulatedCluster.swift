import ClusterNode
import ProcessHub

/// A cluster of hub state machines on a virtual clock, driven by a seed: a deterministic test
/// bed for a hub configuration.
///
/// Each node runs the same ``HubMachine`` code as production. The simulator plays everything
/// around it: links with random delays that keep per-link FIFO order, failure detectors that
/// notice at different moments on different nodes, a supervisor whose children are plain
/// counters, timers, and the faults of a ``SimulationScenario`` — crashes with restarts under a
/// new incarnation, symmetric and one-way splits, stalls, joins, drains and leaves. All choices
/// come from one generator seeded by `seed`; nothing reads a real clock, so a run replays exactly.
///
/// After the last step every cut heals and the cluster must settle; then the checks of
/// ``SimulationViolation/Kind`` run (and during splits, at each ``SimulationAction/checkSplit``).
///
/// ```swift
/// let report = SimulatedCluster(seed: 42, nodes: 5, configuration: configuration).runRandomScenario()
/// #expect(report.passed, "\(report)")
/// ```
///
/// A cluster runs once; it is not meant to be shared between tasks.
public final class SimulatedCluster {
    /// The seed every random choice comes from.
    public let seed: UInt64
    /// The hub configuration every node runs.
    public let configuration: HubConfiguration
    /// How the network, the nodes and random scenarios behave.
    public let options: SimulationOptions
    /// How many nodes the cluster starts with.
    public let initialNodeCount: Int

    var random: SeededGenerator
    /// Virtual nanoseconds since the start.
    var now: Int64 = 0
    var queue = EventQueue()
    var nodes: [SimulatedNode] = []
    var network = SimulatedNetwork()
    var trace: SimulationTrace
    var truth = GroundTruth()
    var operations: [OperationID: PendingOperation] = [:]
    var nextOperation: UInt64 = 1
    var violations: [SimulationViolation] = []
    var messageCount = 0
    var eventCount = 0
    var timerTokens: UInt64 = 0
    var stallCount: UInt64 = 0
    /// The children each node's registry listed when the current split began.
    var knownAtSplit: [Int: [ChildID: UInt64]] = [:]
    /// What happened to each message, for the simulator's own tests (nil: not recorded).
    var deliveryLog: [DeliveryRecord]?
    /// The partition strategy's view of each node, fed the membership events its machine processed.
    var quorumModels: [Int: QuorumModel] = [:]
    /// The states captured of each child on its way out, by the instance they came from.
    var captures: [ChildID: [ActorID: UInt64]] = [:]
    /// The split in effect: the slots cut off, and whether only one way (joins take the other side).
    var currentSplit: (cutOff: [Int], oneWay: Bool)?
    private var hasRun = false

    /// A cluster of `nodes` nodes (`n1`, `n2`, … on host `sim`, ports 7001, 7002, …) running
    /// `configuration`; nothing runs until ``run(_:)`` or ``runRandomScenario()``.
    public init(seed: UInt64, nodes: Int, configuration: HubConfiguration, options: SimulationOptions = .init()) {
        precondition(nodes >= 1, "a cluster needs a node")
        self.seed = seed
        self.configuration = configuration
        self.options = options
        self.initialNodeCount = nodes
        self.random = SeededGenerator(seed: seed)
        self.trace = SimulationTrace(limit: options.traceLimit)
        for _ in 0..<nodes { addNode() }
    }

    /// Draws a scenario from the seed (``SimulationScenario/random(nodes:options:using:)``) and runs it.
    public func runRandomScenario() -> SimulationReport {
        let scenario = SimulationScenario.random(nodes: initialNodeCount, options: options, using: &random)
        return run(scenario)
    }

    /// Starts every node, carries out `scenario`, heals every cut, lets the cluster settle and
    /// checks it. A cluster runs one scenario.
    public func run(_ scenario: SimulationScenario) -> SimulationReport {
        precondition(!hasRun, "a SimulatedCluster runs one scenario")
        hasRun = true
        boot()
        for step in scenario.steps { queue.schedule(.step(step.action), at: step.at.nanoseconds) }
        let end = scenario.steps.last?.at.nanoseconds ?? 0
        runEvents(until: end)
        healEverything()
        settle(deadline: end + options.convergenceBound.nanoseconds)
        return report(scenario)
    }

    /// Slot of a new node; its incarnation comes from the generator.
    @discardableResult
    func addNode() -> Int {
        let slot = nodes.count
        let id = NodeID(name: "n\(slot + 1)", host: "sim", port: 7_001 + slot, incarnation: random.next())
        nodes.append(SimulatedNode(id: id, configuration: configuration, seed: random.next()))
        return slot
    }

    private func boot() {
        for slot in nodes.indices { start(slot) }
        for a in nodes.indices { for b in nodes.indices where a < b { reconnect(SlotPair(from: a, to: b)) } }
    }

    /// Hands a new machine its first input.
    func start(_ slot: Int) {
        quorumModels[slot] = QuorumModel(configuration.partitionTolerance, local: nodes[slot].id)
        note("start \(SimulationTrace.name(nodes[slot].id))", node: slot)
        deliver(.hubStarted, to: slot)
    }

    // MARK: The event loop

    /// Processes events due at or before `time`.
    func runEvents(until time: Int64) {
        while let event = queue.next, event.time <= time {
            _ = queue.pop()
            handle(event)
        }
        now = max(now, time)
    }

    func handle(_ event: SimulationEvent) {
        now = event.time
        eventCount += 1
        switch event.kind {
        case .input(let slot, let incarnation, let input):
            if nodes[slot].alive, nodes[slot].id.incarnation == incarnation { deliver(input, to: slot) }
        case .message(let from, let to, let epoch, let number, let envelope): arrive(envelope, from: from, to: to, epoch: epoch, number: number)
        case .timer(let slot, let incarnation, let timer, let token): fire(timer, token: token, slot: slot, incarnation: incarnation)
        case .detect(let observer, let subject, let epoch, let stall): detect(observer, subject, epoch: epoch, stall: stall)
        case .step(let action): perform(action)
        case .resume(let slot, let stall): resume(slot, stall: stall)
        case .restart(let slot): restart(slot)
        case .remove(let slot, let incarnation): remove(slot, incarnation: incarnation)
        }
    }

    /// Feeds `input` to a node's machine (or its inbox while it is stalled) and carries out the effects.
    func deliver(_ input: HubInput, to slot: Int) {
        guard nodes[slot].alive else { return }
        if nodes[slot].stall != nil {
            nodes[slot].inbox.append(input)
            return
        }
        record(.input(input), slot)
        let effects = nodes[slot].machine.handle(input, now: .nanoseconds(now))
        for effect in effects {
            record(.effect(effect), slot)
            perform(effect, on: slot)
        }
        membershipProcessed(input, on: slot)
        followHubPeers(of: slot)
    }

    /// Tells the node's quorum model which hub peers came and went: the partition strategy is
    /// asked about the hub's members (nodes that announced the hub), not every reachable node.
    private func followHubPeers(of slot: Int) {
        guard var model = quorumModels[slot] else { return }
        let peers = nodes[slot].machine.hubPeers
        guard peers != model.peers else { return }
        let members = [nodes[slot].id] + peers
        for gone in model.peers where !peers.contains(gone) { model.left(gone, members: members) }
        for new in peers where !model.peers.contains(new) { model.joined(new, members: members) }
        model.peers = peers
        quorumModels[slot] = model
    }

    private func fire(_ timer: HubTimer, token: UInt64, slot: Int, incarnation: UInt64) {
        guard nodes[slot].alive, nodes[slot].id.incarnation == incarnation, nodes[slot].timers[timer] == token else { return }
        nodes[slot].timers[timer] = nil
        deliver(.timerFired(timer), to: slot)
    }

    // MARK: Randomness and tracing

    func draw(_ range: ClosedRange<Duration>) -> Int64 {
        let low = range.lowerBound.nanoseconds
        let high = range.upperBound.nanoseconds
        return high <= low ? low : Int64.random(in: low...high, using: &random)
    }

    func record(_ content: SimulationTrace.Content, _ slot: Int) {
        trace.record(content, node: nodes[slot].id.name, at: now)
    }

    func note(_ text: String, node slot: Int? = nil) {
        trace.record(.note(text), node: slot.map { nodes[$0].id.name } ?? "sim", at: now)
    }

    /// The slot of the running node `id` (its current incarnation).
    func slot(of id: NodeID) -> Int? {
        guard id.port >= 7_001, id.port - 7_001 < nodes.count else { return nil }
        let slot = id.port - 7_001
        return nodes[slot].alive && nodes[slot].id == id ? slot : nil
    }

    private func report(_ scenario: SimulationScenario) -> SimulationReport {
        SimulationReport(
            seed: seed, nodes: initialNodeCount, violations: violations,
            trace: violations.isEmpty && !options.traceOnSuccess ? [] : trace.lines(),
            steps: scenario.steps, virtualDuration: .nanoseconds(now), messageCount: messageCount,
            eventCount: eventCount)
    }
}

// MARK: Reads

extension SimulatedCluster {
    /// The nodes that run and are part of the hub, in slot order.
    public var liveNodes: [NodeID] { liveSlots.map { nodes[$0].id } }

    /// Where each child runs now, as the simulated supervisors tell (one node per instance).
    public var runningChildren: [ChildID: [NodeID]] {
        var running: [ChildID: [NodeID]] = [:]
        for slot in liveSlots { for id in nodes[slot].children.keys { running[id, default: []].append(nodes[slot].id) } }
        return running
    }

    /// What the ground truth says should run now: children whose start succeeded and that were
    /// not stopped since.
    public var wantedChildren: Set<ChildID> { Set(truth.ids(in: .wanted)) }
}
