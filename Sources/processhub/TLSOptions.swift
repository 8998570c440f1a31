import ArgumentParser
import ClusterNode

/// The TLS flags of commands that start a node: all three files turn TLS on, none leaves it off.
struct TLSOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "PEM file with this node's certificate (then any intermediates). Turns TLS on.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM file with the private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp(
        "PEM file with the certificate authorities to trust. Peers are checked against it, not by host name.",
        valueName: "file"))
    var tlsCa: String?

    @Flag(help: "Let peers connect without a client certificate (mutual TLS is the default with TLS).")
    var tlsNoClientAuth = false

    func validate() throws {
        let given = [tlsCert, tlsKey, tlsCa].compactMap { $0 }
        if !given.isEmpty && given.count < 3 {
            throw ValidationError("TLS needs all of --tls-cert, --tls-key and --tls-ca")
        }
        if given.isEmpty && tlsNoClientAuth {
            throw ValidationError("--tls-no-client-auth needs --tls-cert, --tls-key and --tls-ca")
        }
    }

    /// The node's TLS settings, or `nil` without the flags. Files are read at node start.
    var nodeTLS: NodeTLS? {
        guard let tlsCert, let tlsKey, let tlsCa else { return nil }
        return NodeTLS(
            certificateChain: .file(tlsCert), privateKey: .file(tlsKey), trustRoots: .file(tlsCa),
            requiresPeerCertificate: !tlsNoClientAuth)
    }
}
