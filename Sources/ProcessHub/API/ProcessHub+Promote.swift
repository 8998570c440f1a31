import ClusterNode

extension ProcessHub {
    /// Makes a hub started on a local-only node (`ClusterNodeSettings.localOnly(name:secret:)`)
    /// part of the cluster once its node was promoted (`ClusterNode.promote(host:port:seeds:)`):
    /// ProcessHub's `promote_to_node`.
    ///
    /// The hub already follows the promotion on its own: every registry row that named the
    /// local-only node names the new node id, and the children keep running under it (other
    /// nodes reach them by the new id). This call checks that, and pushes this node's children to
    /// the hub's peers at once instead of at the next periodic sync.
    ///
    /// ```swift
    /// let node = try await ClusterNode.start(.localOnly(name: "n1", secret: secret))
    /// let hub = try await ProcessHub.start(configuration, on: node)
    /// // … start children, work alone …
    /// try await node.promote(port: 7001, seeds: [NodeAddress("127.0.0.1:7002")!])
    /// try await hub.promote()
    /// ```
    ///
    /// Throws ``HubError/Code/notAlive`` while the node is still local-only, and
    /// ``HubError/Code/hubStopped`` after ``stop(movingChildren:)``.
    public func promote() async throws(HubError) {
        try await core.promote()
    }
}
