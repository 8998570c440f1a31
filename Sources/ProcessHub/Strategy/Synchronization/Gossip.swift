/// Changes spread epidemically: each node passes a change on to a few random peers that have not
/// seen it yet, and a periodic round compares every node's digest of its slots so that a node
/// that missed something pulls the slots concerned (SPEC §4.4.2).
///
/// Suits large clusters, where PubSub's every-node-to-every-node pushes cost O(n²) messages per
/// change: here the originator sends each change to `recipients` peers (plus the node waiting for
/// it, if any), and it reaches every node in O(log n) hops.
///
/// Changes from one node are applied in the order that node made them, whichever path they take;
/// a node that falls behind catches up through the round.
public struct Gossip: SynchronizationStrategy {
    /// Period of the digest round. Default 15 s.
    public var syncInterval: Duration
    /// How many random peers a node passes each change (and each round) on to. Default 3.
    public var recipients: Int
    /// Whether only the node that sorts first starts digest rounds (`true`, the default) or
    /// every node starts one each interval.
    public var restrictedInit: Bool

    /// Each change to `recipients` random peers, passed on by whoever learns of it.
    public var spreading: ChangeSpreading { .epidemic(recipients: recipients, restrictedRounds: restrictedInit) }

    /// Creates the strategy.
    public init(syncInterval: Duration = .seconds(15), recipients: Int = 3, restrictedInit: Bool = true) {
        self.syncInterval = syncInterval
        self.recipients = recipients
        self.restrictedInit = restrictedInit
    }
}
