import NIOCore
import NIOSSL

/// The two TLS contexts of a node with ``NodeTLS``: one for the connections it accepts, one for
/// the connections it opens. Built once at node start, so every configuration error surfaces
/// there as a typed error and not on the first connection.
struct TLSContexts: Sendable {
    let server: NIOSSLContext
    let client: NIOSSLContext

    /// Both sides are our own nodes: no reason to speak anything older.
    static let minimumVersion = TLSVersion.tlsv13
    /// How long a closing connection waits for the peer's `close_notify`. A peer that never
    /// answers must not keep a socket (and a link going down) open for NIO's default 5 s.
    static let shutdownTimeout = TimeAmount.seconds(1)

    /// Reads and checks the certificates and key; throws ``ClusterError/Code/invalidSettings``.
    init(_ tls: NodeTLS) throws(ClusterError) {
        let chain = try Self.certificates(tls.certificateChain, what: "certificate chain")
        let key = try Self.privateKey(tls.privateKey)
        let roots = try Self.certificates(tls.trustRoots, what: "trust roots")
        let chainSources = chain.map(NIOSSLCertificateSource.certificate)

        var server = TLSConfiguration.makeServerConfiguration(certificateChain: chainSources, privateKey: .privateKey(key))
        server.certificateVerification = tls.requiresPeerCertificate ? .noHostnameVerification : .optionalVerification
        server.trustRoots = .certificates(roots)

        // A client certificate is sent whenever the server asks for one (mutual TLS).
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = chainSources
        client.privateKey = .privateKey(key)
        client.certificateVerification = .noHostnameVerification  // nodes are addressed by IP
        client.trustRoots = .certificates(roots)

        self.server = try Self.context(Self.hardened(server))
        self.client = try Self.context(Self.hardened(client))
    }

    /// The TLS handler that goes first in a connection's pipeline.
    func handler(for role: Handshake.Role) throws -> any ChannelHandler {
        switch role {
        case .acceptor: NIOSSLServerHandler(context: server)
        case .initiator: try NIOSSLClientHandler(context: client, serverHostname: nil)
        }
    }

    // MARK: Loading

    private static func hardened(_ configuration: TLSConfiguration) -> TLSConfiguration {
        var configuration = configuration
        configuration.minimumTLSVersion = minimumVersion
        configuration.shutdownTimeout = shutdownTimeout
        return configuration
    }

    private static func context(_ configuration: TLSConfiguration) throws(ClusterError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch NIOSSLError.failedToLoadPrivateKey {
            // The chain is installed first; BoringSSL refuses a key whose public half differs.
            throw invalid("the TLS private key does not belong to the first certificate of the chain")
        } catch {
            throw invalid("cannot set up TLS: \(error)")
        }
    }

    private static func certificates(_ source: NodeTLS.Source, what: String) throws(ClusterError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            switch source {
            case .pem(let bytes): certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
            case .file(let path): certificates = try NIOSSLCertificate.fromPEMFile(path)
            }
        } catch {
            throw invalid("cannot read the TLS \(what) from \(source.origin): \(error)")
        }
        guard !certificates.isEmpty else { throw invalid("no PEM certificate in the TLS \(what) (\(source.origin))") }
        return certificates
    }

    private static func privateKey(_ source: NodeTLS.Source) throws(ClusterError) -> NIOSSLPrivateKey {
        do {
            switch source {
            case .pem(let bytes): return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
            case .file(let path): return try NIOSSLPrivateKey(file: path, format: .pem)
            }
        } catch {
            throw invalid("cannot read the TLS private key from \(source.origin): \(error)")
        }
    }

    private static func invalid(_ message: String) -> ClusterError {
        ClusterError(.invalidSettings, message)
    }
}

extension NodeTLS.Source {
    /// Where the material comes from, for error messages (never the material itself: it may be a key).
    var origin: String {
        switch self {
        case .pem: "in-memory PEM"
        case .file(let path): "file \(path)"
        }
    }
}
