import ClusterNode

/// One hub-to-hub message on the wire, with the protocol version it was written in.
///
/// Every message between the hubs of two nodes is one of ``HubPeerMessage``'s cases, delivered
/// through one entry point. A receiver refuses a version it does not speak with a typed error
/// (``HubError/Code/unsupportedProtocol``) and changes nothing.
///
/// Each message is written in the oldest version that has it (``HubPeerMessage/introducedIn``):
/// a build that adds messages still talks to older builds as long as it does not use them
/// (a PubSub hub never sends a gossip message), and an older build refuses a newer message by
/// its version, before reading it.
package struct HubEnvelope: Sendable, Codable, CustomStringConvertible {
    /// The newest protocol version this build writes (and reads).
    ///
    /// 1: the machine's first protocol. 2: gossip (``HubPeerMessage/gossip(_:)``,
    /// ``HubPeerMessage/digestRound(_:)``, ``HubPeerMessage/snapshotRequest``, and the change
    /// number of a snapshot).
    package static let currentVersion: UInt16 = 2
    /// The oldest version this build still reads.
    package static let oldestReadableVersion: UInt16 = 1

    /// The version the sender wrote.
    var version: UInt16
    /// The message.
    var message: HubPeerMessage

    init(_ message: HubPeerMessage) {
        self.version = message.introducedIn
        self.message = message
    }

    /// A one-line summary for traces.
    package var description: String { message.summary }
}

/// The hub protocol: what one node's hub tells another's.
enum HubPeerMessage: Sendable, Codable {
    /// "I run this hub." Answered once with `isReply`; both sides then send their snapshots.
    case announce(Announcement)
    /// Start children here (a user's start, a recovery, or a move).
    case startChildren(StartChildren)
    /// The outcomes of a ``StartChildren`` request, once every child of it has one.
    case startReply(requestID: UInt64, outcomes: [ChildStartOutcome])
    /// Stop these children (if hosted here) and remember the stop.
    case stopChildren(requestID: UInt64, tombstones: [Tombstone])
    /// Which of a stop request's children this node stopped.
    case stopReply(requestID: UInt64, stopped: [ChildID])
    /// Slots the sender now hosts.
    case registered([RegistryEntry])
    /// Slots the sender withdrew (moves, duplicates, partitions, crashes given up); stops travel as
    /// tombstones.
    case unregistered([ChildID], tombstones: [Tombstone])
    /// The sender lost quorum and stopped these: they no longer run there, but they are still
    /// wanted, so a receiver that knows no other instance keeps them to restart.
    case suspended([ChildID])
    /// The sender moved these to `to`: a receiver that sees no other instance keeps them until
    /// the target registers them, so a move cut short by a partition loses nothing.
    case moved([ChildID], to: NodeID)
    /// A local child restarted under a new actor id.
    case actorUpdated(ChildID, ActorID)
    /// One part of the sender's full slot list; the last part withdraws every slot not listed.
    case snapshot(SnapshotPart)
    /// States for instances started holding calls (HotSwap with handover).
    case handoverDelivery(states: [ChildID: HandoverPayload], release: [ChildID])
    /// The sender drains: place nothing there, but its slots stay until it withdraws them.
    case draining
    /// The sender leaves the hub.
    case leaving
    /// A message of the sender's strategy to the same strategy here (``StrategyHost``).
    case strategy(StrategyEnvelope)
    /// The sender's partition policy state (``PartitionPolicy/sharedState(at:)``), sent to a
    /// node that just joined.
    case quorumState([UInt8])
    /// A change of `origin`'s slots spreading by gossip (``ChangeSpreading/epidemic(recipients:restrictedRounds:)``).
    case gossip(GossipedChange)
    /// A gossip round collecting every node's digest of its slots.
    case digestRound(DigestRound)
    /// Send me your slots: my view of them differs from your digest.
    case snapshotRequest

    /// The protocol version that introduced this message: the envelope is written in it.
    var introducedIn: UInt16 {
        switch self {
        case .gossip, .digestRound, .snapshotRequest: 2
        case .snapshot(let part) where part.lastChange != nil: 2
        case .startChildren(let request) where request.knownChanges != nil: 2
        default: 1
        }
    }

    var summary: String {
        switch self {
        case .announce(let a): "announce(\(a.isReply ? "reply" : "hello")\(a.isDraining ? ",draining" : ""), \(a.tombstones.count) stops)"
        case .startChildren(let r): "start#\(r.requestID)(\(r.purpose.rawValue), \(r.children.count): \(r.children.prefix(3).map(\.spec.id).joined(separator: ","))\(r.children.count > 3 ? "…" : ""))"
        case .startReply(let id, let outcomes): "startReply#\(id)(\(outcomes.count), \(outcomes.filter { $0.error != nil }.count) failed)"
        case .stopChildren(let id, let t): "stop#\(id)(\(t.map(\.childID).prefix(3).joined(separator: ","))\(t.count > 3 ? "…" : ""))"
        case .stopReply(let id, let s): "stopReply#\(id)(\(s.count))"
        case .registered(let e): "registered(\(e.count): \(e.prefix(3).map(\.childID).joined(separator: ","))\(e.count > 3 ? "…" : ""))"
        case .unregistered(let ids, let t): "unregistered(\(ids.count), \(t.count) stops)"
        case .suspended(let ids): "suspended(\(ids.count))"
        case .moved(let ids, let target): "moved(\(ids.count) to \(target.name))"
        case .actorUpdated(let id, _): "actorUpdated(\(id))"
        case .snapshot(let p): "snapshot(\(p.entries.count)\(p.isLast ? ", last" : ""), \(p.tombstones.count) stops)"
        case .handoverDelivery(let s, let r): "handover(\(s.count) states, \(r.count) released)"
        case .draining: "draining"
        case .leaving: "leaving"
        case .quorumState(let bytes): "quorumState(\(bytes.count) bytes)"
        case .strategy(let envelope): "strategy(\(envelope.channel), \(envelope.payload.count) bytes)"
        case .gossip(let g): "gossip(\(g.origin.name)#\(g.seq), \(g.change.summary), seen by \(g.seen.count))"
        case .digestRound(let r): "digestRound(\(r.digests.count) digests, \(r.acks.count) acks)"
        case .snapshotRequest: "snapshotRequest"
        }
    }
}

/// The body of ``HubPeerMessage/announce(_:)``.
struct Announcement: Sendable, Codable {
    var isReply: Bool
    var isDraining: Bool
    /// Stops the sender remembers: the receiver may have missed them while the two were apart.
    var tombstones: [Tombstone]
}

/// Why children are started on a node.
enum StartPurpose: String, Sendable, Codable {
    /// A user's start.
    case user
    /// A restart of children nobody runs any more (their node went down, or a partition ended).
    case recovery
    /// A move decided by the hub or asked for by a user.
    case migration
    /// A user's start passed on by a node the children are not placed on (a strategy whose
    /// placement is not the same on every node): the receiver starts them as sent.
    case forwarded
}

/// The body of ``HubPeerMessage/startChildren(_:)``.
struct StartChildren: Sendable, Codable {
    var requestID: UInt64
    var purpose: StartPurpose
    /// Each child with its row version.
    var children: [RegistryEntryDraft]
    /// Handed-over states to begin with.
    var states: [ChildID: HandoverPayload]
    /// The new instances hold their calls until a ``HubPeerMessage/handoverDelivery(states:release:)``.
    var holdsCalls: Bool
    /// Each child's nodes, when the strategy places by the start's mapping (empty otherwise).
    var placement: [ChildID: [NodeID]] = [:]
    /// Under gossip, the receiver's last change the sender applied: the reply first sends the
    /// sender every later change, so the sender can apply the registrations the reply names
    /// even when one of them is still on its way by another path.
    var knownChanges: UInt64? = nil
}

/// A child to start, with the row version its registration will carry.
struct RegistryEntryDraft: Sendable, Codable, Hashable {
    var spec: ChildSpec
    var metadata: ChildMetadata
    var epoch: UInt64
    var authoredBy: NodeID

    init(spec: ChildSpec, metadata: ChildMetadata, epoch: UInt64, authoredBy: NodeID) {
        self.spec = spec
        self.metadata = metadata
        self.epoch = epoch
        self.authoredBy = authoredBy
    }

    // As ``RegistryEntry``: flat unkeyed values, since a start carries thousands.

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        self = try container.decodeRowVersion()
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encodeRowVersion(self)
    }
}

/// One part of a snapshot.
struct SnapshotPart: Sendable, Codable {
    var entries: [RegistryEntry]
    var tombstones: [Tombstone]
    var isLast: Bool
    /// Under gossip, the number of the sender's latest change: the snapshot holds every change
    /// up to it, so the receiver skips those that still arrive by other paths.
    var lastChange: UInt64? = nil
}

/// A child stopped on purpose, at the row version it had: every instance of that version or an
/// older one is a leftover, wherever it turns up, and is stopped. A later start authors a newer
/// version, so it is a new start, not a resurrection.
struct Tombstone: Sendable, Codable, Hashable {
    var childID: ChildID
    var epoch: UInt64
}

// MARK: Gossip (SPEC §4.4.2)

/// A change of one node's own slots: what gossip carries, and what PubSub broadcasts as the
/// matching ``HubPeerMessage`` cases.
enum SlotChange: Sendable, Codable {
    case registered([RegistryEntry])
    case unregistered([ChildID], tombstones: [Tombstone])
    case suspended([ChildID])
    case moved([ChildID], to: NodeID)
    case actorUpdated(ChildID, ActorID)

    /// The message PubSub sends for it.
    var message: HubPeerMessage {
        switch self {
        case .registered(let entries): .registered(entries)
        case .unregistered(let ids, let tombstones): .unregistered(ids, tombstones: tombstones)
        case .suspended(let ids): .suspended(ids)
        case .moved(let ids, let target): .moved(ids, to: target)
        case .actorUpdated(let id, let actorID): .actorUpdated(id, actorID)
        }
    }

    var summary: String { message.summary }
}

extension HubPeerMessage {
    /// The slot change this message broadcasts, if it is one (the rest goes to every peer directly).
    var slotChange: SlotChange? {
        switch self {
        case .registered(let entries): .registered(entries)
        case .unregistered(let ids, let tombstones): .unregistered(ids, tombstones: tombstones)
        case .suspended(let ids): .suspended(ids)
        case .moved(let ids, let target): .moved(ids, to: target)
        case .actorUpdated(let id, let actorID): .actorUpdated(id, actorID)
        default: nil
        }
    }
}

/// A change of `origin`'s slots on its way through the cluster, with the nodes that have it.
struct GossipedChange: Sendable, Codable {
    var origin: NodeID
    /// The origin's number for it: changes of one origin are applied in this order.
    var seq: UInt64
    /// The nodes that have applied it.
    var seen: [NodeID]
    var change: SlotChange
}

/// What one node's slots look like, in a few bytes: a node whose view differs pulls them.
struct NodeDigest: Sendable, Codable, Hashable {
    /// The node's latest change when the digest was taken.
    var seq: UInt64
    var count: Int
    /// Order-independent hash of (child id, actor serial) over the slots.
    var hash: UInt64
}

/// A digest round: it collects every node's digest, then each node compares them with its view.
struct DigestRound: Sendable, Codable {
    var id: UInt64
    var digests: [NodeID: NodeDigest]
    /// The nodes that have compared.
    var acks: [NodeID]
}
