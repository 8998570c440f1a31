import Foundation
// TEMPORARY: replaced by the real coder.
public struct BinaryEncoder: Sendable {
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]
    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:]) { self.userInfo = userInfo }
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try JSONEncoder().encode([value])) }
}
public struct BinaryDecoder: Sendable {
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]
    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:]) { self.userInfo = userInfo }
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let d = JSONDecoder(); for (k, v) in userInfo { d.userInfo[k] = v }
        return try d.decode([T].self, from: Data(bytes))[0]
    }
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        try decode(type, from: Array(bytes))
    }
}
