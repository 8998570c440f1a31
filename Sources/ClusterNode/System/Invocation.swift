import Distributed
import NIOCore

/// Records a distributed call's arguments, encoded with ``BinaryEncoder`` as they are recorded.
/// The Swift runtime drives it; users never call it.
public struct ClusterInvocationEncoder: DistributedTargetInvocationEncoder {
    /// Arguments and results of distributed functions must be `Codable`.
    public typealias SerializationRequirement = any Codable

    var arguments: [ByteBuffer] = []
    var genericSubstitutions: [String] = []

    init() {}

    /// Records a generic parameter of the called function by its mangled name.
    public mutating func recordGenericSubstitution<T>(_ type: T.Type) throws {
        guard let name = _mangledTypeName(T.self) else {
            throw ClusterError(.invalidArguments, "the type \(T.self) has no mangled name")
        }
        genericSubstitutions.append(name)
    }

    /// Encodes one argument.
    public mutating func recordArgument<Value: Codable>(_ argument: RemoteCallArgument<Value>) throws {
        let bytes = try BinaryEncoder().encode(argument.value)
        arguments.append(ByteBuffer(bytes: bytes))
    }

    /// Not needed: the reply says whether it is a value, void or an error.
    public mutating func recordErrorType<E: Error>(_ type: E.Type) throws {}

    /// Not needed: the caller knows the return type.
    public mutating func recordReturnType<R: Codable>(_ type: R.Type) throws {}

    /// Nothing left to do.
    public mutating func doneRecording() throws {}
}

/// Hands a received call's arguments to the Swift runtime, decoding each on demand.
public struct ClusterInvocationDecoder: DistributedTargetInvocationDecoder {
    /// Arguments and results of distributed functions must be `Codable`.
    public typealias SerializationRequirement = any Codable

    private let system: ClusterSystem
    private let arguments: [ByteBuffer]
    private let substitutions: [String]
    private var nextArgument = 0
    /// Why decoding an argument failed, if it did: the call is then answered `invalidArguments`.
    private(set) var argumentFailure: String?

    init(system: ClusterSystem, call: CallMessage) {
        self.system = system
        self.arguments = call.arguments
        self.substitutions = call.genericSubstitutions
    }

    /// Resolves the generic parameters by their mangled names.
    public mutating func decodeGenericSubstitutions() throws -> [Any.Type] {
        try substitutions.map { name in
            guard let type = _typeByName(name) else {
                argumentFailure = "unknown generic substitution \(name)"
                throw ClusterError(.invalidArguments, argumentFailure!)
            }
            return type
        }
    }

    /// Decodes the next argument.
    public mutating func decodeNextArgument<Argument: Codable>() throws -> Argument {
        guard nextArgument < arguments.count else {
            argumentFailure = "missing argument \(nextArgument + 1) of type \(Argument.self)"
            throw ClusterError(.invalidArguments, argumentFailure!)
        }
        let buffer = arguments[nextArgument]
        nextArgument += 1
        do {
            return try system.decode(Argument.self, from: buffer)
        } catch {
            argumentFailure = "argument \(nextArgument) is not a valid \(Argument.self): \(error)"
            throw ClusterError(.invalidArguments, argumentFailure!)
        }
    }

    /// Not recorded on the wire.
    public mutating func decodeErrorType() throws -> Any.Type? { nil }

    /// Not recorded on the wire.
    public mutating func decodeReturnType() throws -> Any.Type? { nil }
}

/// Sends the outcome of an inbound call back to its caller.
public struct ClusterResultHandler: DistributedTargetInvocationResultHandler, Sendable {
    /// Arguments and results of distributed functions must be `Codable`.
    public typealias SerializationRequirement = any Codable

    let system: ClusterSystem
    let link: Link
    let callID: UInt64

    /// Encodes and sends the returned value.
    public func onReturn<Success: Codable>(value: Success) async throws {
        let outcome: ReplyOutcome
        do {
            outcome = .value(ByteBuffer(bytes: try BinaryEncoder().encode(value)))
        } catch {
            outcome = .error(ClusterError(.invalidReply, "the return value could not be encoded: \(error)"))
        }
        link.send(.reply(ReplyMessage(callID: callID, outcome: outcome)))
    }

    /// Sends "returned nothing".
    public func onReturnVoid() async throws {
        link.send(.reply(ReplyMessage(callID: callID, outcome: .void)))
    }

    /// Sends the error: as itself when its type is registered, described otherwise.
    public func onThrow<Err: Error>(error: Err) async throws {
        link.send(.reply(ReplyMessage(callID: callID, outcome: system.errorTypes.outcome(for: error))))
    }
}
