import ClusterNode

// Hub messages carry thousands of children. Generic keyed Codable costs more per field than the
// network does (it was half of the CPU of a 10 000-child start), so the bulk messages encode each
// child as a few flat unkeyed values, and name each node once per message: a table of nodes that
// children refer to by index.

/// The distinct nodes of one message, referred to by index.
struct NodeTable {
    private(set) var nodes: [NodeID] = []
    private var indexes: [NodeID: Int] = [:]

    init() {}

    init(decoded nodes: [NodeID]) {
        self.nodes = nodes
    }

    @discardableResult
    mutating func index(of node: NodeID) -> Int {
        if let index = indexes[node] { return index }
        indexes[node] = nodes.count
        nodes.append(node)
        return nodes.count - 1
    }

    func node(at index: Int) throws -> NodeID {
        guard nodes.indices.contains(index) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "node index \(index) out of range"))
        }
        return nodes[index]
    }
}

extension UnkeyedEncodingContainer {
    mutating func encodeNodes(_ table: NodeTable) throws {
        try encode(table.nodes.count)
        for node in table.nodes { try encodeNode(node) }
    }

    mutating func encodeSpec(_ spec: ChildSpec) throws {
        try encode(spec.id)
        try encode(spec.kind.name)
        try encode(spec.encodedArguments)
        try encode(spec.restart.rawValue)
        let (seconds, attoseconds) = spec.shutdownTimeout.components
        try encode(seconds)
        try encode(attoseconds)
    }

    mutating func encodeMetadata(_ metadata: ChildMetadata) throws {
        try encode(metadata.count)
        for (key, value) in metadata {
            try encode(key)
            try encode(value)
        }
    }

    mutating func encodeIDs(_ ids: [ChildID]) throws {
        try encode(ids.count)
        for id in ids { try encode(id) }
    }
}

extension UnkeyedDecodingContainer {
    /// A count, checked: never trusted for an allocation, only to bound a loop.
    mutating func decodeCount() throws -> Int {
        let count = try decode(Int.self)
        guard count >= 0 else { throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "negative count")) }
        return count
    }

    mutating func decodeNodes() throws -> NodeTable {
        var nodes: [NodeID] = []
        for _ in 0..<(try decodeCount()) { nodes.append(try decodeNode()) }
        return NodeTable(decoded: nodes)
    }

    mutating func decodeSpec() throws -> ChildSpec {
        let id = try decode(String.self)
        let kind = HubKind(try decode(String.self))
        let arguments = try decode([UInt8].self)
        guard let restart = RestartType(rawValue: try decode(String.self)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "unknown restart type"))
        }
        let timeout = Duration(secondsComponent: try decode(Int64.self), attosecondsComponent: try decode(Int64.self))
        return ChildSpec(id: id, kind: kind, encodedArguments: arguments, restart: restart, shutdownTimeout: timeout)
    }

    mutating func decodeMetadata() throws -> ChildMetadata {
        var metadata: ChildMetadata = [:]
        for _ in 0..<(try decodeCount()) { metadata[try decode(String.self)] = try decode(String.self) }
        return metadata
    }

    mutating func decodeIDs() throws -> [ChildID] {
        var ids: [ChildID] = []
        for _ in 0..<(try decodeCount()) { ids.append(try decode(String.self)) }
        return ids
    }
}

extension UnkeyedEncodingContainer {
    /// Child ids with an epoch each: the ids, then the epochs in the same order.
    mutating func encodeEpochs(_ epochs: [ChildID: UInt64]) throws {
        let pairs = epochs.sorted { $0.key < $1.key }
        try encodeIDs(pairs.map(\.key))
        try encode(pairs.map(\.value))
    }
}

extension UnkeyedDecodingContainer {
    mutating func decodeEpochs() throws -> [ChildID: UInt64] {
        let ids = try decodeIDs()
        let epochs = try decode([UInt64].self)
        guard ids.count == epochs.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "epochs do not match their ids"))
        }
        return Dictionary(zip(ids, epochs), uniquingKeysWith: max)
    }
}

// MARK: - Messages

extension StartRequest {
    func encode(to encoder: any Encoder) throws {
        var table = NodeTable()
        table.index(of: originator)
        let nodeIndexes = children.map { $0.nodes.map { table.index(of: $0) } }
        var container = encoder.unkeyedContainer()
        try container.encodeNodes(table)
        try container.encode(signature)
        try container.encode(isForwarded)
        try container.encode(children.count)
        for (child, indexes) in zip(children, nodeIndexes) {
            try container.encode(child.childID)
            try container.encodeSpec(child.spec)
            try container.encodeMetadata(child.metadata)
            try container.encode(indexes)
        }
        try container.encode(handoverStates.count)
        for (id, state) in handoverStates {
            try container.encode(id)
            try container.encode(state)
        }
        try container.encode(holdsCalls)
        try container.encode(isRecovery)
        // Trailing and optional: a peer without epochs decodes the rest as before.
        if !epochs.isEmpty { try container.encodeEpochs(epochs) }
    }

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let table = try container.decodeNodes()
        originator = try table.node(at: 0)
        signature = try container.decode(UInt64.self)
        isForwarded = try container.decode(Bool.self)
        children = []
        for _ in 0..<(try container.decodeCount()) {
            let id = try container.decode(String.self)
            let spec = try container.decodeSpec()
            let metadata = try container.decodeMetadata()
            let nodes = try container.decode([Int].self).map { try table.node(at: $0) }
            children.append(ChildStartData(childID: id, spec: spec, nodes: nodes, metadata: metadata))
        }
        handoverStates = [:]
        for _ in 0..<(try container.decodeCount()) {
            handoverStates[try container.decode(String.self)] = try container.decode([UInt8].self)
        }
        holdsCalls = try container.decode(Bool.self)
        isRecovery = try container.decode(Bool.self)
        epochs = container.isAtEnd ? [:] : try container.decodeEpochs()
    }
}

extension StartReply {
    func encode(to encoder: any Encoder) throws {
        var table = NodeTable()
        var container = encoder.unkeyedContainer()
        let rows = outcomes.map { (table.index(of: $0.node), $0.actorID.map { table.index(of: $0.node) }) }
        try container.encodeNodes(table)
        try container.encode(outcomes.count)
        for (outcome, (nodeIndex, actorNodeIndex)) in zip(outcomes, rows) {
            try container.encode(outcome.childID)
            try container.encode(nodeIndex)
            try container.encode(actorNodeIndex ?? -1)
            try container.encode(outcome.actorID?.serial ?? 0)
            try container.encode(outcome.error)
        }
    }

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let table = try container.decodeNodes()
        outcomes = []
        for _ in 0..<(try container.decodeCount()) {
            let id = try container.decode(String.self)
            let node = try table.node(at: try container.decode(Int.self))
            let actorNode = try container.decode(Int.self)
            let serial = try container.decode(UInt64.self)
            let actorID = actorNode < 0 ? nil : ActorID(node: try table.node(at: actorNode), serial: serial)
            let error = try container.decode(ChildError?.self)
            outcomes.append(ChildStartOutcome(childID: id, node: node, actorID: actorID, error: error))
        }
    }
}

extension RegistryUpdate {
    private enum Tag: UInt8 {
        case registered, unregistered, actorUpdated, snapshotComplete, snapshotBegins, stopped
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        switch self {
        case .registered(let entries):
            try container.encode(Tag.registered.rawValue)
            var table = NodeTable()
            let indexes = entries.map { (table.index(of: $0.authoredBy), table.index(of: $0.actorID.node)) }
            try container.encodeNodes(table)
            try container.encode(entries.count)
            for (entry, (author, host)) in zip(entries, indexes) {
                try container.encodeSpec(entry.spec)
                try container.encodeMetadata(entry.metadata)
                try container.encode(entry.epoch)
                try container.encode(author)
                try container.encode(host)
                try container.encode(entry.actorID.serial)
            }
        case .unregistered(let ids):
            try container.encode(Tag.unregistered.rawValue)
            try container.encodeIDs(ids)
        case .actorUpdated(let id, let actorID):
            try container.encode(Tag.actorUpdated.rawValue)
            try container.encode(id)
            try container.encode(actorID)
        case .snapshotComplete(let ids):
            try container.encode(Tag.snapshotComplete.rawValue)
            try container.encodeIDs(ids)
        case .snapshotBegins(let seq):
            try container.encode(Tag.snapshotBegins.rawValue)
            try container.encode(seq)
        case .stopped(let stops):
            try container.encode(Tag.stopped.rawValue)
            try container.encodeEpochs(stops)
        }
    }

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        guard let tag = Tag(rawValue: try container.decode(UInt8.self)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown registry update"))
        }
        switch tag {
        case .registered:
            let table = try container.decodeNodes()
            var entries: [RegistryEntry] = []
            for _ in 0..<(try container.decodeCount()) {
                let spec = try container.decodeSpec()
                let metadata = try container.decodeMetadata()
                let epoch = try container.decode(UInt64.self)
                let author = try table.node(at: try container.decode(Int.self))
                let host = try table.node(at: try container.decode(Int.self))
                let serial = try container.decode(UInt64.self)
                entries.append(RegistryEntry(
                    spec: spec, metadata: metadata, epoch: epoch, authoredBy: author, actorID: ActorID(node: host, serial: serial)))
            }
            self = .registered(entries)
        case .unregistered:
            self = .unregistered(try container.decodeIDs())
        case .actorUpdated:
            self = .actorUpdated(try container.decode(String.self), try container.decode(ActorID.self))
        case .snapshotComplete:
            self = .snapshotComplete(try container.decodeIDs())
        case .snapshotBegins:
            self = .snapshotBegins(try container.decode(UInt64.self))
        case .stopped:
            self = .stopped(try container.decodeEpochs())
        }
    }
}
