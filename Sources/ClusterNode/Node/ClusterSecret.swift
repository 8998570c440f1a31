import Crypto

/// The shared secret every node of a cluster knows (Erlang's cookie).
///
/// It is never sent over the wire: nodes prove they know it with an HMAC-SHA256
/// challenge–response over fresh nonces.
public struct ClusterSecret: Sendable {
    private let bytes: [UInt8]

    /// The HMAC key (made on use: `SymmetricKey` is not `Sendable`).
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// Uses the UTF-8 bytes of `text` as the secret. Empty secrets are refused at node start.
    public init(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// Uses raw bytes as the secret.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isEmpty: Bool { bytes.isEmpty }
}

extension ClusterSecret: ExpressibleByStringLiteral {
    /// A secret written as a string literal (tests, examples).
    public init(stringLiteral value: String) { self.init(value) }
}
