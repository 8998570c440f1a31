import ClusterNode
import Distributed

/// The distributed face of a hub on one node: peers of the same hub call it to announce
/// themselves, start and stop children, and push registry changes. One per hub and node, under
/// the well-known name `processhub.hub.<hub id>`.
distributed actor HubEndpoint {
    typealias ActorSystem = ClusterSystem

    private weak var core: HubCore?

    init(actorSystem: ClusterSystem, core: HubCore) {
        self.actorSystem = actorSystem
        self.core = core
    }

    static func wellKnownName(of hubID: HubID) -> String { "processhub.hub.\(hubID.name)" }

    static func start(for core: HubCore, on system: ClusterSystem) -> HubEndpoint {
        system.withWellKnownName(wellKnownName(of: core.hubID)) { HubEndpoint(actorSystem: system, core: core) }
    }

    static func resolve(_ hubID: HubID, on node: NodeID, using system: ClusterSystem) throws -> HubEndpoint {
        try resolve(id: ActorID(node: node, wellKnownName: wellKnownName(of: hubID)), using: system)
    }

    func running() throws -> HubCore {
        guard let core, !core.isStopped else { throw ClusterError(.unknownActor, "the hub is stopped") }
        return core
    }

    distributed func announce(_ announcement: HubAnnouncement) async throws -> HubAnnouncement {
        try running().received(announcement)
    }

    distributed func startChildren(_ request: StartRequest) async throws -> StartReply {
        let core = try running()
        return await onHubWorkExecutor { StartReply(outcomes: await core.handleStart(request)) }
    }

    distributed func stopChildren(_ request: StopRequest) async throws -> [ChildStopOutcome] {
        let core = try running()
        return await onHubWorkExecutor { await core.handleStop(request) }
    }

    distributed func update(_ update: RegistryUpdate, from node: NodeID) async throws {
        let core = try running()
        await onHubWorkExecutor { await core.apply(update, from: node) }
    }

    /// A registry change travelling by gossip (``Gossip``).
    distributed func gossip(_ change: GossipChange) async throws {
        let core = try running()
        await onHubWorkExecutor { await core.receiveGossip(change) }
    }

    /// A digest round (``Gossip``). Handled after returning: a round hops on from here, and the
    /// sender must not wait for the hops after it.
    distributed func gossipRound(_ round: GossipRound) throws {
        let core = try running()
        Task(executorPreference: OffLoopExecutor.shared) { await core.receiveRound(round) }
    }

    /// `node` found its view of this node's slots out of date: send it a snapshot.
    distributed func requestSnapshot(for node: NodeID) throws {
        let core = try running()
        guard core.isMember(node) else { return }
        Task(executorPreference: OffLoopExecutor.shared) { await core.pushSnapshot(to: [node]) }
    }

    /// `node` stopped these children on purpose while this node was cut off from it.
    distributed func stoppedWhileAway(_ ids: [ChildID], by node: NodeID) async throws {
        let core = try running()
        // It may not be a hub member here yet: it tells this node at once when admitting it.
        guard core.isMember(node) || core.system.members.contains(node) else { return }
        await onHubWorkExecutor { await core.applyStopsMadeWhileAway(ids, epochs: nil) }
    }

    /// A message from a strategy to the same strategy on this node (``StrategyHost``).
    distributed func strategyMessage(_ envelope: StrategyEnvelope) async throws {
        try await running().strategyHost.deliver(envelope)
    }

    distributed func leaving(_ node: NodeID) throws {
        try running().peerHubLeaving(node)
    }

    /// The peer drains: it stops counting for placement and moves its children away itself.
    distributed func draining(_ node: NodeID) throws {
        try running().peerDraining(node)
    }

    /// States for children this node started with held calls (hot handover).
    distributed func completeHandover(_ delivery: HandoverDelivery) async throws {
        let core = try running()
        await onHubWorkExecutor { await core.completeHandover(delivery) }
    }
}
