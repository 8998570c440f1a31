/// A change in the set of nodes this node is connected to.
public enum MembershipEvent: Sendable, Hashable, CustomStringConvertible {
    /// An authenticated link to `node` is up.
    case up(NodeID)
    /// `node` is no longer reachable, and why.
    case down(NodeID, DownReason)

    /// Why a node is considered down.
    public enum DownReason: String, Sendable, Hashable, Codable {
        /// Its link closed (the process died, the socket was reset).
        case connectionLost
        /// Nothing arrived from it within the heartbeat timeout (stopped process, cut network).
        case heartbeatTimeout
        /// It said it was leaving (graceful shutdown).
        case left
        /// A new incarnation of the same endpoint connected: the old one is gone for good.
        case restarted
    }

    /// The node the event is about.
    public var node: NodeID {
        switch self {
        case .up(let node), .down(let node, _): node
        }
    }

    /// `up n1@…` / `down n1@… (heartbeatTimeout)`.
    public var description: String {
        switch self {
        case .up(let node): "up \(node)"
        case .down(let node, let reason): "down \(node) (\(reason.rawValue))"
        }
    }
}
