import ClusterNode

/// Everything a hub needs to start (SPEC §3.1), with ProcessHub's defaults unless noted.
///
/// ```swift
/// var config = HubConfiguration(hubID: "my_hub")
/// config.register(Counter.self)                       // only registered kinds start here
/// config.childSpecs = [try ChildSpec(id: "boot-1", Counter.self, .init())]
/// let hub = try await ProcessHub.start(config, on: node)
/// ```
public struct HubConfiguration: Sendable {
    /// The hub's name; nodes running the same hub id form one hub cluster.
    public var hubID: HubID
    /// Children started when the hub boots, through the normal start path.
    public var childSpecs: [ChildSpec]
    /// Hook handlers to register at start (the hub copies this registry; register later
    /// handlers on ``ProcessHub/hooks``).
    public var hooks: HookRegistry
    /// Where children run. Default ``ConsistentHashing``.
    public var distribution: any DistributionStrategy
    /// How many instances run. Default ``Singularity``.
    public var redundancy: any RedundancyStrategy
    /// How children move when nodes join. Default ``ColdSwap``.
    public var migration: any MigrationStrategy
    /// How registry changes spread. Default ``PubSub``.
    public var synchronization: any SynchronizationStrategy
    /// What happens under a network partition. Default ``Divergence``.
    public var partitionTolerance: any PartitionToleranceStrategy
    /// Period of the "I am here" announcement to connected nodes that are not yet hub members.
    /// Default 10 s (a node coming up is announced to at once; this only repairs misses).
    public var hubsDiscoverInterval: Duration
    /// Node joins and leaves are batched for this long, so a storm of changes is handled in one
    /// pass; a batch waits at most `max(4 × debounce, debounce + 500 ms)` (see
    /// ``HubTuning/topologyMaxWaitMultiple``). Default 20 ms: events
    /// of one storm arrive within microseconds of each other on a LAN, and ProcessHub's 500 ms
    /// would dominate failover and join times (set 0 to handle each event at once).
    public var clusterEventDebounce: Duration
    /// Restart intensity: a child restarted more than `maxRestarts` times within
    /// `maxRestartsPeriod` is given up (stopped and removed cluster-wide). Default 100 in 4 s.
    public var maxRestarts: Int
    /// See ``maxRestarts``.
    public var maxRestartsPeriod: Duration
    /// How long stopping all children at hub shutdown may take. Default 60 s.
    public var shutdownTimeout: Duration
    /// How long a migration waits for the new node to start the moved children. Default 15 s.
    public var migrationTimeout: Duration
    /// How long a node waits for a peer hub to answer a request (start, stop, announce) before
    /// giving up on it. Default 5 s.
    public var crossNodeRequestTimeout: Duration
    /// The hub's internal limits and waits (grace periods, memory bounds, message sizes), with
    /// the values the hub has always used as defaults.
    public var tuning = HubTuning()

    var kinds: [HubKind: KindRegistration]
    /// Runs the hub on the older `HubCore` even where the state machine could run it: for the
    /// few tests of `HubCore`'s own wire protocol, until it is deleted.
    var forcesLegacyCoordinator = false

    /// Creates a configuration with the defaults.
    public init(hubID: HubID) {
        self.hubID = hubID
        self.childSpecs = []
        self.hooks = HookRegistry()
        self.distribution = ConsistentHashing()
        self.redundancy = Singularity()
        self.migration = ColdSwap()
        self.synchronization = PubSub()
        self.partitionTolerance = Divergence()
        self.hubsDiscoverInterval = .seconds(10)
        self.clusterEventDebounce = .milliseconds(20)
        self.maxRestarts = 100
        self.maxRestartsPeriod = .seconds(4)
        self.shutdownTimeout = .seconds(60)
        self.crossNodeRequestTimeout = .seconds(5)
        self.migrationTimeout = .seconds(15)
        self.kinds = [:]
    }

    /// Lets this hub start children of type `P` (under `P.kind`), on this node, for any node.
    public mutating func register<P: HubProcess>(_ type: P.Type) {
        kinds[P.kind] = KindRegistration(type)
    }

    /// The kinds registered so far.
    public var registeredKinds: [HubKind] { kinds.keys.sorted { $0.name < $1.name } }

    /// Throws ``HubError/Code/invalidConfiguration`` for values that cannot work.
    func validate() throws(HubError) {
        func fail(_ message: String) -> HubError { HubError(.invalidConfiguration, message) }
        if hubID.name.isEmpty { throw fail("the hub id is empty") }
        if hubsDiscoverInterval <= .zero { throw fail("hubsDiscoverInterval must be positive") }
        if clusterEventDebounce < .zero { throw fail("clusterEventDebounce must not be negative") }
        if maxRestarts < 0 { throw fail("maxRestarts must not be negative") }
        if maxRestartsPeriod <= .zero { throw fail("maxRestartsPeriod must be positive") }
        if synchronization.syncInterval <= .zero { throw fail("the sync interval must be positive") }
        if let message = tuning.invalidValue { throw fail(message) }
        if case .epidemic(let recipients, _) = synchronization.spreading, recipients < 1 {
            throw fail("Gossip needs at least one recipient")
        }
        try validateStrategies()
        let ids = childSpecs.map(\.id)
        if Set(ids).count != ids.count { throw fail("childSpecs contains duplicate ids") }
        if let unknown = childSpecs.first(where: { kinds[$0.kind] == nil }) {
            throw fail("static child \(unknown.id) has kind \(unknown.kind), which is not registered")
        }
    }
}

extension HubConfiguration {
    /// Strategy combinations that cannot work.
    func validateStrategies() throws(HubError) {
        func fail(_ message: String) -> HubError { HubError(.invalidConfiguration, message) }
        try validateDistribution()
        try partitionTolerance.validate(configuration: self)
        if let replication = redundancy as? Replication, case .count(let count) = replication.factor, count < 1 {
            throw fail("the replication factor must be at least 1")
        }
        let replicated = redundancy.replicationFactor(hubNodeCount: 2) > 1
        if replicated && migration.handover {
            throw fail("handover migration cannot be combined with replication (which instance's state would win?)")
        }
        if migration.stateQueryTimeout <= .zero || migration.stateTTL <= .zero {
            throw fail("the migration's state timeouts must be positive")
        }
        if let consent = migration.consent,
            consent.consentTimeout <= .zero || consent.retryInterval <= .zero || consent.maxDeferTime < .zero
        {
            throw fail("the migration consent's durations must be positive")
        }
    }
}
