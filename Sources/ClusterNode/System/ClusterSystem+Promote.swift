import NIOCore

/// Local-only nodes and their promotion: a node started without a listening socket runs actors
/// for its own process only, and can later start listening under a new ``NodeID``.
extension ClusterSystem {
    /// What the node is known as, and what it was known as before its promotion.
    struct Identity: Sendable {
        var current: NodeID
        /// The identity of the local-only life, kept so that ids handed out before the promotion
        /// still name this node.
        var previous: NodeID?
        var isLocalOnly: Bool
        var isPromoting = false
        var promotionHandlers: [@Sendable (_ old: NodeID, _ new: NodeID) -> Void] = []
    }

    /// Registers `handler` to run once, when the node is promoted: after its identity changed and
    /// before it listens or dials, so whatever the handler renames is in place before any peer can
    /// ask. It runs at once if the node was promoted already. Keep it short and non-blocking.
    public func onPromotion(_ handler: @escaping @Sendable (_ old: NodeID, _ new: NodeID) -> Void) {
        let promoted: (NodeID, NodeID)? = identity.withLock { identity in
            if let previous = identity.previous { return (previous, identity.current) }
            identity.promotionHandlers.append(handler)
            return nil
        }
        if let (old, new) = promoted { handler(old, new) }
    }

    /// Whether the node runs without a listening socket (started with
    /// ``ClusterNodeSettings/localOnly(name:secret:)`` and not promoted yet).
    public var isLocalOnly: Bool { identity.withLock { $0.isLocalOnly } }

    /// Whether `node` is this node: its identity, or the one it had before its promotion.
    public func isLocal(_ node: NodeID) -> Bool {
        identity.withLock { node == $0.current || node == $0.previous }
    }

    /// `id` as other nodes reach it: an id of this node's local-only life, moved to the current
    /// identity (same serial or name); any other id unchanged.
    public func currentID(of id: ActorID) -> ActorID {
        identity.withLock { identity in
            guard id.node == identity.previous else { return id }
            var moved = id
            moved.node = identity.current
            return moved
        }
    }

    /// Claims the promotion, so two concurrent calls cannot both bind a socket.
    func beginPromotion() throws(ClusterError) {
        try identity.withLock { identity throws(ClusterError) in
            guard identity.isLocalOnly && !identity.isPromoting else {
                throw ClusterError(.invalidSettings, "node \(identity.current) is not local-only: it already listens")
            }
            identity.isPromoting = true
        }
    }

    /// Gives the promotion up after a failed bind; the node stays local-only.
    func abandonPromotion() {
        identity.withLock { $0.isPromoting = false }
    }

    /// Switches to `newID` (same incarnation, so calls addressed to it pass the incarnation check)
    /// and starts listening on `server` and dialling `seeds`.
    func completePromotion(to newID: NodeID, server: any Channel, seeds: [NodeAddress]) {
        let (old, handlers) = identity.withLock { identity in
            defer { identity.promotionHandlers = [] }
            identity.previous = identity.current
            identity.current = newID
            identity.isLocalOnly = false
            identity.isPromoting = false
            return (identity.previous ?? newID, identity.promotionHandlers)
        }
        for handler in handlers { handler(old, newID) }
        // A local-only node has no peers, so its membership starts afresh under the new identity.
        state.withLock {
            $0.membership = Membership(local: newID, seeds: seeds, forgetAfter: settings.forgetDownPeerAfter)
        }
        startTransport(server: server)
    }
}
