import ClusterNode
import Synchronization

/// Children nobody runs: every instance was lost with the nodes that went down. Kept (spec,
/// metadata, row epoch) until some node registers them, because the node a topology batch gives
/// such a child to may go down too before anyone hears it started it (a split cutting nodes off
/// one after the other), and then no registry row is left to restart it from.
///
/// At each later batch, and at the periodic reconcile, the orphans are placed again on the nodes
/// of the moment: the node the strategy places one on starts it; the others ask that node after
/// ``grace`` (a recovery start), since it may never have heard of the child.
final class OrphanLedger: Sendable {
    /// How long an orphan waits for its owner to register it before other nodes ask the owner.
    static let grace: Duration = .seconds(2)

    struct Orphan: Sendable {
        var info: ChildInfo
        var epoch: UInt64
        var since: ContinuousClock.Instant
        var askedAt: ContinuousClock.Instant?
    }

    private let state = Mutex<[ChildID: Orphan]>([:])

    var isEmpty: Bool { state.withLock { $0.isEmpty } }

    /// Keeps children that lost their last instance (a newer epoch replaces an older one).
    func keep(_ rows: [ChildID: (info: ChildInfo, epoch: UInt64)]) {
        guard !rows.isEmpty else { return }
        let now = ContinuousClock.now
        state.withLock { orphans in
            for (id, row) in rows where (orphans[id]?.epoch ?? 0) <= row.epoch {
                orphans[id] = Orphan(info: row.info, epoch: row.epoch, since: orphans[id]?.since ?? now)
            }
        }
    }

    /// Every orphan, emptying the ledger (the partition manifest takes them over).
    func takeAll() -> [ChildID: Orphan] {
        state.withLock { orphans in
            defer { orphans = [:] }
            return orphans
        }
    }

    func all() -> [ChildID: Orphan] { state.withLock { $0 } }

    /// The epoch `id` was lost at, while it is an orphan.
    func epoch(of id: ChildID) -> UInt64? { state.withLock { $0[id]?.epoch } }

    /// Some node registered these children at these epochs: they are no longer orphans.
    /// Takes any sequence, so the registration path builds no list while there are none.
    func resolve<Starts: Sequence<(ChildID, UInt64)>>(_ starts: Starts) {
        state.withLock { orphans in
            guard !orphans.isEmpty else { return }
            for (id, epoch) in starts where (orphans[id]?.epoch ?? .max) <= epoch { orphans[id] = nil }
        }
    }

    /// Stopped on purpose (at these epochs): not to be restarted.
    func forget(_ stops: [ChildID: UInt64]) {
        resolve(stops.lazy.map { ($0.key, $0.value) })
    }

    /// Marks orphans as asked for now: the next ask waits another grace.
    func asked(_ ids: [ChildID]) {
        let now = ContinuousClock.now
        state.withLock { orphans in for id in ids { orphans[id]?.askedAt = now } }
    }
}
