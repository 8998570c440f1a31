import ClusterNode

/// Runs the hub's bulk work (starting batches, merging registry pushes, redistribution) off the
/// node's event loops; see ``OffLoopExecutor``.
func onHubWorkExecutor<T: Sendable>(_ work: () async throws -> T) async rethrows -> T {
    try await withTaskExecutorPreference(OffLoopExecutor.shared, operation: work)
}
