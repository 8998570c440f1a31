import ClusterNode
import DemoActors
import Foundation
import NIOSSL
import ProcessHubTesting
import Testing

@testable import ClusterNode

@Suite("TLS and mutual TLS between nodes", .timeLimit(.minutes(3)))
struct TLSTests {
    /// Nodes retry often, so a join that is going to happen happens well within the wait below.
    static func quickRetries(_ settings: inout ClusterNodeSettings) {
        settings.reconnectInterval = .milliseconds(200)
    }

    /// Starts `count` nodes whose certificates all come from `ca`.
    func tlsCluster(_ count: Int, ca: TestCertificateAuthority) async throws -> LocalCluster {
        var tls: [NodeTLS] = []
        for index in 0..<count { tls.append(try ca.nodeTLS("n\(index + 1)")) }
        let cluster = try await LocalCluster.start(nodes: count) { index, settings in
            settings.tls = tls[index]
            Self.quickRetries(&settings)
        }
        for node in cluster.nodes { registerDemoKinds(on: node.system) }
        return cluster
    }

    /// A remote call from the first node to an actor spawned on the last one.
    func expectRemoteCallWorks(_ cluster: LocalCluster) async throws {
        let (first, last) = (cluster.nodes[0], cluster.nodes[cluster.nodes.count - 1])
        let id = try await first.system.spawn(kind: Echo.kind, arguments: Echo.Arguments(label: "tls"), on: last.id)
        #expect(try await Echo.resolve(id: id, using: first.system).add(20, 22) == 42)
    }

    /// Starts a node that tries to join `cluster` and gives it several retries to (not) succeed.
    func outsider(joining cluster: LocalCluster, tls: NodeTLS?) async throws -> ClusterNode {
        var settings = ClusterNodeSettings(name: "outsider", secret: ClusterSecret(cluster.secret))
        settings.seeds = cluster.nodes.map(\.id.address)
        settings.tls = tls
        Self.quickRetries(&settings)
        let node = try await ClusterNode.start(settings)
        try await Task.sleep(for: .seconds(2))  // about ten connection attempts to each member
        return node
    }

    /// Neither the outsider nor any member ever saw the other come up, and the cluster still works.
    func expectKeptOut(_ outsider: ClusterNode, from cluster: LocalCluster, recorders: [MembershipRecorder]) async throws {
        #expect(outsider.members.isEmpty)
        for (node, recorder) in zip(cluster.nodes, recorders) {
            #expect(!node.members.contains(outsider.id))
            #expect(!recorder.events.contains(.up(outsider.id)))
        }
        try await cluster.waitForFullMesh(timeout: .seconds(10))
        try await expectRemoteCallWorks(cluster)
    }

    @Test func threeNodesWithCertificatesOfOneAuthorityFormAMeshAndCall() async throws {
        let ca = try TestCertificateAuthority(name: "cluster-ca")
        let cluster = try await tlsCluster(3, ca: ca)
        defer { Task { await cluster.shutdown() } }
        try await expectRemoteCallWorks(cluster)
        let reverse = try await cluster.nodes[2].system.spawn(
            kind: Echo.kind, arguments: Echo.Arguments(label: "back"), on: cluster.nodes[1].id)
        #expect(try await Echo.resolve(id: reverse, using: cluster.nodes[2].system).add(1, 1) == 2)
    }

    @Test func aNodeWithACertificateOfAnotherAuthorityCannotJoin() async throws {
        let ca = try TestCertificateAuthority(name: "cluster-ca")
        let rogueCA = try TestCertificateAuthority(name: "rogue-ca")
        let cluster = try await tlsCluster(2, ca: ca)
        defer { Task { await cluster.shutdown() } }
        let recorders = cluster.nodes.map(MembershipRecorder.init)
        // It knows the secret and trusts the cluster's CA; only its own certificate is foreign.
        let issued = try rogueCA.issue(commonName: "outsider")
        let tls = NodeTLS(
            certificateChain: .pem(issued.certificatePEM), privateKey: .pem(issued.privateKeyPEM),
            trustRoots: .pem(ca.certificatePEM))
        let outsider = try await outsider(joining: cluster, tls: tls)
        defer { Task { await outsider.shutdown() } }
        try await expectKeptOut(outsider, from: cluster, recorders: recorders)
    }

    @Test func aNodeWithoutTLSCannotJoinATLSCluster() async throws {
        let cluster = try await tlsCluster(2, ca: try TestCertificateAuthority(name: "cluster-ca"))
        defer { Task { await cluster.shutdown() } }
        let recorders = cluster.nodes.map(MembershipRecorder.init)
        let outsider = try await outsider(joining: cluster, tls: nil)
        defer { Task { await outsider.shutdown() } }
        try await expectKeptOut(outsider, from: cluster, recorders: recorders)
    }

    @Test func aTLSNodeCannotJoinAPlaintextCluster() async throws {
        let cluster = try await LocalCluster.start(nodes: 2) { _, settings in Self.quickRetries(&settings) }
        for node in cluster.nodes { registerDemoKinds(on: node.system) }
        defer { Task { await cluster.shutdown() } }
        let recorders = cluster.nodes.map(MembershipRecorder.init)
        let ca = try TestCertificateAuthority(name: "cluster-ca")
        let outsider = try await outsider(joining: cluster, tls: try ca.nodeTLS("outsider"))
        defer { Task { await outsider.shutdown() } }
        try await expectKeptOut(outsider, from: cluster, recorders: recorders)
    }

    /// A client that trusts the cluster's CA and knows the secret, but presents no certificate.
    func certificatelessClient(trusting ca: TestCertificateAuthority) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.certificatePEM.utf8)))
        configuration.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: configuration)
    }

    @Test func mutualTLSRefusesAClientWithoutACertificate() async throws {
        let ca = try TestCertificateAuthority(name: "cluster-ca")
        let cluster = try await tlsCluster(2, ca: ca)
        defer { Task { await cluster.shutdown() } }
        let n1 = cluster.nodes[0]
        let fake = NodeID(name: "fake", host: "127.0.0.1", port: 5, incarnation: 1)
        let peer = try await RawPeer.connect(to: n1.id.address, tls: try certificatelessClient(trusting: ca))
        // With TLS 1.3 the client learns of the refusal only after its first write.
        try? await peer.send(.hello(HelloMessage(node: fake, nonce: Handshake.randomNonce(), labels: [:])))
        #expect(await peer.closedByNode())
        // The node did speak TLS with a certificate the client accepted; it refused the client.
        #expect(peer.tlsHandshakeCompleted)
        #expect(peer.errors.contains { $0.contains("CERTIFICATE_REQUIRED") }, "\(peer.errors)")
        #expect(!n1.members.contains(fake))
        try await expectRemoteCallWorks(cluster)
    }

    @Test func withoutMutualTLSTheSameClientGetsThroughToTheSecretCheck() async throws {
        // The counterpart of the test above: what refused the client there was the missing certificate.
        let ca = try TestCertificateAuthority(name: "cluster-ca")
        let node = try await ClusterNode.start({
            var settings = ClusterNodeSettings(name: "n1", secret: "s")
            settings.tls = try ca.nodeTLS("n1", requiresPeerCertificate: false)
            return settings
        }())
        defer { Task { await node.shutdown() } }
        let fake = NodeID(name: "fake", host: "127.0.0.1", port: 6, incarnation: 1)
        let peer = try await RawPeer.connect(to: node.id.address, tls: try certificatelessClient(trusting: ca))
        #expect(try await peer.authenticate(as: fake, secret: "s") == .established(peer: node.id, labels: [:]))
        try await waitUntil { node.members.contains(fake) }
    }

    @Test func configurationErrorsAreTypedErrorsAtStart() async throws {
        let ca = try TestCertificateAuthority(name: "cluster-ca")
        let issued = try ca.issue(commonName: "n1")
        let other = try ca.issue(commonName: "n2")
        let cases: [(String, NodeTLS)] = [
            ("missing file", NodeTLS(certificateChain: .file("/nonexistent/node.pem"), privateKey: .pem(issued.privateKeyPEM), trustRoots: .pem(ca.certificatePEM))),
            ("garbage chain", NodeTLS(certificateChain: .pem("not a certificate"), privateKey: .pem(issued.privateKeyPEM), trustRoots: .pem(ca.certificatePEM))),
            ("garbage key", NodeTLS(certificateChain: .pem(issued.certificatePEM), privateKey: .pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), trustRoots: .pem(ca.certificatePEM))),
            ("key of another certificate", NodeTLS(certificateChain: .pem(issued.certificatePEM), privateKey: .pem(other.privateKeyPEM), trustRoots: .pem(ca.certificatePEM))),
            ("empty trust roots", NodeTLS(certificateChain: .pem(issued.certificatePEM), privateKey: .pem(issued.privateKeyPEM), trustRoots: .pem(""))),
        ]
        for (label, tls) in cases {
            var settings = ClusterNodeSettings(name: "n1", secret: "s")
            settings.tls = tls
            let error = await #expect(throws: ClusterError.self, "\(label)") { _ = try await ClusterNode.start(settings) }
            #expect(error?.code == .invalidSettings, "\(label)")
            #expect(error?.message.contains("TLS") == true, "\(label): \(error?.message ?? "")")
        }
    }

    @Test func processhubNodeTakesTLSFlags() async throws {
        defer { NodeProcess.endAll() }
        let ca = try TestCertificateAuthority(name: "cli-ca")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("processhub-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secret = "tls-\(UInt64.random(in: 0 ... .max))"

        var settings = ClusterNodeSettings(name: "observer", secret: ClusterSecret(secret))
        settings.tls = try ca.nodeTLS("observer")
        let observer = try await ClusterNode.start(settings)
        defer { Task { await observer.shutdown() } }

        let files = try ca.writeNodeFiles("cli", into: directory)
        let process = try NodeProcess.launch([
            "node", "--name", "cli", "--secret", secret, "--seed", "\(observer.id.address)",
            "--tls-cert", files.cert, "--tls-key", files.key, "--tls-ca", files.ca,
        ])
        let id = try #require(NodeID(try await process.waitUntilReady()))
        try await waitUntil(timeout: .seconds(30), "the TLS node process up on the observer") { observer.members.contains(id) }
        _ = try await process.waitForLine("up observer") { $0.hasPrefix("up \(observer.id)") }
        #expect(await process.terminate() == 0)

        // A key file that does not belong to the certificate: the process refuses to start.
        let mismatched = try NodeProcess.launch([
            "node", "--name", "bad", "--secret", secret,
            "--tls-cert", files.cert, "--tls-key", try ca.writeNodeFiles("other", into: directory).key, "--tls-ca", files.ca,
        ])
        await #expect(throws: (any Error).self) { _ = try await mismatched.waitUntilReady(timeout: .seconds(30)) }
        try await waitUntil(timeout: .seconds(10), "the misconfigured process to exit") { !mismatched.isRunning }
        #expect(mismatched.log.contains("does not belong"))
    }
}
