/// No migration messages at all (SPEC §4.3.8): on every topology change each node stops the
/// children it no longer owns, and starts the children it now owns that do not run here — from
/// its own registry, without state. Every node decides alone, so a joining node starts its share
/// as soon as it has learned the registry (its peers push it on admission).
public struct Autonomous: MigrationStrategy {
    /// Creates the strategy.
    public init() {}

    /// The hub starts owned children on every node itself.
    public var startsOwnedChildren: Bool { true }

    /// Stops the children leaving this node; their new owners start them on their own.
    /// Stop the origin only: the new owner starts the child by itself.
    public var steps: [MigrationStep] { [.stopOrigin] }

    public func migrate(_ moves: [ChildMove], using mover: any ChildMover) async {
        await mover.stopLocally(moves.map(\.data.childID))
    }
}
