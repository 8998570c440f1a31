import ClusterNode
import Distributed
import ProcessHub

/// A child kind that reports where it runs.
distributed actor Worker: HubProcess {
    typealias ActorSystem = ClusterSystem
    static let kind: HubKind = "worker"

    /// Workers need no arguments.
    struct Arguments: Codable, Sendable {}

    private let childID: ChildID

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
        self.childID = context.childID
    }

    /// The name of the node this instance runs on.
    distributed func nodeName() -> String { actorSystem.nodeID.name }
}
