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

    private init(system: ClusterSystem) {
        self.system = system
        self.agent = NodeAgent.start(on: system)
        self.trimmer = system.settings.memoryTrimInterval.flatMap { MemoryTrimmer.start(every: $0) }
    }

    /// Starts a node: validates the settings, binds the port and begins connecting to the seeds.
    ///
    /// Returns once the node listens; peers come up asynchronously (watch ``events``).
    ///
    /// For the lowest call latency, make NIO's event loops Swift's global executor at the top of
    /// your `main.swift` (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`)
    /// and keep the default `group`: a task awaiting a reply then resumes on the thread that read
    /// it instead of waking another thread.
    /// - Parameters:
    ///   - group: the event loops to use; by default NIO's shared `MultiThreadedEventLoopGroup.singleton`.
    ///     The node never shuts the group down.
    ///   - logger: where the node logs; `node` metadata is added.
    public static func start(
        _ settings: ClusterNodeSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "processhub.node")
    ) async throws -> ClusterNode {
        try settings.validate()
        let holder = SystemHolder()
        let server = try await ClusterSystem.bindServer(
            host: settings.host, port: settings.port, group: group, system: { holder.system })
        let port = server.localAddress?.port ?? settings.port
        let nodeID = NodeID(name: settings.name, host: settings.host, port: port, incarnation: .random(in: 1 ... .max))
        var logger = logger
        logger[metadataKey: "node"] = "\(settings.name)@\(settings.host):\(port)"
        let system = ClusterSystem(nodeID: nodeID, settings: settings, group: group, logger: logger)
        holder.system = system
        let node = ClusterNode(system: system)
        system.startTransport(server: server)
        logger.info("node started as \(nodeID)")
        return node
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
