import ClusterNode
import ProcessHub

/// One simulated node: its hub machine, the children its simulated supervisor runs, its armed
/// timers, and the inputs it has not processed yet while it is stalled.
///
/// A class, so that reading one field of a node does not copy its whole machine.
final class SimulatedNode {
    var id: NodeID
    var machine: HubMachine
    /// False once crashed (until a restart) or gone.
    var alive = true
    /// Left the hub: never comes back.
    var gone = false
    /// A leave was asked for: no new operation goes through it.
    var leaving = false
    var drained = false
    var children: [ChildID: SimulatedChild] = [:]
    var nextSerial: UInt64 = 1_000
    /// The armed instance of each timer: re-arming replaces it, cancelling forgets it.
    var timers: [HubTimer: UInt64] = [:]
    /// Set while stalled (SIGSTOP): the stall's number.
    var stall: UInt64?
    /// Inputs that arrived while stalled, processed in order on resume.
    var inbox: [HubInput] = []
    /// When the supervisor's last report is due: reports keep their order.
    var supervisorClock: Int64 = 0
    /// When the last membership event for this node is due: they keep their order.
    var membershipClock: Int64 = 0

    init(id: NodeID, configuration: HubConfiguration, seed: UInt64) {
        self.id = id
        self.machine = HubMachine(local: id, configuration: configuration, seed: seed)
    }

    /// Runs and is part of the hub.
    var isLive: Bool { alive && !gone }

    func newActorID() -> ActorID {
        nextSerial += 1
        return ActorID(node: id, serial: nextSerial)
    }
}

/// A child as the simulated supervisor runs it: a counter for a state, and whether its calls
/// are held (started for a HotSwap handover, or sealed on its way out).
///
/// The counter stands for a child under steady load: it serves one call per virtual
/// millisecond whenever its calls are neither held nor sealed. It is brought up to date lazily
/// (``catchUp(to:)``) whenever the simulator touches the child, so idle children cost nothing.
struct SimulatedChild {
    var actorID: ActorID
    var counter: UInt64
    var holdsCalls: Bool
    var sealed = false
    /// The counter it started with (the state its start carried, or 0).
    var startValue: UInt64
    /// Up to when its calls have been counted.
    var countedUntil: Int64
    /// The replica role its machine last signalled (nil: none yet).
    var role: ReplicaMode?

    init(actorID: ActorID, counter: UInt64, holdsCalls: Bool, at time: Int64 = 0) {
        self.actorID = actorID
        self.counter = counter
        self.holdsCalls = holdsCalls
        self.startValue = counter
        self.countedUntil = time
    }

    /// Whether it serves calls now.
    var serves: Bool { !holdsCalls && !sealed }

    /// Counts the calls served since the last catch-up, one a millisecond while it serves.
    mutating func catchUp(to time: Int64) {
        guard time > countedUntil else { return }
        guard serves else { return countedUntil = time }
        let calls = (time - countedUntil) / 1_000_000
        counter &+= UInt64(calls)
        countedUntil += calls * 1_000_000
    }

    /// The counter as a handover payload: 8 bytes, little-endian.
    var payload: HandoverPayload { (0..<8).map { UInt8(truncatingIfNeeded: counter >> (8 * $0)) } }

    /// A payload's counter (0 for none or a malformed one).
    static func counter(from payload: HandoverPayload?) -> UInt64 {
        guard let payload, payload.count == 8 else { return 0 }
        return payload.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}

/// An ordered pair of node slots.
struct SlotPair: Hashable {
    var from: Int
    var to: Int

    /// The same pair whichever way it is named (for links).
    var unordered: SlotPair { from < to ? self : SlotPair(from: to, to: from) }
    var reversed: SlotPair { SlotPair(from: to, to: from) }
}

/// The simulated network: which directions are cut, which links are open, and what each node
/// has been told about each other node.
struct SimulatedNetwork {
    /// A TCP connection between two nodes. A new one gets a new epoch, so a message of an older
    /// connection is never delivered.
    struct Link {
        var epoch = 0
        var open = false
        /// Messages were lost on it: it must be closed (and both sides told) before it is used again.
        var damaged = false
    }

    /// Directions whose messages are dropped (by slot; a restarted node stays cut).
    var blocked: Set<SlotPair> = []
    var links: [SlotPair: Link] = [:]
    /// When the last message on each direction is delivered: FIFO per direction.
    var lastDelivery: [SlotPair: Int64] = [:]
    /// The node `to` as `from` was last told it was up (scheduled, maybe not delivered yet).
    var announced: [SlotPair: NodeID] = [:]
    /// Pairs whose `from` machine has processed `to` being up and not yet down.
    var seenUp: Set<SlotPair> = []

    func link(_ pair: SlotPair) -> Link { links[pair.unordered] ?? Link() }

    mutating func update(_ pair: SlotPair, _ change: (inout Link) -> Void) {
        change(&links[pair.unordered, default: Link()])
    }

    func isBlocked(_ pair: SlotPair) -> Bool { blocked.contains(pair) }
}

/// One message's fate, for the simulator's own tests.
struct DeliveryRecord: Hashable {
    enum Event: Hashable { case sent, delivered, dropped }
    var pair: SlotPair
    /// The message's number (sends are numbered in order).
    var number: Int
    var time: Int64
    var event: Event
}

/// The partition strategy's answer for one node, kept from the hub peers its machine gained
/// and lost: the oracle for whether it should report a lost quorum.
struct QuorumModel {
    var policy: any PartitionPolicy
    var partitioned: Bool
    /// The hub peers last seen, sorted.
    var peers: [NodeID] = []

    init(_ strategy: any PartitionToleranceStrategy, local: NodeID) {
        policy = strategy.makePolicy()
        partitioned = policy.startsWithoutQuorum(members: [local])
    }

    mutating func joined(_ node: NodeID, members: [NodeID]) {
        let regained = policy.regainedQuorum(afterJoining: [node], members: members)
        if partitioned, regained { partitioned = false }
    }

    mutating func left(_ node: NodeID, members: [NodeID]) {
        if !partitioned, policy.lostQuorum(afterLeaving: [node], members: members) { partitioned = true }
    }
}
