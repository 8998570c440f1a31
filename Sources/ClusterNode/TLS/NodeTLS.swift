/// TLS for the links between nodes: the node's certificate and key, the certificate authorities
/// it trusts, and whether peers must present a certificate of their own (mutual TLS).
///
/// TLS sits *under* the cluster handshake: a connection first completes TLS, then both sides
/// still prove the cluster secret inside it. Every connection of a node with TLS is TLS, the
/// ones it accepts and the ones it opens, so a node without TLS cannot join its cluster.
///
/// Nodes are addressed by IP and port, so **no host name is checked**: a peer is trusted when
/// its certificate chain verifies against ``trustRoots``, whatever names the certificate carries.
/// Use a certificate authority that signs cluster nodes only.
///
/// ```swift
/// var settings = ClusterNodeSettings(name: "n1", secret: "s3cret")
/// settings.tls = NodeTLS(
///     certificateChain: .file("/etc/processhub/node.pem"),
///     privateKey: .file("/etc/processhub/node.key"),
///     trustRoots: .file("/etc/processhub/ca.pem"))
/// ```
///
/// Nothing is read until ``ClusterNode/start(_:group:logger:)``, which throws
/// ``ClusterError/Code/invalidSettings`` for a file it cannot read, PEM it cannot parse or a key
/// that does not belong to the certificate.
public struct NodeTLS: Sendable {
    /// Where PEM-encoded material comes from.
    public enum Source: Sendable, Equatable {
        /// PEM text already in memory.
        case pem([UInt8])
        /// A file of PEM text, read at node start.
        case file(String)

        /// PEM text given as a string.
        public static func pem(_ text: String) -> Source { .pem(Array(text.utf8)) }
    }

    /// The node's certificate, then any intermediate certificates, as PEM. The node presents it
    /// both as a server (connections it accepts) and as a client (connections it opens).
    public var certificateChain: Source
    /// The private key of the first certificate in ``certificateChain``, as PEM (unencrypted).
    public var privateKey: Source
    /// The certificate authorities whose certificates are trusted, as PEM (one or more).
    public var trustRoots: Source
    /// Whether a connecting peer must present a certificate that verifies against
    /// ``trustRoots`` (mutual TLS). Default `true`. When `false`, a peer without a certificate is
    /// let through TLS and only the cluster secret keeps it out; a certificate it does present
    /// must still verify.
    public var requiresPeerCertificate: Bool

    /// Creates a TLS configuration; mutual TLS unless `requiresPeerCertificate` is `false`.
    public init(certificateChain: Source, privateKey: Source, trustRoots: Source, requiresPeerCertificate: Bool = true) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trustRoots = trustRoots
        self.requiresPeerCertificate = requiresPeerCertificate
    }
}
