import ArgumentParser

/// `processhub`: run a node, or run the benchmarks.
struct ProcessHubCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "processhub",
        abstract: "Run and measure swift-process-hub cluster nodes.",
        subcommands: [
            DemoCommand.self, NodeCommand.self, StatusCommand.self, StartChildrenCommand.self, StopChildrenCommand.self,
            BenchCommand.self, BenchNodeCommand.self,
        ]
    )
}

extension ProcessHubCLI {
    /// Parses the command line and runs the chosen command (what `@main` would do; `main.swift`
    /// needs its own entry point to install the executor first).
    static func runFromCommandLine() async {
        do {
            var command = try await asyncParseAsRoot(nil)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
