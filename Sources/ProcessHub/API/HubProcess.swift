import ClusterNode
import Distributed

/// The protocol a child's distributed actor adopts.
///
/// ```swift
/// distributed actor Counter: HubProcess {
///     typealias ActorSystem = ClusterSystem
///     static let kind: HubKind = "counter"
///     struct Arguments: Codable, Sendable { var start = 0 }
///     private var value: Int
///     init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
///         self.actorSystem = actorSystem
///         self.value = arguments.start
///     }
///     distributed func increment(by n: Int) -> Int { value += n; return value }
/// }
/// ```
/// A child that also adopts ``RunningHubProcess`` has a long-running `run(context:)`; one that does
/// not costs no task at all.
public protocol HubProcess: DistributedActor where ActorSystem == ClusterSystem {
    /// The arguments a ``ChildSpec`` carries for this kind.
    associatedtype Arguments: Codable & Sendable

    /// The stable name under which hubs register this kind.
    static var kind: HubKind { get }

    /// The state a child hands to its successor when it moves to another node (migration with
    /// handover). Children without handover leave it as ``NoHandoverState``.
    associatedtype HandoverState: Codable & Sendable = NoHandoverState

    /// Creates the child on the node that hosts it.
    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext)

    /// Called on the old instance when it moves with handover (a migration strategy with
    /// `handover: true`, a drain, or a graceful shutdown): the state to hand over, or `nil` for
    /// none. Default: `nil`.
    ///
    /// Calls from other nodes are refused once this runs (the hub seals the instance first), so
    /// no remote call lands after the capture. Calls from this node reach the actor directly: a
    /// child that is called locally should refuse work once it has handed its state over (throw
    /// an error the caller treats as "moved, look it up again").
    func prepareHandoverState() async -> HandoverState?

    /// Called on the new instance with the state its predecessor handed over, before the hub
    /// lets remote calls reach it (with ``ColdSwap`` before it is even registered). Default:
    /// ignores it. Local callers on the new node may reach the instance first: merge rather
    /// than overwrite if that matters.
    func alterHandoverState(_ state: HandoverState) async

    /// Tells a replica whether it is the active instance of its child (``Replication``): after
    /// it starts and whenever the active node changes, as the strategy's `signal` option asks.
    /// Default: ignores it.
    func redundancySignal(_ mode: ReplicaMode) async

    /// Asked before the child moves when the migration strategy has a ``MigrationConsent``:
    /// `.deferred` keeps it here for now (asked again every `retryInterval`, moved anyway after
    /// `maxDeferTime`). Default: `.ready`.
    func migrationConsent() async -> MigrationConsentReply
}

/// A child's answer to a migration consent request.
public enum MigrationConsentReply: String, Codable, Sendable, Hashable {
    /// Move now.
    case ready
    /// Not now; ask again later.
    case deferred
}

/// The handover state of a child that hands nothing over.
public struct NoHandoverState: Codable, Sendable, Hashable {
    /// Creates the empty state.
    public init() {}
}

/// A replica's role.
public enum ReplicaMode: String, Codable, Sendable, Hashable {
    /// The instance that serves.
    case active
    /// A standby instance.
    case passive
}

extension HubProcess {
    /// No state to hand over.
    public func prepareHandoverState() async -> HandoverState? { nil }

    /// Ignores the handed-over state.
    public func alterHandoverState(_ state: HandoverState) async {}

    /// Ignores the signal.
    public func redundancySignal(_ mode: ReplicaMode) async {}

    /// Always ready.
    public func migrationConsent() async -> MigrationConsentReply { .ready }
}

/// A child with a long-running body: it "crashes" when `run` throws and "exits" when it returns;
/// the supervisor then applies the spec's ``RestartType``.
public protocol RunningHubProcess: HubProcess {
    /// The child's body. Cancelled when the child is stopped.
    func run(context: ChildContext) async throws
}

/// What a child knows about its activation.
public struct ChildContext: Sendable {
    /// The child's id.
    public let childID: ChildID
    /// The hub it belongs to.
    public let hubID: HubID
    /// Counts the activations of this child on this node (1 for the first start, +1 per restart):
    /// a fencing token the child can stamp on its writes.
    public let epoch: UInt64
    let stopHandler: @Sendable (ChildStopReason) -> Void

    /// Creates a context (the supervisor does; tests may).
    public init(
        childID: ChildID, hubID: HubID, epoch: UInt64, stop: @escaping @Sendable (ChildStopReason) -> Void = { _ in }
    ) {
        self.childID = childID
        self.hubID = hubID
        self.epoch = epoch
        self.stopHandler = stop
    }

    /// Asks the supervisor to stop this child as if its `run()` had ended with `reason`
    /// (the restart type then decides whether it comes back).
    public func stop(_ reason: ChildStopReason = .normal) {
        stopHandler(reason)
    }
}

/// Why a child ended.
public enum ChildStopReason: Sendable, Hashable {
    /// A normal exit: `run()` returned, or the child asked to stop.
    case normal
    /// A crash, with a description of the error.
    case crashed(String)
}
