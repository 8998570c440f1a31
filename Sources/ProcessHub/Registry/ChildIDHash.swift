/// The registry index's hash of child ids: keyed per process, and cheap for short ids.
///
/// Each 8-byte word of the UTF-8 bytes is mixed with the running value by a 64×64→128-bit
/// multiply whose halves are folded together (the construction of wyhash-style hashes). Two
/// random keys, drawn once per process, enter every step, so which ids collide is unpredictable
/// from outside the process.
enum ChildIDHash {
    private static let keys: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next() | 1, generator.next() | 1)
    }()

    @inline(__always)
    static func hash(_ id: ChildID) -> UInt64 {
        var id = id
        return id.withUTF8 { bytes in hash(UnsafeRawBufferPointer(bytes)) }
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let (k0, k1) = keys
        var state = k0 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            state = fold(state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self), k1)
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        return fold(fold(state ^ tail, k1) ^ k0, k1 ^ k0)
    }

    @inline(__always)
    private static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }
}
