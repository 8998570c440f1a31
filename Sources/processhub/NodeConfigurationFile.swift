import ArgumentParser
import Foundation

/// The JSON file `processhub node --config FILE` reads. Every key is optional; flags given on
/// the command line override it. Unknown keys are refused, so a typo is not silently ignored.
///
/// ```json
/// {
///   "name": "n1", "host": "127.0.0.1", "port": 7001,
///   "secretFile": "/etc/processhub/secret",
///   "seeds": ["127.0.0.1:7002"],
///   "heartbeatIntervalMs": 250, "heartbeatTimeoutMs": 1200,
///   "logLevel": "info",
///   "hubs": [{ "id": "demo", "migration": "hot", "handover": true }]
/// }
/// ```
struct NodeConfigurationFile: Decodable, Sendable {
    var name: String?
    var host: String?
    var port: Int?
    /// The secret itself; prefer `secretFile`.
    var secret: String?
    var secretFile: String?
    var seeds: [String]?
    var heartbeatIntervalMs: Int?
    var heartbeatTimeoutMs: Int?
    var logLevel: String?
    var hubs: [Hub]?

    /// One hub to run.
    struct Hub: Decodable, Sendable {
        var id: String
        /// `cold` (default) or `hot`.
        var migration: NodeCommand.MigrationKind?
        /// Whether moving children take their state along. Default `false`.
        var handover: Bool?
    }

    private static let keys: Set<String> = [
        "name", "host", "port", "secret", "secretFile", "seeds", "heartbeatIntervalMs", "heartbeatTimeoutMs",
        "logLevel", "hubs",
    ]
    private static let hubKeys: Set<String> = ["id", "migration", "handover"]

    /// Reads and checks the file; every problem is a `ValidationError` naming the file.
    static func load(_ path: String) throws -> NodeConfigurationFile {
        func fail(_ message: String) -> ValidationError { ValidationError("configuration file \(path): \(message)") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw fail("cannot be read (\(error.localizedDescription))")
        }
        do {
            let shape = try JSONDecoder().decode(KeyShape.self, from: data)
            if let unknown = shape.keys.subtracting(keys).sorted().first { throw fail("unknown key \"\(unknown)\"") }
            if let unknown = shape.hubKeys.subtracting(hubKeys).sorted().first { throw fail("unknown hub key \"\(unknown)\"") }
            return try JSONDecoder().decode(NodeConfigurationFile.self, from: data)
        } catch let error as ValidationError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw fail("is not valid JSON (\(context.underlyingError.map { "\($0)" } ?? context.debugDescription))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw fail("\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw fail("\(context.codingPath.map(\.stringValue).joined(separator: ".")): missing \"\(key.stringValue)\"")
        } catch {
            throw fail("\(error)")
        }
    }
}

/// Only the keys of the file (and of each hub), to refuse unknown ones.
private struct KeyShape: Decodable {
    var keys: Set<String>
    var hubKeys: Set<String>

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct HubShape: Decodable {
        var keys: Set<String>
        init(from decoder: any Decoder) throws {
            keys = Set(try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue))
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        keys = Set(container.allKeys.map(\.stringValue))
        let hubs = try? container.decodeIfPresent([HubShape].self, forKey: AnyKey(stringValue: "hubs"))
        hubKeys = (hubs ?? []).reduce(into: []) { $0.formUnion($1.keys) }
    }
}
