extension ProcessHub {
    /// Overwrites the largest cluster size ``MajorityQuorum`` has seen on this node (ProcessHub's
    /// `reset_cluster_size`), after a deliberate scale-down: the majority is then counted from
    /// `size`. Takes effect at the next node leave or join.
    ///
    /// Throws ``HubError/Code/invalidConfiguration`` when the hub does not use ``MajorityQuorum``
    /// or `size` is below 1 (nothing changes then).
    public func resetQuorumClusterSize(_ size: Int) throws(HubError) {
        try core.resetQuorumClusterSize(size)
    }
}
