import Distributed
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The distributed actor system of a node: it names actors, finds them, and carries calls
/// between nodes over the node's authenticated links.
///
/// Get one from a started ``ClusterNode`` (`node.system`) and pass it to your distributed actors'
/// initialisers. A call on an actor of this node runs directly, without serialisation; a call on
/// an actor of another node is encoded with ``BinaryEncoder`` and sent over the link to that node.
public final class ClusterSystem: DistributedActorSystem, Sendable {
    /// Arguments and results of distributed functions must be `Codable`.
    public typealias SerializationRequirement = any Codable
    /// Encodes outbound calls.
    public typealias InvocationEncoder = ClusterInvocationEncoder
    /// Decodes inbound calls.
    public typealias InvocationDecoder = ClusterInvocationDecoder
    /// Answers inbound calls.
    public typealias ResultHandler = ClusterResultHandler

    /// Inbound calls with more argument bytes than this run on ``OffLoopExecutor``.
    static let largeCallBytes = 32 * 1024

    /// Serials below this are reserved for the system's own actors.
    static let firstUserSerial: UInt64 = 1024

    /// This node's identity. It changes once, when a local-only node is promoted
    /// (``ClusterNode/promote(host:port:seeds:)``).
    public var nodeID: NodeID { identity.withLock { $0.current } }
    /// The identity and what promotion changed; a lock of its own that never takes another.
    let identity: Mutex<Identity>
    /// The settings the node started with.
    public let settings: ClusterNodeSettings
    /// The node's logger (metadata `node`).
    public let logger: Logger

    let group: any EventLoopGroup
    /// The TLS contexts when ``ClusterNodeSettings/tls`` is set: every connection starts with TLS.
    let tls: TLSContexts?
    let errorTypes = ErrorTypeRegistry()
    let kinds = ActorKindRegistry()
    let state: Mutex<State>
    let nextLinkID = Atomic<UInt64>(1)
    let metrics: NodeMetrics

    /// A local actor as the system holds it, with the state of its inbound-call gate.
    struct ActorEntry {
        enum Reference {
            case weak(WeakActorBox)
            case strong(any DistributedActor)
        }

        var reference: Reference
        /// Inbound remote calls admitted and not yet answered (``sealCalls(to:)`` waits for them).
        var callsInFlight = 0
        var gate: CallGate = .open

        init(_ reference: Reference) {
            self.reference = reference
        }

        var actor: (any DistributedActor)? {
            switch reference {
            case .weak(let box): box.actor
            case .strong(let actor): actor
            }
        }

        var isStrong: Bool {
            if case .strong = reference { return true }
            return false
        }
    }

    struct State {
        var membership: Membership
        var links: [NodeID: Link] = [:]
        var actors: [LocalActorRef: ActorEntry] = [:]
        /// Who waits for a sealed actor's calls in flight to finish.
        var sealWaiters: [LocalActorRef: [CheckedContinuation<Void, Never>]] = [:]
        var nextSerial: UInt64 = ClusterSystem.firstUserSerial
        var subscribers: [UInt64: AsyncStream<MembershipEvent>.Continuation] = [:]
        var nextSubscriber: UInt64 = 0
        var isShuttingDown = false
        var serverChannel: (any Channel)?
        var ticker: RepeatedTask?
        var ticks = 0
    }

    init(nodeID: NodeID, settings: ClusterNodeSettings, tls: TLSContexts? = nil, group: any EventLoopGroup, logger: Logger) {
        self.identity = Mutex(Identity(current: nodeID, isLocalOnly: settings.isLocalOnly))
        self.settings = settings
        self.tls = tls
        self.group = group
        self.logger = logger
        self.metrics = NodeMetrics(node: "\(nodeID.name)@\(nodeID.host):\(nodeID.port)")
        self.state = Mutex(State(
            membership: Membership(local: nodeID, seeds: settings.seeds, forgetAfter: settings.forgetDownPeerAfter)))
        registerErrorType(ClusterError.self)
    }

    // MARK: - Per-call options

    /// The timeout of remote calls made by the current task, if overridden.
    @TaskLocal static var callTimeoutOverride: Duration?
    /// The well-known name to give the next actor initialised by the current task.
    @TaskLocal static var nextWellKnownName: String?

    /// Runs `operation` with remote calls timing out after `timeout` instead of the node default.
    public static func withCallTimeout<T>(
        _ timeout: Duration, operation: () async throws -> T
    ) async rethrows -> T {
        try await $callTimeoutOverride.withValue(timeout, operation: operation)
    }

    /// Initialises an actor with a well-known name instead of a serial, so other nodes can
    /// address it as `ActorID(node:wellKnownName:)` without a lookup. One per name and node.
    public func withWellKnownName<T>(_ name: String, _ makeActor: () throws -> T) rethrows -> T {
        try Self.$nextWellKnownName.withValue(name, operation: makeActor)
    }

    // MARK: - Errors

    /// Lets errors of type `E` thrown by distributed functions of this node be rethrown as
    /// themselves on the calling node (which must register `E` too). Unregistered errors arrive
    /// as ``ClusterError`` with code ``ClusterError/Code/remoteError``, their type name and message.
    public func registerErrorType<E: Error & Codable>(_ type: E.Type) {
        errorTypes.register(type)
    }

    // MARK: - Serialisation

    func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        var decoder = BinaryDecoder()
        decoder.userInfo[.actorSystemKey] = self
        return try buffer.withUnsafeReadableBytes { try decoder.decode(T.self, from: $0) }
    }

    // MARK: - DistributedActorSystem: identity

    /// Resolves an id: the local instance, `nil` for a live remote actor (a proxy is made),
    /// or an error for an id that cannot be reached (unknown local actor, dead incarnation).
    public func resolve<Act>(id: ActorID, as actorType: Act.Type) throws -> Act?
    where Act: DistributedActor, Act.ID == ActorID {
        if isLocal(id.node) {
            guard let actor = localActor(id.localRef) else {
                throw ClusterError(.unknownActor, "no actor \(id) on this node")
            }
            guard let typed = actor as? Act else {
                throw ClusterError(.unknownActor, "actor \(id) is a \(type(of: actor)), not a \(Act.self)")
            }
            return typed
        }
        if state.withLock({ $0.membership.isDead(id.node) }) {
            throw ClusterError(.deadIncarnation, "\(id.node) is down or was replaced by a newer incarnation")
        }
        return nil
    }

    /// Assigns a fresh id (or the well-known name requested with ``withWellKnownName(_:_:)``).
    public func assignID<Act>(_ actorType: Act.Type) -> ActorID where Act: DistributedActor, Act.ID == ActorID {
        if let name = Self.nextWellKnownName {
            return ActorID(node: nodeID, wellKnownName: name)
        }
        let serial = state.withLock { state in
            defer { state.nextSerial += 1 }
            return state.nextSerial
        }
        return ActorID(node: nodeID, serial: serial)
    }

    /// Makes a newly initialised actor reachable. The system holds it weakly (well-known actors
    /// strongly); actors created by kind are held until stopped.
    public func actorReady<Act>(_ actor: Act) where Act: DistributedActor, Act.ID == ActorID {
        let isWellKnown = actor.id.wellKnownName != nil
        state.withLock { $0.actors[actor.id.localRef] = ActorEntry(isWellKnown ? .strong(actor) : .weak(WeakActorBox(actor))) }
    }

    /// Forgets an actor that deinitialised.
    public func resignID(_ id: ActorID) {
        // Calls held for the actor are refused outside the lock (they reply on their link).
        let held = state.withLock { state -> [@Sendable ((any DistributedActor)?) -> Void] in
            guard let entry = state.actors[id.localRef], !entry.isStrong else { return [] }
            state.actors[id.localRef] = nil
            if case .holding(let held) = entry.gate { return held }
            return []
        }
        held.forEach { $0(nil) }
    }

    /// Keeps a local actor alive until ``release(_:)``, even with no other reference to it.
    func retain(_ actor: any DistributedActor, id: ActorID) {
        state.withLock { state in
            if state.actors[id.localRef] != nil {
                state.actors[id.localRef]?.reference = .strong(actor)
            } else {
                state.actors[id.localRef] = ActorEntry(.strong(actor))
            }
        }
    }

    /// Drops the system's strong reference to a local actor; returns whether it was held.
    @discardableResult
    func release(_ id: ActorID) -> Bool {
        // The reference leaves the lock before it is dropped: the actor may deinitialise, and
        // its `resignID` takes the lock again.
        let released: (any DistributedActor)? = state.withLock { state in
            guard case .strong(let actor) = state.actors[id.localRef]?.reference else { return nil }
            state.actors[id.localRef]?.reference = .weak(WeakActorBox(actor))
            return actor
        }
        return released != nil
    }

    /// Drops every strong reference the system holds (at shutdown), outside the lock.
    func releaseAll() {
        let held: [any DistributedActor] = state.withLock { state in
            defer { state.actors.removeAll() }
            return state.actors.values.compactMap { entry in
                if case .strong(let actor) = entry.reference { return actor }
                return nil
            }
        }
        _ = held
    }

    /// Whether an actor with this well-known name lives on this node.
    public func hasLocalActor(wellKnownName name: String) -> Bool {
        localActor(.name(name)) != nil
    }

    func localActor(_ ref: LocalActorRef) -> (any DistributedActor)? {
        state.withLock { $0.actors[ref]?.actor }
    }

    // MARK: - DistributedActorSystem: calls

    /// Makes the encoder for one outbound call.
    public func makeInvocationEncoder() -> InvocationEncoder {
        InvocationEncoder()
    }

    /// Sends a call to a remote actor and decodes its result.
    public func remoteCall<Act, Err, Res>(
        on actor: Act, target: RemoteCallTarget, invocation: inout InvocationEncoder,
        throwing: Err.Type, returning: Res.Type
    ) async throws -> Res where Act: DistributedActor, Act.ID == ActorID, Err: Error, Res: Codable {
        switch try await send(to: actor.id, target: target, invocation: invocation) {
        case .value(let buffer):
            do {
                return try decode(Res.self, from: buffer)
            } catch {
                throw ClusterError(.invalidReply, "the reply of \(target.identifier) is not a valid \(Res.self): \(error)")
            }
        case .void:
            throw ClusterError(.invalidReply, "\(target.identifier) returned nothing, \(Res.self) expected")
        case .registeredError, .error:
            fatalError("unreachable: errors are thrown by send")
        }
    }

    /// Sends a call to a remote actor's function that returns nothing.
    public func remoteCallVoid<Act, Err>(
        on actor: Act, target: RemoteCallTarget, invocation: inout InvocationEncoder, throwing: Err.Type
    ) async throws where Act: DistributedActor, Act.ID == ActorID, Err: Error {
        _ = try await send(to: actor.id, target: target, invocation: invocation)
    }

    private func send(to id: ActorID, target: RemoteCallTarget, invocation: InvocationEncoder) async throws
        -> ReplyOutcome
    {
        let link = try link(to: id.node)
        let message = CallMessage(
            callID: 0, targetIncarnation: id.node.incarnation, target: id.localRef, method: target.identifier,
            genericSubstitutions: invocation.genericSubstitutions, arguments: invocation.arguments)
        let started = metrics.callStarted()
        let outcome = try await link.call(message, timeout: Self.callTimeoutOverride ?? settings.callTimeout)
        metrics.callEnded(startedAt: started)
        switch outcome {
        case .value, .void:
            return outcome
        case .registeredError(let name, let payload):
            throw errorTypes.error(named: name, payload: payload, system: self)
        case .error(let error):
            throw error
        }
    }

    /// The up link to `node`, or the reason there is none.
    func link(to node: NodeID) throws(ClusterError) -> Link {
        let (link, dead, shuttingDown) = state.withLock {
            ($0.links[node], $0.membership.isDead(node), $0.isShuttingDown)
        }
        if let link { return link }
        if shuttingDown { throw ClusterError(.shutDown, "this node is shutting down") }
        if dead { throw ClusterError(.nodeDown, "\(node) is down") }
        throw ClusterError(.notConnected, "no link to \(node)")
    }

    /// Runs a call received from a peer and sends the reply on the same link.
    func receive(_ call: CallMessage, on link: Link) {
        @Sendable func reject(_ code: ClusterError.Code, _ message: String) {
            link.send(.reply(ReplyMessage(callID: call.callID, outcome: .error(ClusterError(code, message)))))
        }
        guard call.targetIncarnation == nodeID.incarnation else {
            return reject(.deadIncarnation, "the target belongs to an earlier incarnation of \(nodeID.address)")
        }
        let handler = ResultHandler(system: self, link: link, callID: call.callID)
        let run: @Sendable (any DistributedActor) async -> Void = { actor in
            var decoder = InvocationDecoder(system: self, call: call)
            do {
                try await self.executeDistributedTarget(
                    on: actor, target: RemoteCallTarget(call.method), invocationDecoder: &decoder, handler: handler)
            } catch {
                if let failure = decoder.argumentFailure {
                    reject(.invalidArguments, failure)
                } else {
                    reject(.unknownMethod, "\(type(of: actor)) has no distributed function \(call.method): \(error)")
                }
            }
            self.callFinished(on: call.target)
        }
        let size = call.arguments.reduce(0) { $0 + $1.readableBytes }
        let start: @Sendable (_ admitted: (any DistributedActor)?) -> Void = { actor in
            guard let actor else { return reject(.unknownActor, "\(call.target) has moved away from \(self.nodeID)") }
            self.startInbound(size: size, link: link) { await run(actor) }
        }
        switch admit(call.target, whenHeld: start) {
        case .unknown: reject(.unknownActor, "no actor \(call.target) on \(nodeID)")
        case .sealed: reject(.unknownActor, "\(call.target) has moved away from \(nodeID)")
        case .held: break
        case .admitted(let actor): start(actor)
        }
    }

    /// Starts an admitted inbound call on the right executor.
    private func startInbound(size: Int, link: Link, _ run: @escaping @Sendable () async -> Void) {
        // A large call is decoded and answered off the event loop: a loop busy for long sends no
        // heartbeats.
        if size > Self.largeCallBytes {
            Task(executorPreference: OffLoopExecutor.shared, operation: run)
            return
        }
        switch settings.inboundExecution {
        case .eventLoop: Task(executorPreference: link.taskExecutor, operation: run)
        case .globalExecutor: Task(operation: run)
        }
    }
}

/// A weak reference to a local actor (the system must not keep ordinary actors alive).
final class WeakActorBox {
    weak var actor: (any DistributedActor)?
    init(_ actor: any DistributedActor) { self.actor = actor }
}
