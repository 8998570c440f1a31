import ClusterNode
import DemoActors
import ProcessHubTesting
import Testing

@testable import ClusterNode

@Suite("Remote calls over real TCP", .timeLimit(.minutes(3)))
struct RemoteCallTests {
    /// Three nodes with the demo kinds registered.
    func cluster(_ configure: @escaping (Int, inout ClusterNodeSettings) -> Void = { _, _ in }) async throws -> LocalCluster {
        let cluster = try await LocalCluster.start(nodes: 3, configure: configure)
        for node in cluster.nodes { registerDemoKinds(on: node.system) }
        return cluster
    }

    func spawnEcho(from node: ClusterNode, on target: ClusterNode, label: String) async throws -> Echo {
        let id = try await node.system.spawn(kind: Echo.kind, arguments: Echo.Arguments(label: label), on: target.id)
        #expect(id.node == target.id)
        return try Echo.resolve(id: id, using: node.system)
    }

    @Test func callsGoBothWays() async throws {
        let cluster = try await cluster()
        defer { Task { await cluster.shutdown() } }
        let (n1, n2) = (cluster.nodes[0], cluster.nodes[1])
        let onN2 = try await spawnEcho(from: n1, on: n2, label: "on-n2")
        let onN1 = try await spawnEcho(from: n2, on: n1, label: "on-n1")
        #expect(try await onN2.name() == "on-n2")
        #expect(try await onN2.add(40, 2) == 42)
        #expect(try await onN1.echo(Ping(sequence: 7, text: "ü ✓", flag: false)) == Ping(sequence: 7, text: "ü ✓", flag: false))
        try await onN1.touch()
    }

    @Test func anActorReferencePassedAsAnArgumentIsCalledBack() async throws {
        let cluster = try await cluster()
        defer { Task { await cluster.shutdown() } }
        let (n1, n3) = (cluster.nodes[0], cluster.nodes[2])
        let local = Echo(actorSystem: n1.system, label: "local-on-n1")
        let remote = try await spawnEcho(from: n1, on: n3, label: "remote-on-n3")
        let answer = try await remote.callBack(local, with: Ping(sequence: 1, text: "hi", flag: true))
        #expect(answer == "remote-on-n3 via local-on-n1: hi")
    }

    @Test func localCallsUseTheInstanceItself() async throws {
        let node = try await ClusterNode.start(.init(name: "solo", secret: "s"))
        defer { Task { await node.shutdown() } }
        let echo = Echo(actorSystem: node.system, label: "here")
        let resolved = try Echo.resolve(id: echo.id, using: node.system)
        #expect(resolved === echo)
    }

    @Test func errorsComeBackTyped() async throws {
        let cluster = try await cluster()
        defer { Task { await cluster.shutdown() } }
        let echo = try await spawnEcho(from: cluster.nodes[0], on: cluster.nodes[1], label: "e")
        await #expect(throws: EchoError(reason: "registered")) { try await echo.failRegistered("registered") }
        do {
            try await echo.failUnregistered("plain")
            Issue.record("no error")
        } catch let error as ClusterError {
            #expect(error.code == .remoteError)
            #expect(error.remoteType?.contains("UnregisteredEchoError") == true)
            #expect(error.message.contains("plain"))
        }
    }

    @Test func aCallTimesOutWithATypedError() async throws {
        let cluster = try await cluster()
        defer { Task { await cluster.shutdown() } }
        let echo = try await spawnEcho(from: cluster.nodes[0], on: cluster.nodes[1], label: "slow")
        let error = await #expect(throws: ClusterError.self) {
            try await ClusterSystem.withCallTimeout(.milliseconds(200)) { try await echo.slow(milliseconds: 3000) }
        }
        #expect(error?.code == .callTimeout)
        #expect(try await echo.add(1, 1) == 2)  // the link is fine
    }

    @Test func callsInFlightFailWhenTheirNodeGoesDownAndLaterCallsFailFast() async throws {
        let cluster = try await cluster { _, settings in settings.callTimeout = .seconds(120) }
        let (n1, n3) = (cluster.nodes[0], cluster.nodes[2])
        let echo = try await spawnEcho(from: n1, on: n3, label: "doomed")
        let inFlight = Task { try await echo.slow(milliseconds: 60_000) }
        try await Task.sleep(for: .milliseconds(200))
        await n3.shutdown()
        let error = await #expect(throws: ClusterError.self) { try await inFlight.value }
        #expect(error?.code == .nodeDown)
        // A call to the dead node fails at once, not after the 120 s timeout.
        let later = await #expect(throws: ClusterError.self) { try await echo.add(1, 2) }
        #expect(later?.code == .nodeDown)
        // Resolving an id of the dead incarnation fails too.
        #expect(throws: ClusterError.self) { try Echo.resolve(id: echo.id, using: n1.system) }
        await cluster.nodes[0].shutdown()
        await cluster.nodes[1].shutdown()
    }

    @Test func registeredKindsAreCreatedAndUnknownKindsRefused() async throws {
        let cluster = try await cluster()
        defer { Task { await cluster.shutdown() } }
        let (n1, n2) = (cluster.nodes[0], cluster.nodes[1])
        let error = await #expect(throws: ClusterError.self) {
            try await n1.system.spawn(kind: "rm-rf", arguments: Echo.Arguments(label: "x"), on: n2.id)
        }
        #expect(error?.code == .unknownKind)
        let local = await #expect(throws: ClusterError.self) {
            try await n1.system.spawn(kind: "rm-rf", arguments: Echo.Arguments(label: "x"))
        }
        #expect(local?.code == .unknownKind)
        // Bad arguments for a known kind are a typed error as well.
        let bad = await #expect(throws: ClusterError.self) {
            try await n1.system.spawn(kind: Echo.kind, arguments: 17, on: n2.id)
        }
        #expect(bad?.code == .invalidArguments)
    }

    @Test func spawnedActorsLiveUntilStopped() async throws {
        let cluster = try await cluster()
        defer { Task { await cluster.shutdown() } }
        let (n1, n2) = (cluster.nodes[0], cluster.nodes[1])
        let echo = try await spawnEcho(from: n1, on: n2, label: "kept")
        #expect(try await echo.name() == "kept")  // nobody on n2 references it but the system
        #expect(try await n1.system.stopActor(echo.id))
        let error = await #expect(throws: ClusterError.self) { try await echo.name() }
        #expect(error?.code == .unknownActor)
    }

    @Test func oversizedCallsAndRepliesFailTypedAndTheLinkStays() async throws {
        let cluster = try await cluster { _, settings in settings.maxFrameSize = 64 * 1024 }
        defer { Task { await cluster.shutdown() } }
        let echo = try await spawnEcho(from: cluster.nodes[0], on: cluster.nodes[1], label: "big")
        let call = await #expect(throws: ClusterError.self) { try await echo.size(of: [UInt8](repeating: 1, count: 200_000)) }
        #expect(call?.code == .messageTooLarge)
        let reply = await #expect(throws: ClusterError.self) { try await echo.payload(count: 200_000) }
        #expect(reply?.code == .messageTooLarge)
        #expect(try await echo.size(of: [1, 2, 3]) == 3)
        #expect(cluster.nodes[0].members.count == 2)
    }

    @Test func manyConcurrentCallsAllGetTheirOwnReply() async throws {
        let cluster = try await cluster()
        defer { Task { await cluster.shutdown() } }
        let echo = try await spawnEcho(from: cluster.nodes[0], on: cluster.nodes[1], label: "busy")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<50 {
                group.addTask {
                    for i in 0..<40 {
                        let sum = try await echo.add(caller, i)
                        #expect(sum == caller + i)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
