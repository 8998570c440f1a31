import Dispatch

/// A task executor on Dispatch's threads, for work that must not run on a node's event loops.
///
/// Even when NIO's event loops are Swift's global executor (the lowest-latency setup), a loop
/// busy for a second decoding a megabyte or merging a large batch sends no heartbeats, and its
/// peers declare a healthy node dead. Work on these threads competes for the CPU but never stops
/// a loop from answering. The system runs large inbound calls here; the hub runs its bulk work here.
///
/// ```swift
/// try await withTaskExecutorPreference(OffLoopExecutor.shared) { try await heavyMerge() }
/// ```
public final class OffLoopExecutor: TaskExecutor {
    /// The shared instance.
    public static let shared = OffLoopExecutor()

    private let queue = DispatchQueue(label: "processhub.off-loop", attributes: .concurrent)

    /// Runs a job on a Dispatch thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
