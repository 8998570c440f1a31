// ThreeNodeCluster: three nodes on loopback in one process, each running the same hub; children
// spread over them; one node leaves and the other two restart its children.
//
//     swift run ThreeNodeCluster
import ClusterNode
import ProcessHub

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

// 1. Three nodes sharing a secret; n2 and n3 know n1 as their seed and find each other through it.
let secret: ClusterSecret = "three-node-secret"
let n1 = try await ClusterNode.start(.init(name: "n1", port: 0, secret: secret))
let n2 = try await ClusterNode.start(.init(name: "n2", port: 0, secret: secret, seeds: [n1.id.address]))
let n3 = try await ClusterNode.start(.init(name: "n3", port: 0, secret: secret, seeds: [n1.id.address]))
let nodes = [n1, n2, n3]

// 2. The same hub on every node: nodes running a hub with the same id form one hub cluster.
var configuration = HubConfiguration(hubID: "workers")
configuration.register(Worker.self)
var hubs: [ProcessHub] = []
for node in nodes { hubs.append(try await ProcessHub.start(configuration, on: node)) }
try await waitUntil("every hub to see three members") {
    hubs.allSatisfy { $0.nodes(includeLocal: true).count == 3 && !$0.isLocked }
}
print("hub cluster formed: \(hubs[0].nodes(includeLocal: true).map(\.name).sorted())")

// 3. Start 30 workers from n1: consistent hashing spreads them over the three nodes.
let ids = (1...30).map { "w\($0)" }
let result = try await hubs[0].startChildren(ids.map { try ChildSpec(id: $0, Worker.self, .init()) })
    .result(timeout: .seconds(30))
guard result.status == .ok else { throw ExampleError("start failed: \(result.errors)") }
try await waitUntil("every registry to list the 30 workers") {
    hubs.allSatisfy { $0.registryDump().count == ids.count }
}
func perNode(_ hub: ProcessHub) -> String {
    let counts = Dictionary(grouping: hub.processList(.global), by: { $0.locations.first?.node.name ?? "-" })
    return counts.keys.sorted().map { "\($0): \(counts[$0]!.count)" }.joined(separator: ", ")
}
print("30 workers started; per node: \(perNode(hubs[0]))")

// Any node can call any worker: the registry read is local, the call goes to the hosting node.
let onN3 = ids.filter { hubs[0].child($0)?.locations.first?.node == n3.id }
if let id = onN3.first, let worker = try hubs[0].resolve(id, as: Worker.self) {
    print("\(id) answers from \(try await worker.nodeName())")
}

// 4. n3 leaves. `stop(movingChildren: false)` just stops its children, and the peers restart them
//    at once (as after a crash, without waiting for failure detection). The default, `stop()`,
//    would move them first (with their state when the migration strategy hands over).
await hubs[2].stop(movingChildren: false)
await n3.shutdown()
let survivors = Array(hubs[0...1])
try await waitUntil("the survivors to run all 30 workers") {
    survivors.allSatisfy { hub in
        hub.nodes(includeLocal: true).count == 2 && hub.registryDump().count == ids.count
            && hub.registryDump().values.allSatisfy { $0.locations.allSatisfy { $0.node != n3.id } }
    }
}
print("n3 left; its \(onN3.count) workers were restarted on the survivors; per node: \(perNode(hubs[0]))")
if let id = onN3.first, let worker = try hubs[1].resolve(id, as: Worker.self) {
    print("\(id) now answers from \(try await worker.nodeName())")
}

// 5. Shut down.
for hub in survivors { await hub.stop(movingChildren: false) }
for node in [n1, n2] { await node.shutdown() }
print("ThreeNodeCluster done")
