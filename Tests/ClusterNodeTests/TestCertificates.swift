import ClusterNode
import Crypto
import Foundation
import X509

/// A throwaway certificate authority made at test time (P-256, ECDSA-SHA256): it issues node
/// certificates, so TLS tests need no key material in the repository.
struct TestCertificateAuthority {
    /// A PEM certificate and its PEM private key.
    struct Issued {
        var certificatePEM: String
        var privateKeyPEM: String
    }

    let name: String
    let certificate: Certificate
    private let key: P256.Signing.PrivateKey

    /// A self-signed CA valid from an hour ago (clock skew) for a day.
    init(name: String) throws {
        self.name = name
        key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey), notValidBefore: now - 3600, notValidAfter: now + 86_400,
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(key))
    }

    /// The CA certificate as PEM: what nodes put in their trust roots.
    var certificatePEM: String { try! certificate.serializeAsPEM().pemString }

    /// A node certificate for `commonName`, usable as TLS server and client. It names no host or
    /// address: nodes check the chain, not names.
    func issue(commonName: String) throws -> Issued {
        let nodeKey = P256.Signing.PrivateKey()
        let now = Date()
        let issued = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: .init(nodeKey.publicKey), notValidBefore: now - 3600, notValidAfter: now + 86_400,
            issuer: certificate.subject, subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
            },
            issuerPrivateKey: .init(key))
        return Issued(certificatePEM: try issued.serializeAsPEM().pemString, privateKeyPEM: nodeKey.pemRepresentation)
    }

    /// TLS settings for a node with a fresh certificate of this CA, trusting this CA only.
    func nodeTLS(_ commonName: String, requiresPeerCertificate: Bool = true) throws -> NodeTLS {
        let issued = try issue(commonName: commonName)
        return NodeTLS(
            certificateChain: .pem(issued.certificatePEM), privateKey: .pem(issued.privateKeyPEM),
            trustRoots: .pem(certificatePEM), requiresPeerCertificate: requiresPeerCertificate)
    }

    /// Writes a node certificate, its key and this CA's certificate into `directory`, for
    /// `processhub node --tls-cert … --tls-key … --tls-ca …`; returns the three paths.
    func writeNodeFiles(_ commonName: String, into directory: URL) throws -> (cert: String, key: String, ca: String) {
        let issued = try issue(commonName: commonName)
        let cert = directory.appendingPathComponent("\(commonName).pem")
        let key = directory.appendingPathComponent("\(commonName).key")
        let ca = directory.appendingPathComponent("\(name)-ca.pem")
        try issued.certificatePEM.write(to: cert, atomically: true, encoding: .utf8)
        try issued.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
        try certificatePEM.write(to: ca, atomically: true, encoding: .utf8)
        return (cert.path, key.path, ca.path)
    }
}
