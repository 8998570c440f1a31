import ClusterNode
import Distributed

/// How a hub creates and runs children of one registered kind.
struct KindRegistration: Sendable {
    /// A created child: the actor and its body when the kind has one. The hub's ways into it
    /// (``ChildHooks``) are made on demand by ``hooks(of:system:)``, not stored: a node may host
    /// hundreds of thousands of children, and four closures each would cost ~250 bytes a child.
    struct Instance: Sendable {
        var actor: any DistributedActor
        var actorID: ActorID
        var run: (@Sendable () async throws -> Void)?
    }

    /// The ``HubProcess`` requirements the hub calls, with the handover state encoded so the hub
    /// can carry it without knowing its type.
    struct ChildHooks: Sendable {
        /// `prepareHandoverState()`, encoded; `nil` when the child hands nothing over.
        var captureState: @Sendable () async throws -> [UInt8]?
        /// Decodes a handed-over state and passes it to `alterHandoverState(_:)`.
        var applyState: @Sendable ([UInt8]) async throws -> Void
        var signal: @Sendable (ReplicaMode) async -> Void
        var consent: @Sendable () async -> MigrationConsentReply
    }

    let kind: HubKind
    let make: @Sendable (ClusterSystem, [UInt8], ChildContext) throws -> Instance
    /// The hub's ways into an instance of this kind.
    let hooks: @Sendable (any DistributedActor, ClusterSystem) -> ChildHooks

    init<P: HubProcess>(_ type: P.Type) {
        kind = P.kind
        make = { system, encoded, context in
            let arguments: P.Arguments
            do {
                arguments = try BinaryDecoder(userInfo: [.actorSystemKey: system]).decode(P.Arguments.self, from: encoded)
            } catch {
                throw ChildError(.invalidArguments, "arguments for kind \(P.kind) are not a valid \(P.Arguments.self): \(error)")
            }
            let child = P(actorSystem: system, arguments: arguments, context: context)
            return Instance(actor: child, actorID: child.id, run: Self.body(of: child, context: context))
        }
        hooks = { actor, system in Self.hooks(of: actor as! P, system: system) }
    }

    /// The child's `run(context:)`, if its type has one.
    private static func body<P: HubProcess>(of child: P, context: ChildContext) -> (@Sendable () async throws -> Void)? {
        guard let running = child as? any RunningHubProcess else { return nil }
        return { try await Self.run(running, context: context) }
    }

    private static func run<R: RunningHubProcess>(_ child: R, context: ChildContext) async throws {
        try await child.whenLocal { try await $0.run(context: context) }
    }

    private static func hooks<P: HubProcess>(of child: P, system: ClusterSystem) -> ChildHooks {
        ChildHooks(
            captureState: {
                guard let state = await child.whenLocal({ await $0.prepareHandoverState() }) ?? nil else { return nil }
                return try BinaryEncoder(userInfo: [.actorSystemKey: system]).encode(state)
            },
            applyState: { bytes in
                let state = try BinaryDecoder(userInfo: [.actorSystemKey: system]).decode(P.HandoverState.self, from: bytes)
                await child.whenLocal { await $0.alterHandoverState(state) }
            },
            signal: { mode in await child.whenLocal { await $0.redundancySignal(mode) } },
            consent: { await child.whenLocal { await $0.migrationConsent() } ?? .ready })
    }
}
