import ClusterNode

/// What a supervisor does when a child's `run()` ends.
public enum RestartType: String, Sendable, Codable, Hashable {
    /// Always restarted (the default).
    case permanent
    /// Restarted only when it crashed (its `run()` threw); a normal exit removes it cluster-wide.
    case transient
    /// Never restarted; any exit removes it cluster-wide.
    case temporary
}

/// Describes one child: its id, the registered kind that creates it, and that kind's arguments.
///
/// A spec never carries code: the receiving node creates the child with the factory it registered
/// for `kind`, so a remote node can only start kinds this node agreed to host.
public struct ChildSpec: Sendable, Codable, Hashable {
    /// The child's cluster-wide unique id.
    public var id: ChildID
    /// The registered kind that creates it.
    public var kind: HubKind
    /// The kind's arguments, encoded with `BinaryEncoder`.
    public var encodedArguments: [UInt8]
    /// What happens when the child's `run()` ends.
    public var restart: RestartType
    /// How long a stopping child may take before it is abandoned.
    public var shutdownTimeout: Duration

    /// Creates a spec from already encoded arguments.
    public init(
        id: ChildID, kind: HubKind, encodedArguments: [UInt8], restart: RestartType = .permanent,
        shutdownTimeout: Duration = .seconds(5)
    ) {
        self.id = id
        self.kind = kind
        self.encodedArguments = encodedArguments
        self.restart = restart
        self.shutdownTimeout = shutdownTimeout
    }

    /// Creates a spec for a child of type `P` with typed arguments.
    ///
    /// ```swift
    /// let spec = try ChildSpec(id: "c1", Counter.self, .init(start: 5))
    /// ```
    public init<P: HubProcess>(
        id: ChildID, _ type: P.Type, _ arguments: P.Arguments, restart: RestartType = .permanent,
        shutdownTimeout: Duration = .seconds(5)
    ) throws {
        self.init(
            id: id, kind: P.kind, encodedArguments: try BinaryEncoder().encode(arguments), restart: restart,
            shutdownTimeout: shutdownTimeout)
    }
}
