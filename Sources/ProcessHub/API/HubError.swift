/// The typed error of hub operations that fail as a whole (as opposed to the per-child errors in
/// ``StartResult`` and ``StopResult``).
public struct HubError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; switch on it.
    public enum Code: String, Sendable, Hashable, Codable {
        /// The configuration cannot work (see the message).
        case invalidConfiguration
        /// A start was asked for no children.
        case noChildren
        /// With `checkExisting`, some ids are already registered (``HubError/childIDs``); nothing started.
        case alreadyStarted
        /// The same id appears twice in one start request (``HubError/childIDs``).
        case duplicateChildIDs
        /// The awaited result did not arrive in time.
        case timeout
        /// The hub is stopped (or stopping).
        case hubStopped
        /// A hub with this id already runs on this node.
        case hubAlreadyRunning
        /// The hub is partitioned from the cluster (partition-tolerance strategies).
        case partitioned
        /// ``Guided``: the start has no `childMapping`.
        case missingChildMapping
        /// ``Guided``: the mapping names a node that is not a hub member, or no node at all.
        case invalidChildMapping
        /// ``Guided``: some children of the batch are not in the mapping (``HubError/childIDs``).
        case childMappingMismatch
        /// ``Guided``: some mappings do not list exactly replication-factor nodes (``HubError/childIDs``).
        case childReplicationMismatch
        /// A drain found no other hub node to move children to.
        case noTargetNodes
        /// The hub is draining (or drained): it takes no drain and no new members.
        case draining
        /// Topology work is pending (``ProcessHub/isLocked``); try again.
        case locked
        /// ``ProcessHub/migrateChild(_:to:)``: no such child is registered.
        case notFound
        /// ``ProcessHub/migrateChild(_:to:)``: the target is not a member of the hub.
        case notAMember
        /// ``ProcessHub/migrateChild(_:to:)``: the child already runs on the target.
        case sameNode
        /// ``ProcessHub/migrateChild(_:to:)``: the move failed on its way (see the message).
        case migrateRouteFailed
        /// ``ProcessHub/promote()``: the node is still local-only (ProcessHub's `:not_alive`).
        case notAlive
        /// A hub message was written in a protocol version this build does not read.
        case unsupportedProtocol
        /// A hub message could not be decoded (truncated, corrupt, or of an unknown kind).
        case malformedMessage
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The children concerned, when the error is about particular ids.
    public var childIDs: [ChildID]

    /// Creates an error.
    public init(_ code: Code, _ message: String, childIDs: [ChildID] = []) {
        self.code = code
        self.message = message
        self.childIDs = childIDs
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}

/// Why one child could not be started or stopped; reported per child in results.
public struct ChildError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable, Codable {
        /// The kind is not registered on the node that was to host the child.
        case unknownKind
        /// The kind's arguments could not be decoded there.
        case invalidArguments
        /// The child's initialiser threw.
        case startFailed
        /// The node that was to start or stop it did not answer in time (or went down).
        case noResponse
        /// No child with that id is registered.
        case notFound
        /// The target hub is partitioned.
        case partitioned
        /// A restart of a lost node's child reached a node that stopped it on purpose meanwhile.
        case stopped
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
