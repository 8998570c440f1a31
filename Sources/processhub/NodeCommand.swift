import ArgumentParser
import ClusterNode
import DemoActors

/// `processhub node`: runs one node until SIGTERM/SIGINT, printing membership events.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one cluster node and print its membership events.",
        discussion: """
            Prints `READY <node-id>` once listening, then `up <node-id>` and \
            `down <node-id> (<reason>)` lines. SIGTERM or SIGINT leaves the cluster gracefully \
            and exits 0. The demo kinds (echo) are registered.
            """
    )

    @OptionGroup var options: NodeOptions

    func run() async throws {
        options.watchParent()
        let node = try await ClusterNode.start(try options.settings(), logger: options.logger(label: "processhub.node"))
        registerDemoKinds(on: node.system)
        emit("READY \(node.id)")
        let events = Task {
            for await event in node.events { emit(event.description) }
        }
        await waitForTerminationSignal()
        await node.shutdown()
        await events.value
        emit("STOPPED \(node.id)")
    }
}
