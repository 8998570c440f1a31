import ClusterNode

/// Starts the new instance first and stops the old one once the new one is registered: the
/// child never has a gap.
///
/// With `handover`, the new instance holds its remote calls until the state arrives; the old one
/// is sealed (it admits no new remote call and finishes the running ones), hands its state over,
/// and stops. Every call lands either on the old instance before the capture or on the new one
/// after the handover — never on both.
public struct HotSwap: SwapMigration {
    /// Handover and consent settings.
    public var settings: SwapSettings

    /// Creates the strategy.
    public init(settings: SwapSettings) {
        self.settings = settings
    }

    /// Per target: start the new instances, then (with handover) capture and deliver the states,
    /// then stop the old instances that were replaced. A child that fails to start on its target
    /// keeps running here.
    /// With handover: start holding calls, seal, capture, deliver, stop; without: start, then stop.
    public var steps: [MigrationStep] {
        handover
            ? [.startOnTarget, .sealOrigin, .captureState, .deliverState, .stopOrigin] : [.startOnTarget, .stopOrigin]
    }

    public func migrate(_ moves: [ChildMove], using mover: any ChildMover) async {
        await withTaskGroup(of: Void.self) { group in
            for (target, share) in moves.byTarget {
                group.addTask { await swap(share, to: target, using: mover) }
            }
        }
    }

    private func swap(_ share: [ChildMove], to target: NodeID, using mover: any ChildMover) async {
        let results = await mover.start(share.map(\.data), on: target, states: [:], holdingCalls: handover)
        let started = share.map(\.data.childID).filter { (try? results[$0]?.get()) != nil }
        guard !started.isEmpty else { return }
        if handover {
            let states = await mover.captureStates(started)
            await mover.completeHandover(states, of: started, on: target)
        }
        await mover.stopLocally(started)
    }
}
