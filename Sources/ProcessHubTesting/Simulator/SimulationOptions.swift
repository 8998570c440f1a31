/// The knobs of a ``SimulatedCluster``: how its network and its nodes behave, and how big the
/// random scenarios are.
///
/// Every range is drawn from the cluster's seeded generator, so two runs with the same seed and
/// the same options replay exactly.
public struct SimulationOptions: Sendable, Hashable {
    /// One-way delay of one message on a link (each message draws its own; a link stays FIFO).
    public var linkDelay: ClosedRange<Duration>
    /// How long a node takes to declare an unreachable peer down (each node and each cut draws
    /// its own, so the sides of a split notice at different moments).
    public var detectionDelay: ClosedRange<Duration>
    /// How long peers take to see a crashed node's connections break.
    public var crashDetectionDelay: ClosedRange<Duration>
    /// How long the far side of a one-way cut takes to see the connection its peer closed.
    public var closeNoticeDelay: ClosedRange<Duration>
    /// How long the simulated supervisor takes to start, stop or capture a child.
    public var supervisorDelay: ClosedRange<Duration>
    /// How likely one child start fails (`0` by default: starts always succeed).
    public var startFailureRate: Double
    /// How likely a new child of a random scenario is of a kind whose start always fails (`0` by
    /// default): its start must be reported failed, and it must never count as lost.
    public var failingKindRate: Double
    /// How likely a simulated child defers its move when the hub asks for its consent (only
    /// hubs with a ``MigrationConsent`` ask).
    public var consentDeferRate: Double
    /// How long a simulated child takes to answer a consent request, at most (each answer draws
    /// its own delay; one past the round's deadline counts as a deferral).
    public var consentDelay: ClosedRange<Duration>
    /// How likely an operator lets one child of a consent round that deferred go a little later
    /// (``ProcessHub/migrationReady(_:)``).
    public var letGoRate: Double
    /// Whether random scenarios also join, crash, restart, stall and leave nodes while a split is
    /// in effect (off by default, so that the schedules of existing seeds stay the same).
    public var faultsDuringSplits: Bool
    /// At most this many children a random scenario starts in total.
    public var maxChildren: Int
    /// At most this many nodes a random scenario grows the cluster to (by joins).
    public var maxNodes: Int
    /// At most this many steps a random scenario has.
    public var maxSteps: Int
    /// How long after the last detection of a split its check runs: the sides settle first.
    public var splitSettleTime: Duration
    /// How long after the last step the cluster must settle and pass the final checks.
    public var convergenceBound: Duration
    /// How many trace lines are kept per node (the report shows the last ones).
    public var traceLimit: Int
    /// Whether a report carries its trace when the run passed too (by default only failures do,
    /// so sweeps of thousands of seeds stay small).
    public var traceOnSuccess: Bool

    /// Creates options; the defaults suit sweeps of thousands of seeds.
    public init(
        linkDelay: ClosedRange<Duration> = .microseconds(200) ... .milliseconds(3),
        detectionDelay: ClosedRange<Duration> = .milliseconds(300) ... .milliseconds(1_500),
        crashDetectionDelay: ClosedRange<Duration> = .milliseconds(5) ... .milliseconds(50),
        closeNoticeDelay: ClosedRange<Duration> = .milliseconds(10) ... .milliseconds(50),
        supervisorDelay: ClosedRange<Duration> = .microseconds(100) ... .milliseconds(1),
        startFailureRate: Double = 0,
        failingKindRate: Double = 0,
        consentDeferRate: Double = 0.4,
        consentDelay: ClosedRange<Duration> = .microseconds(100) ... .milliseconds(300),
        letGoRate: Double = 0.2,
        faultsDuringSplits: Bool = false,
        maxChildren: Int = 300,
        maxNodes: Int = 7,
        maxSteps: Int = 10,
        splitSettleTime: Duration = .seconds(5),
        convergenceBound: Duration = .seconds(120),
        traceLimit: Int = 400,
        traceOnSuccess: Bool = false
    ) {
        self.linkDelay = linkDelay
        self.detectionDelay = detectionDelay
        self.crashDetectionDelay = crashDetectionDelay
        self.closeNoticeDelay = closeNoticeDelay
        self.supervisorDelay = supervisorDelay
        self.startFailureRate = startFailureRate
        self.failingKindRate = failingKindRate
        self.consentDeferRate = consentDeferRate
        self.consentDelay = consentDelay
        self.letGoRate = letGoRate
        self.faultsDuringSplits = faultsDuringSplits
        self.maxChildren = maxChildren
        self.maxNodes = maxNodes
        self.maxSteps = maxSteps
        self.splitSettleTime = splitSettleTime
        self.convergenceBound = convergenceBound
        self.traceLimit = traceLimit
        self.traceOnSuccess = traceOnSuccess
    }
}
