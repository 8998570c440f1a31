/// How registry changes spread between hub nodes (SPEC §4.4): every change is pushed at once,
/// and a periodic round repairs whatever a lost message or a race left behind.
public protocol SynchronizationStrategy: Sendable {
    /// Period of the full anti-entropy round.
    var syncInterval: Duration { get }
}

/// Changes are broadcast to every hub node at once; every `syncInterval` each node sends its own
/// slots to every other node, which replace that node's slots with them (the default).
public struct PubSub: SynchronizationStrategy {
    /// Period of the full synchronisation round. Default 15 s.
    public var syncInterval: Duration

    /// Creates the strategy.
    public init(syncInterval: Duration = .seconds(15)) {
        self.syncInterval = syncInterval
    }
}
