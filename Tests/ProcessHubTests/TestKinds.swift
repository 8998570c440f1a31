import ClusterNode
import Distributed
import ProcessHub

/// Crashes (throws) `after` milliseconds, every activation.
distributed actor Crasher: RunningHubProcess {
    typealias ActorSystem = ClusterSystem
    static let kind: HubKind = "crasher"
    struct Arguments: Codable, Sendable { var after: Int }
    let after: Int
    let epoch: UInt64

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
        self.after = arguments.after
        self.epoch = context.epoch
    }

    func run(context: ChildContext) async throws {
        try await Task.sleep(for: .milliseconds(after))
        throw CrashError()
    }

    distributed func activation() -> UInt64 { epoch }

    struct CrashError: Error {}
}

/// Returns from `run` (a normal exit) after `after` milliseconds.
distributed actor Finisher: RunningHubProcess {
    typealias ActorSystem = ClusterSystem
    static let kind: HubKind = "finisher"
    struct Arguments: Codable, Sendable { var after: Int }
    let after: Int

    init(actorSystem: ClusterSystem, arguments: Arguments, context: ChildContext) {
        self.actorSystem = actorSystem
        self.after = arguments.after
    }

    func run(context: ChildContext) async throws {
        try await Task.sleep(for: .milliseconds(after))
    }
}
