// MARK: - The format
//
// A compact, self-describing binary encoding for `Codable` values. A message is
//
//     message     = keyCount:varint  key*  value          (nothing may follow the value)
//     key         = length:varint  UTF-8 bytes             (the key table: every distinct
//                                                          string coding key, once)
//     value       = tag:UInt8  payload
//
// varint is unsigned LEB128 (7 bits a byte, low bits first). Tags and payloads:
//
//     0x00  nil                      0x01  false             0x02  true
//     0x03  Optional prefix: "an Optional holding the value that follows"; written only
//           before a value that itself starts with 0x00 or 0x03, so that `.some(nil)` and
//           `nil` differ for nested optionals
//     0x04  Float: 4 bytes, IEEE 754 bit pattern, little-endian
//     0x05  Double: 8 bytes, IEEE 754 bit pattern, little-endian
//     0x06  unsigned integer n: varint n
//     0x07  negative integer v: varint (-1 - v)          (the sign is in the tag, so no zigzag)
//     0x08  string: length:varint  UTF-8 bytes
//     0x09  keyed container:   count:varint  bodyLength:varint  (keyRef:varint value) * count
//     0x0A  unkeyed container: count:varint  bodyLength:varint  value * count
//     0x40...0x7F  unsigned integer 0...63 in the tag itself
//     0x80...0x9F  string of 0...31 UTF-8 bytes: the bytes follow the tag
//     0xA0...0xBF  negative integer -1...-32 in the tag itself
//     (every other tag is invalid)
//
// keyRef is `index << 1` for the string at `index` in the key table, or `zigzag(n) << 1 | 1` for
// an integer key whose string form is exactly the decimal `n` (as for `[Int: V]`), so keys are
// never repeated: an array of a thousand structs names each field once. All integer widths share
// the integer encodings and a Float or Double that is a small whole number, or a Double that is
// exactly a Float, is written in the shorter form; the decoder converts when the value fits.
// Containers carry their byte length, so any value can be skipped without being decoded: keyed
// containers can be read in any order and unknown keys are ignored. A value whose `encode(to:)`
// asks for no container is an empty keyed container (as with JSONEncoder); `superEncoder()`
// writes the key "super". Nesting is limited to 512 levels on both sides.

/// Encodes `Encodable` values into the compact binary format that ``BinaryDecoder`` reads.
///
/// The encoding is self-describing and skippable, interns coding keys in a per-message table,
/// and writes integers as variable-length numbers. It is used for the arguments and return
/// values of remote calls.
///
/// ```swift
/// let bytes = try BinaryEncoder().encode(value)
/// let back = try BinaryDecoder().decode(Value.self, from: bytes)
/// ```
///
/// The encoder streams: a container should be written to before the containers it is nested
/// in move on, as every synthesized and almost every hand-written `encode(to:)` does. Writing to a
/// nested container after its parent has written another value throws
/// ``BinaryCodingError/Code/invalidUsage``.
public struct BinaryEncoder: Sendable {
    /// The deepest nesting of containers the encoder accepts; deeper values (such as a cyclic
    /// object graph) throw ``BinaryCodingError/Code/nestingTooDeep``.
    public static let maximumDepth = 512

    /// Values handed to the `encode(to:)` implementations as `Encoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable]

    /// Creates an encoder.
    /// - Parameter userInfo: values handed to the `encode(to:)` implementations.
    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:]) {
        self.userInfo = userInfo
    }

    /// Encodes a value.
    /// - Returns: the complete message.
    /// - Throws: ``BinaryCodingError``, or an error thrown by the value's `encode(to:)`.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let state = _BinaryEncodingState(userInfo: userInfo)
        try state.encodeTopLevel(value)
        return state.message()
    }

    /// Encodes a value and appends the message to `bytes`.
    /// - Throws: ``BinaryCodingError``, or an error thrown by the value's `encode(to:)`; `bytes`
    ///   is then left unchanged.
    public func encode<T: Encodable>(_ value: T, into bytes: inout [UInt8]) throws {
        let state = _BinaryEncodingState(userInfo: userInfo)
        try state.encodeTopLevel(value)
        state.appendMessage(to: &bytes)
    }
}

// MARK: - Encoding state

/// One open value or container of the value being encoded.
struct _BinaryEncodingFrame {
    enum Kind: UInt8 {
        /// No container asked for yet.
        case pending
        /// A keyed container: its tag and a 2-byte header placeholder are written at `start`.
        case keyed
        /// An unkeyed container, laid out like `keyed`.
        case unkeyed
        /// A single-value container that has not written its value yet.
        case single
        /// The value is complete.
        case done
    }

    var kind: Kind
    /// The position of the value's tag in the body.
    var start: Int
    /// Entries written so far (keyed and unkeyed containers).
    var count: Int
    /// Identifies this frame, so that a container that outlives it is recognised.
    var serial: Int
    var path: _BinaryPathElement
}

/// The mutable state shared by every encoder and container of one `encode` call.
final class _BinaryEncodingState {
    /// The body of the message (the key table is put in front of it at the end).
    @exclusivity(unchecked) var bytes = _BinaryWriteBuffer(capacity: 128)
    @exclusivity(unchecked) var keyStrings: [String] = []
    /// Used instead of a linear search of `keyStrings` once there are many keys.
    @exclusivity(unchecked) var keyIndex: [String: Int] = [:]
    /// The open values, outermost first; the index is the depth.
    @exclusivity(unchecked) var frames: [_BinaryEncodingFrame] = []
    @exclusivity(unchecked) var nextSerial = 0
    /// A misuse detected where no error can be thrown; thrown at the end.
    @exclusivity(unchecked) var deferredError: BinaryCodingError?
    let userInfoStorage: [CodingUserInfoKey: any Sendable]
    @exclusivity(unchecked) var userInfoCache: [CodingUserInfoKey: Any]?

    init(userInfo: [CodingUserInfoKey: any Sendable]) {
        self.userInfoStorage = userInfo
        frames.reserveCapacity(8)
        keyStrings.reserveCapacity(8)
    }

    deinit {
        bytes.deallocate()
    }

    var userInfo: [CodingUserInfoKey: Any] {
        if let userInfoCache { return userInfoCache }
        let converted = userInfoStorage.asCodingUserInfo
        userInfoCache = converted
        return converted
    }

    // MARK: Top level and message

    func encodeTopLevel<T: Encodable>(_ value: T) throws {
        if encodePrimitive(value) { return }
        frames.append(_BinaryEncodingFrame(kind: .pending, start: 0, count: 0, serial: 0, path: .none))
        nextSerial = 1
        try value.encode(to: _BinaryEncoder(state: self, depth: 0, serial: 0))
        while !frames.isEmpty { closeTopFrame() }
        if let deferredError { throw deferredError }
    }

    /// An upper bound of the key table's size.
    private var tableSize: Int {
        var size = 10
        for key in keyStrings { size += key.utf8.count + 10 }
        return size
    }

    private func appendTable(to output: inout [UInt8]) {
        Self.appendVarint(UInt64(keyStrings.count), to: &output)
        for var key in keyStrings {
            key.withUTF8 { utf8 in
                Self.appendVarint(UInt64(utf8.count), to: &output)
                output.append(contentsOf: utf8)
            }
        }
    }

    /// Writes the key table into `buffer`, which has room for `tableSize` bytes; returns its length.
    private func writeTable(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var count = 0
        func put(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                buffer[count] = UInt8(truncatingIfNeeded: value) | 0x80
                count += 1
                value >>= 7
            }
            buffer[count] = UInt8(truncatingIfNeeded: value)
            count += 1
        }
        put(UInt64(keyStrings.count))
        for var key in keyStrings {
            key.withUTF8 { utf8 in
                put(UInt64(utf8.count))
                for byte in utf8 {
                    buffer[count] = byte
                    count += 1
                }
            }
        }
        return count
    }

    /// The message: the key table followed by the body.
    func message() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: tableSize + bytes.count) { buffer, initialized in
            let tableCount = writeTable(into: buffer)
            if bytes.count > 0 {
                (buffer.baseAddress! + tableCount).initialize(from: bytes.base, count: bytes.count)
            }
            initialized = tableCount + bytes.count
        }
    }

    func appendMessage(to output: inout [UInt8]) {
        output.reserveCapacity(output.count + tableSize + bytes.count)
        appendTable(to: &output)
        output.append(contentsOf: bytes.buffer)
    }

    // MARK: Frames

    @inline(__always)
    func makeSerial() -> Int {
        let serial = nextSerial
        nextSerial &+= 1
        return serial
    }

    static func misuse(_ message: String) -> BinaryCodingError {
        BinaryCodingError(.invalidUsage, message)
    }

    /// Makes the frame at `depth` the innermost open one, closing nested containers it is done
    /// with; throws if that frame is no longer open.
    @inline(__always)
    func prepare(_ depth: Int, _ serial: Int) throws {
        if frames.count != depth &+ 1 || frames[depth].serial != serial {
            try prepareSlow(depth, serial)
        }
    }

    private func prepareSlow(_ depth: Int, _ serial: Int) throws {
        guard depth < frames.count, frames[depth].serial == serial else {
            throw Self.misuse(
                "a container or encoder was used after the value it belongs to was finished "
                    + "(this encoder needs containers to be written in nesting order)"
            ).at(pathString(depth: min(depth, frames.count - 1)))
        }
        while frames.count > depth + 1 { closeTopFrame() }
    }

    /// Finishes the innermost open frame.
    func closeTopFrame() {
        let frame = frames.removeLast()
        switch frame.kind {
        case .pending, .single:
            // Nothing was encoded: like JSONEncoder, an empty keyed container.
            bytes.appendContainerHeader(_BinaryTag.keyed)
        case .keyed, .unkeyed:
            finishContainer(at: frame.start, count: frame.count)
        case .done:
            break
        }
    }

    /// Writes the header of the container whose tag is at `start` and whose body follows its
    /// 2-byte header placeholder up to the end of `bytes`.
    @inline(__always)
    func finishContainer(at start: Int, count: Int) {
        let bodyStart = start + 3
        let bodyLength = bytes.count - bodyStart
        if count < 0x80 && bodyLength < 0x80 {
            bytes[start + 1] = UInt8(truncatingIfNeeded: count)
            bytes[start + 2] = UInt8(truncatingIfNeeded: bodyLength)
        } else {
            var header: [UInt8] = []
            Self.appendVarint(UInt64(count), to: &header)
            Self.appendVarint(UInt64(bodyLength), to: &header)
            bytes.replaceHeader(at: start + 1, placeholder: 2, with: header)
        }
    }

    /// Turns the frame at `depth` into a container of `kind` and returns its serial, or returns
    /// -1 (and records the misuse) when it cannot be one.
    func openContainer(_ kind: _BinaryEncodingFrame.Kind, depth: Int, serial: Int) -> Int {
        guard depth < frames.count, frames[depth].serial == serial else {
            deferredError = deferredError ?? Self.misuse(
                "a container was asked of an encoder whose value was already finished"
            ).at(pathString(depth: min(depth, frames.count - 1)))
            return -1
        }
        while frames.count > depth + 1 { closeTopFrame() }
        switch frames[depth].kind {
        case .pending, .single:
            frames[depth].kind = kind
            frames[depth].start = bytes.count
            bytes.appendContainerHeader(kind == .keyed ? _BinaryTag.keyed : _BinaryTag.unkeyed)
            return serial
        case let existing where existing == kind:
            return serial
        default:
            deferredError = deferredError ?? Self.misuse(
                "an encoder was asked for a \(kind) container after it encoded a \(frames[depth].kind) value"
            ).at(pathString(depth: depth))
            return -1
        }
    }

    func openSingleValue(depth: Int, serial: Int) -> Int {
        guard depth < frames.count, frames[depth].serial == serial else {
            deferredError = deferredError ?? Self.misuse(
                "a container was asked of an encoder whose value was already finished"
            ).at(pathString(depth: min(depth, frames.count - 1)))
            return -1
        }
        while frames.count > depth + 1 { closeTopFrame() }
        switch frames[depth].kind {
        case .pending:
            frames[depth].kind = .single
            return serial
        case .single, .done:
            return serial
        case .keyed, .unkeyed:
            deferredError = deferredError ?? Self.misuse(
                "an encoder was asked for a single-value container after it made a \(frames[depth].kind) container"
            ).at(pathString(depth: depth))
            return -1
        }
    }

    /// Pushes a frame for a container nested in the one at `depth`, whose key or index is
    /// already written.
    func pushContainer(_ kind: _BinaryEncodingFrame.Kind, depth: Int, path: _BinaryPathElement) throws -> Int {
        guard depth < BinaryEncoder.maximumDepth else { throw nestingError(depth) }
        let serial = makeSerial()
        frames.append(_BinaryEncodingFrame(kind: kind, start: bytes.count, count: 0, serial: serial, path: path))
        bytes.appendContainerHeader(kind == .keyed ? _BinaryTag.keyed : _BinaryTag.unkeyed)
        return serial
    }

    /// Pushes a frame for a value nested in the one at `depth`, encoded later through an
    /// encoder (`superEncoder()`).
    func pushPending(depth: Int, path: _BinaryPathElement) throws -> Int {
        guard depth < BinaryEncoder.maximumDepth else { throw nestingError(depth) }
        let serial = makeSerial()
        frames.append(_BinaryEncodingFrame(kind: .pending, start: bytes.count, count: 0, serial: serial, path: path))
        return serial
    }

    func nestingError(_ depth: Int) -> BinaryCodingError {
        BinaryCodingError(
            .nestingTooDeep,
            "values are nested deeper than \(BinaryEncoder.maximumDepth) levels"
        ).at(pathString(depth: depth))
    }

    // MARK: Entries

    /// Where an entry starts, to undo it if encoding its value fails.
    struct Mark {
        var byteCount: Int
        var frame: _BinaryEncodingFrame
    }

    /// Starts an entry of the keyed container at `depth`: writes its key.
    @inline(__always)
    func beginEntry(_ depth: Int, _ serial: Int, key: some CodingKey) throws -> UInt64 {
        try prepare(depth, serial)
        let ref = keyRef(key)
        writeVarint(ref)
        frames[depth].count &+= 1
        return ref
    }

    /// Starts an element of the unkeyed container at `depth`; returns its index.
    @inline(__always)
    func beginElement(_ depth: Int, _ serial: Int) throws -> Int {
        try prepare(depth, serial)
        let index = frames[depth].count
        frames[depth].count = index &+ 1
        return index
    }

    /// Starts the value of the single-value container at `depth`.
    @inline(__always)
    func beginSingle(_ depth: Int, _ serial: Int) throws {
        try prepare(depth, serial)
        guard frames[depth].kind == .single else {
            throw Self.misuse("a single-value container can encode only one value").at(pathString(depth: depth))
        }
        frames[depth].kind = .done
    }

    @inline(__always)
    func mark(_ depth: Int) -> Mark {
        Mark(byteCount: bytes.count, frame: frames[depth])
    }

    func rollBack(to mark: Mark, depth: Int) {
        if frames.count > depth + 1 { frames.removeSubrange((depth + 1)...) }
        if depth < frames.count, frames[depth].serial == mark.frame.serial {
            frames[depth] = mark.frame
            if bytes.count > mark.byteCount { bytes.count = mark.byteCount }
        }
    }

    /// Encodes `value` as a value nested at `depth` (its parent's depth + 1).
    func encodeValue<T: Encodable>(_ value: T, depth: Int, path: _BinaryPathElement) throws {
        if encodePrimitive(value) { return }
        guard depth <= BinaryEncoder.maximumDepth else { throw nestingError(depth - 1) }
        let start = bytes.count
        let serial = makeSerial()
        frames.append(_BinaryEncodingFrame(kind: .pending, start: start, count: 0, serial: serial, path: path))
        try value.encode(to: _BinaryEncoder(state: self, depth: depth, serial: serial))
        while frames.count > depth { closeTopFrame() }
        if start < bytes.count {
            let first = bytes[start]
            if first == _BinaryTag.null || first == _BinaryTag.some, T.self is _BinaryOptionalMarker.Type {
                // `.some(x)` where x encodes as nil (or as another `.some`): mark the level.
                bytes.insert(_BinaryTag.some, at: start)
            }
        }
    }

    /// Encodes `value` as the entry started at `mark`, undoing the entry if that fails.
    @inline(__always)
    func encodeEntryValue<T: Encodable>(_ value: T, depth: Int, path: _BinaryPathElement, mark: Mark) throws {
        do {
            try encodeValue(value, depth: depth, path: path)
        } catch {
            rollBack(to: mark, depth: depth - 1)
            throw error
        }
    }

    // MARK: Keys

    @inline(__always)
    func keyRef(_ key: some CodingKey) -> UInt64 {
        if let int = key.intValue, int.magnitude < 1 << 61,
            _BinaryKeyRef.canonicalInteger(key.stringValue) == int
        {
            return _BinaryKeyRef.integer(int)
        }
        return UInt64(intern(key.stringValue)) << 1
    }

    @inline(__always)
    func intern(_ string: String) -> Int {
        if keyIndex.isEmpty {
            var index = 0
            let count = keyStrings.count
            while index < count {
                if keyStrings[index] == string { return index }
                index &+= 1
            }
            keyStrings.append(string)
            if count >= 16 {
                for (i, key) in keyStrings.enumerated() { keyIndex[key] = i }
            }
            return count
        }
        return internSlow(string)
    }

    private func internSlow(_ string: String) -> Int {
        if let index = keyIndex[string] { return index }
        let index = keyStrings.count
        keyStrings.append(string)
        keyIndex[string] = index
        return index
    }

    // MARK: Coding paths

    func codingPath(depth: Int) -> [any CodingKey] {
        guard depth >= 1, !frames.isEmpty else { return [] }
        let last = min(depth, frames.count - 1)
        return _BinaryPath.codingPath(frames[1...last].lazy.map(\.path), keys: keyStrings)
    }

    func pathString(depth: Int) -> String {
        guard depth >= 1, !frames.isEmpty else { return "" }
        let last = min(depth, frames.count - 1)
        return _BinaryPath.string(frames[1...last].lazy.map(\.path), keys: keyStrings)
    }

    // MARK: Writing values

    @inline(__always)
    static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        output.append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    func writeVarint(_ value: UInt64) {
        bytes.appendVarint(value)
    }

    @inline(__always)
    func writeNil() {
        bytes.append(_BinaryTag.null)
    }

    @inline(__always)
    func writeBool(_ value: Bool) {
        bytes.append(value ? _BinaryTag.trueValue : _BinaryTag.falseValue)
    }

    @inline(__always)
    func writeUnsigned(_ value: UInt64) {
        if value < 64 {
            bytes.append(_BinaryTag.smallUnsigned | UInt8(truncatingIfNeeded: value))
        } else {
            bytes.append(_BinaryTag.unsigned)
            bytes.appendVarint(value)
        }
    }

    @inline(__always)
    func writeSigned(_ value: Int64) {
        if value >= 0 {
            writeUnsigned(UInt64(bitPattern: value))
        } else {
            let magnitude = UInt64(bitPattern: ~value)  // -1 - value
            if magnitude < 32 {
                bytes.append(_BinaryTag.smallNegative | UInt8(truncatingIfNeeded: magnitude))
            } else {
                bytes.append(_BinaryTag.negative)
                bytes.appendVarint(magnitude)
            }
        }
    }

    func writeUnsigned128(_ value: UInt128) {
        if let small = UInt64(exactly: value) { return writeUnsigned(small) }
        bytes.append(_BinaryTag.unsigned)
        bytes.appendVarint128(value)
    }

    func writeSigned128(_ value: Int128) {
        if let small = Int64(exactly: value) { return writeSigned(small) }
        if value >= 0 { return writeUnsigned128(UInt128(value)) }
        bytes.append(_BinaryTag.negative)
        bytes.appendVarint128(UInt128(~value))
    }

    @inline(__always)
    func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            if utf8.count < 32 {
                bytes.append(_BinaryTag.smallString | UInt8(truncatingIfNeeded: utf8.count))
            } else {
                bytes.append(_BinaryTag.string)
                bytes.appendVarint(UInt64(utf8.count))
            }
            bytes.append(utf8)
        }
    }

    func writeDouble(_ value: Double) {
        // (Range checks and truncating conversions rather than `Int64(exactly:)`, which needs libm.)
        if value > -0x1p48 && value < 0x1p48 {
            let int = Int64(value)
            if Double(int) == value && (int != 0 || value.sign == .plus) { return writeSigned(int) }
        }
        let float = Float(value)
        if Double(float) == value {
            // Exactly a Float (NaN never compares equal, so keeps its full bit pattern).
            return writeFloat32Bits(float.bitPattern)
        }
        bytes.reserve(9)
        bytes.appendUnchecked(_BinaryTag.float64)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.appendUnchecked(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
    }

    func writeFloat(_ value: Float) {
        if value > -0x1p20 && value < 0x1p20 {
            let int = Int32(value)
            if Float(int) == value && (int != 0 || value.sign == .plus) { return writeSigned(Int64(int)) }
        }
        writeFloat32Bits(value.bitPattern)
    }

    @inline(__always)
    private func writeFloat32Bits(_ bits: UInt32) {
        bytes.reserve(5)
        bytes.appendUnchecked(_BinaryTag.float32)
        bytes.appendUnchecked(UInt8(truncatingIfNeeded: bits))
        bytes.appendUnchecked(UInt8(truncatingIfNeeded: bits >> 8))
        bytes.appendUnchecked(UInt8(truncatingIfNeeded: bits >> 16))
        bytes.appendUnchecked(UInt8(truncatingIfNeeded: bits >> 24))
    }

    /// Writes an array of a primitive type, exactly as `Array.encode(to:)` would through an
    /// unkeyed container, but without the per-element generic calls.
    @inline(__always)
    func writeArray<Element>(_ array: [Element], _ write: (Element) -> Void) {
        let start = bytes.count
        bytes.appendContainerHeader(_BinaryTag.unkeyed)
        for element in array { write(element) }
        finishContainer(at: start, count: array.count)
    }

    /// Writes `value` directly if it is of a primitive type or an array of one; `false` otherwise.
    ///
    /// Types are told apart by their size first, so that a struct costs one comparison.
    @inline(__always)
    func encodePrimitive<T>(_ value: T) -> Bool {
        switch MemoryLayout<T>.size {
        case 16:
            if T.self == String.self {
                writeString(unsafeBitCast(value, to: String.self))
            } else if T.self == Int128.self {
                writeSigned128(unsafeBitCast(value, to: Int128.self))
            } else if T.self == UInt128.self {
                writeUnsigned128(unsafeBitCast(value, to: UInt128.self))
            } else {
                return false
            }
            return true
        case 8:
            if T.self == Int.self {
                writeSigned(Int64(unsafeBitCast(value, to: Int.self)))
            } else if T.self == Double.self {
                writeDouble(unsafeBitCast(value, to: Double.self))
            } else if T.self == Int64.self {
                writeSigned(unsafeBitCast(value, to: Int64.self))
            } else if T.self == UInt64.self {
                writeUnsigned(unsafeBitCast(value, to: UInt64.self))
            } else if T.self == UInt.self {
                writeUnsigned(UInt64(unsafeBitCast(value, to: UInt.self)))
            } else if T.self == [UInt8].self {
                writeArray(unsafeBitCast(value, to: [UInt8].self)) { element in writeUnsigned(UInt64(element)) }
            } else if T.self == [Int].self {
                writeArray(unsafeBitCast(value, to: [Int].self)) { element in writeSigned(Int64(element)) }
            } else if T.self == [String].self {
                writeArray(unsafeBitCast(value, to: [String].self)) { element in writeString(element) }
            } else if T.self == [Double].self {
                writeArray(unsafeBitCast(value, to: [Double].self)) { element in writeDouble(element) }
            } else if T.self == [Bool].self {
                writeArray(unsafeBitCast(value, to: [Bool].self)) { element in writeBool(element) }
            } else if T.self == [Float].self {
                writeArray(unsafeBitCast(value, to: [Float].self)) { element in writeFloat(element) }
            } else if T.self == [Int64].self {
                writeArray(unsafeBitCast(value, to: [Int64].self)) { element in writeSigned(element) }
            } else if T.self == [UInt64].self {
                writeArray(unsafeBitCast(value, to: [UInt64].self)) { element in writeUnsigned(element) }
            } else if T.self == [Int32].self {
                writeArray(unsafeBitCast(value, to: [Int32].self)) { element in writeSigned(Int64(element)) }
            } else if T.self == [UInt32].self {
                writeArray(unsafeBitCast(value, to: [UInt32].self)) { element in writeUnsigned(UInt64(element)) }
            } else {
                return false
            }
            return true
        case 4:
            if T.self == Float.self {
                writeFloat(unsafeBitCast(value, to: Float.self))
            } else if T.self == Int32.self {
                writeSigned(Int64(unsafeBitCast(value, to: Int32.self)))
            } else if T.self == UInt32.self {
                writeUnsigned(UInt64(unsafeBitCast(value, to: UInt32.self)))
            } else {
                return false
            }
            return true
        case 2:
            if T.self == Int16.self {
                writeSigned(Int64(unsafeBitCast(value, to: Int16.self)))
            } else if T.self == UInt16.self {
                writeUnsigned(UInt64(unsafeBitCast(value, to: UInt16.self)))
            } else {
                return false
            }
            return true
        case 1:
            if T.self == Bool.self {
                writeBool(unsafeBitCast(value, to: Bool.self))
            } else if T.self == UInt8.self {
                writeUnsigned(UInt64(unsafeBitCast(value, to: UInt8.self)))
            } else if T.self == Int8.self {
                writeSigned(Int64(unsafeBitCast(value, to: Int8.self)))
            } else {
                return false
            }
            return true
        default:
            return false
        }
    }
}

extension BinaryCodingError {
    /// The error with `path` as its coding path, unless it already has one.
    func at(_ path: @autoclosure () -> String) -> BinaryCodingError {
        guard codingPath.isEmpty else { return self }
        var copy = self
        copy.codingPath = path()
        return copy
    }
}

// MARK: - Encoder and containers

struct _BinaryEncoder: Encoder {
    let state: _BinaryEncodingState
    let depth: Int
    let serial: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }
    var userInfo: [CodingUserInfoKey: Any] { state.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let serial = state.openContainer(.keyed, depth: depth, serial: serial)
        return KeyedEncodingContainer(_BinaryKeyedEncodingContainer<Key>(state: state, depth: depth, serial: serial))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let serial = state.openContainer(.unkeyed, depth: depth, serial: serial)
        return _BinaryUnkeyedEncodingContainer(state: state, depth: depth, serial: serial)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        let serial = state.openSingleValue(depth: depth, serial: serial)
        return _BinarySingleValueEncodingContainer(state: state, depth: depth, serial: serial)
    }
}

struct _BinaryKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let state: _BinaryEncodingState
    let depth: Int
    let serial: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }

    mutating func encodeNil(forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeNil()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeDouble(value)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeFloat(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeSigned(value)
    }

    mutating func encode(_ value: Int128, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeSigned128(value)
    }

    mutating func encode(_ value: UInt, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeUnsigned(value)
    }

    mutating func encode(_ value: UInt128, forKey key: Key) throws {
        _ = try state.beginEntry(depth, serial, key: key)
        state.writeUnsigned128(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try state.prepare(depth, serial)
        let mark = state.mark(depth)
        let ref = try state.beginEntry(depth, serial, key: key)
        try state.encodeEntryValue(value, depth: depth + 1, path: .key(ref), mark: mark)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let serial = nested(.keyed, key)
        return KeyedEncodingContainer(
            _BinaryKeyedEncodingContainer<NestedKey>(state: state, depth: depth + 1, serial: serial)
        )
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        _BinaryUnkeyedEncodingContainer(state: state, depth: depth + 1, serial: nested(.unkeyed, key))
    }

    /// Writes `key` and opens a container as its value; a serial of -1 (and a deferred error)
    /// when that is not possible.
    private func nested(_ kind: _BinaryEncodingFrame.Kind, _ key: some CodingKey) -> Int {
        do {
            let ref = try state.beginEntry(depth, serial, key: key)
            return try state.pushContainer(kind, depth: depth, path: .key(ref))
        } catch let error as BinaryCodingError {
            state.deferredError = state.deferredError ?? error
        } catch {}
        return -1
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(key: _BinaryCodingKey.super)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(key: key)
    }

    private func superEncoder(key: some CodingKey) -> any Encoder {
        do {
            let ref = try state.beginEntry(depth, serial, key: key)
            let serial = try state.pushPending(depth: depth, path: .key(ref))
            return _BinaryEncoder(state: state, depth: depth + 1, serial: serial)
        } catch let error as BinaryCodingError {
            state.deferredError = state.deferredError ?? error
        } catch {}
        return _BinaryEncoder(state: state, depth: depth + 1, serial: -1)
    }
}

struct _BinaryUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let state: _BinaryEncodingState
    let depth: Int
    let serial: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }

    var count: Int {
        guard depth < state.frames.count, state.frames[depth].serial == serial else { return 0 }
        return state.frames[depth].count
    }

    mutating func encodeNil() throws {
        _ = try state.beginElement(depth, serial)
        state.writeNil()
    }

    mutating func encode(_ value: Bool) throws {
        _ = try state.beginElement(depth, serial)
        state.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        _ = try state.beginElement(depth, serial)
        state.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        _ = try state.beginElement(depth, serial)
        state.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        _ = try state.beginElement(depth, serial)
        state.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws {
        _ = try state.beginElement(depth, serial)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8) throws {
        _ = try state.beginElement(depth, serial)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16) throws {
        _ = try state.beginElement(depth, serial)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32) throws {
        _ = try state.beginElement(depth, serial)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64) throws {
        _ = try state.beginElement(depth, serial)
        state.writeSigned(value)
    }

    mutating func encode(_ value: Int128) throws {
        _ = try state.beginElement(depth, serial)
        state.writeSigned128(value)
    }

    mutating func encode(_ value: UInt) throws {
        _ = try state.beginElement(depth, serial)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8) throws {
        _ = try state.beginElement(depth, serial)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16) throws {
        _ = try state.beginElement(depth, serial)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32) throws {
        _ = try state.beginElement(depth, serial)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64) throws {
        _ = try state.beginElement(depth, serial)
        state.writeUnsigned(value)
    }

    mutating func encode(_ value: UInt128) throws {
        _ = try state.beginElement(depth, serial)
        state.writeUnsigned128(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try state.prepare(depth, serial)
        let mark = state.mark(depth)
        let index = try state.beginElement(depth, serial)
        try state.encodeEntryValue(value, depth: depth + 1, path: .index(index), mark: mark)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(
            _BinaryKeyedEncodingContainer<NestedKey>(state: state, depth: depth + 1, serial: nested(.keyed))
        )
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        _BinaryUnkeyedEncodingContainer(state: state, depth: depth + 1, serial: nested(.unkeyed))
    }

    private func nested(_ kind: _BinaryEncodingFrame.Kind) -> Int {
        do {
            let index = try state.beginElement(depth, serial)
            return try state.pushContainer(kind, depth: depth, path: .index(index))
        } catch let error as BinaryCodingError {
            state.deferredError = state.deferredError ?? error
        } catch {}
        return -1
    }

    mutating func superEncoder() -> any Encoder {
        do {
            let index = try state.beginElement(depth, serial)
            let serial = try state.pushPending(depth: depth, path: .index(index))
            return _BinaryEncoder(state: state, depth: depth + 1, serial: serial)
        } catch let error as BinaryCodingError {
            state.deferredError = state.deferredError ?? error
        } catch {}
        return _BinaryEncoder(state: state, depth: depth + 1, serial: -1)
    }
}

struct _BinarySingleValueEncodingContainer: SingleValueEncodingContainer {
    let state: _BinaryEncodingState
    let depth: Int
    let serial: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }

    mutating func encodeNil() throws {
        try state.beginSingle(depth, serial)
        state.writeNil()
    }

    mutating func encode(_ value: Bool) throws {
        try state.beginSingle(depth, serial)
        state.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        try state.beginSingle(depth, serial)
        state.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        try state.beginSingle(depth, serial)
        state.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        try state.beginSingle(depth, serial)
        state.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws {
        try state.beginSingle(depth, serial)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8) throws {
        try state.beginSingle(depth, serial)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16) throws {
        try state.beginSingle(depth, serial)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32) throws {
        try state.beginSingle(depth, serial)
        state.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64) throws {
        try state.beginSingle(depth, serial)
        state.writeSigned(value)
    }

    mutating func encode(_ value: Int128) throws {
        try state.beginSingle(depth, serial)
        state.writeSigned128(value)
    }

    mutating func encode(_ value: UInt) throws {
        try state.beginSingle(depth, serial)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8) throws {
        try state.beginSingle(depth, serial)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16) throws {
        try state.beginSingle(depth, serial)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32) throws {
        try state.beginSingle(depth, serial)
        state.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64) throws {
        try state.beginSingle(depth, serial)
        state.writeUnsigned(value)
    }

    mutating func encode(_ value: UInt128) throws {
        try state.beginSingle(depth, serial)
        state.writeUnsigned128(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try state.prepare(depth, serial)
        let mark = state.mark(depth)
        try state.beginSingle(depth, serial)
        try state.encodeEntryValue(value, depth: depth + 1, path: .none, mark: mark)
    }
}

// MARK: - Output buffer

/// A growable byte buffer without the uniqueness checks of `[UInt8]`; owned (and deallocated)
/// by `_BinaryEncodingState`.
struct _BinaryWriteBuffer {
    var base: UnsafeMutablePointer<UInt8>
    var count = 0
    var capacity: Int

    init(capacity: Int) {
        self.base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    func deallocate() {
        base.deallocate()
    }

    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    subscript(index: Int) -> UInt8 {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if capacity &- count < extra { grow(extra) }
    }

    @inline(never)
    private mutating func grow(_ extra: Int) {
        let newCapacity = Swift.max(capacity * 2, count + extra)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func appendUnchecked(_ byte: UInt8) {
        base[count] = byte
        count &+= 1
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        appendUnchecked(byte)
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).initialize(from: source, count: bytes.count)
        count &+= bytes.count
    }

    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        reserve(10)
        var value = value
        while value >= 0x80 {
            appendUnchecked(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        appendUnchecked(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendVarint128(_ value: UInt128) {
        reserve(19)
        var value = value
        while value >= 0x80 {
            appendUnchecked(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        appendUnchecked(UInt8(truncatingIfNeeded: value))
    }

    /// A container's tag and a 2-byte placeholder for its header.
    @inline(__always)
    mutating func appendContainerHeader(_ tag: UInt8) {
        reserve(3)
        appendUnchecked(tag)
        appendUnchecked(0)
        appendUnchecked(0)
    }

    /// Replaces the `placeholder` bytes at `index` with the longer `header`.
    mutating func replaceHeader(at index: Int, placeholder: Int, with header: [UInt8]) {
        let extra = header.count - placeholder
        reserve(extra)
        let tail = index + placeholder
        (base + tail + extra).moveInitialize(from: base + tail, count: count - tail)
        for (offset, byte) in header.enumerated() { base[index + offset] = byte }
        count += extra
    }

    mutating func insert(_ byte: UInt8, at index: Int) {
        reserve(1)
        (base + index + 1).moveInitialize(from: base + index, count: count - index)
        base[index] = byte
        count += 1
    }
}
