/// What one ``SimulatedCluster`` run found.
public struct SimulationReport: Sendable, CustomStringConvertible {
    /// The seed: `SimulatedCluster(seed: seed, …)` with the same nodes, configuration and
    /// options replays this run exactly.
    public var seed: UInt64
    /// How many nodes the cluster started with.
    public var nodes: Int
    /// Every invariant that did not hold (empty when the run passed).
    public var violations: [SimulationViolation]
    /// The last trace lines of every node, merged in the order things happened: each input a
    /// machine handled (`<-`) and each effect it asked for (`->`), plus the simulator's own
    /// faults (`sim`). Filled for failing runs, or always with ``SimulationOptions/traceOnSuccess``.
    public var trace: [String]
    /// The scenario that ran.
    public var steps: [SimulationStep]
    /// The virtual time at the end of the run.
    public var virtualDuration: Duration
    /// How many hub messages were sent.
    public var messageCount: Int
    /// How many events the simulator processed.
    public var eventCount: Int

    /// Whether every check held.
    public var passed: Bool { violations.isEmpty }

    /// The seed, the scenario, the violations and the trace, for a failing test's output.
    public var description: String {
        var lines = ["seed \(seed), \(nodes) nodes, \(violations.count) violation(s), \(SimulationTrace.time(virtualDuration.nanoseconds)) virtual, \(messageCount) messages"]
        lines.append("scenario:")
        lines += steps.map { "  \($0)" }
        lines += violations.map { "VIOLATION \($0)" }
        if !trace.isEmpty {
            lines.append("trace (last \(trace.count) lines):")
            lines += trace
        }
        return lines.joined(separator: "\n")
    }
}

/// An invariant that did not hold, with a message saying which children and nodes, and when.
public struct SimulationViolation: Sendable, Hashable, CustomStringConvertible {
    /// Which invariant.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Live nodes' registries differ after the cluster settled.
        case registriesDiffer
        /// Live nodes place children on different node lists, or not on the live ones.
        case nodesDiffer
        /// A child that should run runs nowhere.
        case lost
        /// A child runs more often than its strategies allow.
        case duplicated
        /// A child runs elsewhere than the distribution strategy places it.
        case misplaced
        /// A child stopped on purpose runs again.
        case resurrected
        /// A child nobody started (or whose start was refused) runs.
        case phantom
        /// A registry does not list exactly the instances that run.
        case registryMismatch
        /// A child still holds its calls (a handover never finished).
        case heldCalls
        /// A node reports it lost quorum although it has one.
        case wronglyPartitioned
        /// During a split, a side that should serve every child misses some.
        case splitSideMissing
        /// During a split, a side runs a child more than once.
        case splitSideDuplicated
        /// During a split, a side without quorum still runs children.
        case minorityRuns
        /// During a split, a node of a side without quorum does not report it.
        case minorityNotPartitioned
        /// The machine asked its supervisor for something impossible (start a child twice).
        case supervisorMisuse
        /// A start that failed was reported to its operation as a success.
        case failureHidden
        /// A planned move with handover lost counter increments: the origin served calls after
        /// its state was captured, the target served calls before its state came, or the target
        /// got another value than the one captured.
        case lostIncrements
        /// A replica does not hold the role (active or passive) its placement gives it.
        case wrongRole
        /// The cluster did not settle within ``SimulationOptions/convergenceBound``.
        case noConvergence
    }

    /// Which invariant.
    public var kind: Kind
    /// When it was seen (virtual time since start).
    public var time: Duration
    /// What was seen.
    public var message: String

    /// Creates a violation.
    public init(_ kind: Kind, at time: Duration, _ message: String) {
        self.kind = kind
        self.time = time
        self.message = message
    }

    /// `12.345s lost: …`.
    public var description: String { "\(SimulationTrace.time(time.nanoseconds)) \(kind.rawValue): \(message)" }
}
