import ClusterNode
import Distributed
import ProcessHub

/// The demo's stateful child: a counter.
public distributed actor Counter: HubProcess {
    /// Counters live in a `ClusterSystem`.
    public typealias ActorSystem = ClusterSystem

    /// The kind name hubs register counters under.
    public static let kind: HubKind = "counter"

    /// The counter's starting value.
    public struct Arguments: Codable, Sendable {
        /// The first value.
        public var start: Int
        /// Creates arguments.
        public init(start: Int = 0) { self.start = start }
    }

    private var value: Int
    private let childID: ChildID

    /// Creates a counter (the hub does).
    public init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
        self.value = arguments.start
        self.childID = context.childID
    }

    /// Adds `n` and returns the new value.
    public distributed func increment(by n: Int = 1) -> Int {
        value += n
        return value
    }

    /// The current value.
    public distributed func current() -> Int { value }

    /// The child id and the node it runs on.
    public distributed func whereAreYou() -> String { "\(childID)@\(actorSystem.nodeID)" }
}

/// Registers the demo kinds in a hub configuration: `counter`.
public func registerDemoKinds(in configuration: inout HubConfiguration) {
    configuration.register(Counter.self)
}
