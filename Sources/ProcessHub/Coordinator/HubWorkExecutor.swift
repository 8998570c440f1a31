import Dispatch

/// Where the hub does its heavy work: starting batches, merging registry pushes, redistribution.
///
/// Not on the node's event loops, even when NIO's event loops are Swift's global executor (as in
/// the `processhub` command line): a loop busy merging 4 000-entry pushes for seconds would send
/// no heartbeats, and its peers would declare a healthy node dead. On Dispatch's threads the work
/// competes for the CPU but never stops a loop from answering.
final class HubWorkExecutor: TaskExecutor {
    static let shared = HubWorkExecutor()

    private let queue = DispatchQueue(label: "processhub.hub-work", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Runs `work` with the hub's work executor as task executor preference.
func onHubWorkExecutor<T: Sendable>(_ work: () async throws -> T) async rethrows -> T {
    try await withTaskExecutorPreference(HubWorkExecutor.shared, operation: work)
}
