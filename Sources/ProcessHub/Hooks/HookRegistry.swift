import Synchronization

/// A registered handler as ``HookRegistry/handlers(for:)`` lists it.
public struct HookHandlerInfo: Sendable, Hashable {
    /// The handler's id, unique under its hook.
    public var id: String
    /// Its priority: higher runs first.
    public var priority: Int

    /// Creates a listing entry.
    public init(id: String, priority: Int) {
        self.id = id
        self.priority = priority
    }
}

/// Why a ``HookRegistry`` refused a registration.
public struct HookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// A handler with the same id is already registered under the hook.
        case duplicateID
    }

    /// The kind of failure.
    public var code: Code
    /// The hook's name.
    public var hook: String
    /// The handler id concerned.
    public var handlerID: String

    /// Creates an error.
    public init(code: Code, hook: String, handlerID: String) {
        self.code = code
        self.hook = hook
        self.handlerID = handlerID
    }

    /// A readable summary.
    public var description: String {
        switch code {
        case .duplicateID: "hook \(hook): a handler with id '\(handlerID)' is already registered"
        }
    }
}

/// The handlers of a hub's hooks.
///
/// Handlers of one hook run one after the other in the task that fires the hook, by descending
/// priority; handlers with equal priority run in the order they were registered. A handler may
/// register or cancel handlers while it runs: each firing works on the list as it was when the
/// firing began, and changes apply from the next firing on.
///
/// ```swift
/// try hub.hooks.register(.childRegistered, id: "audit", priority: 10) { event in … }
/// hub.hooks.cancel(.childRegistered, id: "audit")
/// ```
public final class HookRegistry: Sendable {
    private let state: Mutex<HookTable>

    /// Creates an empty registry.
    public init() {
        self.state = Mutex(HookTable())
    }

    private init(table: HookTable) {
        self.state = Mutex(table)
    }

    /// An independent registry with the same handlers: a hub copies its configuration's registry
    /// when it starts, so one configuration can start several hubs without them sharing changes.
    public func copy() -> HookRegistry {
        HookRegistry(table: state.withLock { $0 })
    }

    // MARK: Event hooks

    /// Registers `handler` under the event hook `key`.
    ///
    /// - Throws: ``HookError`` with code ``HookError/Code/duplicateID`` when a handler with `id` is
    ///   already registered under `key`; nothing is registered then.
    public func register<P>(
        _ key: HookKey<P>, id: String, priority: Int = 0, _ handler: @escaping @Sendable (P) async -> Void
    ) throws(HookError) {
        let entry = HookEntry(id: id, priority: priority, body: EventHandlerBox(handler))
        try state.withLock { table throws(HookError) in try table.insert(entry, at: HookSlot(key), hook: key.name) }
    }

    /// Removes the handler `id` from the event hook `key`; returns whether there was one.
    @discardableResult
    public func cancel<P>(_ key: HookKey<P>, id: String) -> Bool {
        state.withLock { $0.remove(id: id, at: HookSlot(key)) }
    }

    /// The handlers of the event hook `key`, in the order they run.
    public func handlers<P>(for key: HookKey<P>) -> [HookHandlerInfo] {
        entries(at: HookSlot(key)).map { HookHandlerInfo(id: $0.id, priority: $0.priority) }
    }

    /// Whether anyone listens to `key`: lets the hub skip building a payload nobody reads.
    func hasHandlers<P>(_ key: HookKey<P>) -> Bool {
        !entries(at: HookSlot(key)).isEmpty
    }

    /// Fires `key`: runs its handlers one after the other in the caller's task and isolation.
    ///
    /// `payload` is evaluated once, and only when there is a handler, because some payloads are
    /// large (a whole batch of children).
    nonisolated(nonsending) func dispatch<P>(_ key: HookKey<P>, _ payload: @autoclosure () -> P) async {
        let handlers = entries(at: HookSlot(key)).compactMap { $0.body as? EventHandlerBox<P> }
        guard !handlers.isEmpty else { return }
        let value = payload()
        for handler in handlers {
            await handler.run(value)
        }
    }

    // MARK: Alter hooks

    /// Registers `handler` under the alter hook `key`: it receives the previous handler's result
    /// and returns the value to pass on.
    ///
    /// - Throws: ``HookError`` with code ``HookError/Code/duplicateID`` when a handler with `id` is
    ///   already registered under `key`; nothing is registered then.
    public func register<V>(
        alter key: AlterHookKey<V>, id: String, priority: Int = 0, _ handler: @escaping @Sendable (V) async -> V
    ) throws(HookError) {
        let entry = HookEntry(id: id, priority: priority, body: AlterHandlerBox(handler))
        try state.withLock { table throws(HookError) in try table.insert(entry, at: HookSlot(key), hook: key.name) }
    }

    /// Removes the handler `id` from the alter hook `key`; returns whether there was one.
    @discardableResult
    public func cancel<V>(alter key: AlterHookKey<V>, id: String) -> Bool {
        state.withLock { $0.remove(id: id, at: HookSlot(key)) }
    }

    /// The handlers of the alter hook `key`, in the order they run.
    public func handlers<V>(forAlter key: AlterHookKey<V>) -> [HookHandlerInfo] {
        entries(at: HookSlot(key)).map { HookHandlerInfo(id: $0.id, priority: $0.priority) }
    }

    /// Whether anyone alters `key`.
    func hasHandlers<V>(alter key: AlterHookKey<V>) -> Bool {
        !entries(at: HookSlot(key)).isEmpty
    }

    /// Passes `value` through the handlers of `key`, in order, and returns the last result
    /// (`value` itself when there is no handler).
    nonisolated(nonsending) func alter<V>(_ key: AlterHookKey<V>, _ value: V) async -> V {
        var current = value
        for entry in entries(at: HookSlot(key)) {
            guard let handler = entry.body as? AlterHandlerBox<V> else { continue }
            current = await handler.run(current)
        }
        return current
    }

    // MARK: Internals

    /// A snapshot of one hook's handlers. Handlers are always called on such a snapshot, never
    /// under the lock, so a handler can use the registry without deadlocking.
    private func entries(at slot: HookSlot) -> [HookEntry] {
        state.withLock { $0.slots[slot] ?? [] }
    }
}

/// Where a hook's handlers are stored.
///
/// Besides the name, the slot holds whether the hook is an alter hook and the payload's type, so
/// two keys that share a name but not a type never see each other's handlers.
private struct HookSlot: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        case event
        case alter
    }

    let name: String
    let kind: Kind
    let payloadType: ObjectIdentifier

    init<P>(_ key: HookKey<P>) {
        self.name = key.name
        self.kind = .event
        self.payloadType = ObjectIdentifier(P.self)
    }

    init<V>(_ key: AlterHookKey<V>) {
        self.name = key.name
        self.kind = .alter
        self.payloadType = ObjectIdentifier(V.self)
    }
}

/// One registered handler, its closure type-erased (an ``EventHandlerBox`` or ``AlterHandlerBox``).
private struct HookEntry: Sendable {
    let id: String
    let priority: Int
    let body: any Sendable
}

/// An event handler of payload type `P`; a class so the erased value can be cast back reliably.
private final class EventHandlerBox<P: Sendable>: Sendable {
    let run: @Sendable (P) async -> Void
    init(_ run: @escaping @Sendable (P) async -> Void) { self.run = run }
}

/// An alter handler of value type `V`.
private final class AlterHandlerBox<V: Sendable>: Sendable {
    let run: @Sendable (V) async -> V
    init(_ run: @escaping @Sendable (V) async -> V) { self.run = run }
}

/// The state behind a registry's lock: each slot's handlers, kept in dispatch order.
private struct HookTable: Sendable {
    var slots: [HookSlot: [HookEntry]] = [:]

    /// Inserts `entry` after every handler of equal or higher priority, which keeps registration
    /// order among equal priorities.
    mutating func insert(_ entry: HookEntry, at slot: HookSlot, hook: String) throws(HookError) {
        var list = slots[slot] ?? []
        guard !list.contains(where: { $0.id == entry.id }) else {
            throw HookError(code: .duplicateID, hook: hook, handlerID: entry.id)
        }
        let index = list.firstIndex { $0.priority < entry.priority } ?? list.endIndex
        list.insert(entry, at: index)
        slots[slot] = list
    }

    /// Removes the handler `id`; returns whether there was one.
    mutating func remove(id: String, at slot: HookSlot) -> Bool {
        guard var list = slots[slot], let index = list.firstIndex(where: { $0.id == id }) else { return false }
        list.remove(at: index)
        slots[slot] = list.isEmpty ? nil : list
        return true
    }
}
