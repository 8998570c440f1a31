import ArgumentParser
import ClusterNode
import Foundation
import ProcessHub

/// The flags of the commands that drive a live cluster from a short-lived client node.
struct ClientOptions: ParsableArguments {
    @Argument(help: "The address of a node running the hub, host:port.")
    var address: String

    @Option(help: "The hub's id.")
    var hub: String

    @Option(help: "The cluster secret (prefer --secret-file or PROCESSHUB_SECRET).")
    var secret: String?

    @Option(help: "A file whose content (trimmed) is the cluster secret.")
    var secretFile: String?

    @Option(help: "The host this client's node listens on; cluster nodes must reach it.")
    var clientHost: String = "127.0.0.1"

    @Option(help: "Seconds to wait for the connection, and for each operation's result.")
    var timeout: Double = 30

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    @Option(help: "Log level of the client node (to standard error).")
    var logLevel: String = "warning"

    func validate() throws {
        if NodeAddress(address) == nil { throw ValidationError("invalid address \(address): expected host:port") }
        if hub.isEmpty { throw ValidationError("--hub must not be empty") }
        if !(timeout > 0) { throw ValidationError("--timeout must be positive") }
    }

    var timeoutDuration: Duration { .milliseconds(Int64(timeout * 1000)) }

    /// Connects, runs `body`, and always leaves the cluster again. A connection or hub error
    /// is printed as `error: …` on standard error and exits with status 1.
    func withClient<T: Sendable>(_ body: (HubClient) async throws -> T) async throws -> T {
        let client: HubClient
        do {
            client = try await HubClient.connect(
                to: NodeAddress(address)!, secret: try clusterSecret(secret: secret, secretFile: secretFile),
                hubID: HubID(hub), host: clientHost, timeout: timeoutDuration,
                logger: makeLogger(label: "processhub.client", level: logLevel, default: .warning))
        } catch let error as HubError {
            throw fail(error)
        }
        do {
            let value = try await body(client)
            await client.close()
            return value
        } catch {
            await client.close()
            if let error = error as? HubError { throw fail(error) }
            throw error
        }
    }

    private func fail(_ error: HubError) -> ExitCode {
        printError("error: \(error)")
        return ExitCode(1)
    }

    /// Prints `value` as pretty, key-sorted JSON.
    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        emit(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Which children a command is about: an explicit list, or `count` ids `<prefix><n>`.
struct ChildSelection: ParsableArguments {
    @Option(help: "Child ids, comma-separated (repeatable).")
    var ids: [String] = []

    @Option(help: "How many children: ids <prefix><first> … <prefix><first + count - 1>.")
    var count: Int?

    @Option(help: "The prefix of generated ids.")
    var prefix: String = "c"

    @Option(help: "The number of the first generated id.")
    var first: Int = 0

    func validate() throws {
        if !ids.isEmpty && count != nil { throw ValidationError("give either --ids or --count, not both") }
        if ids.isEmpty && count == nil { throw ValidationError("give --ids or --count") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if first < 0 { throw ValidationError("--first must not be negative") }
        if childIDs.contains(where: \.isEmpty) { throw ValidationError("--ids contains an empty id") }
    }

    var childIDs: [ChildID] {
        if let count { return (first..<(first + count)).map { "\(prefix)\($0)" } }
        return ids.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }
}

/// Prints a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

extension NodeID {
    /// `name@host:port` (without the incarnation), for people.
    var shortDescription: String { "\(name)@\(host):\(port)" }
}
