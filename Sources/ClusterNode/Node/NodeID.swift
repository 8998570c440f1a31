/// The identity of one running node: where it listens and which life of that endpoint it is.
///
/// The `incarnation` is a random 64-bit value chosen each time a node starts, so a node that
/// restarts on the same host and port is never confused with its previous life: actor ids and
/// registry entries of the old incarnation are recognisably dead.
public struct NodeID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The node's human-readable name (`n1`, `api-3`, …).
    public var name: String
    /// The host the node listens on, as other nodes reach it.
    public var host: String
    /// The TCP port the node listens on.
    public var port: Int
    /// A random value chosen at each start of the node.
    public var incarnation: UInt64

    /// Creates a node identity. Nodes create their own; tests and tools may build one by hand.
    public init(name: String, host: String, port: Int, incarnation: UInt64) {
        self.name = name
        self.host = host
        self.port = port
        self.incarnation = incarnation
    }

    /// Parses the ``description`` form `name@host:port#incarnation` (incarnation in hexadecimal).
    public init?(_ text: String) {
        guard let at = text.firstIndex(of: "@"), let hash = text.lastIndex(of: "#"), at < hash,
            let address = NodeAddress(String(text[text.index(after: at)..<hash])),
            let incarnation = UInt64(text[text.index(after: hash)...], radix: 16)
        else { return nil }
        self.init(name: String(text[..<at]), host: address.host, port: address.port, incarnation: incarnation)
    }

    /// The address other nodes connect to.
    public var address: NodeAddress { NodeAddress(host: host, port: port) }

    /// Whether `other` is the same endpoint (host and port), whatever its incarnation.
    public func sameEndpoint(as other: NodeID) -> Bool {
        host == other.host && port == other.port
    }

    /// A total order used for deterministic tie-breaks (for example simultaneous connects).
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        (lhs.host, lhs.port, lhs.name, lhs.incarnation) < (rhs.host, rhs.port, rhs.name, rhs.incarnation)
    }

    /// `name@host:port#incarnation` with the incarnation in hexadecimal.
    public var description: String {
        "\(name)@\(host):\(port)#\(String(incarnation, radix: 16))"
    }
}

/// A host and port pair, as given for seeds and listen addresses (`127.0.0.1:7001`).
public struct NodeAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The host name or IP address.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Creates an address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 hosts in brackets: `[::1]:7001`). Returns `nil` when malformed.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"),
            let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    /// `host:port`.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
