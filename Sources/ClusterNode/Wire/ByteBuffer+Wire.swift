import NIOCore

/// Primitive encodings shared by every frame: LEB128 varints, length-prefixed strings and bytes.
/// Readers return `nil` on truncated or malformed input; they never trap.
extension ByteBuffer {
    @inlinable
    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        writeInteger(UInt8(v))
    }

    @inlinable
    mutating func readVarint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 64 {
            guard let byte: UInt8 = readInteger() else { return nil }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// Reads a varint that must fit in `Int` and not exceed `limit` (a length or a count).
    mutating func readLength(limit: Int) -> Int? {
        guard let value = readVarint(), value <= UInt64(limit) else { return nil }
        return Int(value)
    }

    mutating func writeLengthPrefixedString(_ string: String) {
        writeVarint(UInt64(string.utf8.count))
        writeString(string)
    }

    mutating func readLengthPrefixedString(limit: Int = 1 << 20) -> String? {
        guard let length = readLength(limit: min(limit, readableBytes)) else { return nil }
        return readString(length: length)
    }

    mutating func writeLengthPrefixedBytes(_ bytes: some Collection<UInt8>) {
        writeVarint(UInt64(bytes.count))
        writeBytes(bytes)
    }

    mutating func readLengthPrefixedSlice() -> ByteBuffer? {
        guard let length = readLength(limit: readableBytes) else { return nil }
        return readSlice(length: length)
    }

    mutating func writeNodeID(_ node: NodeID) {
        writeLengthPrefixedString(node.name)
        writeLengthPrefixedString(node.host)
        writeVarint(UInt64(node.port))
        writeInteger(node.incarnation)
    }

    mutating func readNodeID() -> NodeID? {
        guard let name = readLengthPrefixedString(limit: 1024),
            let host = readLengthPrefixedString(limit: 1024),
            let port = readLength(limit: 65535),
            let incarnation: UInt64 = readInteger()
        else { return nil }
        return NodeID(name: name, host: host, port: port, incarnation: incarnation)
    }
}
