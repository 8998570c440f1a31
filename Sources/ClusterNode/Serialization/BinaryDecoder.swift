/// Decodes `Decodable` values from the binary format written by ``BinaryEncoder``.
///
/// Keyed containers may be read in any order and keys the type does not ask for are skipped.
/// The decoder is safe to use on untrusted bytes: malformed input throws a
/// ``BinaryCodingError``; it never traps, never allocates more than the input can justify and
/// limits nesting to ``maximumDepth``.
///
/// ```swift
/// var decoder = BinaryDecoder()
/// decoder.userInfo[.actorSystemKey] = system
/// let value = try buffer.withUnsafeReadableBytes { try decoder.decode(Value.self, from: $0) }
/// ```
public struct BinaryDecoder: Sendable {
    /// The deepest nesting of containers the decoder accepts; deeper input throws
    /// ``BinaryCodingError/Code/nestingTooDeep``.
    public static let maximumDepth = 512

    /// Values handed to the `init(from:)` implementations as `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable]

    /// Creates a decoder.
    /// - Parameter userInfo: values handed to the `init(from:)` implementations.
    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:]) {
        self.userInfo = userInfo
    }

    /// Decodes a value of type `T` from a complete message.
    /// - Throws: ``BinaryCodingError`` (also when bytes follow the value), or an error thrown by
    ///   a type's `init(from:)`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// Decodes a value of type `T` from a complete message in memory that the caller owns, such
    /// as the readable bytes of a `ByteBuffer`, without copying it.
    ///
    /// The bytes are read only during the call; strings are copied out of them.
    /// - Throws: ``BinaryCodingError`` (also when bytes follow the value), or an error thrown by
    ///   a type's `init(from:)`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        guard bytes.count <= Int(UInt32.max) else {
            throw BinaryCodingError(.invalidLength, "messages of 4 GiB or more are not supported")
        }
        let state = _BinaryDecodingState(input: bytes, userInfo: userInfo)
        // A decoder or container that a type kept past this call then reads nothing.
        defer { state.input = UnsafeRawBufferPointer(start: nil, count: 0) }
        return try state.decodeTopLevel(T.self)
    }
}

// MARK: - Decoding state

/// What the decoder knows about the value at one depth.
struct _BinaryDecodingLevel {
    var path: _BinaryPathElement
    /// The type being decoded there (tells whether an `Optional` prefix belongs to it).
    var type: Any.Type
    /// Where the last lookup of the keyed container whose body starts at `hintContainer` ended,
    /// so that keys read in encoding order are found at once.
    var hintContainer: Int
    var hintOffset: Int
    var hintIndex: Int

    init(path: _BinaryPathElement, type: Any.Type) {
        self.path = path
        self.type = type
        self.hintContainer = -1
        self.hintOffset = 0
        self.hintIndex = 0
    }
}

/// A key's value in a keyed container.
struct _BinaryEntry {
    var ref: UInt64
    var start: Int
    var end: Int
}

/// The state shared by every decoder and container of one `decode` call.
final class _BinaryDecodingState {
    @exclusivity(unchecked) var input: UnsafeRawBufferPointer
    @exclusivity(unchecked) var keys: [String] = []
    @exclusivity(unchecked) var levels: [_BinaryDecodingLevel] = []
    let userInfoStorage: [CodingUserInfoKey: any Sendable]
    @exclusivity(unchecked) var userInfoCache: [CodingUserInfoKey: Any]?

    init(input: UnsafeRawBufferPointer, userInfo: [CodingUserInfoKey: any Sendable]) {
        self.input = input
        self.userInfoStorage = userInfo
    }

    var userInfo: [CodingUserInfoKey: Any] {
        if let userInfoCache { return userInfoCache }
        let converted = userInfoStorage.asCodingUserInfo
        userInfoCache = converted
        return converted
    }

    // MARK: Top level

    func decodeTopLevel<T: Decodable>(_ type: T.Type) throws -> T {
        let limit = input.count
        var offset = 0
        let keyCount = try readVarint(&offset, limit)
        guard keyCount <= UInt64(limit - offset) else {
            throw BinaryCodingError(.invalidLength, "the key table claims \(keyCount) keys")
        }
        keys.reserveCapacity(Int(min(keyCount, 64)))
        for _ in 0..<Int(keyCount) {
            let length = try readLength(&offset, limit)
            keys.append(try makeString(at: offset, count: length))
            offset += length
        }
        let end = try skipValue(at: offset, limit: limit)
        guard end == limit else {
            throw BinaryCodingError(.trailingBytes, "\(limit - end) bytes follow the value")
        }
        levels.reserveCapacity(8)
        levels.append(_BinaryDecodingLevel(path: .none, type: T.self))
        if input[offset] == _BinaryTag.some {
            // Only an Optional starts with the prefix at the top level, and it is its own.
            return try T(from: _BinaryDecoder(state: self, offset: offset, limit: limit, depth: 0))
        }
        var valueEnd = 0
        return try decodeValue(T.self, at: offset, limit: limit, depth: 0, path: .none, end: &valueEnd)
    }

    // MARK: Values

    /// Decodes the value at `offset` (which ends at or before `limit`) and sets `end` to its end.
    ///
    /// Primitive types and arrays of them are read directly; types are told apart by their size
    /// first, so that a struct costs one comparison. (No tuples or optionals of `T` here: in
    /// unspecialized code their metadata would be looked up at run time for every value.)
    @inline(__always)
    func decodeValue<T: Decodable>(
        _ type: T.Type,
        at offset: Int,
        limit: Int,
        depth: Int,
        path: _BinaryPathElement,
        end: inout Int
    ) throws -> T {
        switch MemoryLayout<T>.size {
        case 16:
            if T.self == String.self {
                let (value, valueEnd) = try readString(at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == Int128.self {
                let (value, valueEnd) = try readInteger128(Int128.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == UInt128.self {
                let (value, valueEnd) = try readInteger128(UInt128.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
        case 8:
            if T.self == Int.self {
                let (value, valueEnd) = try readInteger(Int.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == Double.self {
                let (value, valueEnd) = try readDouble(at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == Int64.self {
                let (value, valueEnd) = try readInteger(Int64.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == UInt64.self {
                let (value, valueEnd) = try readInteger(UInt64.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == UInt.self {
                let (value, valueEnd) = try readInteger(UInt.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [UInt8].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readInteger(UInt8.self, at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [Int].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readInteger(Int.self, at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [String].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readString(at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [Double].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readDouble(at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [Bool].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readBool(at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [Float].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readFloat(at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [Int64].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readInteger(Int64.self, at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [UInt64].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readInteger(UInt64.self, at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [Int32].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readInteger(Int32.self, at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == [UInt32].self {
                let (value, valueEnd) = try readArray(at: offset, limit: limit, depth: depth, path: path) {
                    try readInteger(UInt32.self, at: $0, limit: $1)
                }
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
        case 4:
            if T.self == Float.self {
                let (value, valueEnd) = try readFloat(at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == Int32.self {
                let (value, valueEnd) = try readInteger(Int32.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == UInt32.self {
                let (value, valueEnd) = try readInteger(UInt32.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
        case 2:
            if T.self == Int16.self {
                let (value, valueEnd) = try readInteger(Int16.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == UInt16.self {
                let (value, valueEnd) = try readInteger(UInt16.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
        case 1:
            if T.self == Bool.self {
                let (value, valueEnd) = try readBool(at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == UInt8.self {
                let (value, valueEnd) = try readInteger(UInt8.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
            if T.self == Int8.self {
                let (value, valueEnd) = try readInteger(Int8.self, at: offset, limit: limit)
                end = valueEnd
                return unsafeBitCast(value, to: T.self)
            }
        default:
            break
        }
        let valueEnd = try skipValue(at: offset, limit: limit)
        end = valueEnd
        return try decodeComposite(T.self, at: offset, end: valueEnd, depth: depth, path: path)
    }

    /// Reads an array of a primitive type, as `Array.init(from:)` would through an unkeyed
    /// container, but without the per-element generic calls.
    @inline(__always)
    func readArray<Element>(
        at offset: Int,
        limit: Int,
        depth: Int,
        path: _BinaryPathElement,
        _ read: (Int, Int) throws -> (Element, Int)
    ) throws -> ([Element], Int) {
        // No need to check the count against the elements: it is at most the body's length,
        // and each element is a few bytes in memory.
        let (start, end, count) = try openContainer(_BinaryTag.unkeyed, at: offset, limit: limit, checkingCount: false)
        var result: [Element] = []
        result.reserveCapacity(count)
        var position = start
        for index in 0..<count {
            do {
                let (element, next) = try read(position, end)
                result.append(element)
                position = next
            } catch let error as BinaryCodingError {
                throw error.at(pathString(depth: depth - 1, appending: path) + "[\(index)]")
            }
        }
        return (result, end)
    }

    /// Decodes a value that is not primitive, occupying exactly `offset..<end`, at `depth`.
    func decodeComposite<T: Decodable>(
        _ type: T.Type,
        at offset: Int,
        end: Int,
        depth: Int,
        path: _BinaryPathElement
    ) throws -> T {
        guard depth <= BinaryDecoder.maximumDepth else { throw nestingError() }
        var start = offset
        if start < min(end, input.count), input[start] == _BinaryTag.some, T.self is _BinaryOptionalMarker.Type {
            start += 1  // the prefix that marks this Optional level
        }
        setLevel(depth, path: path, type: T.self)
        return try T(from: _BinaryDecoder(state: self, offset: start, limit: end, depth: depth))
    }

    /// Whether the value at `offset` is `nil` for `decodeIfPresent(T.self)`: an encoded `nil`,
    /// or, when `T` is not itself optional, an Optional prefix followed by `nil`.
    @inline(__always)
    func isAbsent<T>(_ type: T.Type, at offset: Int, limit: Int) -> Bool {
        let limit = min(limit, input.count)
        guard offset < limit else { return false }
        let tag = input[offset]
        if tag == _BinaryTag.null { return true }
        if tag == _BinaryTag.some, !(T.self is _BinaryOptionalMarker.Type) {
            return isNilLookingThrough(at: offset, limit: limit)
        }
        return false
    }

    /// Whether the value at `offset` is `nil`, possibly behind Optional prefixes.
    func isNilLookingThrough(at offset: Int, limit: Int) -> Bool {
        let limit = min(limit, input.count)
        var offset = offset
        while offset < limit {
            let tag = input[offset]
            if tag != _BinaryTag.some { return tag == _BinaryTag.null }
            offset += 1
        }
        return false
    }

    @inline(__always)
    func setLevel(_ depth: Int, path: _BinaryPathElement, type: Any.Type) {
        if depth < levels.count {
            levels[depth] = _BinaryDecodingLevel(path: path, type: type)
        } else {
            while levels.count < depth { levels.append(_BinaryDecodingLevel(path: .none, type: Void.self)) }
            levels.append(_BinaryDecodingLevel(path: path, type: type))
        }
    }

    func nestingError() -> BinaryCodingError {
        BinaryCodingError(.nestingTooDeep, "values are nested deeper than \(BinaryDecoder.maximumDepth) levels")
    }

    // MARK: Containers

    /// Reads the header of the container at `offset`: its body and entry count.
    func openContainer(
        _ tag: UInt8,
        at offset: Int,
        limit: Int,
        checkingCount: Bool = true
    ) throws -> (start: Int, end: Int, count: Int) {
        let limit = min(limit, input.count)
        var offset = offset
        guard offset < limit else { throw BinaryCodingError.truncated }
        var found = input[offset]
        while found == _BinaryTag.some {
            offset += 1
            guard offset < limit else { throw BinaryCodingError.truncated }
            found = input[offset]
        }
        guard found == tag else {
            let expected = tag == _BinaryTag.keyed ? "keyed container" : "unkeyed container"
            throw BinaryCodingError.mismatch(expected, found: found)
        }
        offset += 1
        let count = try readVarint(&offset, limit)
        let length = try readLength(&offset, limit)
        // Every entry takes at least one byte (two in a keyed container).
        guard count <= UInt64(tag == _BinaryTag.keyed ? length / 2 : length) else {
            throw BinaryCodingError(.invalidLength, "a container claims \(count) entries in \(length) bytes")
        }
        let end = offset + length
        if tag == _BinaryTag.unkeyed && count > 64 && checkingCount {
            // Check the count before a decoder reserves room for that many elements.
            var element = offset
            for _ in 0..<Int(count) { element = try skipValue(at: element, limit: end) }
            guard element == end else {
                throw BinaryCodingError(.dataCorrupted, "an unkeyed container's count does not match its body")
            }
        }
        return (offset, end, Int(count))
    }

    /// Finds `key` in the keyed container whose body is `start..<end`.
    func find(_ key: some CodingKey, start: Int, end: Int, count: Int, depth: Int) throws -> _BinaryEntry? {
        guard count > 0 else { return nil }
        var offset = start
        var index = 0
        if depth < levels.count, levels[depth].hintContainer == start, levels[depth].hintIndex < count {
            offset = levels[depth].hintOffset
            index = levels[depth].hintIndex
        }
        let name = key.stringValue
        var integer: Int?? = nil
        var remaining = count
        while remaining > 0 {
            if index == count {
                offset = start
                index = 0
            }
            var valueStart = offset
            let ref = try readVarint(&valueStart, end)
            let valueEnd = try skipValue(at: valueStart, limit: end)
            let matches: Bool
            if ref & 1 == 0 {
                let keyIndex = ref >> 1
                guard keyIndex < UInt64(keys.count) else {
                    throw BinaryCodingError(.dataCorrupted, "key reference \(keyIndex) is not in the key table")
                }
                matches = keys[Int(keyIndex)] == name
            } else {
                if integer == nil { integer = .some(_BinaryKeyRef.canonicalInteger(name)) }
                matches = integer! == _BinaryKeyRef.integerValue(ref)
            }
            if matches {
                if depth < levels.count {
                    levels[depth].hintContainer = start
                    levels[depth].hintOffset = valueEnd
                    levels[depth].hintIndex = index + 1
                }
                return _BinaryEntry(ref: ref, start: valueStart, end: valueEnd)
            }
            offset = valueEnd
            index += 1
            remaining -= 1
        }
        return nil
    }

    func allKeys<Key: CodingKey>(_ type: Key.Type, start: Int, end: Int, count: Int) -> [Key] {
        var result: [Key] = []
        result.reserveCapacity(min(count, 64))
        var offset = start
        for _ in 0..<count {
            guard let ref = try? readVarint(&offset, end),
                let valueEnd = try? skipValue(at: offset, limit: end)
            else { break }
            offset = valueEnd
            if ref & 1 == 0 {
                let keyIndex = ref >> 1
                if keyIndex < UInt64(keys.count), let key = Key(stringValue: keys[Int(keyIndex)]) {
                    result.append(key)
                }
            } else {
                let integer = _BinaryKeyRef.integerValue(ref)
                if let key = Key(stringValue: String(integer)) ?? Key(intValue: integer) {
                    result.append(key)
                }
            }
        }
        return result
    }

    // MARK: Coding paths

    func codingPath(depth: Int) -> [any CodingKey] {
        guard depth >= 1, !levels.isEmpty else { return [] }
        return _BinaryPath.codingPath(levels[1...min(depth, levels.count - 1)].lazy.map(\.path), keys: keys)
    }

    func pathString(depth: Int, appending element: _BinaryPathElement = .none, name: String? = nil) -> String {
        var elements: [_BinaryPathElement] = []
        if depth >= 1, !levels.isEmpty {
            elements.append(contentsOf: levels[1...min(depth, levels.count - 1)].lazy.map(\.path))
        }
        elements.append(element)
        return _BinaryPath.string(elements, keys: keys, last: name)
    }

    // MARK: Reading

    @inline(__always)
    func readVarint(_ offset: inout Int, _ limit: Int) throws -> UInt64 {
        guard offset < limit, offset < input.count else { throw BinaryCodingError.truncated }
        let first = input[offset]
        if first < 0x80 {
            offset += 1
            return UInt64(first)
        }
        return try readVarintSlow(&offset, min(limit, input.count))
    }

    private func readVarintSlow(_ offset: inout Int, _ limit: Int) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < limit else { throw BinaryCodingError.truncated }
            let byte = input[offset]
            offset += 1
            if shift == 63 && byte > 1 {
                throw BinaryCodingError(.numberOutOfRange, "a number does not fit in 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    private func readVarint128(_ offset: inout Int, _ limit: Int) throws -> UInt128 {
        let limit = min(limit, input.count)
        var result: UInt128 = 0
        var shift: UInt128 = 0
        while true {
            guard offset < limit else { throw BinaryCodingError.truncated }
            let byte = input[offset]
            offset += 1
            if shift == 126 && byte > 3 {
                throw BinaryCodingError(.numberOutOfRange, "a number does not fit in 128 bits")
            }
            result |= UInt128(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    private func skipVarint(_ offset: inout Int, _ limit: Int) throws {
        var length = 0
        while true {
            guard offset < limit else { throw BinaryCodingError.truncated }
            let byte = input[offset]
            offset += 1
            if byte < 0x80 { return }
            length += 1
            guard length < 19 else { throw BinaryCodingError(.dataCorrupted, "a number is longer than 128 bits") }
        }
    }

    /// Reads a length and checks that that many bytes remain before `limit`.
    @inline(__always)
    func readLength(_ offset: inout Int, _ limit: Int) throws -> Int {
        let length = try readVarint(&offset, limit)
        guard length <= UInt64(limit - offset) else {
            throw BinaryCodingError(
                .invalidLength, "a length of \(length) exceeds the \(limit - offset) bytes that remain")
        }
        return Int(length)
    }

    /// The end of the value at `offset`, without decoding it.
    func skipValue(at offset: Int, limit: Int) throws -> Int {
        let limit = min(limit, input.count)
        var offset = offset
        while true {
            guard offset < limit else { throw BinaryCodingError.truncated }
            let tag = input[offset]
            offset += 1
            switch tag {
            case _BinaryTag.some:
                continue
            case _BinaryTag.null, _BinaryTag.falseValue, _BinaryTag.trueValue, 0x40...0x7F, 0xA0...0xBF:
                return offset
            case 0x80...0x9F:
                let length = Int(tag & 0x1F)
                guard length <= limit - offset else { throw BinaryCodingError.truncated }
                return offset + length
            case _BinaryTag.float32:
                guard limit - offset >= 4 else { throw BinaryCodingError.truncated }
                return offset + 4
            case _BinaryTag.float64:
                guard limit - offset >= 8 else { throw BinaryCodingError.truncated }
                return offset + 8
            case _BinaryTag.unsigned, _BinaryTag.negative:
                try skipVarint(&offset, limit)
                return offset
            case _BinaryTag.string:
                let length = try readLength(&offset, limit)
                return offset + length
            case _BinaryTag.keyed, _BinaryTag.unkeyed:
                try skipVarint(&offset, limit)
                let length = try readLength(&offset, limit)
                return offset + length
            default:
                throw BinaryCodingError(.dataCorrupted, "invalid tag 0x\(String(tag, radix: 16))")
            }
        }
    }

    /// The first tag of the value at `offset` after any Optional prefixes, and its position.
    @inline(__always)
    private func valueTag(at offset: Int, limit: Int) throws -> (UInt8, Int) {
        var offset = offset
        while true {
            guard offset < limit else { throw BinaryCodingError.truncated }
            let tag = input[offset]
            if tag != _BinaryTag.some { return (tag, offset + 1) }
            offset += 1
        }
    }

    func readBool(at offset: Int, limit: Int) throws -> (Bool, Int) {
        let (tag, end) = try valueTag(at: offset, limit: min(limit, input.count))
        switch tag {
        case _BinaryTag.trueValue: return (true, end)
        case _BinaryTag.falseValue: return (false, end)
        default: throw BinaryCodingError.mismatch("Bool", found: tag)
        }
    }

    @inline(__always)
    func readInteger<I: FixedWidthInteger>(_ type: I.Type, at offset: Int, limit: Int) throws -> (I, Int) {
        let limit = min(limit, input.count)
        guard offset < limit else { throw BinaryCodingError.truncated }
        let tag = input[offset]
        if tag & 0xC0 == 0x40 {
            // 0...63 fits in every integer type.
            return (I(truncatingIfNeeded: tag & 0x3F), offset + 1)
        }
        return try readIntegerSlow(I.self, at: offset, limit: limit)
    }

    private func readIntegerSlow<I: FixedWidthInteger>(_ type: I.Type, at offset: Int, limit: Int) throws -> (I, Int) {
        var (tag, offset) = try valueTag(at: offset, limit: limit)
        switch tag {
        case 0x40...0x7F:
            return (I(truncatingIfNeeded: tag & 0x3F), offset)
        case 0xA0...0xBF:
            return (try Self.negative(UInt64(tag & 0x1F), as: I.self), offset)
        case _BinaryTag.unsigned:
            let magnitude = try readVarint(&offset, limit)
            guard let value = I(exactly: magnitude) else { throw Self.outOfRange(I.self, String(magnitude)) }
            return (value, offset)
        case _BinaryTag.negative:
            return (try Self.negative(try readVarint(&offset, limit), as: I.self), offset)
        case _BinaryTag.float32, _BinaryTag.float64:
            let (double, end) = try readDouble(at: offset - 1, limit: limit)
            guard let value = Self.integer(I.self, exactly: double) else {
                throw Self.outOfRange(I.self, String(double))
            }
            return (value, end)
        default:
            throw BinaryCodingError.mismatch(String(describing: I.self), found: tag)
        }
    }

    /// `double` as an `I` if it is a whole number in range (without `I(exactly:)`, which needs libm).
    private static func integer<I: FixedWidthInteger>(_ type: I.Type, exactly double: Double) -> I? {
        if double >= -0x1p63 && double < 0x1p63 {
            let int = Int64(double)
            return Double(int) == double ? I(exactly: int) : nil
        }
        if double >= 0x1p63 && double < 0x1p64 {
            let int = UInt64(double)
            return Double(int) == double ? I(exactly: int) : nil
        }
        return nil
    }

    /// The value `-1 - magnitude` as an `I`.
    @inline(__always)
    private static func negative<I: FixedWidthInteger>(_ magnitude: UInt64, as type: I.Type) throws -> I {
        guard I.isSigned, let value = I(exactly: magnitude) else {
            throw outOfRange(I.self, magnitude == .max ? "-18446744073709551616" : "-\(magnitude + 1)")
        }
        return -1 - value
    }

    private static func outOfRange(_ type: Any.Type, _ value: String) -> BinaryCodingError {
        BinaryCodingError(.numberOutOfRange, "\(value) does not fit in \(type)")
    }

    func readInteger128<I: FixedWidthInteger>(_ type: I.Type, at offset: Int, limit: Int) throws -> (I, Int) {
        let limit = min(limit, input.count)
        var (tag, offset) = try valueTag(at: offset, limit: limit)
        switch tag {
        case _BinaryTag.unsigned:
            let magnitude = try readVarint128(&offset, limit)
            guard let value = I(exactly: magnitude) else { throw Self.outOfRange(I.self, String(magnitude)) }
            return (value, offset)
        case _BinaryTag.negative:
            let magnitude = try readVarint128(&offset, limit)
            guard I.isSigned, let value = I(exactly: magnitude) else {
                throw Self.outOfRange(I.self, "a negative number")
            }
            return (-1 - value, offset)
        default:
            let (value, end) = try readIntegerSlow(Int64.self, at: offset - 1, limit: limit)
            guard let converted = I(exactly: value) else { throw Self.outOfRange(I.self, String(value)) }
            return (converted, end)
        }
    }

    func readDouble(at offset: Int, limit: Int) throws -> (Double, Int) {
        let limit = min(limit, input.count)
        let (tag, offset) = try valueTag(at: offset, limit: limit)
        switch tag {
        case _BinaryTag.float64:
            guard limit - offset >= 8 else { throw BinaryCodingError.truncated }
            let bits = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            return (Double(bitPattern: bits), offset + 8)
        case _BinaryTag.float32:
            guard limit - offset >= 4 else { throw BinaryCodingError.truncated }
            let bits = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            return (Double(Float(bitPattern: bits)), offset + 4)
        case 0x40...0x7F:
            return (Double(tag & 0x3F), offset)
        case 0xA0...0xBF:
            return (-1 - Double(tag & 0x1F), offset)
        case _BinaryTag.unsigned:
            var end = offset
            let magnitude = try readVarint(&end, limit)
            return (Double(magnitude), end)
        case _BinaryTag.negative:
            var end = offset
            let magnitude = try readVarint(&end, limit)
            return (-1 - Double(magnitude), end)
        default:
            throw BinaryCodingError.mismatch("Double", found: tag)
        }
    }

    func readFloat(at offset: Int, limit: Int) throws -> (Float, Int) {
        let limit = min(limit, input.count)
        let (tag, start) = try valueTag(at: offset, limit: limit)
        if tag == _BinaryTag.float32 {
            guard limit - start >= 4 else { throw BinaryCodingError.truncated }
            let bits = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: start, as: UInt32.self))
            return (Float(bitPattern: bits), start + 4)
        }
        let (double, end) = try readDouble(at: offset, limit: limit)
        let float = Float(double)
        guard float.isFinite || !double.isFinite else { throw Self.outOfRange(Float.self, String(double)) }
        return (float, end)
    }

    func readString(at offset: Int, limit: Int) throws -> (String, Int) {
        let limit = min(limit, input.count)
        guard offset < limit else { throw BinaryCodingError.truncated }
        let tag = input[offset]
        var start = offset + 1
        let length: Int
        if tag & 0xE0 == _BinaryTag.smallString {
            length = Int(tag & 0x1F)
            guard length <= limit - start else { throw BinaryCodingError.truncated }
        } else if tag == _BinaryTag.string {
            length = try readLength(&start, limit)
        } else {
            let (found, next) = try valueTag(at: offset, limit: limit)
            guard found != tag, found & 0xE0 == _BinaryTag.smallString || found == _BinaryTag.string else {
                throw BinaryCodingError.mismatch("String", found: found)
            }
            return try readString(at: next - 1, limit: limit)
        }
        return (try makeString(at: start, count: length), start + length)
    }

    /// A `String` of the `count` bytes at `offset`, which must be valid UTF-8.
    func makeString(at offset: Int, count: Int) throws -> String {
        guard count > 0 else { return "" }
        guard let base = input.baseAddress, offset >= 0, count <= input.count - offset else {
            throw BinaryCodingError.truncated
        }
        let utf8 = UnsafeBufferPointer(start: (base + offset).assumingMemoryBound(to: UInt8.self), count: count)
        guard Self.isValidUTF8(utf8) else {
            throw BinaryCodingError(.invalidUTF8, "a string is not valid UTF-8")
        }
        // Valid input is taken as it is (`String(validating:)` would be slower: it is not specialized).
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Whether `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or values
    /// above U+10FFFF).
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            // Eight ASCII bytes at a time.
            if count - index >= 8 {
                let word = UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard count - index >= length else { return false }
            let second = bytes[index + 1]
            guard second >= low && second <= high else { return false }
            var next = index + 2
            while next < index + length {
                guard bytes[next] & 0xC0 == 0x80 else { return false }
                next += 1
            }
            index += length
        }
        return true
    }
}

// MARK: - Decoder and containers

struct _BinaryDecoder: Decoder {
    let state: _BinaryDecodingState
    let offset: UInt32
    let limit: UInt32
    let depth: Int

    init(state: _BinaryDecodingState, offset: Int, limit: Int, depth: Int) {
        self.state = state
        self.offset = UInt32(truncatingIfNeeded: offset)
        self.limit = UInt32(truncatingIfNeeded: limit)
        self.depth = depth
    }

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }
    var userInfo: [CodingUserInfoKey: Any] { state.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        do {
            let (start, end, count) = try state.openContainer(_BinaryTag.keyed, at: Int(offset), limit: Int(limit))
            return KeyedDecodingContainer(
                _BinaryKeyedDecodingContainer<Key>(state: state, start: start, end: end, count: count, depth: depth)
            )
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth))
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        do {
            let (start, end, count) = try state.openContainer(_BinaryTag.unkeyed, at: Int(offset), limit: Int(limit))
            return _BinaryUnkeyedDecodingContainer(state: state, offset: start, end: end, count: count, depth: depth)
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth))
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        _BinarySingleValueDecodingContainer(state: state, offset: offset, limit: limit, depth: depth)
    }
}

struct _BinaryKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let state: _BinaryDecodingState
    let start: Int
    let end: Int
    let count: Int
    let depth: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }

    var allKeys: [Key] { state.allKeys(Key.self, start: start, end: end, count: count) }

    func contains(_ key: Key) -> Bool {
        (try? state.find(key, start: start, end: end, count: count, depth: depth)) != nil
    }

    private func entry(_ key: some CodingKey) throws -> _BinaryEntry {
        let found: _BinaryEntry?
        do {
            found = try state.find(key, start: start, end: end, count: count, depth: depth)
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth))
        }
        guard let found else {
            throw BinaryCodingError(.keyNotFound, "no value for key \"\(key.stringValue)\"")
                .at(state.pathString(depth: depth))
        }
        return found
    }

    @inline(__always)
    private func decodeEntry<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let entry = try entry(key)
        do {
            var end = 0
            return try state.decodeValue(
                T.self, at: entry.start, limit: entry.end, depth: depth + 1, path: .key(entry.ref), end: &end)
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth, appending: .key(entry.ref)))
        }
    }

    @inline(__always)
    private func decodeEntryIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        let found: _BinaryEntry?
        do {
            found = try state.find(key, start: start, end: end, count: count, depth: depth)
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth))
        }
        guard let entry = found, !state.isAbsent(T.self, at: entry.start, limit: entry.end) else { return nil }
        do {
            var end = 0
            return try state.decodeValue(
                T.self, at: entry.start, limit: entry.end, depth: depth + 1, path: .key(entry.ref), end: &end)
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth, appending: .key(entry.ref)))
        }
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        let entry = try entry(key)
        return state.isNilLookingThrough(at: entry.start, limit: entry.end)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeEntry(type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeEntry(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeEntry(type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try decodeEntry(type, forKey: key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decodeEntry(type, forKey: key) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int128.Type, forKey key: Key) throws -> Int128? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt128.Type, forKey key: Key) throws -> UInt128? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try decodeEntryIfPresent(type, forKey: key)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let entry = try entry(key)
        do {
            guard depth < BinaryDecoder.maximumDepth else { throw state.nestingError() }
            let (start, end, count) = try state.openContainer(_BinaryTag.keyed, at: entry.start, limit: entry.end)
            state.setLevel(depth + 1, path: .key(entry.ref), type: Void.self)
            return KeyedDecodingContainer(
                _BinaryKeyedDecodingContainer<NestedKey>(
                    state: state, start: start, end: end, count: count, depth: depth + 1)
            )
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth, appending: .key(entry.ref)))
        }
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let entry = try entry(key)
        do {
            guard depth < BinaryDecoder.maximumDepth else { throw state.nestingError() }
            let (start, end, count) = try state.openContainer(_BinaryTag.unkeyed, at: entry.start, limit: entry.end)
            state.setLevel(depth + 1, path: .key(entry.ref), type: Void.self)
            return _BinaryUnkeyedDecodingContainer(
                state: state, offset: start, end: end, count: count, depth: depth + 1)
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth, appending: .key(entry.ref)))
        }
    }

    func superDecoder() throws -> any Decoder {
        try superDecoder(key: _BinaryCodingKey.super)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try superDecoder(key: key)
    }

    private func superDecoder(key: some CodingKey) throws -> any Decoder {
        let entry = try entry(key)
        guard depth < BinaryDecoder.maximumDepth else {
            throw state.nestingError().at(state.pathString(depth: depth, appending: .key(entry.ref)))
        }
        state.setLevel(depth + 1, path: .key(entry.ref), type: Void.self)
        return _BinaryDecoder(state: state, offset: entry.start, limit: entry.end, depth: depth + 1)
    }
}

struct _BinaryUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let state: _BinaryDecodingState
    var offset: Int
    let end: Int
    let total: Int
    let depth: Int
    var currentIndex = 0

    init(state: _BinaryDecodingState, offset: Int, end: Int, count: Int, depth: Int) {
        self.state = state
        self.offset = offset
        self.end = end
        self.total = count
        self.depth = depth
    }

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }
    var count: Int? { total }
    var isAtEnd: Bool { currentIndex >= total }

    private func atEndError() -> BinaryCodingError {
        BinaryCodingError(.valueNotFound, "the unkeyed container has no more elements")
            .at(state.pathString(depth: depth, appending: .index(currentIndex)))
    }

    private func pathError(_ error: BinaryCodingError) -> BinaryCodingError {
        error.at(state.pathString(depth: depth, appending: .index(currentIndex)))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw atEndError() }
        guard state.isNilLookingThrough(at: offset, limit: end) else { return false }
        do {
            offset = try state.skipValue(at: offset, limit: end)
        } catch let error as BinaryCodingError {
            throw pathError(error)
        }
        currentIndex += 1
        return true
    }

    @inline(__always)
    private mutating func decodeElement<T: Decodable>(_ type: T.Type) throws -> T {
        guard !isAtEnd else { throw atEndError() }
        do {
            var next = 0
            let value = try state.decodeValue(
                T.self, at: offset, limit: end, depth: depth + 1, path: .index(currentIndex), end: &next)
            offset = next
            currentIndex += 1
            return value
        } catch let error as BinaryCodingError {
            throw pathError(error)
        }
    }

    @inline(__always)
    private mutating func decodeElementIfPresent<T: Decodable>(_ type: T.Type) throws -> T? {
        guard !isAtEnd else { return nil }
        if state.isAbsent(T.self, at: offset, limit: end) {
            do {
                offset = try state.skipValue(at: offset, limit: end)
            } catch let error as BinaryCodingError {
                throw pathError(error)
            }
            currentIndex += 1
            return nil
        }
        return try decodeElement(T.self)
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try decodeElement(type) }
    mutating func decode(_ type: String.Type) throws -> String { try decodeElement(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try decodeElement(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try decodeElement(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try decodeElement(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decodeElement(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decodeElement(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decodeElement(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decodeElement(type) }
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try decodeElement(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decodeElement(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeElement(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeElement(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeElement(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeElement(type) }
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try decodeElement(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeElement(type) }

    mutating func decodeIfPresent(_ type: Bool.Type) throws -> Bool? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: String.Type) throws -> String? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: Double.Type) throws -> Double? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: Float.Type) throws -> Float? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: Int.Type) throws -> Int? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: Int8.Type) throws -> Int8? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: Int16.Type) throws -> Int16? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: Int32.Type) throws -> Int32? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: Int64.Type) throws -> Int64? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: Int128.Type) throws -> Int128? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: UInt.Type) throws -> UInt? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: UInt8.Type) throws -> UInt8? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: UInt16.Type) throws -> UInt16? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: UInt32.Type) throws -> UInt32? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: UInt64.Type) throws -> UInt64? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent(_ type: UInt128.Type) throws -> UInt128? { try decodeElementIfPresent(type) }
    mutating func decodeIfPresent<T: Decodable>(_ type: T.Type) throws -> T? { try decodeElementIfPresent(type) }

    /// Opens the container of `tag` that is the next element.
    private mutating func nextContainer(_ tag: UInt8) throws -> (start: Int, end: Int, count: Int) {
        guard !isAtEnd else { throw atEndError() }
        do {
            guard depth < BinaryDecoder.maximumDepth else { throw state.nestingError() }
            let valueEnd = try state.skipValue(at: offset, limit: end)
            let container = try state.openContainer(tag, at: offset, limit: valueEnd)
            state.setLevel(depth + 1, path: .index(currentIndex), type: Void.self)
            offset = valueEnd
            currentIndex += 1
            return container
        } catch let error as BinaryCodingError {
            throw pathError(error)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (start, end, count) = try nextContainer(_BinaryTag.keyed)
        return KeyedDecodingContainer(
            _BinaryKeyedDecodingContainer<NestedKey>(
                state: state, start: start, end: end, count: count, depth: depth + 1)
        )
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (start, end, count) = try nextContainer(_BinaryTag.unkeyed)
        return _BinaryUnkeyedDecodingContainer(state: state, offset: start, end: end, count: count, depth: depth + 1)
    }

    mutating func superDecoder() throws -> any Decoder {
        guard !isAtEnd else { throw atEndError() }
        do {
            guard depth < BinaryDecoder.maximumDepth else { throw state.nestingError() }
            let valueEnd = try state.skipValue(at: offset, limit: end)
            state.setLevel(depth + 1, path: .index(currentIndex), type: Void.self)
            let decoder = _BinaryDecoder(state: state, offset: offset, limit: valueEnd, depth: depth + 1)
            offset = valueEnd
            currentIndex += 1
            return decoder
        } catch let error as BinaryCodingError {
            throw pathError(error)
        }
    }
}

struct _BinarySingleValueDecodingContainer: SingleValueDecodingContainer {
    let state: _BinaryDecodingState
    let offset: UInt32
    let limit: UInt32
    let depth: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }

    func decodeNil() -> Bool {
        let offset = Int(offset)
        let limit = min(Int(limit), state.input.count)
        guard offset < limit else { return false }
        let tag = state.input[offset]
        if tag == _BinaryTag.null { return true }
        guard tag == _BinaryTag.some else { return false }
        // An Optional prefix belongs to the Optional being decoded here: its value is present.
        if depth < state.levels.count, state.levels[depth].type is _BinaryOptionalMarker.Type { return false }
        return state.isNilLookingThrough(at: offset, limit: limit)
    }

    @inline(__always)
    private func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            var end = 0
            return try state.decodeValue(
                T.self, at: Int(offset), limit: Int(limit), depth: depth + 1, path: .none, end: &end)
        } catch let error as BinaryCodingError {
            throw error.at(state.pathString(depth: depth))
        }
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decodeValue(type) }
    func decode(_ type: String.Type) throws -> String { try decodeValue(type) }
    func decode(_ type: Double.Type) throws -> Double { try decodeValue(type) }
    func decode(_ type: Float.Type) throws -> Float { try decodeValue(type) }
    func decode(_ type: Int.Type) throws -> Int { try decodeValue(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeValue(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeValue(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeValue(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeValue(type) }
    func decode(_ type: Int128.Type) throws -> Int128 { try decodeValue(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeValue(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeValue(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeValue(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeValue(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeValue(type) }
    func decode(_ type: UInt128.Type) throws -> UInt128 { try decodeValue(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }
}
