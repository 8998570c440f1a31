import Distributed
import NIOCore
import Synchronization

/// The kinds of actor a node can create on request: name → factory taking Codable arguments.
///
/// Only registered kinds can be created by a remote node — never arbitrary code.
final class ActorKindRegistry: Sendable {
    typealias Factory = @Sendable (ClusterSystem, ByteBuffer) async throws -> any DistributedActor

    private let factories = Mutex<[String: Factory]>([:])

    func register(_ kind: String, factory: @escaping Factory) {
        factories.withLock { $0[kind] = factory }
    }

    func factory(for kind: String) -> Factory? {
        factories.withLock { $0[kind] }
    }

    var names: [String] {
        factories.withLock { $0.keys.sorted() }
    }
}

extension ClusterSystem {
    /// Registers a kind of actor this node creates when asked (by itself or by a remote node).
    ///
    /// ```swift
    /// node.system.registerKind("counter", arguments: Counter.Arguments.self) { system, arguments in
    ///     Counter(actorSystem: system, arguments: arguments)
    /// }
    /// ```
    /// Registering a name again replaces its factory.
    public func registerKind<Arguments: Decodable & Sendable>(
        _ kind: String, arguments: Arguments.Type,
        make: @escaping @Sendable (ClusterSystem, Arguments) async throws -> any DistributedActor
    ) {
        kinds.register(kind) { system, buffer in
            let arguments: Arguments
            do {
                arguments = try system.decode(Arguments.self, from: buffer)
            } catch {
                throw ClusterError(.invalidArguments, "arguments for kind \(kind) are not a valid \(Arguments.self): \(error)")
            }
            return try await make(system, arguments)
        }
    }

    /// The names of the kinds registered on this node.
    public var registeredKinds: [String] { kinds.names }

    /// Creates an actor of a registered kind on `node` (this node when `nil`) and returns its id.
    /// The actor stays alive until ``stopActor(_:)``.
    ///
    /// Throws ``ClusterError/Code/unknownKind`` when `node` has no such kind registered.
    public func spawn<Arguments: Encodable>(
        kind: String, arguments: Arguments, on node: NodeID? = nil
    ) async throws -> ActorID {
        let encoded = try BinaryEncoder().encode(arguments)
        guard let node, !isLocal(node) else {
            return try await spawnLocally(kind: kind, arguments: ByteBuffer(bytes: encoded))
        }
        return try await NodeAgent.resolve(on: node, system: self).spawn(kind: kind, arguments: encoded)
    }

    /// Stops an actor the system keeps alive — one created with ``spawn(kind:arguments:on:)``, or
    /// a well-known actor of this node: its node lets go of it, and it deinitialises once nobody
    /// else references it. Returns whether the actor was held there.
    @discardableResult
    public func stopActor(_ id: ActorID) async throws -> Bool {
        if isLocal(id.node) { return release(id) }
        return try await NodeAgent.resolve(on: id.node, system: self).stop(id)
    }

    func spawnLocally(kind: String, arguments: ByteBuffer) async throws -> ActorID {
        guard let factory = kinds.factory(for: kind) else {
            throw ClusterError(.unknownKind, "kind \"\(kind)\" is not registered on \(nodeID)")
        }
        let actor = try await factory(self, arguments)
        guard let id = actor.id as? ActorID, isLocal(id.node) else {
            throw ClusterError(.invalidArguments, "the factory of kind \(kind) made an actor of another system")
        }
        retain(actor, id: id)
        return id
    }
}
