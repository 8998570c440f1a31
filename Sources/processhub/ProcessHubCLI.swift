import ArgumentParser

/// `processhub`: run a node, or run the benchmarks.
@main
struct ProcessHubCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "processhub",
        abstract: "Run and measure swift-process-hub cluster nodes.",
        subcommands: [NodeCommand.self, BenchCommand.self, BenchNodeCommand.self]
    )
}
