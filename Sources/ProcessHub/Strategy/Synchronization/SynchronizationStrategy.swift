/// How registry changes spread between hub nodes (SPEC §4.4): every change is pushed at once,
/// and a periodic round repairs whatever a lost message or a race left behind.
public protocol SynchronizationStrategy: Sendable {
    /// Period of the full anti-entropy round.
    var syncInterval: Duration { get }
    /// How a node's registry changes and its periodic rounds reach the other nodes. The hub
    /// asks the strategy this, so a strategy of its own can choose either way.
    var spreading: ChangeSpreading { get }
}

extension SynchronizationStrategy {
    /// Every change to every peer, unless the strategy says otherwise.
    public var spreading: ChangeSpreading { .everyPeer }
}

/// How registry changes travel between hub nodes: what a ``SynchronizationStrategy`` asks of the
/// hub's coordinator.
public enum ChangeSpreading: Sendable, Hashable {
    /// Each change goes from its originator to every peer; each round every node sends its
    /// slots to every peer (``PubSub``).
    case everyPeer
    /// Each change goes from its originator to `recipients` random peers, and every node that
    /// learns of it passes it on to up to `recipients` peers that have not seen it; each round
    /// collects every node's digest, and a node whose view differs pulls the slots concerned.
    /// Only the node that sorts first starts rounds when `restrictedRounds` (``Gossip``).
    case epidemic(recipients: Int, restrictedRounds: Bool)
}

/// Changes are broadcast to every hub node at once; every `syncInterval` each node sends its own
/// slots to every other node, which replace that node's slots with them (the default).
public struct PubSub: SynchronizationStrategy {
    /// Period of the full synchronisation round. Default 15 s.
    public var syncInterval: Duration

    /// Every change to every peer.
    public var spreading: ChangeSpreading { .everyPeer }

    /// Creates the strategy.
    public init(syncInterval: Duration = .seconds(15)) {
        self.syncInterval = syncInterval
    }
}
