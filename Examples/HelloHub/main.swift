// HelloHub: one node, one hub, one child kind: start children, look them up, call them, stop one.
//
//     swift run HelloHub
import ClusterNode
import ProcessHub

// 1. A node: listens on a free loopback port (port 0) and would accept peers that share the secret.
let node = try await ClusterNode.start(.init(name: "n1", port: 0, secret: "hello-secret"))
print("node \(node.id.name) listening on \(node.id.address)")

// 2. A hub on the node, with the kinds it may host.
var configuration = HubConfiguration(hubID: "hello")
configuration.register(Greeter.self)
let hub = try await ProcessHub.start(configuration, on: node)
print("hub \(hub.hubID) started with kinds \(configuration.registeredKinds)")

// 3. Start children: dispatched at once; awaiting the result is optional.
let specs = try [
    ChildSpec(id: "greeter-en", Greeter.self, .init(greeting: "Hello")),
    ChildSpec(id: "greeter-fr", Greeter.self, .init(greeting: "Bonjour")),
    ChildSpec(id: "greeter-de", Greeter.self, .init(greeting: "Hallo")),
]
let started = try await hub.startChildren(specs, options: .init(metadata: ["tag": "greeters"]))
    .result(timeout: .seconds(10))
print("started \(started.started.count) children, status \(started.status)")

// 4. Look up (local registry reads, no network) and call.
if let info = hub.child("greeter-fr") {
    print("greeter-fr runs on \(info.locations.map(\.node.name)) with metadata \(info.metadata)")
}
guard let greeter = try hub.resolve("greeter-en", as: Greeter.self) else {
    fatalError("greeter-en is not registered")
}
print(try await greeter.greet("Swift"))
print(try await greeter.greet("cluster"))
print("tagged greeters: \(hub.children(taggedWith: "greeters").map(\.id).sorted())")

// 5. Stop one child, then the hub and the node.
let stopped = try await hub.stopChild("greeter-de").result(timeout: .seconds(10))
print("stopped \(stopped.ids); registry now lists \(hub.registryDump().keys.sorted())")
await hub.stop()
await node.shutdown()
print("HelloHub done")
