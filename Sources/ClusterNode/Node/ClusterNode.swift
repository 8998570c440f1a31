import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A running node of a cluster: it listens, connects to its seeds and the rest of the cluster
/// (full mesh), authenticates peers, detects failures and carries distributed actor calls.
///
/// ```swift
/// let node = try await ClusterNode.start(.init(
///     name: "n1", port: 7001, secret: .init("s3cret"), seeds: [NodeAddress("127.0.0.1:7002")!]))
/// for await event in node.events { print(event) }   // up / down with a reason
/// ```
public final class ClusterNode: Sendable {
    /// The node's distributed actor system: pass it to your distributed actors.
    public let system: ClusterSystem
    private let agent: NodeAgent
    private let trimmer: MemoryTrimmer?
    /// How the listener finds the system; kept for a promotion's listener.
    private let holder: SystemHolder

    private init(system: ClusterSystem, holder: SystemHolder) {
        self.system = system
        self.holder = holder
        self.agent = NodeAgent.start(on: system)
        self.trimmer = system.settings.memoryTrimInterval.flatMap { MemoryTrimmer.start(every: $0) }
    }

    /// Starts a node: validates the settings (and loads its TLS material), binds the port and
    /// begins connecting to the seeds. Invalid settings throw ``ClusterError/Code/invalidSettings``.
    ///
    /// Returns once the node listens; peers come up asynchronously (watch ``events``).
    ///
    /// For the lowest call latency, make NIO's event loops Swift's global executor at the top of
    /// your `main.swift` (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`)
    /// and keep the default `group`: a task awaiting a reply then resumes on the thread that read
    /// it instead of waking another thread.
    /// - Parameters:
    ///   - settings: the node's name, address, secret, seeds and timings.
    ///   - group: the event loops to use; by default NIO's shared `MultiThreadedEventLoopGroup.singleton`.
    ///     The node never shuts the group down.
    ///   - logger: where the node logs; `node` metadata is added.
    public static func start(
        _ settings: ClusterNodeSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "processhub.node")
    ) async throws -> ClusterNode {
        try settings.validate()
        let tls = try settings.tls.map { tls throws(ClusterError) in try TLSContexts(tls) }
        let holder = SystemHolder()
        let server: (any Channel)?
        if settings.isLocalOnly {
            server = nil
        } else {
            server = try await ClusterSystem.bindServer(
                host: settings.host, port: settings.port, group: group, system: { holder.system })
        }
        let port = server?.localAddress?.port ?? settings.port
        let nodeID = NodeID(name: settings.name, host: settings.host, port: port, incarnation: .random(in: 1 ... .max))
        var logger = logger
        logger[metadataKey: "node"] = "\(settings.name)@\(settings.host):\(port)"
        let system = ClusterSystem(nodeID: nodeID, settings: settings, tls: tls, group: group, logger: logger)
        holder.system = system
        let node = ClusterNode(system: system, holder: holder)
        if let server { system.startTransport(server: server) }
        logger.info("node started as \(nodeID)\(settings.isLocalOnly ? " (local-only)" : "")")
        return node
    }

    /// Makes a local-only node reachable: binds `host`:`port` (`0` picks a free port), takes the
    /// ``NodeID`` of that address (same name and incarnation) and connects to `seeds`.
    ///
    /// Actors created before keep working: ids of the local-only life still name this node here,
    /// and other nodes reach the same actors under the new node id (``ClusterSystem/currentID(of:)``).
    /// A hub on this node follows with `ProcessHub.promote()`.
    ///
    /// Throws ``ClusterError/Code/invalidSettings`` when the node already listens, or the bind error.
    public func promote(host: String = "127.0.0.1", port: Int = 0, seeds: [NodeAddress] = []) async throws {
        try system.beginPromotion()
        let server: any Channel
        do {
            server = try await ClusterSystem.bindServer(host: host, port: port, group: system.group) { [holder] in
                holder.system
            }
        } catch {
            system.abandonPromotion()
            throw error
        }
        let old = system.nodeID
        let newID = NodeID(name: old.name, host: host, port: server.localAddress?.port ?? port, incarnation: old.incarnation)
        system.completePromotion(to: newID, server: server, seeds: seeds)
        system.logger.info("node promoted from \(old) to \(newID)")
    }

    /// This node's identity (its port is the real one when started with port 0).
    public var id: NodeID { system.nodeID }

    /// The nodes this node is connected to, itself excluded.
    public var members: [NodeID] { system.members }

    /// Membership changes, starting with an `up` event per current member. Each access makes
    /// an independent stream; it finishes at ``shutdown()``.
    public var events: AsyncStream<MembershipEvent> { system.membershipEvents() }

    /// Leaves the cluster gracefully: peers are told and see this node leave at once, calls in
    /// flight fail, and links and the listener close.
    public func shutdown() async {
        system.logger.info("node shutting down")
        trimmer?.stop()
        await system.shutdownTransport()
    }
}

/// Lets the listener's child initialiser find the system, which exists only once the port is known.
private final class SystemHolder: Sendable {
    private let box = Mutex<ClusterSystem?>(nil)
    var system: ClusterSystem? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}
