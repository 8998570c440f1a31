/// The error thrown by ``BinaryEncoder`` and ``BinaryDecoder`` when a value cannot be encoded
/// or bytes cannot be decoded.
///
/// Errors thrown by a type's own `encode(to:)` or `init(from:)` (for example a `DecodingError`
/// from a `RawRepresentable` enum) are passed through unchanged.
public struct BinaryCodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; switch on it.
    public enum Code: String, Sendable {
        /// The input ended in the middle of a value.
        case truncatedInput
        /// A length or an element count does not fit in the bytes that remain.
        case invalidLength
        /// The encoded value is of another type than the one asked for.
        case typeMismatch
        /// A keyed container has no value for the key asked for.
        case keyNotFound
        /// A non-optional value was asked for but `nil` is encoded.
        case valueNotFound
        /// An encoded number does not fit in the type asked for.
        case numberOutOfRange
        /// A string is not valid UTF-8.
        case invalidUTF8
        /// The bytes are not a valid encoding (unknown tag, bad key reference, overlong number).
        case dataCorrupted
        /// Bytes remain after the top-level value.
        case trailingBytes
        /// Values are nested deeper than ``BinaryDecoder/maximumDepth`` (or, when encoding,
        /// ``BinaryEncoder/maximumDepth``).
        case nestingTooDeep
        /// An encoder or container was used in a way this streaming encoder does not support,
        /// such as writing to a nested container after its parent has moved on.
        case invalidUsage
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation, such as the expected and the encoded type.
    public var message: String
    /// Where in the value the failure happened, such as `items[3].name`; empty at the top level.
    public var codingPath: String

    /// Creates an error.
    public init(_ code: Code, _ message: String, codingPath: String = "") {
        self.code = code
        self.message = message
        self.codingPath = codingPath
    }

    /// `code at path: message`.
    public var description: String {
        let path = codingPath.isEmpty ? "" : " at \(codingPath)"
        return "\(code.rawValue)\(path): \(message)"
    }
}
