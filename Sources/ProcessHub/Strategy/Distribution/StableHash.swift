/// Hash functions whose values never change: the same bytes give the same value in every process,
/// build, platform and Swift version.
///
/// Placement must agree on every node of a cluster, so it can never use Swift's `Hasher`, which is
/// seeded anew in each process. `xxHash64` is the 64-bit
/// xxHash (XXH64) of Yann Collet, bit-for-bit equal to the reference C library (`XXH64`), which
/// the tests check with published and pinned values. It is fast on short inputs such as child ids
/// and spreads every input bit over the whole output, so ring positions are evenly distributed.
public enum StableHash {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// The XXH64 hash of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: The input.
    ///   - seed: Selects an independent hash function; `0` is the reference default.
    /// - Returns: The same value as the reference C library's `XXH64(bytes, count, seed)`.
    public static func xxHash64(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let count = bytes.count
        var offset = 0
        var hash: UInt64
        if count >= 32 {
            hash = stripes(bytes, seed: seed, offset: &offset)
        } else {
            hash = seed &+ prime5
        }
        hash &+= UInt64(count)
        while offset + 8 <= count {
            hash ^= round(0, word64(bytes, offset))
            hash = rotate(hash, 27) &* prime1 &+ prime4
            offset += 8
        }
        if offset + 4 <= count {
            hash ^= UInt64(word32(bytes, offset)) &* prime1
            hash = rotate(hash, 23) &* prime2 &+ prime3
            offset += 4
        }
        while offset < count {
            hash ^= UInt64(bytes[offset]) &* prime5
            hash = rotate(hash, 11) &* prime1
            offset += 1
        }
        return avalanche(hash)
    }

    /// The XXH64 hash of a byte array.
    public static func xxHash64(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { xxHash64($0, seed: seed) }
    }

    /// The XXH64 hash of a string's UTF-8 bytes (exactly as stored: no Unicode normalisation).
    public static func xxHash64(_ string: String, seed: UInt64 = 0) -> UInt64 {
        var string = string  // `withUTF8` is mutating; for a native string this copies nothing.
        return string.withUTF8 { xxHash64(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// Consumes every whole 32-byte stripe with four accumulators and folds them into one value.
    private static func stripes(_ bytes: UnsafeRawBufferPointer, seed: UInt64, offset: inout Int) -> UInt64 {
        var v1 = seed &+ prime1 &+ prime2
        var v2 = seed &+ prime2
        var v3 = seed
        var v4 = seed &- prime1
        while offset + 32 <= bytes.count {
            v1 = round(v1, word64(bytes, offset))
            v2 = round(v2, word64(bytes, offset + 8))
            v3 = round(v3, word64(bytes, offset + 16))
            v4 = round(v4, word64(bytes, offset + 24))
            offset += 32
        }
        var hash = rotate(v1, 1) &+ rotate(v2, 7) &+ rotate(v3, 12) &+ rotate(v4, 18)
        hash = merge(hash, v1)
        hash = merge(hash, v2)
        hash = merge(hash, v3)
        return merge(hash, v4)
    }

    @inline(__always)
    private static func merge(_ hash: UInt64, _ lane: UInt64) -> UInt64 {
        (hash ^ round(0, lane)) &* prime1 &+ prime4
    }

    @inline(__always)
    private static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        rotate(accumulator &+ input &* prime2, 31) &* prime1
    }

    /// The final mix: makes every input bit affect every output bit.
    @inline(__always)
    private static func avalanche(_ value: UInt64) -> UInt64 {
        var hash = value
        hash ^= hash >> 33
        hash &*= prime2
        hash ^= hash >> 29
        hash &*= prime3
        hash ^= hash >> 32
        return hash
    }

    @inline(__always)
    private static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
        (value << bits) | (value >> (64 &- bits))
    }

    // XXH64 reads its input as little-endian words whatever the platform's byte order.
    @inline(__always)
    private static func word64(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func word32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
