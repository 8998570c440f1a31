// StatefulHandover: tallies on two nodes; a third node joins and the tallies the ring gives it
// move there with HotSwap and hand their value over, so not one count is lost.
//
//     swift run StatefulHandover
import ClusterNode
import ProcessHub
import Synchronization

/// Polls `condition` until it holds, or fails after `timeout`.
func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw ExampleError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

struct ExampleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// 1. The hub: tallies, and a migration strategy that hands state over.
var configuration = HubConfiguration(hubID: "tallies")
configuration.register(Tally.self)
configuration.migration = HotSwap(handover: true)   // new instance first, then the state, then the old one stops

// Record, on the nodes children leave, which states were delivered (the hub copies this
// registry into each hub it starts).
let delivered = Mutex<Set<ChildID>>([])
try configuration.hooks.register(.handoverDelivered, id: "example") { event in
    delivered.withLock { $0.formUnion(event.childIDs) }
}

// 2. Two nodes, a hub on each.
let secret: ClusterSecret = "handover-secret"
let n1 = try await ClusterNode.start(.init(name: "n1", port: 0, secret: secret))
let n2 = try await ClusterNode.start(.init(name: "n2", port: 0, secret: secret, seeds: [n1.id.address]))
var hubs = [try await ProcessHub.start(configuration, on: n1), try await ProcessHub.start(configuration, on: n2)]
try await waitUntil("both hubs to see each other") {
    hubs.allSatisfy { $0.nodes(includeLocal: true).count == 2 && !$0.isLocked }
}

// 3. Twenty tallies; tally tK counts to K.
let ids = (1...20).map { "t\($0)" }
_ = try await hubs[0].startChildren(ids.map { try ChildSpec(id: $0, Tally.self, .init()) }).result(timeout: .seconds(30))
try await waitUntil("both registries to list the tallies") { hubs.allSatisfy { $0.registryDump().count == ids.count } }
for (index, id) in ids.enumerated() {
    guard let tally = try hubs[0].resolve(id, as: Tally.self) else { throw ExampleError("\(id) is unknown") }
    _ = try await tally.add(index + 1)
}
let before = Dictionary(uniqueKeysWithValues: ids.map { ($0, hubs[0].child($0)!.locations[0].node.name) })
print("20 tallies counted on n1 and n2")

// 4. n3 joins: the ring gives it about a third of the tallies, which move there with their value.
let n3 = try await ClusterNode.start(.init(name: "n3", port: 0, secret: secret, seeds: [n1.id.address]))
hubs.append(try await ProcessHub.start(configuration, on: n3))
let owners = ConsistentHashing().belongsTo(ids, replicationFactor: 1, nodes: [n1.id, n2.id, n3.id])
let moving = Set(ids.filter { owners[$0] == [n3.id] })
try await waitUntil("the moved tallies to run on n3 everywhere") {
    hubs.allSatisfy { hub in
        !hub.isLocked && hub.registryDump().count == ids.count
            && ids.allSatisfy { hub.child($0)?.locations.map(\.node) == owners[$0] }
    }
}
try await waitUntil("every handover to be delivered") { delivered.withLock { $0 } == moving }
print("n3 joined; \(moving.count) tallies moved to n3 with their state")

// 5. Every tally still has its value, wherever it runs now.
var kept = 0
for (index, id) in ids.enumerated() {
    guard let tally = try hubs[2].resolve(id, as: Tally.self) else { throw ExampleError("\(id) is unknown") }
    let value = try await tally.current()
    guard value == index + 1 else { throw ExampleError("\(id) has \(value), expected \(index + 1)") }
    if moving.contains(id) {
        print("  \(id): \(before[id]!) -> \(try await tally.nodeName()), value \(value)")
        kept += 1
    }
}
print("all \(ids.count) tallies kept their values (\(kept) of them moved)")

// 6. Shut down the whole cluster.
for hub in hubs { await hub.stop(movingChildren: false) }
for node in [n1, n2, n3] { await node.shutdown() }
print("StatefulHandover done")
