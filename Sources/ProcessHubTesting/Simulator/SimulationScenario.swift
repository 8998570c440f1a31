/// A timed list of operations and faults for a ``SimulatedCluster`` to carry out.
///
/// Write one by hand to test a story (start, crash, heal…), or let
/// ``random(nodes:options:using:)`` draw one from a seed. Node numbers are 0-based slots:
/// `0` is `n1`. A step whose node is `nil` picks one with the cluster's seeded generator when it
/// runs, so the same seed always picks the same one.
public struct SimulationScenario: Sendable, Hashable {
    /// The steps, in time order.
    public var steps: [SimulationStep]

    /// A scenario of `steps` (sorted by time; steps at the same time keep their order).
    public init(_ steps: [SimulationStep]) {
        self.steps = steps.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }
}

/// One step of a ``SimulationScenario``: an action at a virtual time since the cluster started.
public struct SimulationStep: Sendable, Hashable, CustomStringConvertible {
    /// When the action happens.
    public var at: Duration
    /// What happens.
    public var action: SimulationAction

    /// A step doing `action` at `at`.
    public init(at: Duration, _ action: SimulationAction) {
        self.at = at
        self.action = action
    }

    /// `12.345s start(5)`.
    public var description: String { "\(SimulationTrace.time(at.nanoseconds)) \(action)" }
}

/// What a scenario step does.
public enum SimulationAction: Sendable, Hashable, CustomStringConvertible {
    /// Start `count` new children (ids `c<k>`; some reuse a stopped id) through node `on`.
    case start(count: Int, on: Int? = nil, awaited: Bool = true)
    /// Stop `count` of the children that should run, through node `on`.
    case stop(count: Int, on: Int? = nil)
    /// Move one child hosted on node `on` to another node.
    case migrate(on: Int? = nil)
    /// Drain node `node`: it keeps running, but hosts nothing.
    case drain(Int? = nil)
    /// A new node joins.
    case join
    /// Node `node` leaves the hub gracefully, for good.
    case leave(Int? = nil)
    /// Node `node` dies at once (SIGKILL); `restartAfter` later it comes back as a new
    /// incarnation (`nil`: it stays down).
    case crash(Int? = nil, restartAfter: Duration?)
    /// The network splits.
    case split(SplitShape)
    /// Every cut heals.
    case heal
    /// Node `node` stops processing for `duration` (SIGSTOP, then SIGCONT).
    case stall(Int? = nil, for: Duration)
    /// Checks the sides of the current split (see ``SimulationViolation/Kind``).
    case checkSplit

    /// A short form for traces.
    public var description: String {
        func node(_ n: Int?) -> String { n.map { "n\($0 + 1)" } ?? "any" }
        switch self {
        case .start(let count, let on, let awaited): return "start(\(count) via \(node(on))\(awaited ? "" : ", not awaited"))"
        case .stop(let count, let on): return "stop(\(count) via \(node(on)))"
        case .migrate(let on): return "migrate(from \(node(on)))"
        case .drain(let n): return "drain(\(node(n)))"
        case .join: return "join"
        case .leave(let n): return "leave(\(node(n)))"
        case .crash(let n, let restart):
            return "crash(\(node(n))\(restart.map { ", restart after \(SimulationTrace.time($0.nanoseconds))" } ?? ""))"
        case .split(let shape): return "split(\(shape))"
        case .heal: return "heal"
        case .stall(let n, let duration): return "stall(\(node(n)) for \(SimulationTrace.time(duration.nanoseconds)))"
        case .checkSplit: return "checkSplit"
        }
    }
}

/// How a ``SimulationAction/split(_:)`` cuts the network.
public enum SplitShape: Sendable, Hashable, CustomStringConvertible {
    /// `minority` random nodes are cut off from the others, both ways.
    case groups(minority: Int)
    /// These nodes (slots) are cut off from the others, both ways.
    case isolate([Int])
    /// `minority` random nodes stop hearing the others (the others still hear them): the far
    /// side detects the silence, closes the links, and the near side then sees them closed.
    case oneWay(minority: Int)

    /// A short form for traces.
    public var description: String {
        switch self {
        case .groups(let k): "\(k) cut off"
        case .isolate(let slots): "isolate \(slots.map { "n\($0 + 1)" }.joined(separator: ","))"
        case .oneWay(let k): "\(k) deaf one way"
        }
    }
}

extension SimulationScenario {
    /// A random scenario for a cluster of `nodes` nodes: starts, stops, moves, drains, joins,
    /// leaves, crashes with restarts, splits (each followed by a check and a heal) and stalls.
    ///
    /// Sizes are mixed (mostly a few children, sometimes a couple of hundred, never more than
    /// ``SimulationOptions/maxChildren`` in all), and some steps follow each other within
    /// milliseconds, where races live.
    public static func random(nodes: Int, options: SimulationOptions, using random: inout SeededGenerator) -> Self {
        var builder = ScenarioBuilder(nodes: nodes, options: options)
        let count = Int.random(in: 2...max(2, options.maxSteps), using: &random)
        builder.add(.start(count: builder.batchSize(using: &random), awaited: true))
        while builder.actionCount < count {
            builder.advance(using: &random)
            builder.addRandomAction(using: &random)
        }
        return SimulationScenario(builder.steps)
    }
}

/// Draws a random scenario step by step, keeping it within its limits.
private struct ScenarioBuilder {
    var steps: [SimulationStep] = []
    var time: Duration = .milliseconds(300)
    var nodes: Int
    var started = 0
    var actionCount = 0
    var left = false
    var drained = false
    let options: SimulationOptions

    init(nodes: Int, options: SimulationOptions) {
        self.nodes = nodes
        self.options = options
    }

    mutating func add(_ action: SimulationAction) {
        steps.append(SimulationStep(at: time, action))
        actionCount += 1
        if case .start(let count, _, _) = action { started += count }
    }

    /// Moves time on: usually by a good part of a second, sometimes by a few milliseconds, as
    /// the bugs worth finding hide between events that nearly coincide.
    mutating func advance(using random: inout SeededGenerator) {
        let tight = Int.random(in: 0..<10, using: &random) < 3
        time += tight ? .milliseconds(Int.random(in: 0...40, using: &random)) : .milliseconds(Int.random(in: 50...1_500, using: &random))
    }

    /// Mostly a few children, sometimes tens, rarely a couple of hundred.
    func batchSize(using random: inout SeededGenerator) -> Int {
        let room = max(0, options.maxChildren - started)
        let roll = Int.random(in: 0..<20, using: &random)
        let size = roll < 12 ? Int.random(in: 1...10, using: &random)
            : roll < 19 ? Int.random(in: 10...50, using: &random) : Int.random(in: 50...200, using: &random)
        return min(size, room)
    }

    mutating func addRandomAction(using random: inout SeededGenerator) {
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case ..<30:
            let size = batchSize(using: &random)
            if size > 0 { add(.start(count: size, awaited: Int.random(in: 0..<5, using: &random) > 0)) } else { add(.stop(count: 3)) }
        case ..<42: add(.stop(count: Int.random(in: 1...8, using: &random)))
        case ..<50: add(.migrate())
        case ..<53 where !drained && nodes >= 3: drained = true; add(.drain())
        case ..<58 where nodes < options.maxNodes: nodes += 1; add(.join)
        case ..<62 where !left && nodes >= 4: left = true; nodes -= 1; add(.leave())
        case ..<74: add(.crash(restartAfter: .milliseconds(Int.random(in: 300...5_000, using: &random))))
        case ..<88: addSplit(using: &random)
        default: add(.stall(for: .milliseconds(Int.random(in: 100...3_000, using: &random))))
        }
    }

    /// A split, its check once both sides noticed and settled, maybe an operation on the split
    /// cluster, then the heal.
    mutating func addSplit(using random: inout SeededGenerator) {
        let minority = Int.random(in: 1...max(1, nodes / 2), using: &random)
        let oneWay = Int.random(in: 0..<4, using: &random) == 0
        add(.split(oneWay ? .oneWay(minority: minority) : .groups(minority: minority)))
        // Drawn only when asked for, so that schedules without such faults stay the same.
        if options.faultsDuringSplits, Int.random(in: 0..<2, using: &random) == 0 { addFaultDuringSplit(using: &random) }
        time += options.detectionDelay.upperBound + options.closeNoticeDelay.upperBound + options.splitSettleTime
        add(.checkSplit)
        if Int.random(in: 0..<3, using: &random) == 0 {
            time += .milliseconds(Int.random(in: 10...500, using: &random))
            add(Int.random(in: 0..<2, using: &random) == 0 ? .start(count: min(5, max(0, options.maxChildren - started))) : .stop(count: 2))
        }
        time += .milliseconds(Int.random(in: 200...3_000, using: &random))
        add(.heal)
    }

    /// A join, a crash (with a restart), a leave or a stall soon after a split began. The split's
    /// check waits until the fault is over and both sides noticed it.
    mutating func addFaultDuringSplit(using random: inout SeededGenerator) {
        time += .milliseconds(Int.random(in: 0...400, using: &random))
        let roll = Int.random(in: 0..<4, using: &random)
        if roll == 0, nodes < options.maxNodes {
            nodes += 1
            add(.join)
        } else if roll == 1, !left, nodes >= 4 {
            left = true
            nodes -= 1
            add(.leave())
        } else if roll == 2 {
            let pause = Duration.milliseconds(Int.random(in: 100...2_000, using: &random))
            add(.stall(for: pause))
            time += pause
        } else {
            let down = Duration.milliseconds(Int.random(in: 300...3_000, using: &random))
            add(.crash(restartAfter: down))
            time += down
        }
    }
}

extension Duration {
    /// The whole duration in nanoseconds (the simulator's clock unit).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
