import ClusterNode

/// The registry pushes to one peer, sent one at a time in the order they were made.
///
/// Pushes made concurrently (a start's registrations, a stop's withdrawals, a snapshot) would
/// otherwise race: a withdrawal overtaking its registration leaves a stale slot on the peer until
/// the next sync round. Sending the next push only once the peer has applied the previous one
/// keeps each peer's view in the order this node's slots changed.
actor PeerOutbox {
    /// What is queued: a change, or a full snapshot of this node's slots.
    enum Item: Sendable {
        case update(RegistryUpdate)
        /// A change travelling by gossip (its origin may be another node).
        case gossip(GossipChange)
        /// Taken when its turn comes, not when queued: every change queued before it is then in
        /// it or already sent, and every later change is queued after it, so the snapshot's
        /// "withdraw what is absent" can never withdraw a newer registration.
        case snapshot
    }

    /// The queue, each item with when it was queued (when pushes are timed: ``HubMetrics``).
    private var queue: [(item: Item, queuedAt: ContinuousClock.Instant?)] = []
    private var next = 0
    private var isDraining = false
    private let deliver: @Sendable (Delivery, _ queuedAt: ContinuousClock.Instant?) async -> Void
    private let stamp: @Sendable () -> ContinuousClock.Instant?
    private let takeSnapshot: @Sendable () -> [RegistryUpdate]

    /// One message to the peer.
    enum Delivery: Sendable {
        case update(RegistryUpdate)
        case gossip(GossipChange)
    }

    /// - Parameters:
    ///   - deliver: sends one message and returns once the peer answered (or gave up); it gets
    ///     when the message was queued (`nil` for snapshot parts and untimed pushes).
    ///   - stamp: the time to record for items being queued, or `nil`.
    init(
        deliver: @escaping @Sendable (Delivery, _ queuedAt: ContinuousClock.Instant?) async -> Void,
        stamp: @escaping @Sendable () -> ContinuousClock.Instant? = { nil },
        snapshot: @escaping @Sendable () -> [RegistryUpdate]
    ) {
        self.deliver = deliver
        self.stamp = stamp
        self.takeSnapshot = snapshot
    }

    /// Callers waiting until the item at an index (counted since the queue was last emptied) is sent.
    private var waiters: [(index: Int, continuation: CheckedContinuation<Void, Never>)] = []

    /// Queues items; returns without waiting for them to be sent.
    func enqueue(_ items: [Item]) {
        let queuedAt = stamp()
        queue += items.map { ($0, queuedAt) }
        guard !isDraining else { return }
        isDraining = true
        Task(executorPreference: OffLoopExecutor.shared) { await self.drain() }
    }

    /// Queues items and returns once the peer has been sent all of them (delivered or given up on).
    func enqueueAndWait(_ items: [Item]) async {
        guard !items.isEmpty else { return }
        let last = queue.count + items.count - 1
        await withCheckedContinuation { continuation in
            waiters.append((last, continuation))
            enqueue(items)
        }
    }

    private func resumeWaiters(upTo index: Int) {
        let ready = waiters.filter { $0.index <= index }
        waiters.removeAll { $0.index <= index }
        for waiter in ready { waiter.continuation.resume() }
    }

    private func drain() async {
        while next < queue.count {
            let (item, queuedAt) = queue[next]
            next += 1
            switch item {
            case .update(let update):
                await deliver(.update(update), queuedAt)
            case .gossip(let change):
                await deliver(.gossip(change), queuedAt)
            case .snapshot:
                for update in takeSnapshot() { await deliver(.update(update), nil) }
            }
            resumeWaiters(upTo: next - 1)
        }
        queue.removeAll(keepingCapacity: true)
        next = 0
        isDraining = false
    }
}
