import ProcessHubTesting
import Testing

@testable import ClusterNode

@Suite("Binary coder")
struct BinaryCoderTests {
    // MARK: - Fixtures

    private struct Args: Codable, Equatable {
        var id: String
        var count: Int
        var flag: Bool
    }

    private struct Scalars: Codable, Equatable {
        var i8: Int8
        var i16: Int16
        var i32: Int32
        var i64: Int64
        var int: Int
        var u8: UInt8
        var u16: UInt16
        var u32: UInt32
        var u64: UInt64
        var uint: UInt
        var float: Float
        var double: Double
        var bool: Bool
        var string: String

        static let minimums = Scalars(
            i8: .min, i16: .min, i32: .min, i64: .min, int: .min, u8: .min, u16: .min, u32: .min, u64: .min,
            uint: .min, float: -.greatestFiniteMagnitude, double: -.greatestFiniteMagnitude, bool: false, string: "")
        static let maximums = Scalars(
            i8: .max, i16: .max, i32: .max, i64: .max, int: .max, u8: .max, u16: .max, u32: .max, u64: .max,
            uint: .max, float: .greatestFiniteMagnitude, double: .greatestFiniteMagnitude, bool: true,
            string: String(repeating: "x", count: 300))
        static let small = Scalars(
            i8: -1, i16: 63, i32: -32, i64: 64, int: -33, u8: 0, u16: 1, u32: 127, u64: 128, uint: 16384,
            float: 1.5, double: 0.1, bool: true, string: "héllo wörld 日本語 🎉")
    }

    private struct Empty: Codable, Equatable {}

    private struct Inner: Codable, Equatable {
        var label: String
        var values: [Double]
    }

    private struct Nested: Codable, Equatable {
        var name: String
        var args: [Args]
        var matrix: [[Int]]
        var inner: Inner?
        var missing: Inner?
        var empty: Empty
        var emptyList: [Int]
        var tags: [String: Int]
        var shapes: [Shape]

        static let sample = Nested(
            name: "sample",
            args: [Args(id: "a", count: 1, flag: true), Args(id: "b", count: -2, flag: false)],
            matrix: [[1, 2, 3], [], [4]],
            inner: Inner(label: "in", values: [1, -0.5, .infinity]),
            missing: nil,
            empty: Empty(),
            emptyList: [],
            tags: ["x": 1, "y": 2],
            shapes: [.circle(radius: 2), .rect(width: 1, height: 3), .point, .labeled("p", 7)])
    }

    private enum Shape: Codable, Equatable {
        case circle(radius: Double)
        case rect(width: Double, height: Double)
        case point
        case labeled(String, Int)
    }

    private enum Color: String, Codable, Hashable {
        case red, green
    }

    private enum Fruit: String, Codable, Hashable, CodingKeyRepresentable {
        case apple, pear
    }

    private enum Level: Int, Codable {
        case low = 1
        case high = 2
    }

    private struct Point: Codable, Hashable {
        var x: Int
        var y: Int
    }

    private struct Optionals: Codable, Equatable {
        var a: Int?
        var b: String?
        var c: Int??
        var d: [Int?]
        var e: [Int??]
        var f: Inner?
    }

    private struct IntKeyed: Codable, Equatable {
        var a: String
        var b: Int

        enum CodingKeys: Int, CodingKey {
            case a = 1
            case b = 2
        }
    }

    private struct ABC: Codable, Equatable {
        var a: Int
        var b: String
        var c: [Int]
        var d: Inner
    }

    /// Decodes the keys of `ABC` in reverse order, twice, and asks for a key that is not there.
    private struct CBA: Decodable {
        var a: Int
        var b: String
        var c: [Int]
        var d: Inner

        enum CodingKeys: String, CodingKey {
            case a, b, c, d, zzz
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            d = try container.decode(Inner.self, forKey: .d)
            c = try container.decode([Int].self, forKey: .c)
            b = try container.decode(String.self, forKey: .b)
            a = try container.decode(Int.self, forKey: .a)
            guard try container.decode(Int.self, forKey: .a) == a, try container.decode([Int].self, forKey: .c) == c,
                try container.decodeIfPresent(Int.self, forKey: .zzz) == nil, !container.contains(.zzz),
                container.contains(.b)
            else { throw BinaryCodingError(.dataCorrupted, "inconsistent") }
        }
    }

    /// A subset of `ABC`: unknown keys are skipped.
    private struct OnlyB: Codable, Equatable {
        var b: String
        var extra: Int?
    }

    private class Animal: Codable {
        var name: String

        init(name: String) { self.name = name }

        enum CodingKeys: String, CodingKey { case name }
    }

    /// Encodes its superclass through `superEncoder()`.
    private final class Dog: Animal, Equatable {
        var breed: String

        init(name: String, breed: String) {
            self.breed = breed
            super.init(name: name)
        }

        enum DogKeys: String, CodingKey { case breed }

        required init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: DogKeys.self)
            breed = try container.decode(String.self, forKey: .breed)
            try super.init(from: container.superDecoder())
        }

        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: DogKeys.self)
            try container.encode(breed, forKey: .breed)
            try super.encode(to: container.superEncoder())
        }

        static func == (lhs: Dog, rhs: Dog) -> Bool { lhs.name == rhs.name && lhs.breed == rhs.breed }
    }

    /// Shares its encoder with its superclass (both write into one keyed container).
    private final class Cat: Animal, Equatable {
        var lives: Int

        init(name: String, lives: Int) {
            self.lives = lives
            super.init(name: name)
        }

        enum CatKeys: String, CodingKey { case lives }

        required init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CatKeys.self)
            lives = try container.decode(Int.self, forKey: .lives)
            try super.init(from: decoder)
        }

        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CatKeys.self)
            try container.encode(lives, forKey: .lives)
            try super.encode(to: encoder)
        }

        static func == (lhs: Cat, rhs: Cat) -> Bool { lhs.name == rhs.name && lhs.lives == rhs.lives }
    }

    private struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Uses the container APIs by hand: nested containers, nil, counts, `allKeys`, `contains`.
    private struct Manual: Codable, Equatable {
        var values: [Int?]
        var groups: [String: [Int]]
        var flag: Bool?

        enum CodingKeys: String, CodingKey { case values, groups, flag, nothing, absent }

        init(values: [Int?], groups: [String: [Int]], flag: Bool?) {
            self.values = values
            self.groups = groups
            self.flag = flag
        }

        func encode(to encoder: any Encoder) throws {
            var root = encoder.container(keyedBy: CodingKeys.self)
            var list = root.nestedUnkeyedContainer(forKey: .values)
            for value in values {
                if let value { try list.encode(value) } else { try list.encodeNil() }
            }
            var groupsContainer = root.nestedContainer(keyedBy: DynamicKey.self, forKey: .groups)
            for (key, members) in groups.sorted(by: { $0.key < $1.key }) {
                var group = groupsContainer.nestedUnkeyedContainer(forKey: DynamicKey(key))
                for member in members { try group.encode(member) }
            }
            try root.encodeIfPresent(flag, forKey: .flag)
            try root.encodeNil(forKey: .nothing)
        }

        init(from decoder: any Decoder) throws {
            let root = try decoder.container(keyedBy: CodingKeys.self)
            guard root.contains(.nothing), try root.decodeNil(forKey: .nothing), !root.contains(.absent),
                try root.decodeIfPresent(Int.self, forKey: .absent) == nil,
                try root.decodeIfPresent(Int.self, forKey: .nothing) == nil
            else { throw BinaryCodingError(.dataCorrupted, "nil handling") }
            var list = try root.nestedUnkeyedContainer(forKey: .values)
            let expected = list.count
            values = []
            while !list.isAtEnd {
                if try list.decodeNil() { values.append(nil) } else { values.append(try list.decode(Int.self)) }
            }
            guard expected == values.count, list.currentIndex == values.count else {
                throw BinaryCodingError(.dataCorrupted, "count")
            }
            let groupsContainer = try root.nestedContainer(keyedBy: DynamicKey.self, forKey: .groups)
            groups = [:]
            for key in groupsContainer.allKeys {
                var group = try groupsContainer.nestedUnkeyedContainer(forKey: key)
                var members: [Int] = []
                while !group.isAtEnd { members.append(try group.decode(Int.self)) }
                groups[key.stringValue] = members
            }
            flag = try root.decodeIfPresent(Bool.self, forKey: .flag)
        }
    }

    /// A single-value wrapper around an optional, using `decodeNil()` as hand-written code does.
    private struct OptionalWrapper: Codable, Equatable {
        var value: Int?

        init(_ value: Int?) { self.value = value }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            value = container.decodeNil() ? nil : try container.decode(Int.self)
        }
    }

    /// Encodes an optional with `encode` (not `encodeIfPresent`) and reads it back in several ways.
    private struct ExplicitNil: Codable, Equatable {
        var name: String?

        enum CodingKeys: String, CodingKey { case name }

        init(name: String?) { self.name = name }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            let viaOptional = try container.decode(String?.self, forKey: .name)
            let isNil = try container.decodeNil(forKey: .name)
            guard viaOptional == name, isNil == (name == nil) else {
                throw BinaryCodingError(.dataCorrupted, "explicit nil")
            }
        }
    }

    private struct Celsius: Codable, Equatable {
        var degrees: Double

        init(_ degrees: Double) { self.degrees = degrees }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(degrees)
        }

        init(from decoder: any Decoder) throws {
            degrees = try decoder.singleValueContainer().decode(Double.self)
        }
    }

    private struct Wide: Codable, Equatable {
        var signed: Int128
        var unsigned: UInt128
    }

    /// Nests itself through unkeyed containers.
    private struct Nest: Codable, Equatable {
        var children: [Nest]

        init(depth: Int) {
            children = depth == 0 ? [] : [Nest(depth: depth - 1)]
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            for child in children { try container.encode(child) }
        }

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            children = []
            while !container.isAtEnd { children.append(try container.decode(Nest.self)) }
        }
    }

    /// Reads `userInfo` while encoding and decoding.
    private struct ContextAware: Codable, Equatable {
        var value: Int
        var seenContext: String?

        init(value: Int) { self.value = value }

        enum CodingKeys: String, CodingKey { case value, context }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(value, forKey: .value)
            try container.encode(encoder.userInfo[.binaryCoderTestContext] as? String ?? "none", forKey: .context)
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            value = try container.decode(Int.self, forKey: .value)
            let written = try container.decode(String.self, forKey: .context)
            seenContext = "\(written)/\(decoder.userInfo[.binaryCoderTestContext] as? String ?? "none")"
        }
    }

    private func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try BinaryEncoder().encode(value)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try BinaryDecoder().decode(type, from: bytes)
    }

    private func roundTrip<T: Codable & Equatable>(
        _ value: T,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let bytes = try encode(value)
        let back = try decode(T.self, bytes)
        #expect(back == value, sourceLocation: sourceLocation)
    }

    private func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    /// Decodes `bytes` as several types; only checks that nothing crashes.
    private func decodeAnything(_ bytes: [UInt8]) {
        _ = try? decode(Nested.self, bytes)
        _ = try? decode(Args.self, bytes)
        _ = try? decode([Int].self, bytes)
        _ = try? decode([String: Int].self, bytes)
        _ = try? decode([Int: String].self, bytes)
        _ = try? decode(Shape.self, bytes)
        _ = try? decode(Int??.self, bytes)
        _ = try? decode(String.self, bytes)
        _ = try? decode(Double.self, bytes)
        _ = try? decode(Manual.self, bytes)
        _ = try? decode(Optionals.self, bytes)
        _ = try? decode(Nest.self, bytes)
        _ = try? decode(Wide.self, bytes)
        _ = try? decode(Dog.self, bytes)
    }

    // MARK: - Round trips

    @Test func scalarsRoundTrip() throws {
        try roundTrip(Scalars.minimums)
        try roundTrip(Scalars.maximums)
        try roundTrip(Scalars.small)
        for value in [0, 1, 63, 64, 127, 128, -1, -32, -33, -64, -65, 300, -300, .max, .min] {
            try roundTrip(value)
        }
        for value in ["", "a", String(repeating: "é", count: 15), String(repeating: "b", count: 31),
            String(repeating: "c", count: 32), String(repeating: "🎉", count: 100), "nul\u{0}byte"]
        {
            try roundTrip(value)
        }
        try roundTrip(true)
        try roundTrip(false)
        try roundTrip(UInt8(200))
        try roundTrip(Int8(-128))
    }

    @Test func floatingPointKeepsBitPatterns() throws {
        let doubles: [Double] = [
            0, -0.0, 1, -1, 42, 1.5, 0.1, -2.75, 1e300, -1e-300, .infinity, -.infinity, .nan,
            Double(bitPattern: 0x7FF0_0000_0000_0001), .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            0x1p47, 0x1p48, 0x1p60, -0x1p48,
        ]
        for value in doubles {
            let back = try decode(Double.self, try encode(value))
            #expect(back.bitPattern == value.bitPattern, "\(value)")
        }
        let floats: [Float] = [
            0, -0.0, 1, -7, 3.25, 0.1, .infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0x1p20, 0x1p21,
        ]
        for value in floats {
            let back = try decode(Float.self, try encode(value))
            #expect(back.bitPattern == value.bitPattern, "\(value)")
        }
        // Whole numbers are written as integers, Doubles that are Floats as 4 bytes.
        #expect(try encode(42.0 as Double).count == 2)
        #expect(try encode(1.5 as Double).count == 6)
        #expect(try encode(0.1 as Double).count == 10)
    }

    @Test func integerWidthsConvertWhenTheValueFits() throws {
        #expect(try decode(Int64.self, try encode(Int8(-5))) == -5)
        #expect(try decode(UInt8.self, try encode(200)) == 200)
        #expect(try decode(Double.self, try encode(7)) == 7)
        #expect(try decode(Int.self, try encode(3.0)) == 3)
        #expect(try decode(Float.self, try encode(0.5 as Double)) == 0.5)
        #expect(try decode(Int128.self, try encode(-9)) == -9)
        let outOfRange: [() throws -> Void] = [
            { _ = try decode(UInt8.self, try encode(300)) },
            { _ = try decode(UInt.self, try encode(-1)) },
            { _ = try decode(Int8.self, try encode(-129)) },
            { _ = try decode(Int.self, try encode(UInt64.max)) },
            { _ = try decode(Int.self, try encode(3.5)) },
            { _ = try decode(Float.self, try encode(1e300)) },
            { _ = try decode(Int64.self, try encode(Int128.max)) },
        ]
        for attempt in outOfRange {
            let error = #expect(throws: BinaryCodingError.self) { try attempt() }
            #expect(error?.code == .numberOutOfRange)
        }
    }

    @Test func wideIntegersRoundTrip() throws {
        try roundTrip(Wide(signed: .max, unsigned: .max))
        try roundTrip(Wide(signed: .min, unsigned: 0))
        try roundTrip(Wide(signed: -1, unsigned: UInt128(UInt64.max) + 1))
        try roundTrip([Int128.min, 0, Int128(Int64.min) - 1])
    }

    @Test func structsArraysAndEmptyValues() throws {
        try roundTrip(Args(id: "abc123", count: 42, flag: true))
        try roundTrip(Nested.sample)
        try roundTrip(Empty())
        try roundTrip([Empty(), Empty()])
        try roundTrip([Int]())
        try roundTrip([[[1], [2, 3]], [[]], []])
        try roundTrip([String](repeating: "same", count: 200))
        try roundTrip((0..<1000).map { Args(id: "id\($0)", count: $0 * 7919 - 500_000, flag: $0 % 3 == 0) })
    }

    private struct Big: Codable, Equatable {
        var names: [String]
        var rows: [[Int]]
        var nested: [String: [Args]]
        var tail: String
    }

    @Test func largeNestedContainersRoundTrip() throws {
        // Containers longer than 127 bytes or entries get their header widened after the fact.
        let args = (0..<300).map { Args(id: String(repeating: "x", count: $0 % 40), count: $0 << 20, flag: true) }
        let value = Big(
            names: (0..<200).map { "name \($0)" },
            rows: [Array(0..<300), [], Array(repeating: -70_000, count: 50)],
            nested: ["a": args, "b": [], "c": Array(args.prefix(3))],
            tail: "end")
        try roundTrip(value)
        try roundTrip([value, value])
        try roundTrip(
            Optionals(
                a: nil, b: String(repeating: "long ", count: 100), c: .some(nil), d: Array(repeating: nil, count: 200),
                e: [], f: nil))
    }

    @Test func enumsRoundTrip() throws {
        try roundTrip([Shape.circle(radius: 1.25), .rect(width: 2, height: 3), .point, .labeled("x", -1)])
        try roundTrip([Color.red, .green])
        try roundTrip([Level.low, .high])
    }

    @Test func optionalsAtEveryLevel() throws {
        try roundTrip(Optionals(a: nil, b: nil, c: nil, d: [], e: [], f: nil))
        try roundTrip(
            Optionals(
                a: 1, b: "", c: .some(nil), d: [nil, 1, nil], e: [nil, .some(nil), 3], f: Inner(label: "", values: [])))
        try roundTrip(Optionals(a: -1, b: "x", c: 5, d: [2], e: [.some(nil)], f: nil))

        let doubleOptionals: [Int??] = [nil, .some(nil), .some(.some(3))]
        for value in doubleOptionals {
            let back = try decode(Int??.self, try encode(value))
            #expect(back == value)
        }
        let tripleOptionals: [Int???] = [nil, .some(nil), .some(.some(nil)), .some(.some(.some(0)))]
        for value in tripleOptionals {
            let back = try decode(Int???.self, try encode(value))
            #expect(back == value)
        }
        try roundTrip([Inner?.none, Inner(label: "a", values: [1])])
        try roundTrip(["k": Int?.none, "j": 2])

        // An absent optional costs nothing; a present one costs what its value costs.
        let absent = try encode(Optionals(a: nil, b: nil, c: nil, d: [], e: [], f: nil))
        #expect(try decode(Optionals.self, absent).c == nil)

        // Hand-written patterns that JSON supports.
        try roundTrip(OptionalWrapper(nil))
        try roundTrip(OptionalWrapper(4))
        try roundTrip(ExplicitNil(name: nil))
        try roundTrip(ExplicitNil(name: "n"))
        try roundTrip(Celsius(21.5))
        try roundTrip([Celsius(-3), Celsius(0)])
    }

    @Test func dictionaries() throws {
        try roundTrip(["a": 1, "": 2, "ключ": 3, "05": 4, "-0": 5, "+5": 6, "5": 7, "-7": 8])
        try roundTrip([1: "one", -1: "minus one", 0: "zero", Int.max: "max", Int.min: "min", 1 << 62: "big"])
        try roundTrip(["outer": ["inner": [1, 2]], "empty": [:]])
        try roundTrip([Color.red: 1, .green: 2])
        try roundTrip([Fruit.apple: "a", .pear: "p"])
        try roundTrip([Point(x: 1, y: 2): "p", Point(x: -1, y: 0): "q"])
        try roundTrip([UInt8(1): [true], 2: [false, true]])
        try roundTrip([String: Int]())
        try roundTrip(IntKeyed(a: "x", b: 9))
        // Integer keys are written as numbers, not as strings in the key table.
        let ints = Dictionary(uniqueKeysWithValues: (0..<100).map { ($0 * 1000, $0) })
        let strings = Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0 * 1000)", $0) })
        let intsSize = try encode(ints).count
        #expect(try intsSize < encode(strings).count)
    }

    @Test func classInheritance() throws {
        try roundTrip(Dog(name: "Rex", breed: "Collie"))
        try roundTrip(Cat(name: "Tom", lives: 9))
        try roundTrip([Dog(name: "a", breed: "b"), Dog(name: "", breed: "")])
    }

    @Test func manualContainers() throws {
        try roundTrip(Manual(values: [1, nil, 3, nil], groups: ["x": [1, 2], "y": [], "z": [3]], flag: true))
        try roundTrip(Manual(values: [], groups: [:], flag: nil))
        try roundTrip(Manual(values: Array(repeating: nil, count: 100) + [5], groups: [:], flag: false))
    }

    @Test func keyedContainersDecodeInAnyOrderAndSkipUnknownKeys() throws {
        let value = ABC(a: 1, b: "two", c: [3, 4], d: Inner(label: "d", values: [5]))
        let bytes = try encode(value)
        let reversed = try decode(CBA.self, bytes)
        #expect(reversed.a == 1 && reversed.b == "two" && reversed.c == [3, 4] && reversed.d == value.d)
        #expect(try decode(OnlyB.self, bytes) == OnlyB(b: "two", extra: nil))
        // Out-of-order decoding inside an array of structs.
        let many = try decode([CBA].self, try encode([value, value, value]))
        #expect(many.map(\.b) == ["two", "two", "two"])
    }

    @Test func userInfoReachesCodableImplementations() throws {
        var encoder = BinaryEncoder()
        encoder.userInfo[.binaryCoderTestContext] = "enc"
        let decoder = BinaryDecoder(userInfo: [.binaryCoderTestContext: "dec"])
        let back = try decoder.decode([ContextAware].self, from: try encoder.encode([ContextAware(value: 3)]))
        #expect(back.first?.seenContext == "enc/dec")
        #expect(back.first?.value == 3)
        let plain = try decode(ContextAware.self, try encode(ContextAware(value: 1)))
        #expect(plain.seenContext == "none/none")
    }

    @Test func appendingAndRawBufferAPIs() throws {
        let value = Nested.sample
        let message = try encode(value)
        var buffer: [UInt8] = [9, 8, 7]
        try BinaryEncoder().encode(value, into: &buffer)
        #expect(Array(buffer.prefix(3)) == [9, 8, 7])
        #expect(Array(buffer.dropFirst(3)) == message)
        let back = try buffer.withUnsafeBytes { raw in
            try BinaryDecoder().decode(Nested.self, from: UnsafeRawBufferPointer(rebasing: raw[3...]))
        }
        #expect(back == value)
        // A failed encode leaves the buffer as it was.
        var untouched: [UInt8] = [1]
        #expect(throws: BinaryCodingError.self) { try BinaryEncoder().encode(Nest(depth: 600), into: &untouched) }
        #expect(untouched == [1])
    }

    // MARK: - Compactness

    @Test func argsAreSmallAndKeysAreInterned() throws {
        let args = Args(id: "abc123", count: 42, flag: true)
        let one = try encode(args)
        #expect(one.count <= 30)
        let hundred = try encode(Array(repeating: args, count: 100))
        #expect(hundred.count < 100 * one.count)
        // Each further struct costs its values and one byte per key, not the key strings.
        let two = try encode([args, args])
        let three = try encode([args, args, args])
        #expect(three.count - two.count == 15)
        #expect(hundred.count < 100 * 16)
    }

    // MARK: - Errors

    @Test func missingKeyThrowsKeyNotFound() throws {
        let error = #expect(throws: BinaryCodingError.self) {
            _ = try decode(ABC.self, try encode(OnlyB(b: "x", extra: 1)))
        }
        #expect(error?.code == .keyNotFound)
    }

    @Test func typeMismatchThrowsWithCodingPath() throws {
        struct Wrong: Codable { var a: String; var b: String; var c: [Int]; var d: Inner }
        let bytes = try encode(["items": [Wrong(a: "not an int", b: "", c: [], d: Inner(label: "", values: []))]])
        let error = #expect(throws: BinaryCodingError.self) { _ = try decode([String: [ABC]].self, bytes) }
        #expect(error?.code == .typeMismatch)
        #expect(error?.codingPath == "items[0].a")
        #expect(error?.description.contains("expected Int, found String") == true)

        let nested = #expect(throws: BinaryCodingError.self) {
            _ = try decode(ABC.self, try encode(["a": 1]))
        }
        #expect(nested?.code == .keyNotFound)

        let notNil = #expect(throws: BinaryCodingError.self) {
            _ = try decode(Int.self, try encode(ExplicitNil(name: nil)))
        }
        #expect(notNil?.code == .typeMismatch)

        let valueNotFound = #expect(throws: BinaryCodingError.self) {
            _ = try decode(Args.self, try encode(["id": "x", "count": nil, "flag": false] as [String: AnyCodable]))
        }
        #expect(valueNotFound?.code == .valueNotFound)
    }

    /// A tiny heterogeneous value for building test inputs.
    private enum AnyCodable: Encodable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
        ExpressibleByNilLiteral
    {
        case string(String), bool(Bool), null
        init(stringLiteral value: String) { self = .string(value) }
        init(booleanLiteral value: Bool) { self = .bool(value) }
        init(nilLiteral: ()) { self = .null }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .bool(let value): try container.encode(value)
            case .null: try container.encodeNil()
            }
        }
    }

    @Test func everyTruncationThrows() throws {
        let message = try encode(Nested.sample)
        for length in 0..<message.count {
            #expect(throws: BinaryCodingError.self) { _ = try decode(Nested.self, Array(message.prefix(length))) }
        }
        let args = try encode(Args(id: "abc123", count: 42, flag: true))
        for length in 0..<args.count {
            #expect(throws: BinaryCodingError.self) { _ = try decode(Args.self, Array(args.prefix(length))) }
        }
    }

    @Test func trailingBytesThrow() throws {
        let error = #expect(throws: BinaryCodingError.self) { _ = try decode(Int.self, try encode(5) + [0]) }
        #expect(error?.code == .trailingBytes)
    }

    @Test func hugeCountsAndLengthsThrowWithoutAllocating() throws {
        let huge = varint(1 << 60)
        let cases: [[UInt8]] = [
            huge,  // key table count
            [1] + huge,  // key length
            [0, _BinaryTag.unkeyed] + huge + [2, 0x40, 0x41],  // element count
            [0, _BinaryTag.unkeyed, 2] + huge + [0x40, 0x41],  // body length
            [0, _BinaryTag.keyed] + huge + [2, 0, 0x40],
            [0, _BinaryTag.string] + huge + [0x61],
            [0, _BinaryTag.unkeyed, 100, 100] + Array(repeating: 0x40, count: 98) + [0x81, 0x61],  // 99 elements
            [0, _BinaryTag.unsigned] + Array(repeating: 0xFF, count: 30) + [1],
        ]
        for bytes in cases {
            let error = #expect(throws: BinaryCodingError.self) { _ = try decode([Int].self, bytes) }
            let expected: [BinaryCodingError.Code] = [.invalidLength, .truncatedInput, .dataCorrupted, .typeMismatch]
            #expect(error.map { expected.contains($0.code) } == true, "\(error as Any)")
            decodeAnything(bytes)
        }
        let tooBig = [0, _BinaryTag.unsigned] + Array(repeating: 0xFF, count: 9) + [0x7F]
        let error = #expect(throws: BinaryCodingError.self) { _ = try decode(UInt64.self, tooBig) }
        #expect(error?.code == .numberOutOfRange)
    }

    @Test func invalidUTF8Throws() throws {
        let inValue: [UInt8] = [0, _BinaryTag.smallString | 2, 0xC3, 0x28]
        let valueError = #expect(throws: BinaryCodingError.self) { _ = try decode(String.self, inValue) }
        #expect(valueError?.code == .invalidUTF8)
        let inKey: [UInt8] = [1, 1, 0xFF, _BinaryTag.keyed, 1, 2, 0, 0x40]
        let keyError = #expect(throws: BinaryCodingError.self) { _ = try decode([String: Int].self, inKey) }
        #expect(keyError?.code == .invalidUTF8)
    }

    @Test func deepNestingThrows() throws {
        // Deep but within the limit works both ways.
        try roundTrip(Nest(depth: 500))
        // Too deep to encode.
        let encodeError = #expect(throws: BinaryCodingError.self) { _ = try encode(Nest(depth: 600)) }
        #expect(encodeError?.code == .nestingTooDeep)
        // Too deep to decode: 2000 nested unkeyed containers.
        var value: [UInt8] = [_BinaryTag.unkeyed, 0, 0]
        for _ in 0..<2000 { value = [_BinaryTag.unkeyed, 1] + varint(UInt64(value.count)) + value }
        let message = [0] + value
        let decodeError = #expect(throws: BinaryCodingError.self) { _ = try decode(Nest.self, message) }
        #expect(decodeError?.code == .nestingTooDeep)
        decodeAnything(message)
    }

    @Test func randomBytesNeverCrash() throws {
        var random = SeededGenerator(seed: 0x5EED)
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<48, using: &random)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty && Bool.random(using: &random) { bytes[0] = 0 }  // an empty key table
            decodeAnything(bytes)
        }
        // Corrupted valid messages get much further into the decoder.
        let valid = try encode(Nested.sample)
        for _ in 0..<1500 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            decodeAnything(bytes)
        }
    }

    // MARK: - Misuse

    private struct Interleaved: Encodable {
        enum CodingKeys: String, CodingKey { case a, b }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            var list = container.nestedUnkeyedContainer(forKey: .a)
            try container.encode(1, forKey: .b)
            try list.encode(2)
        }
    }

    private struct TwoContainerKinds: Encodable {
        enum CodingKeys: String, CodingKey { case a }

        func encode(to encoder: any Encoder) throws {
            var keyed = encoder.container(keyedBy: CodingKeys.self)
            try keyed.encode(1, forKey: .a)
            var unkeyed = encoder.unkeyedContainer()
            try? unkeyed.encode(2)
        }
    }

    private struct Failing: Encodable {
        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(1)
            throw CancellationError()
        }
    }

    /// Catches a failing child and goes on: the failed entry is undone.
    private struct Recovering: Codable, Equatable {
        var values: [Int]

        init(values: [Int]) { self.values = values }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            for value in values {
                try container.encode(value)
                try? container.encode(Failing())
            }
        }

        init(from decoder: any Decoder) throws {
            values = try [Int](from: decoder)
        }
    }

    @Test func misuseThrowsInsteadOfCorrupting() throws {
        let interleaved = #expect(throws: BinaryCodingError.self) { _ = try encode(Interleaved()) }
        #expect(interleaved?.code == .invalidUsage)
        let kinds = #expect(throws: BinaryCodingError.self) { _ = try encode(TwoContainerKinds()) }
        #expect(kinds?.code == .invalidUsage)
        #expect(throws: CancellationError.self) { _ = try encode(Failing()) }
        try roundTrip(Recovering(values: [1, 2, 3]))
    }

    private final class DecoderBox: @unchecked Sendable {
        var decoder: (any Decoder)?
    }

    private struct Escaping: Decodable {
        init(from decoder: any Decoder) throws {
            (decoder.userInfo[.binaryCoderTestBox] as? DecoderBox)?.decoder = decoder
            _ = try decoder.container(keyedBy: DynamicKey.self)
        }
    }

    @Test func aDecoderKeptPastDecodingReadsNothing() throws {
        let box = DecoderBox()
        let message = try encode(Args(id: "x", count: 1, flag: true))
        _ = try BinaryDecoder(userInfo: [.binaryCoderTestBox: box]).decode(Escaping.self, from: message)
        let kept = try #require(box.decoder)
        #expect(throws: BinaryCodingError.self) {
            _ = try kept.container(keyedBy: DynamicKey.self).decode(String.self, forKey: DynamicKey("id"))
        }
    }
}

private extension CodingUserInfoKey {
    static let binaryCoderTestContext = CodingUserInfoKey(rawValue: "binaryCoderTestContext")!
    static let binaryCoderTestBox = CodingUserInfoKey(rawValue: "binaryCoderTestBox")!
}
