import NIOCore
import Synchronization

/// The error types a node can send and rethrow as themselves: `Codable` errors registered with
/// ``ClusterSystem/registerErrorType(_:)``. Other errors travel as a type name and a message.
final class ErrorTypeRegistry: Sendable {
    private struct Codec: Sendable {
        var encode: @Sendable (any Error) -> [UInt8]?
        var decode: @Sendable (ByteBuffer, ClusterSystem) throws -> any Error
    }

    private let codecs = Mutex<(byName: [String: Codec], nameByType: [ObjectIdentifier: String])>(([:], [:]))

    func register<E: Error & Codable>(_ type: E.Type) {
        let name = String(reflecting: E.self)
        let codec = Codec(
            encode: { error in (error as? E).flatMap { try? BinaryEncoder().encode($0) } },
            decode: { buffer, system in try system.decode(E.self, from: buffer) })
        codecs.withLock {
            $0.byName[name] = codec
            $0.nameByType[ObjectIdentifier(E.self)] = name
        }
    }

    /// How `error` travels back to a caller.
    func outcome(for error: any Error) -> ReplyOutcome {
        if let error = error as? ClusterError { return .error(error) }
        let type = ObjectIdentifier(Swift.type(of: error))
        let registered = codecs.withLock { state in state.nameByType[type].map { ($0, state.byName[$0]!) } }
        if let (name, codec) = registered, let bytes = codec.encode(error) {
            return .registeredError(typeName: name, payload: ByteBuffer(bytes: bytes))
        }
        return .error(
            ClusterError(.remoteError, String(describing: error), remoteType: String(reflecting: Swift.type(of: error))))
    }

    /// The error to throw for a registered error received from a remote node.
    func error(named name: String, payload: ByteBuffer, system: ClusterSystem) -> any Error {
        guard let codec = codecs.withLock({ $0.byName[name] }) else {
            return ClusterError(.remoteError, "a \(name) error (not registered on this node)", remoteType: name)
        }
        do {
            return try codec.decode(payload, system)
        } catch {
            return ClusterError(.remoteError, "a \(name) error that could not be decoded: \(error)", remoteType: name)
        }
    }
}
