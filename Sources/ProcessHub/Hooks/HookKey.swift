/// Names an event hook: a point where the hub tells its handlers that something happened.
///
/// Handlers of an event hook observe a payload of type `Payload`; they cannot change what the hub
/// does. The hub's hooks are the static members of this type (``childRegistered``,
/// ``preNodeJoin``, …), so a registration reads:
///
/// ```swift
/// try hub.hooks.register(.childRegistered, id: "audit", priority: 10) { event in
///     print(event.childID, event.locations)
/// }
/// ```
public struct HookKey<Payload: Sendable>: Hashable, Sendable, CustomStringConvertible {
    /// The hook's name: the ProcessHub key without its `_hook` suffix (`child_registered`).
    public let name: String

    // Internal: the catalogue below is the set of hooks the hub dispatches, and a key made up
    // elsewhere would never fire.
    init(name: String) {
        self.name = name
    }

    /// The hook's name.
    public var description: String { name }
}

/// Names an alter hook: a point where the hub lets its handlers rewrite data before using it.
///
/// Handlers are chained: each receives the previous handler's result (the first receives the
/// hub's value) and the last result replaces the hub's value.
///
/// ```swift
/// try hub.hooks.register(alter: .childDataAlter, id: "stamp") { data in
///     var data = data
///     data.metadata["owner"] = "billing"
///     return data
/// }
/// ```
public struct AlterHookKey<Value: Sendable>: Hashable, Sendable, CustomStringConvertible {
    /// The hook's name: the ProcessHub key without its `_hook` suffix (`child_data_alter`).
    public let name: String

    // Internal for the same reason as `HookKey.init(name:)`.
    init(name: String) {
        self.name = name
    }

    /// The hook's name.
    public var description: String { name }
}

// MARK: - Catalogue
//
// Static stored properties are not allowed in generic types, so each key is a computed property
// returning a fresh (equal) value: a key is only its name.

extension HookKey where Payload == NodeEvent {
    /// A new hub node was accepted, before the ring and redistribution handle it.
    public static var preNodeJoin: Self { .init(name: "pre_node_join") }
    /// A node join has been handled.
    public static var postNodeJoin: Self { .init(name: "post_node_join") }
    /// A hub node left or was lost, before the hub handles it.
    public static var preNodeLeave: Self { .init(name: "pre_node_leave") }
    /// A node leave has been handled.
    public static var postNodeLeave: Self { .init(name: "post_node_leave") }
}

extension HookKey where Payload == ChildRegisteredEvent {
    /// A registry write added or changed locations of a child; the payload carries only the
    /// changed locations.
    public static var childRegistered: Self { .init(name: "child_registered") }
}

extension HookKey where Payload == ChildUnregisteredEvent {
    /// A child's registry row, or its binding on one node, was removed.
    public static var childUnregistered: Self { .init(name: "child_unregistered") }
}

extension HookKey where Payload == ChildrenStartRequestEvent {
    /// A start request reached the receiving node, before placement is validated.
    public static var preChildrenStart: Self { .init(name: "pre_children_start") }
}

extension HookKey where Payload == ChildrenStartedEvent {
    /// The local supervisor has just started a batch of children (successes and failures).
    public static var postChildrenStart: Self { .init(name: "post_children_start") }
}

extension AlterHookKey where Value == ChildStartData {
    /// Rewrites one child's start data right before the local supervisor starts it.
    public static var childDataAlter: Self { .init(name: "child_data_alter") }
}

extension HookKey where Payload == RedistributionEvent {
    /// Before children are redistributed after a topology change.
    public static var preRedistribution: Self { .init(name: "pre_redistribution") }
    /// After children were redistributed after a topology change.
    public static var postRedistribution: Self { .init(name: "post_redistribution") }
}

extension HookKey where Payload == ChildrenRedistributionEvent {
    /// Before the children affected by a node join or leave are redistributed.
    public static var preChildrenRedistribution: Self { .init(name: "pre_children_redistribution") }
}

extension HookKey where Payload == ChildrenForwardedEvent {
    /// A node forwarded misplaced children (a start) or redirected a stop to their real host.
    public static var childrenForwarded: Self { .init(name: "children_forwarded") }
}

extension HookKey where Payload == MigrationCompletedEvent {
    /// The expansion handler finished forwarding children to a new node (not: all started there).
    public static var migrationCompleted: Self { .init(name: "migration_completed") }
}

extension HookKey where Payload == CoordinatorShutdownEvent {
    /// The hub's coordinator is shutting down.
    public static var coordinatorShutdown: Self { .init(name: "coordinator_shutdown") }
}

extension HookKey where Payload == ChildActorUpdatedEvent {
    /// A supervisor restart produced a new actor for a child and the registry was updated.
    /// (The name keeps ProcessHub's `child_pid_updated`.)
    public static var childPidUpdated: Self { .init(name: "child_pid_updated") }
}

extension HookKey where Payload == HandoverDeliveredEvent {
    /// Handover state was delivered to migrated children on their new node.
    public static var handoverDelivered: Self { .init(name: "handover_delivered") }
}

extension HookKey where Payload == MigrationDeferredEvent {
    /// Children were parked because they did not consent to migrate yet.
    public static var migrationDeferred: Self { .init(name: "migration_deferred") }
}

extension HookKey where Payload == DrainCompletedEvent {
    /// A drain finished, including any children stopped by force.
    public static var drainCompleted: Self { .init(name: "drain_completed") }
}

extension HookKey where Payload == ScoreboardUpdatedEvent {
    /// The load balancer's leader updated its scoreboard.
    public static var scoreboardUpdated: Self { .init(name: "scoreboard_updated") }
}
