import ProcessHub

extension SimulatedCluster {
    /// Runs one random scenario per seed of `seeds` and returns every report.
    ///
    /// Seed `s` runs on `nodes.lowerBound + s % nodes.count` nodes, so a range of seeds covers
    /// every cluster size. Each run is independent and replays alone:
    /// `SimulatedCluster(seed: report.seed, nodes: report.nodes, configuration: configuration,
    /// options: options).runRandomScenario()` gives the same report.
    ///
    /// ```swift
    /// let failures = SimulatedCluster.check(seeds: 0..<500, nodes: 3...5, configuration: configuration)
    ///     .filter { !$0.passed }
    /// #expect(failures.isEmpty, "\(failures.first.map(String.init(describing:)) ?? "")")
    /// ```
    public static func check(
        seeds: Range<UInt64>, nodes: ClosedRange<Int>, configuration: HubConfiguration, options: SimulationOptions = .init()
    ) -> [SimulationReport] {
        seeds.map { seed in
            let size = nodes.lowerBound + Int(seed % UInt64(nodes.count))
            return SimulatedCluster(seed: seed, nodes: size, configuration: configuration, options: options).runRandomScenario()
        }
    }
}
