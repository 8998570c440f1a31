import ArgumentParser
import ClusterNode
import DemoActors
import Logging
import ProcessHub
import ProcessHubLifecycle
import ServiceLifecycle
import Synchronization

/// `processhub node`: runs one node and its hubs until SIGTERM/SIGINT, printing membership events.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one cluster node (and its hubs) and print its membership events.",
        discussion: """
            Settings come from the flags, from a JSON configuration file (--config), or both: \
            a flag overrides the file. Prints `READY <node-id>` once listening and every hub \
            runs, then `up <node-id>` and `down <node-id> (<reason>)` lines. SIGTERM or SIGINT \
            shuts down gracefully: each hub moves its children to the other nodes (with their \
            state with --handover), the node leaves, `STOPPED <node-id>` is printed and the \
            exit status is 0. The demo kinds (echo; counter in every hub) are registered.

            Configuration file keys: name, host, port, secret, secretFile, seeds (["host:port"]), \
            heartbeatIntervalMs, heartbeatTimeoutMs, logLevel, hubs ([{"id", "migration": \
            "cold"|"hot", "handover": bool}]).
            """
    )

    @OptionGroup var options: NodeOptions
    @OptionGroup var partition: PartitionOptions

    @Option(help: "A JSON configuration file; flags override its values.")
    var config: String?

    @Option(name: .customLong("hub"), help: "Run a hub with this id (repeatable; replaces the file's hubs).")
    var hubs: [String] = []

    @Option(help: "How children move when nodes join or leave: cold (stop, then start) or hot (start, then stop). Default cold.")
    var migration: MigrationKind?

    @Flag(help: "Moving children take their state along (handover).")
    var handover = false

    enum MigrationKind: String, ExpressibleByArgument, CaseIterable, Decodable, Sendable {
        case cold, hot
    }

    func run() async throws {
        options.watchParent()
        let file = try config.map(NodeConfigurationFile.load)
        let logger = options.logger(label: "processhub.node", file: file)
        // What `onStarted` leaves behind: the node id and the task printing its events.
        let started = Mutex<(id: NodeID, events: Task<Void, Never>)?>(nil)
        let service = ProcessHubService(
            settings: try options.settings(file: file), hubs: hubConfigurations(file: file), logger: logger,
            prepare: { registerDemoKinds(on: $0.system) },
            onStarted: { node, _ in
                emit("READY \(node.id)")
                let events = Task { for await event in node.events { emit(event.description) } }
                started.withLock { $0 = (node.id, events) }
            })
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        guard let (id, events) = started.withLock({ $0 }) else { return }
        await events.value
        emit("STOPPED \(id)")
    }

    /// The hubs to run: the `--hub` flags (with the migration flags), else the file's hubs
    /// (the migration flags, when given, override theirs).
    private func hubConfigurations(file: NodeConfigurationFile?) -> [HubConfiguration] {
        let fromFlags = hubs.map { NodeConfigurationFile.Hub(id: $0) }
        return (fromFlags.isEmpty ? file?.hubs ?? [] : fromFlags).map { hub in
            var configuration = HubConfiguration(hubID: HubID(hub.id))
            registerDemoKinds(in: &configuration)
            let handover = self.handover || hub.handover == true
            switch migration ?? hub.migration ?? .cold {
            case .cold: configuration.migration = ColdSwap(handover: handover)
            case .hot: configuration.migration = HotSwap(handover: handover)
            }
            configuration.partitionTolerance = partition.strategy
            return configuration
        }
    }
}
