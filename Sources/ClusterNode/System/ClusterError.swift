/// The typed error of the cluster engine: what went wrong with a node, a link or a remote call.
///
/// It is `Codable`, so a node can send it to another and the caller rethrows it as itself.
public struct ClusterError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; switch on it.
    public enum Code: String, Codable, Sendable {
        /// A remote call got no reply within its timeout.
        case callTimeout
        /// The target's node is down, or went down while the call was in flight.
        case nodeDown
        /// The id belongs to an earlier life of a node that has since restarted.
        case deadIncarnation
        /// There is no link to the target's node.
        case notConnected
        /// The target node has no actor with that id.
        case unknownActor
        /// The target actor has no distributed function with that identifier.
        case unknownMethod
        /// The target could not decode the call's arguments.
        case invalidArguments
        /// The reply value could not be decoded by the caller.
        case invalidReply
        /// The remote function threw an error of a type that is not registered on this node;
        /// ``ClusterError/remoteType`` and the message describe it.
        case remoteError
        /// No actor kind with that name is registered on the target node.
        case unknownKind
        /// A frame would exceed the maximum frame size.
        case messageTooLarge
        /// The node is shutting down or has shut down.
        case shutDown
        /// The node settings cannot work.
        case invalidSettings
        /// The peer broke the protocol (malformed frame, unknown frame kind, failed handshake).
        case protocolViolation
        /// The call's task was cancelled before the reply arrived.
        case cancelled
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// For ``Code/remoteError``: the type name of the error thrown on the remote node.
    public var remoteType: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, remoteType: String? = nil) {
        self.code = code
        self.message = message
        self.remoteType = remoteType
    }

    /// `code: message`.
    public var description: String {
        if let remoteType { return "\(code.rawValue) (\(remoteType)): \(message)" }
        return "\(code.rawValue): \(message)"
    }
}
