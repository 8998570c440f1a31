// Shared pieces of the binary coding format; the format itself is described at the top of
// BinaryEncoder.swift.

/// The one-byte tags that start every encoded value.
enum _BinaryTag {
    static let null: UInt8 = 0x00
    static let falseValue: UInt8 = 0x01
    static let trueValue: UInt8 = 0x02
    /// Prefix: "an `Optional` that holds the value that follows" (only before `nil` or another prefix).
    static let some: UInt8 = 0x03
    static let float32: UInt8 = 0x04
    static let float64: UInt8 = 0x05
    static let unsigned: UInt8 = 0x06
    static let negative: UInt8 = 0x07
    static let string: UInt8 = 0x08
    static let keyed: UInt8 = 0x09
    static let unkeyed: UInt8 = 0x0A
    /// 0x40...0x7F: the unsigned integers 0...63.
    static let smallUnsigned: UInt8 = 0x40
    /// 0x80...0x9F: strings of 0...31 UTF-8 bytes.
    static let smallString: UInt8 = 0x80
    /// 0xA0...0xBF: the integers -1...-32.
    static let smallNegative: UInt8 = 0xA0

    static func name(_ tag: UInt8) -> String {
        switch tag {
        case null: return "nil"
        case falseValue, trueValue: return "Bool"
        case some: return "Optional"
        case float32: return "Float"
        case float64: return "Double"
        case unsigned, smallUnsigned...0x7F: return "unsigned integer"
        case negative, smallNegative...0xBF: return "negative integer"
        case string, smallString...0x9F: return "String"
        case keyed: return "keyed container"
        case unkeyed: return "unkeyed container"
        default: return "invalid tag 0x\(String(tag, radix: 16))"
        }
    }
}

/// How a value was reached from its parent; turned into a readable coding path only on demand.
enum _BinaryPathElement {
    case none
    /// A key reference as written in the encoding (see `_BinaryKeyRef`).
    case key(UInt64)
    case index(Int)
}

/// Key references: `index << 1` for a string in the key table, `zigzag(n) << 1 | 1` for an
/// integer key whose `stringValue` is the decimal form of `n`.
enum _BinaryKeyRef {
    @inline(__always)
    static func integer(_ n: Int) -> UInt64 {
        let zigzag = UInt64(bitPattern: Int64(n) << 1) ^ UInt64(bitPattern: Int64(n) >> 63)
        return zigzag << 1 | 1
    }

    @inline(__always)
    static func integerValue(_ ref: UInt64) -> Int {
        let zigzag = ref >> 1
        return Int(truncatingIfNeeded: Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1))))
    }

    /// The `Int` whose decimal form is exactly `string` (no sign `+`, no leading zeros, no `-0`).
    static func canonicalInteger(_ string: String) -> Int? {
        var utf8 = string.utf8.makeIterator()
        guard var byte = utf8.next() else { return nil }
        let negative = byte == UInt8(ascii: "-")
        if negative {
            guard let next = utf8.next() else { return nil }
            byte = next
        }
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        if byte == UInt8(ascii: "0") {
            return utf8.next() == nil && !negative ? 0 : nil
        }
        // Accumulate as a negative number so that Int.min parses.
        var value = -Int(byte &- UInt8(ascii: "0"))
        while let digit = utf8.next() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(Int(digit &- UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    static func name(_ ref: UInt64, keys: [String]) -> String {
        if ref & 1 == 1 { return String(integerValue(ref)) }
        let index = ref >> 1
        return index < UInt64(keys.count) ? keys[Int(index)] : "<key #\(index)>"
    }
}

/// The key type used in `codingPath`s and for `super`.
struct _BinaryCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    init(index: Int) {
        self.stringValue = "Index \(index)"
        self.intValue = index
    }

    static let `super` = _BinaryCodingKey(stringValue: "super")
}

/// Lets the coders recognise `Optional` types without knowing their wrapped type.
protocol _BinaryOptionalMarker {}
extension Optional: _BinaryOptionalMarker {}

enum _BinaryPath {
    static func codingPath(_ elements: some Sequence<_BinaryPathElement>, keys: [String]) -> [any CodingKey] {
        var path: [any CodingKey] = []
        for element in elements {
            switch element {
            case .none: break
            case .key(let ref):
                if ref & 1 == 1 {
                    path.append(_BinaryCodingKey(intValue: _BinaryKeyRef.integerValue(ref)))
                } else {
                    path.append(_BinaryCodingKey(stringValue: _BinaryKeyRef.name(ref, keys: keys)))
                }
            case .index(let index): path.append(_BinaryCodingKey(index: index))
            }
        }
        return path
    }

    static func string(_ elements: some Sequence<_BinaryPathElement>, keys: [String], last: String? = nil) -> String {
        var result = ""
        func appendKey(_ name: String) {
            if !result.isEmpty { result += "." }
            result += name
        }
        for element in elements {
            switch element {
            case .none: break
            case .key(let ref): appendKey(_BinaryKeyRef.name(ref, keys: keys))
            case .index(let index): result += "[\(index)]"
            }
        }
        if let last { appendKey(last) }
        return result
    }
}

extension BinaryCodingError {
    static func mismatch(_ expected: String, found tag: UInt8) -> BinaryCodingError {
        if tag == _BinaryTag.null {
            return BinaryCodingError(.valueNotFound, "expected \(expected), found nil")
        }
        return BinaryCodingError(.typeMismatch, "expected \(expected), found \(_BinaryTag.name(tag))")
    }

    static let truncated = BinaryCodingError(.truncatedInput, "the input ends in the middle of a value")
}

extension Dictionary where Key == CodingUserInfoKey, Value == any Sendable {
    /// The `[CodingUserInfoKey: Any]` view `Encoder`/`Decoder` expose, shared by both coders.
    var asCodingUserInfo: [CodingUserInfoKey: Any] {
        var converted: [CodingUserInfoKey: Any] = [:]
        for (key, value) in self { converted[key] = value }
        return converted
    }
}
