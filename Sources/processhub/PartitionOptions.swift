import ArgumentParser
import ProcessHub

/// `--partition`: which partition-tolerance strategy the node's hubs use.
struct PartitionOptions: ParsableArguments {
    @Option(help: """
        Partition tolerance: divergence (default), static:<quorum size>[:confirm], \
        dynamic:<percent>[:<threshold seconds>], majority[:<initial cluster size>].
        """)
    var partition: PartitionChoice = .init(strategy: Divergence(), text: "divergence")

    /// The strategy chosen.
    var strategy: any PartitionToleranceStrategy { partition.strategy }
}

/// A partition-tolerance strategy parsed from its command-line form.
struct PartitionChoice: ExpressibleByArgument, CustomStringConvertible {
    let strategy: any PartitionToleranceStrategy
    let text: String

    init(strategy: any PartitionToleranceStrategy, text: String) {
        self.strategy = strategy
        self.text = text
    }

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let numbers = parts.dropFirst().map { Int($0) }
        switch (parts[0], parts.count) {
        case ("divergence", 1):
            strategy = Divergence()
        case ("static", 2), ("static", 3):
            guard let size = numbers[0], parts.count == 2 || parts[2] == "confirm" else { return nil }
            strategy = StaticQuorum(quorumSize: size, startupConfirm: parts.count == 3)
        case ("dynamic", 2), ("dynamic", 3):
            guard let percent = numbers[0] else { return nil }
            let seconds = parts.count == 3 ? numbers[1] : 30
            guard let seconds else { return nil }
            strategy = DynamicQuorum(quorumSize: percent, thresholdTime: .seconds(seconds))
        case ("majority", 1):
            strategy = MajorityQuorum()
        case ("majority", 2):
            guard let size = numbers[0] else { return nil }
            strategy = MajorityQuorum(initialClusterSize: size)
        default:
            return nil
        }
        text = argument
    }

    var description: String { text }
}
