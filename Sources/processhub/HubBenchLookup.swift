import ProcessHub

/// W2: local registry lookups on node 1 of a W1 cluster (10 000 children): ns per
/// `actorID(of:)` (`lookup_ns`) and per `child(_:)` (`child_lookup_ns`) of a random existing id.
enum LookupBench {
    static let children = 10_000
    static let lookups = 1_000_000

    static var cases: [HubBenchCase] {
        [
            HubBenchCase(metrics: ["lookup_ns", "child_lookup_ns"], extra: ["n": "\(children)", "nodes": "3"]) {
                let ids = (0..<lookups).map { _ in BenchChildren.id(Int.random(in: 0..<children)) }
                return try await HubBenchCluster.withCounters(children, processes: 2) { cluster, _ in
                    let hub = cluster.hub
                    return [
                        "lookup_ns": try nanosecondsPerLookup(ids) { hub.actorID(of: $0) != nil },
                        "child_lookup_ns": try nanosecondsPerLookup(ids) { hub.child($0) != nil },
                    ]
                }
            }
        ]
    }

    /// Times only the loop over the pre-generated ids; every lookup must find its child.
    private static func nanosecondsPerLookup(_ ids: [ChildID], _ lookup: (ChildID) -> Bool) throws -> Double {
        var found = 0
        let start = ContinuousClock.now
        for id in ids where lookup(id) { found += 1 }
        let elapsed = ContinuousClock.now - start
        guard found == ids.count else { throw BenchFailure("only \(found) of \(ids.count) lookups found their child") }
        return elapsed.nanoseconds / Double(ids.count)
    }
}
