import ClusterNode

/// How a drain went: the payload of ``ProcessHub/drain(timeout:)``.
public struct DrainResult: Sendable, Hashable {
    /// Children that moved through the normal path (consent given, or none asked).
    public var migrated: Int
    /// Children still deferring when the drain timed out, moved anyway.
    public var forced: Int

    /// Creates a result.
    public init(migrated: Int, forced: Int) {
        self.migrated = migrated
        self.forced = forced
    }
}

extension ProcessHub {
    /// Moves every child of this node to the other hub nodes and stops taking new ones
    /// (SPEC §4.3.7).
    ///
    /// Peers are told first, so they place nothing here any more and do not restart the moving
    /// children themselves. Children move through the migration strategy (with their state when
    /// it hands over) and its consent gate; what still defers after `timeout` moves anyway. The
    /// hub stays up but is no longer a member: stop it (or restart it) to rejoin.
    ///
    /// Throws ``HubError/Code/noTargetNodes`` when no other node runs the hub,
    /// ``HubError/Code/draining`` when it already drains, ``HubError/Code/locked`` while topology
    /// work is pending, ``HubError/Code/hubStopped`` after ``stop(movingChildren:)``.
    public func drain(timeout: Duration = .seconds(60)) async throws(HubError) -> DrainResult {
        try await core.drain(timeout: timeout)
    }

    /// Moves one child to `target` through the migration strategy (cold or hot, with handover if
    /// configured), from whichever node hosts it.
    ///
    /// The next topology change may move it back to where its distribution strategy places it.
    /// Throws ``HubError/Code/notFound``, ``HubError/Code/notAMember``, ``HubError/Code/sameNode``
    /// or ``HubError/Code/migrateRouteFailed``.
    public func migrateChild(_ id: ChildID, to target: NodeID) async throws(HubError) {
        try await core.migrateChild(id, to: target)
    }

    /// Moves a child that deferred its migration now, without asking it again.
    public func migrationReady(_ id: ChildID) async {
        await core.migrationReady([id])
    }

    /// The children of this node that deferred their migration.
    public var deferredChildren: [ChildID] { core.deferredIDs.sorted() }
}
