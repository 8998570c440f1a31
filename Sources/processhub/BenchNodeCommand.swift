import ArgumentParser
import ClusterNode
import DemoActors
import Foundation

/// `processhub bench-node`: one side of a two-process benchmark (started by `processhub bench`).
struct BenchNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-node",
        abstract: "One node of a benchmark run (internal; `processhub bench` starts these).",
        shouldDisplay: false
    )

    enum Role: String, ExpressibleByArgument {
        case server, client
    }

    @Argument var role: Role
    @OptionGroup var options: NodeOptions
    @Option var tcpPort: Int = 0
    @Option var reps: Int = 3
    @Option var calls: Int = 5000
    @Option var concurrency: Int = 100
    @Option var concurrentCalls: Int = 100_000

    func run() async throws {
        options.watchParent()
        let node = try await ClusterNode.start(try options.settings(), logger: options.logger(label: "processhub.bench"))
        registerDemoKinds(on: node.system)
        switch role {
        case .server:
            let port = try TCPPingPong.startEchoServer()
            emit("READY \(node.id) \(port)")
            await waitForTerminationSignal()
        case .client:
            try await runClient(node)
        }
        await node.shutdown()
    }

    /// Measures W5 against the server node: sequential calls, bare TCP, concurrent calls.
    private func runClient(_ node: ClusterNode) async throws {
        let server = try await firstPeer(of: node)
        let id = try await node.system.spawn(kind: Echo.kind, arguments: Echo.Arguments(label: "bench"), on: server)
        let echo = try Echo.resolve(id: id, using: node.system)
        let ping = Ping(sequence: 1, text: "hello, cluster", flag: true)
        for _ in 0..<2000 { _ = try await echo.echo(ping) }
        _ = try await TCPPingPong.measureOnOwnThread(port: tcpPort, count: 2000)
        for _ in 0..<reps {
            let tcp = try await TCPPingPong.measureOnOwnThread(port: tcpPort, count: calls)
            let start = ContinuousClock.now
            for _ in 0..<calls { _ = try await echo.echo(ping) }
            let sequential = (ContinuousClock.now - start).microseconds / Double(calls)
            let throughput = try await concurrentThroughput(echo, ping: ping)
            emit(#"REP {"seq_call_us":\#(sequential),"tcp_rtt_us":\#(tcp),"concurrent_calls_per_s":\#(throughput)}"#)
        }
    }

    private func concurrentThroughput(_ echo: Echo, ping: Ping) async throws -> Double {
        let perCaller = concurrentCalls / concurrency
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    for _ in 0..<perCaller { _ = try await echo.echo(ping) }
                }
            }
            try await group.waitForAll()
        }
        let seconds = (ContinuousClock.now - start).microseconds / 1e6
        return Double(perCaller * concurrency) / seconds
    }

    private func firstPeer(of node: ClusterNode) async throws -> NodeID {
        for await event in node.events {
            if case .up(let peer) = event { return peer }
        }
        throw ValidationError("the node shut down before a peer came up")
    }
}
