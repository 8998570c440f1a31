import ClusterNode
import Distributed

/// How a hub creates and runs children of one registered kind.
struct KindRegistration: Sendable {
    /// A created child: the actor, and its body when the kind has one.
    struct Instance: Sendable {
        var actor: any DistributedActor
        var actorID: ActorID
        var run: (@Sendable () async throws -> Void)?
    }

    let kind: HubKind
    let make: @Sendable (ClusterSystem, [UInt8], ChildContext) throws -> Instance

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
    }

    /// The child's `run(context:)`, if its type has one.
    private static func body<P: HubProcess>(of child: P, context: ChildContext) -> (@Sendable () async throws -> Void)? {
        guard let running = child as? any RunningHubProcess else { return nil }
        return { try await Self.run(running, context: context) }
    }

    private static func run<R: RunningHubProcess>(_ child: R, context: ChildContext) async throws {
        try await child.whenLocal { try await $0.run(context: context) }
    }
}
