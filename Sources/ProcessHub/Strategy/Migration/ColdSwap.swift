/// Stops the old instance first, then starts the new one (the default).
///
/// A moving child is briefly absent. With `handover`, its state is captured before it stops and
/// applied to the new instance before that one is registered, so the first call the new instance
/// answers already sees the state.
public struct ColdSwap: MigrationStrategy {
    /// Whether moved children take their state along. Default `false`.
    public var handover: Bool
    /// How long old instances have, together, to hand their state over. Default 5 s.
    public var stateQueryTimeout: Duration
    /// How long a handed-over state waits for its child to start on the new node. Default 30 s.
    public var stateTTL: Duration
    /// Whether children are asked before they move. Default `nil` (not asked).
    public var consent: MigrationConsent?

    /// Creates the strategy.
    public init(
        handover: Bool = false, stateQueryTimeout: Duration = .seconds(5), stateTTL: Duration = .seconds(30),
        consent: MigrationConsent? = nil
    ) {
        self.handover = handover
        self.stateQueryTimeout = stateQueryTimeout
        self.stateTTL = stateTTL
        self.consent = consent
    }

    /// Captures states (with handover), stops every moving child here, then starts each target's
    /// share with its states.
    public func migrate(_ moves: [ChildMove], using mover: any ChildMover) async {
        guard !moves.isEmpty else { return }
        let ids = moves.map(\.data.childID)
        let states = handover ? await mover.captureStates(ids) : [:]
        await mover.stopLocally(ids)
        await withTaskGroup(of: Void.self) { group in
            for (target, share) in moves.byTarget {
                let shareStates = states.restricted(to: share.map(\.data.childID))
                group.addTask {
                    _ = await mover.start(share.map(\.data), on: target, states: shareStates, holdingCalls: false)
                }
            }
        }
    }
}
