import NIOCore
import Synchronization

/// An authenticated connection to one peer node, usable from any thread.
///
/// All of its mutable state lives in its ``LinkHandler`` on the connection's event loop; a
/// `Link` hops onto that loop once per operation.
final class Link: Sendable {
    let id: UInt64
    let peer: NodeID
    /// The node that opened the connection (tie-break between simultaneous connects).
    let initiator: NodeID
    let channel: any Channel
    let handler: NIOLoopBound<LinkHandler>
    let taskExecutor: EventLoopTaskExecutor
    private let nextCallID = Atomic<UInt64>(1)

    var eventLoop: any EventLoop { channel.eventLoop }

    init(id: UInt64, peer: NodeID, initiator: NodeID, channel: any Channel, handler: NIOLoopBound<LinkHandler>) {
        self.id = id
        self.peer = peer
        self.initiator = initiator
        self.channel = channel
        self.handler = handler
        self.taskExecutor = EventLoopTaskExecutor(channel.eventLoop)
    }

    var record: Membership.LinkRecord { .init(id: id, initiator: initiator) }

    /// Sends a call and waits for its reply, its timeout, the link's loss or the task's cancellation.
    func call(_ message: CallMessage, timeout: Duration) async throws -> ReplyOutcome {
        let callID = nextCallID.wrappingAdd(1, ordering: .relaxed).oldValue
        let message = { var m = message; m.callID = callID; return m }()
        let handler = self.handler
        let loop = eventLoop
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ReplyOutcome, any Error>) in
                if loop.inEventLoop {
                    handler.value.startCall(message, timeout: timeout, continuation: continuation)
                } else {
                    loop.execute { handler.value.startCall(message, timeout: timeout, continuation: continuation) }
                }
            }
        } onCancel: {
            loop.execute { handler.value.cancelCall(callID) }
        }
    }

    /// Sends a message without waiting (replies, members, leaving).
    func send(_ message: WireMessage) {
        let handler = self.handler
        if eventLoop.inEventLoop {
            handler.value.send(message)
        } else {
            eventLoop.execute { handler.value.send(message) }
        }
    }

    /// Closes the connection, first telling the peer we leave when `leaving` is set.
    func close(leaving: Bool) -> EventLoopFuture<Void> {
        let handler = self.handler
        return eventLoop.submit { handler.value.close(leaving: leaving) }
    }
}

/// Runs a task's jobs on a NIO event loop (SE-0417 task executor preference), so an inbound call
/// executes on the thread that read it instead of hopping to the global pool and back.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
