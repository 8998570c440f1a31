import ClusterNode
import Distributed

/// A small argument/result struct, the size of a typical remote call's payload.
public struct Ping: Codable, Sendable, Equatable {
    /// A sequence number.
    public var sequence: Int
    /// A short text.
    public var text: String
    /// A flag.
    public var flag: Bool

    /// Creates a ping.
    public init(sequence: Int, text: String, flag: Bool) {
        self.sequence = sequence
        self.text = text
        self.flag = flag
    }
}

/// An error type registered on every node that runs the demo kinds, so it travels as itself.
public struct EchoError: Error, Codable, Sendable, Equatable {
    /// What went wrong.
    public var reason: String
    /// Creates the error.
    public init(reason: String) { self.reason = reason }
}

/// An error type nobody registers: it arrives as `ClusterError.remoteError`.
public struct UnregisteredEchoError: Error, Sendable {
    /// What went wrong.
    public var reason: String
}

/// The actor the tests and benchmarks call across nodes.
public distributed actor Echo {
    /// Echo actors live in a `ClusterSystem`.
    public typealias ActorSystem = ClusterSystem

    /// The kind name under which nodes register `Echo`.
    public static let kind = "echo"

    /// Arguments for creating an `Echo` by kind.
    public struct Arguments: Codable, Sendable {
        /// A label the actor reports back.
        public var label: String
        /// Creates arguments.
        public init(label: String) { self.label = label }
    }

    private let label: String

    /// Creates an echo actor.
    public init(actorSystem: ClusterSystem, label: String) {
        self.actorSystem = actorSystem
        self.label = label
    }

    /// Returns its label.
    public distributed func name() -> String { label }

    /// Returns its argument.
    public distributed func echo(_ ping: Ping) -> Ping { ping }

    /// Adds two numbers.
    public distributed func add(_ a: Int, _ b: Int) -> Int { a + b }

    /// Does nothing (a void call).
    public distributed func touch() {}

    /// Throws a registered error.
    public distributed func failRegistered(_ reason: String) throws { throw EchoError(reason: reason) }

    /// Throws an unregistered error.
    public distributed func failUnregistered(_ reason: String) throws { throw UnregisteredEchoError(reason: reason) }

    /// Sleeps, then answers (for timeouts and in-flight failures).
    public distributed func slow(milliseconds: Int) async throws -> Int {
        try await Task.sleep(for: .milliseconds(milliseconds))
        return milliseconds
    }

    /// Calls `other` back (an actor reference passed as an argument) and returns its answer.
    public distributed func callBack(_ other: Echo, with ping: Ping) async throws -> String {
        let reply = try await other.echo(ping)
        return "\(label) via \(try await other.name()): \(reply.text)"
    }

    /// Returns its payload's size (for large-argument tests).
    public distributed func size(of payload: [UInt8]) -> Int { payload.count }

    /// Returns a payload of `count` bytes (for oversized replies).
    public distributed func payload(count: Int) -> [UInt8] { [UInt8](repeating: 7, count: count) }
}

/// Registers the demo kinds on a node: `echo`.
public func registerDemoKinds(on system: ClusterSystem) {
    system.registerErrorType(EchoError.self)
    system.registerErrorType(CounterMovedError.self)
    system.registerKind(Echo.kind, arguments: Echo.Arguments.self) { system, arguments in
        Echo(actorSystem: system, label: arguments.label)
    }
}
