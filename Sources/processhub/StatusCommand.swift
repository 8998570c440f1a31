import ArgumentParser
import ClusterNode
import ProcessHub

/// `processhub status`: a live hub cluster as one of its members sees it.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a live hub cluster: nodes, children per node with locations and metadata, lock and partition state.",
        discussion: """
            Connects as a short-lived client node (the secret proves membership in the \
            handshake and is never sent), asks the node at ADDRESS, prints, and leaves the \
            cluster again. The client runs no hub: nothing is placed on it. With --json the \
            output is one JSON document: hub, reportedBy, registryCount, isLocked, \
            isPartitioned, nodes [{node, address, state, members, registryCount, localCount, \
            isLocked, isPartitioned, handoversApplied, failure}], childrenPerNode {node: count}, \
            children [{id, kind, restart, locations [{node, actor}], metadata}].
            """
    )

    @OptionGroup var client: ClientOptions

    @Flag(help: "Leave the children out (nodes and counts only).")
    var summary = false

    func run() async throws {
        let status = try await client.withClient { try await $0.status(includingChildren: !summary) }
        let document = StatusDocument(status)
        if client.json {
            try client.printJSON(document)
        } else {
            document.printText()
        }
    }
}

/// What `status` prints, in JSON-friendly form.
struct StatusDocument: Codable {
    struct Node: Codable {
        var node: String
        var address: String
        /// `up` (answered) or `unreachable`.
        var state: String
        var members: [String]?
        var registryCount: Int?
        var localCount: Int?
        var isLocked: Bool?
        var isPartitioned: Bool?
        var handoversApplied: Int?
        var failure: String?
    }

    struct Location: Codable {
        var node: String
        var actor: String
    }

    struct Child: Codable {
        var id: String
        var kind: String
        var restart: String
        var locations: [Location]
        var metadata: [String: String]
    }

    var hub: String
    var reportedBy: String
    var registryCount: Int
    var isLocked: Bool
    var isPartitioned: Bool
    var nodes: [Node]
    var childrenPerNode: [String: Int]
    var children: [Child]

    init(_ status: HubClusterStatus) {
        hub = status.hubID.name
        reportedBy = "\(status.reportedBy)"
        let reporter = status.reporter
        registryCount = reporter?.registryCount ?? status.children.count
        isLocked = reporter?.isLocked ?? false
        isPartitioned = reporter?.isPartitioned ?? false
        nodes = status.nodes.map { report in
            Node(
                node: "\(report.node)", address: "\(report.node.address)", state: report.status == nil ? "unreachable" : "up",
                members: report.status?.members.map { "\($0)" }, registryCount: report.status?.registryCount,
                localCount: report.status?.localCount, isLocked: report.status?.isLocked,
                isPartitioned: report.status?.isPartitioned, handoversApplied: report.status?.handoversApplied,
                failure: report.failure)
        }
        children = status.children.map { info in
            Child(
                id: info.id, kind: info.spec.kind.name, restart: info.spec.restart.rawValue,
                locations: info.locations.map { Location(node: "\($0.node)", actor: "\($0.actorID)") },
                metadata: info.metadata)
        }
        // From the registry when it was fetched (what every script compares), else each
        // node's own count.
        childrenPerNode = Dictionary(uniqueKeysWithValues: status.nodes.map { ("\($0.node)", $0.status?.localCount ?? 0) })
        if !children.isEmpty {
            childrenPerNode = childrenPerNode.mapValues { _ in 0 }
            for child in children {
                for location in child.locations { childrenPerNode[location.node, default: 0] += 1 }
            }
        }
    }

    func printText() {
        emit("hub \(hub), as seen by \(reportedBy)")
        emit("registry: \(registryCount) children; locked: \(isLocked ? "yes" : "no"); partitioned: \(isPartitioned ? "yes" : "no")")
        emit("nodes (\(nodes.count)):")
        for node in nodes {
            if let failure = node.failure {
                emit("  \(node.node)  unreachable: \(failure)")
                continue
            }
            emit(
                "  \(node.node)  up  runs \(node.localCount ?? 0)  registry \(node.registryCount ?? 0)"
                    + "  locked \(node.isLocked == true ? "yes" : "no")  partitioned \(node.isPartitioned == true ? "yes" : "no")")
        }
        guard !children.isEmpty else { return }
        emit("children per node:")
        let byNode = Dictionary(grouping: children.flatMap { child in child.locations.map { ($0.node, child, $0.actor) } }, by: \.0)
        for node in byNode.keys.sorted() {
            let entries = byNode[node] ?? []
            emit("  \(node): \(entries.count)")
            for (_, child, actor) in entries {
                let metadata = child.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                emit("    \(child.id)  \(child.kind)  \(actor)\(metadata.isEmpty ? "" : "  {\(metadata)}")")
            }
        }
    }
}
