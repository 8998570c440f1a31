import ClusterNode
import Distributed
import ProcessHub

/// A child kind: a distributed actor that adopts `HubProcess`.
///
/// The hub creates it from a ``ChildSpec`` that names its `kind` and carries its `Arguments`;
/// any node that registered the kind can host it.
distributed actor Greeter: HubProcess {
    typealias ActorSystem = ClusterSystem

    /// The stable name child specs refer to.
    static let kind: HubKind = "greeter"

    /// What a spec carries to create a greeter.
    struct Arguments: Codable, Sendable {
        var greeting: String
    }

    private let greeting: String
    private let childID: ChildID
    private var calls = 0

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
        self.greeting = arguments.greeting
        self.childID = context.childID
    }

    /// Greets `name` and counts the calls this instance answered.
    distributed func greet(_ name: String) -> String {
        calls += 1
        return "\(greeting), \(name)! (\(childID), call \(calls))"
    }
}
