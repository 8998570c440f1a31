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

    /// A counter's handed-over state: its value.
    public typealias HandoverState = Int

    private var value: Int
    /// The value this instance started from (its arguments).
    private let initial: Int
    private let childID: ChildID
    /// Set once the value was handed to a successor: this instance refuses work from then on,
    /// so no increment can land after the capture (calls from this node bypass the hub's seal).
    private var handedOver = false

    /// Creates a counter (the hub does).
    public init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
        self.value = arguments.start
        self.initial = arguments.start
        self.childID = context.childID
    }

    /// Adds `n` and returns the new value. Throws ``CounterMovedError`` once the counter has
    /// handed its value to its successor on another node: look the child up again and retry.
    public distributed func increment(by n: Int = 1) throws -> Int {
        if handedOver { throw CounterMovedError(childID: childID) }
        value += n
        return value
    }

    /// The current value.
    public distributed func current() throws -> Int {
        if handedOver { throw CounterMovedError(childID: childID) }
        return value
    }

    /// Hands the value over and stops serving.
    public func prepareHandoverState() async -> Int? {
        handedOver = true
        return value
    }

    /// Takes the predecessor's value plus whatever this instance counted meanwhile (a caller on
    /// this node may have reached it before the handover), so no increment is lost.
    public func alterHandoverState(_ state: Int) async {
        value = state + (value - initial)
    }

    /// The child id and the node it runs on.
    public distributed func whereAreYou() -> String { "\(childID)@\(actorSystem.nodeID)" }
}

/// Thrown by a ``Counter`` that moved to another node: look it up again and retry.
public struct CounterMovedError: Error, Codable, Sendable, Equatable {
    /// The counter.
    public var childID: ChildID
    /// Creates the error.
    public init(childID: ChildID) { self.childID = childID }
}

/// Registers the demo kinds in a hub configuration: `counter`.
public func registerDemoKinds(in configuration: inout HubConfiguration) {
    configuration.register(Counter.self)
}
