import ClusterNode

/// The one way hub messages enter and leave a node: bytes in the compact binary format, the
/// version first, so a receiver can refuse a version it does not speak before it reads anything
/// else.
extension HubEnvelope {
    private enum CodingKeys: Int, CodingKey {
        case version = 1
        case message = 2
    }

    /// Decodes the version, and the message only when this build reads that version.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(UInt16.self, forKey: .version)
        guard (Self.oldestReadableVersion...Self.currentVersion).contains(version) else {
            throw HubError(
                .unsupportedProtocol,
                "hub protocol version \(version) is not read by this build (it reads \(Self.oldestReadableVersion)–\(Self.currentVersion))")
        }
        self.version = version
        self.message = try container.decode(HubPeerMessage.self, forKey: .message)
        // A sender writes each message in the version that introduced it: one claiming an older
        // version was not written by a coherent build.
        guard message.introducedIn <= version else {
            throw HubError(.malformedMessage, "a \(message.summary) message is not part of hub protocol version \(version)")
        }
    }

    /// Encodes the version, then the message.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(message, forKey: .message)
    }

    /// The envelope as bytes for the wire.
    package func encoded() throws(HubError) -> [UInt8] {
        do {
            return try BinaryEncoder().encode(self)
        } catch {
            throw HubError(.malformedMessage, "a hub message could not be encoded: \(error)")
        }
    }

    /// Reads one envelope; anything this build cannot read is a typed error and nothing else.
    package static func decode(_ bytes: [UInt8]) throws(HubError) -> HubEnvelope {
        do {
            return try BinaryDecoder().decode(HubEnvelope.self, from: bytes)
        } catch let error as HubError {
            throw error
        } catch {
            throw HubError(.malformedMessage, "a hub message could not be decoded: \(error)")
        }
    }

    /// The envelope of a newer (or older) protocol version, for tests of version refusal.
    package func withVersion(_ version: UInt16) -> HubEnvelope {
        var copy = self
        copy.version = version
        return copy
    }
}
