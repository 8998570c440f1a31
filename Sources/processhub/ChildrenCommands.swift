import ArgumentParser
import ClusterNode
import DemoActors
import ProcessHub

/// `processhub start-children`: starts children on a live cluster.
struct StartChildrenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start-children",
        abstract: "Start children of a built-in kind on a live hub cluster.",
        discussion: """
            Connects as a short-lived client node and has the node at ADDRESS start the \
            children as if they were its own (placement by the hub's strategy). Without --wait \
            it returns once the start is dispatched. With --wait it prints the outcome and exits \
            1 if any child failed. A start refused as a whole (an id already started, …) prints \
            `error: <code>: <message>` and exits 1; nothing is started then.
            Kinds: counter (the demo counter, from 0).
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var selection: ChildSelection

    @Option(help: "The kind of the children.")
    var kind: String = Counter.kind.name

    @Option(help: "Metadata for every child, key=value (repeatable).")
    var metadata: [String] = []

    @Flag(help: "Stop the started children again if any failed.")
    var rollback = false

    @Flag(name: [.customLong("wait"), .customLong("await")], help: "Wait for the outcome and print it.")
    var wait = false

    func validate() throws {
        if kind != Counter.kind.name { throw ValidationError("unknown kind \(kind); built-in kinds: \(Counter.kind.name)") }
        _ = try parsedMetadata()
    }

    private func parsedMetadata() throws -> ChildMetadata {
        try metadata.reduce(into: [:]) { result, pair in
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("invalid metadata \(pair): expected key=value")
            }
            result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
    }

    func run() async throws {
        let specs = try selection.childIDs.map { try ChildSpec(id: $0, Counter.self, .init()) }
        let options = StartOptions(
            onFailure: rollback ? .rollback : .continue, metadata: try parsedMetadata(), timeout: client.timeoutDuration)
        let result = try await client.withClient { try await $0.startChildren(specs, options: options, awaitResult: wait) }
        let document = OperationDocument(start: result, requested: specs.count)
        if client.json { try client.printJSON(document) } else { document.printText(verb: "started") }
        if document.status == "error" { throw ExitCode(1) }
    }
}

/// `processhub stop-children`: stops children on a live cluster.
struct StopChildrenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop-children",
        abstract: "Stop children on a live hub cluster.",
        discussion: """
            Connects as a short-lived client node and has the node at ADDRESS stop the children \
            wherever they run. Without --wait it returns once the stop is dispatched. With \
            --wait it prints the outcome and exits 1 if any child could not be stopped \
            (unknown ids: notFound).
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var selection: ChildSelection

    @Flag(name: [.customLong("wait"), .customLong("await")], help: "Wait for the outcome and print it.")
    var wait = false

    func run() async throws {
        let ids = selection.childIDs
        let result = try await client.withClient {
            try await $0.stopChildren(ids, options: StopOptions(timeout: client.timeoutDuration), awaitResult: wait)
        }
        let document = OperationDocument(stop: result, requested: ids.count)
        if client.json { try client.printJSON(document) } else { document.printText(verb: "stopped") }
        if document.status == "error" { throw ExitCode(1) }
    }
}

/// What `start-children` and `stop-children` print.
struct OperationDocument: Codable {
    struct Done: Codable {
        var id: String
        var nodes: [String]
    }

    struct Failure: Codable {
        var id: String
        var code: String
        var message: String
    }

    /// `ok`, `error` (some children failed) or `dispatched` (not awaited).
    var status: String
    var requested: Int
    var done: [Done]
    var errors: [Failure]
    var rolledBack: Bool

    init(start result: StartResult?, requested: Int) {
        self.requested = requested
        status = result.map { $0.status.rawValue } ?? "dispatched"
        done = result?.started.map { Done(id: $0.id, nodes: $0.locations.map { "\($0.node)" }) } ?? []
        errors = result?.errors.map { Failure(id: $0.id, code: $0.error.code.rawValue, message: $0.error.message) } ?? []
        rolledBack = result?.rolledBack ?? false
    }

    init(stop result: StopResult?, requested: Int) {
        self.requested = requested
        status = result.map { $0.status.rawValue } ?? "dispatched"
        done = result?.stopped.map { Done(id: $0.id, nodes: $0.nodes.map { "\($0)" }) } ?? []
        errors = result?.errors.map { Failure(id: $0.id, code: $0.error.code.rawValue, message: $0.error.message) } ?? []
        rolledBack = false
    }

    func printText(verb: String) {
        guard status != "dispatched" else { return emit("dispatched \(requested) children") }
        emit("\(verb) \(done.count) of \(requested) children\(rolledBack ? " (rolled back)" : "")")
        for (node, count) in Dictionary(grouping: done.flatMap(\.nodes), by: { $0 }).mapValues(\.count).sorted(by: { $0.key < $1.key }) {
            emit("  \(node): \(count)")
        }
        for failure in errors.prefix(20) { emit("  \(failure.id): \(failure.code): \(failure.message)") }
        if errors.count > 20 { emit("  … \(errors.count - 20) more errors") }
    }
}
