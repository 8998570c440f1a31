/// Stops the old instance first, then starts the new one (the default).
///
/// A moving child is briefly absent. With `handover`, its state is captured before it stops and
/// applied to the new instance before that one is registered, so the first call the new instance
/// answers already sees the state.
public struct ColdSwap: SwapMigration {
    /// Handover and consent settings.
    public var settings: SwapSettings

    /// Creates the strategy.
    public init(settings: SwapSettings) {
        self.settings = settings
    }

    /// Captures states (with handover), stops every moving child here, then starts each target's
    /// share with its states.
    /// With handover: seal, capture, stop, then start with the states; without: stop, then start.
    public var steps: [MigrationStep] {
        handover ? [.sealOrigin, .captureState, .stopOrigin, .startOnTarget] : [.stopOrigin, .startOnTarget]
    }

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
