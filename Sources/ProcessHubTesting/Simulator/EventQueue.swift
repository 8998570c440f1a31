import ClusterNode
import ProcessHub

/// Something that happens at a virtual time.
struct SimulationEvent {
    /// Nanoseconds since the cluster started.
    var time: Int64
    /// Orders events of the same time by when they were scheduled, so a run replays exactly and
    /// two messages on one link keep their order.
    var sequence: UInt64
    var kind: Kind

    enum Kind {
        /// An input for the machine of `slot`, if that node still runs as `incarnation`.
        case input(slot: Int, incarnation: UInt64, HubInput)
        /// A hub message on the link from `from` to `to`, opened as link epoch `epoch`.
        case message(from: Int, to: Int, epoch: Int, number: Int, HubEnvelope)
        /// A timer of `slot`, if it is still armed as `token`.
        case timer(slot: Int, incarnation: UInt64, HubTimer, token: UInt64)
        /// `observer`'s failure detector gives up on `subject` (if it still cannot hear it).
        case detect(observer: Int, subject: Int, epoch: Int, stall: UInt64?)
        /// A scenario step.
        case step(SimulationAction)
        /// A stalled node runs again.
        case resume(slot: Int, stall: UInt64)
        /// A crashed node comes back as a new incarnation.
        case restart(slot: Int)
        /// A node that left the hub goes away.
        case remove(slot: Int, incarnation: UInt64)
    }

    /// Periodic timers go on forever: the cluster is quiet when nothing else is pending.
    var isTimer: Bool {
        if case .timer = kind { return true }
        return false
    }

    func precedes(_ other: Self) -> Bool {
        time != other.time ? time < other.time : sequence < other.sequence
    }
}

/// A binary min-heap of events ordered by (time, sequence).
struct EventQueue {
    private var heap: [SimulationEvent] = []
    private var nextSequence: UInt64 = 0
    /// Events pending that are not timers.
    private(set) var activeCount = 0

    var isEmpty: Bool { heap.isEmpty }
    var next: SimulationEvent? { heap.first }

    mutating func schedule(_ kind: SimulationEvent.Kind, at time: Int64) {
        nextSequence += 1
        let event = SimulationEvent(time: time, sequence: nextSequence, kind: kind)
        if !event.isTimer { activeCount += 1 }
        heap.append(event)
        siftUp(heap.count - 1)
    }

    mutating func pop() -> SimulationEvent? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let event = heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
        if !event.isTimer { activeCount -= 1 }
        return event
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count, heap[left].precedes(heap[first]) { first = left }
            if right < heap.count, heap[right].precedes(heap[first]) { first = right }
            if first == parent { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
