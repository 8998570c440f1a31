import ArgumentParser
import ClusterNode
import DemoActors
import ProcessHub

/// `processhub node`: runs one node until SIGTERM/SIGINT, printing membership events.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one cluster node and print its membership events.",
        discussion: """
            Prints `READY <node-id>` once listening, then `up <node-id>` and \
            `down <node-id> (<reason>)` lines. SIGTERM or SIGINT leaves the cluster gracefully \
            and exits 0. The demo kinds (echo; counter in every hub) are registered.
            """
    )

    @OptionGroup var options: NodeOptions
    @OptionGroup var partition: PartitionOptions

    @Option(name: .customLong("hub"), help: "Run a hub with this id (repeatable); it hosts the demo kinds.")
    var hubs: [String] = []

    @Option(help: "How children move when nodes join or leave: cold (stop, then start) or hot (start, then stop).")
    var migration: MigrationKind = .cold

    @Flag(help: "Moving children take their state along (handover).")
    var handover = false

    enum MigrationKind: String, ExpressibleByArgument, CaseIterable {
        case cold, hot
    }

    /// The hub's migration strategy from the flags.
    private var migrationStrategy: any MigrationStrategy {
        switch migration {
        case .cold: ColdSwap(handover: handover)
        case .hot: HotSwap(handover: handover)
        }
    }

    func run() async throws {
        options.watchParent()
        let node = try await ClusterNode.start(try options.settings(), logger: options.logger(label: "processhub.node"))
        registerDemoKinds(on: node.system)
        var running: [ProcessHub] = []
        for hubID in hubs {
            var configuration = HubConfiguration(hubID: HubID(hubID))
            registerDemoKinds(in: &configuration)
            configuration.migration = migrationStrategy
            configuration.partitionTolerance = partition.strategy
            running.append(try await ProcessHub.start(configuration, on: node, logger: options.logger(label: "processhub.hub")))
        }
        emit("READY \(node.id)")
        let events = Task {
            for await event in node.events { emit(event.description) }
        }
        await waitForTerminationSignal()
        // Graceful: each hub moves its children (with their state when handing over) first.
        for hub in running { await hub.stop() }
        await node.shutdown()
        await events.value
        emit("STOPPED \(node.id)")
    }
}
