import NIOCore

/// Everything a node needs to start. Only `name` and `secret` have no default.
public struct ClusterNodeSettings: Sendable {
    /// The node's name; several nodes may share a name if their addresses differ.
    public var name: String
    /// The host to listen on and to advertise to other nodes. Default `127.0.0.1`.
    public var host: String
    /// The port to listen on; `0` picks any free port (the node's ``NodeID`` tells which).
    public var port: Int
    /// The cluster secret. Nodes with a different secret cannot connect.
    public var secret: ClusterSecret
    /// Addresses of nodes to connect to at start; the rest of the cluster is learned from them.
    public var seeds: [NodeAddress]
    /// Labels advertised in the handshake (for example `zone=a`), for zone-aware placement later.
    public var labels: [String: String]
    /// A heartbeat is sent on a link after this long without any other write. Default 250 ms.
    public var heartbeatInterval: Duration
    /// A link that has received nothing for this long is closed and its peer reported down with
    /// ``MembershipEvent/DownReason/heartbeatTimeout``. Default 1.2 s, so a silent peer (stopped
    /// process, cut link) is detected in well under 2 seconds.
    public var heartbeatTimeout: Duration
    /// How long a remote call waits for its reply unless the caller says otherwise
    /// (``ClusterSystem/withCallTimeout(_:operation:)``). Default 5 s.
    public var callTimeout: Duration
    /// The largest frame a node writes or accepts, in bytes. A larger inbound frame closes that
    /// link; a larger outbound call fails with ``ClusterError/Code/messageTooLarge``. Default 16 MiB.
    public var maxFrameSize: Int
    /// How long a new connection may take to complete the handshake. Default 3 s.
    public var handshakeTimeout: Duration
    /// How often the node retries seeds and lost peers and re-announces its members. Default 1 s.
    public var reconnectInterval: Duration
    /// How long a peer that went down (not by leaving) is retried before it is forgotten. Default 60 s.
    public var forgetDownPeerAfter: Duration
    /// Where inbound remote calls run. Default ``InboundExecution/eventLoop``.
    public var inboundExecution: InboundExecution
    /// TLS (by default mutual TLS) on every connection of the node, under the cluster handshake.
    /// `nil` (the default) keeps links in plain TCP. See ``NodeTLS``.
    public var tls: NodeTLS?
    /// How often the node checks whether its resident memory grew by more than 16 MiB since it
    /// last gave freed memory back to the system (glibc's `malloc_trim`), and does so once the
    /// growth stops. Large batches (tens of thousands of children) leave their freed buffers
    /// resident otherwise. `nil` turns this off (for example when the host process manages its
    /// allocator itself). Default 500 ms; no effect without glibc.
    public var memoryTrimInterval: Duration?

    /// Whether the node starts without a listening socket and without seeds: its actors are
    /// reachable from this process only until ``ClusterNode/promote(host:port:seeds:)``.
    /// Set by ``localOnly(name:secret:)``.
    public var isLocalOnly: Bool

    /// Settings for a node that starts local-only: no socket, no seeds, port 0 in its ``NodeID``.
    /// Promote it with ``ClusterNode/promote(host:port:seeds:)`` to make it reachable.
    public static func localOnly(name: String, secret: ClusterSecret) -> ClusterNodeSettings {
        var settings = ClusterNodeSettings(name: name, secret: secret)
        settings.isLocalOnly = true
        return settings
    }

    /// Where the system runs the distributed functions that remote nodes call.
    public enum InboundExecution: Sendable {
        /// On the receiving connection's event-loop thread (as task executor preference):
        /// fewest thread hops, lowest latency. Long blocking work in a distributed function
        /// delays that connection's other traffic, so move heavy work off to your own tasks.
        case eventLoop
        /// On Swift's global concurrent executor: one more thread hop per call.
        case globalExecutor
    }

    /// Creates settings with the documented defaults.
    public init(
        name: String,
        host: String = "127.0.0.1",
        port: Int = 0,
        secret: ClusterSecret,
        seeds: [NodeAddress] = []
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.secret = secret
        self.seeds = seeds
        self.labels = [:]
        self.heartbeatInterval = .milliseconds(250)
        self.heartbeatTimeout = .milliseconds(1200)
        self.callTimeout = .seconds(5)
        self.maxFrameSize = 16 * 1024 * 1024
        self.handshakeTimeout = .seconds(3)
        self.reconnectInterval = .seconds(1)
        self.forgetDownPeerAfter = .seconds(60)
        self.inboundExecution = .eventLoop
        self.tls = nil
        self.memoryTrimInterval = .milliseconds(500)
        self.isLocalOnly = false
    }

    /// Throws ``ClusterError/Code/invalidSettings`` when a value cannot work.
    func validate() throws(ClusterError) {
        func fail(_ message: String) -> ClusterError { ClusterError(.invalidSettings, message) }
        if name.isEmpty { throw fail("the node name is empty") }
        if secret.isEmpty { throw fail("the cluster secret is empty") }
        if !(0...65535).contains(port) { throw fail("port \(port) is out of range") }
        if heartbeatInterval <= .zero { throw fail("heartbeatInterval must be positive") }
        if heartbeatTimeout <= heartbeatInterval { throw fail("heartbeatTimeout must exceed heartbeatInterval") }
        if callTimeout <= .zero { throw fail("callTimeout must be positive") }
        if maxFrameSize < 1024 { throw fail("maxFrameSize must be at least 1024 bytes") }
        if maxFrameSize > Int(Int32.max) { throw fail("maxFrameSize must fit in 31 bits") }
        if isLocalOnly && !seeds.isEmpty { throw fail("a local-only node has no seeds; pass them to promote") }
        if let interval = memoryTrimInterval, interval <= .zero { throw fail("memoryTrimInterval must be positive") }
    }
}
