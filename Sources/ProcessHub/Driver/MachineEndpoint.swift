import ClusterNode
import Distributed

/// The one entry point of hub-to-hub traffic for a ``HubDriver``: peers deliver encoded
/// ``HubEnvelope``s here, under the well-known name `processhub.machine.<hub id>`.
distributed actor MachineEndpoint {
    typealias ActorSystem = ClusterSystem

    private let inbox: @Sendable (HubEnvelope, NodeID) -> Void
    private let refused: @Sendable (HubError, NodeID) -> Void

    init(
        actorSystem: ClusterSystem, inbox: @escaping @Sendable (HubEnvelope, NodeID) -> Void,
        refused: @escaping @Sendable (HubError, NodeID) -> Void
    ) {
        self.actorSystem = actorSystem
        self.inbox = inbox
        self.refused = refused
    }

    static func wellKnownName(of hubID: HubID) -> String { "processhub.machine.\(hubID.name)" }

    static func resolve(_ hubID: HubID, on node: NodeID, using system: ClusterSystem) throws -> MachineEndpoint {
        try resolve(id: ActorID(node: node, wellKnownName: wellKnownName(of: hubID)), using: system)
    }

    /// Decodes one message and hands it to the driver; what this build cannot read is refused
    /// with a typed error (thrown back to the sender) and changes nothing here.
    distributed func deliver(_ bytes: [UInt8], from node: NodeID) throws(HubError) {
        do {
            inbox(try HubEnvelope.decode(bytes), node)
        } catch {
            refused(error, node)
            throw error
        }
    }
}
