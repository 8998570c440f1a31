import ClusterNode
import Distributed
import ProcessHub

/// A stateful child: a tally that hands its value to its successor when it moves.
distributed actor Tally: HubProcess {
    typealias ActorSystem = ClusterSystem
    static let kind: HubKind = "tally"

    struct Arguments: Codable, Sendable {}

    /// What moves with the child: its value.
    typealias HandoverState = Int

    private var value = 0
    /// Set once the value went to the successor: a call that reaches this instance directly
    /// (from its own node) must not count anything any more.
    private var handedOver = false

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
    }

    /// Adds `n` and returns the new value.
    distributed func add(_ n: Int) throws -> Int {
        if handedOver { throw TallyMoved() }
        value += n
        return value
    }

    /// The current value.
    distributed func current() throws -> Int {
        if handedOver { throw TallyMoved() }
        return value
    }

    /// The name of the node this instance runs on.
    distributed func nodeName() -> String { actorSystem.nodeID.name }

    /// Called on the old instance: the state to hand over.
    func prepareHandoverState() async -> Int? {
        handedOver = true
        return value
    }

    /// Called on the new instance, before remote calls reach it.
    func alterHandoverState(_ state: Int) async {
        value += state
    }
}

/// Thrown by a tally that already handed its value over: look it up again and retry.
struct TallyMoved: Error, Codable {}
