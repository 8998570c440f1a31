import ClusterNode
import Logging
import Synchronization

/// What a strategy gets from the hub it serves when it needs more than the node list: its node,
/// the hub nodes, where children run, messages to the same strategy on other nodes, periodic work
/// and hooks.
///
/// The hub hands its host to ``DistributionStrategy/attach(to:)`` once, when it starts. Messages
/// and periodic work only flow while the hub runs; a message may be lost (a peer that is down or
/// slow misses it), so a strategy must tolerate loss, for instance by repeating state periodically.
///
/// ```swift
/// func attach(to host: StrategyHost) -> any DistributionStrategy {
///     host.receive(on: "ping", as: String.self) { text, sender in print(sender, text) }
///     host.every(.seconds(5)) { await host.send("hello", on: "ping", to: host.hubNodes) }
///     return self
/// }
/// ```
public final class StrategyHost: Sendable {
    /// The node this hub runs on.
    public let localNode: NodeID
    /// The hub's logger.
    public let logger: Logger

    private struct State {
        weak var hub: (any StrategyHostBackend)?
        var isBound = false
        var receivers: [String: @Sendable ([UInt8], NodeID) async -> Void] = [:]
        var periodic: [(interval: Duration, body: @Sendable () async -> Void)] = []
    }

    private let state = Mutex(State())

    init(localNode: NodeID, logger: Logger = Logger(label: "processhub.strategy")) {
        self.localNode = localNode
        self.logger = logger
    }

    /// Connects the host to its running hub and starts the periodic work registered so far.
    func bind(_ hub: any StrategyHostBackend) {
        let periodic = state.withLock { state in
            state.hub = hub
            state.isBound = true
            return state.periodic
        }
        for work in periodic { startLoop(work.interval, work.body) }
    }

    private var hub: (any StrategyHostBackend)? { state.withLock { $0.hub } }

    /// Whether the hub has stopped (work and messages have ended).
    public var isStopped: Bool {
        state.withLock { state in state.isBound && (state.hub?.isStopped ?? true) }
    }

    /// The hub's nodes, this one included, sorted.
    public var hubNodes: [NodeID] { hub?.hubNodes ?? [localNode] }

    /// The nodes the registry says run the child (empty when it runs nowhere).
    public func nodes(hosting childID: ChildID) -> [NodeID] {
        hub?.registry.actorIDs(of: childID).map(\.node) ?? []
    }

    /// How many children run on this node.
    public func localChildCount() async -> Int {
        await hub?.supervisor.runningCount ?? 0
    }

    /// How much hub work is waiting on this node (topology batches buffered or being handled).
    public var pendingWork: Int { hub?.pendingTopologyWork ?? 0 }

    /// Fires an event hook of the hub.
    public func fire<Payload>(_ key: HookKey<Payload>, _ payload: Payload) async {
        await hub?.hooks.dispatch(key, payload)
    }

    // MARK: Messages

    /// Handles the messages sent on `channel` by the same strategy on any hub node (this one
    /// included). One handler per channel: a later registration replaces it.
    public func receive<Message: Codable & Sendable>(
        on channel: String, as type: Message.Type,
        _ handler: @escaping @Sendable (Message, NodeID) async -> Void
    ) {
        let logger = self.logger
        let decode: @Sendable ([UInt8], NodeID) async -> Void = { bytes, sender in
            do {
                await handler(try BinaryDecoder().decode(Message.self, from: bytes), sender)
            } catch {
                logger.warning("undecodable strategy message", metadata: ["channel": "\(channel)", "peer": "\(sender)", "error": "\(error)"])
            }
        }
        state.withLock { $0.receivers[channel] = decode }
    }

    /// Sends `message` on `channel` to each of `nodes` (concurrently; this node gets it without
    /// the network) and returns when every node answered or failed. Failures are logged.
    public func send<Message: Codable & Sendable>(_ message: Message, on channel: String, to nodes: [NodeID]) async {
        guard let hub else { return }
        let envelope: StrategyEnvelope
        do {
            envelope = StrategyEnvelope(channel: channel, sender: localNode, payload: try BinaryEncoder().encode(message))
        } catch {
            logger.error("cannot encode a strategy message on \(channel): \(error)")
            return
        }
        if nodes.contains(localNode) { await deliver(envelope) }
        await hub.sendStrategyMessage(envelope, to: nodes.filter { $0 != localNode })
    }

    /// Hands a received message to its channel's handler; messages from non-members are dropped.
    func deliver(_ envelope: StrategyEnvelope) async {
        let (receiver, hub) = state.withLock { ($0.receivers[envelope.channel], $0.hub) }
        guard let receiver, let hub, hub.isMember(envelope.sender) else { return }
        await receiver(envelope.payload, envelope.sender)
    }

    // MARK: Periodic work

    /// Runs `body` now (or when the hub starts) and then every `interval`, until the hub stops.
    public func every(_ interval: Duration, _ body: @escaping @Sendable () async -> Void) {
        let isBound = state.withLock { state in
            if !state.isBound { state.periodic.append((interval, body)) }
            return state.isBound
        }
        if isBound { startLoop(interval, body) }
    }

    private func startLoop(_ interval: Duration, _ body: @escaping @Sendable () async -> Void) {
        Task(executorPreference: OffLoopExecutor.shared) { [weak self] in
            while let host = self, !host.isStopped {
                await body()
                try? await Task.sleep(for: interval)
            }
        }
    }
}

/// What a ``StrategyHost`` needs from the hub it serves (the driver, or the legacy coordinator).
protocol StrategyHostBackend: AnyObject, Sendable {
    var isStopped: Bool { get }
    var hubNodes: [NodeID] { get }
    var registry: ChildRegistry { get }
    var supervisor: ChildSupervisor { get }
    var hooks: HookRegistry { get }
    /// Topology batches buffered or being handled.
    var pendingTopologyWork: Int { get }
    /// Whether `node` is this node or a hub peer.
    func isMember(_ node: NodeID) -> Bool
    /// Sends a strategy message to these peers; failures are logged, not thrown.
    func sendStrategyMessage(_ envelope: StrategyEnvelope, to peers: [NodeID]) async
}

/// A strategy message on its way to the same strategy on another node.
package struct StrategyEnvelope: Codable, Sendable, Hashable {
    package var channel: String
    package var sender: NodeID
    package var payload: [UInt8]
}

extension HubConfiguration {
    /// The configuration a hub runs with: its strategies attached to the hub's `host`.
    func attachingStrategies(to host: StrategyHost) -> HubConfiguration {
        var configuration = self
        configuration.distribution = distribution.attach(to: host)
        configuration.partitionTolerance = partitionTolerance.attach(to: host)
        return configuration
    }

    /// Asks the strategies whether they work with the rest of the configuration.
    func validateDistribution() throws(HubError) {
        try distribution.validate(configuration: self)
    }
}
