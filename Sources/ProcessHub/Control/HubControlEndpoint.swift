import ClusterNode
import Distributed

/// What tools and other members ask a hub on one node outside the hub-to-hub protocol: its
/// report, its registry (whole or page by page), moves of the children it hosts, and starts and
/// stops run as if issued on that member (``HubClient``). One per hub and node, under the
/// well-known name `processhub.control.<hub id>`, whichever coordinator runs the hub.
distributed actor HubControlEndpoint {
    typealias ActorSystem = ClusterSystem

    private weak var coordinator: (any HubCoordinator)?

    init(actorSystem: ClusterSystem, coordinator: any HubCoordinator) {
        self.actorSystem = actorSystem
        self.coordinator = coordinator
    }

    static func wellKnownName(of hubID: HubID) -> String { "processhub.control.\(hubID.name)" }

    /// Makes `coordinator`'s hub reachable; throws ``HubError/Code/hubAlreadyRunning`` when this
    /// node already runs a hub of that id.
    static func start(for coordinator: any HubCoordinator) throws(HubError) -> HubControlEndpoint {
        let system = coordinator.system
        let name = wellKnownName(of: coordinator.hubID)
        if system.hasLocalActor(wellKnownName: name) {
            throw HubError(.hubAlreadyRunning, "hub \(coordinator.hubID) already runs on \(coordinator.localNode)")
        }
        return system.withWellKnownName(name) { HubControlEndpoint(actorSystem: system, coordinator: coordinator) }
    }

    static func resolve(_ hubID: HubID, on node: NodeID, using system: ClusterSystem) throws -> HubControlEndpoint {
        try resolve(id: ActorID(node: node, wellKnownName: wellKnownName(of: hubID)), using: system)
    }

    private func running() throws -> any HubCoordinator {
        guard let coordinator, !coordinator.isStopped else { throw ClusterError(.unknownActor, "the hub is stopped") }
        return coordinator
    }

    /// This node's report.
    distributed func status() async throws -> HubNodeStatus {
        let coordinator = try running()
        return await onHubWorkExecutor { await coordinator.status() }
    }

    /// This node's view of the registry: child id → actor ids (for status tools and tests that
    /// compare registries across nodes).
    distributed func registryView() throws -> [ChildID: [ActorID]] {
        try running().registry.dump().mapValues { $0.locations.map(\.actorID) }
    }

    /// Moves a child hosted here (``ProcessHub/migrateChild(_:to:)`` issued on another node).
    distributed func migrateChild(_ request: MigrateRequest) async throws -> MigrateReply {
        do {
            try await running().migrateLocalChild(request.childID, to: request.target)
            return MigrateReply(code: nil, message: "")
        } catch let error as HubError {
            return MigrateReply(code: error.code, message: error.message)
        }
    }

    /// Every member's report, asked concurrently (a silent member is reported as such).
    distributed func controlNodeReports() async throws -> [HubClusterStatus.NodeReport] {
        let coordinator = try running()
        return await onHubWorkExecutor { await coordinator.nodeReports() }
    }

    /// Registry entries with ids after `after` (all when `nil`), sorted, at most `limit`: pages
    /// keep every reply far below the frame limit, whatever the registry's size.
    distributed func controlRegistryPage(after: ChildID?, limit: Int) throws -> [ControlChildRecord] {
        let infos = try running().registry.dump().values.filter { after == nil || $0.id > after! }
        return infos.sorted { $0.id < $1.id }.prefix(max(1, limit)).map(ControlChildRecord.init)
    }

    /// Starts children on behalf of a client; with `awaitResult` the reply carries the outcome.
    distributed func controlStart(_ request: ControlStartRequest) async throws -> ControlStartReply {
        let coordinator = try running()
        let operation: Task<StartResult, Never>
        do {
            operation = try coordinator.startChildren(request.specs, options: request.options)
        } catch {
            return ControlStartReply(error: ControlError(error))
        }
        guard request.awaitResult else { return ControlStartReply() }
        return ControlStartReply(result: await operation.value)
    }

    /// Stops children on behalf of a client; with `awaitResult` the reply carries the outcome.
    distributed func controlStop(_ request: ControlStopRequest) async throws -> ControlStopReply {
        let coordinator = try running()
        let operation: Task<StopResult, Never>
        do {
            operation = try coordinator.stopChildren(request.ids, options: StopOptions(timeout: request.timeout))
        } catch {
            return ControlStopReply(stopped: [], errors: request.ids.map { ControlChildFailure(id: $0, error: ChildError(.noResponse, error.message)) })
        }
        guard request.awaitResult else { return ControlStopReply(stopped: nil, errors: nil) }
        let result = await operation.value
        return ControlStopReply(
            stopped: result.stopped.map { ControlStopReply.Stopped(id: $0.id, nodes: $0.nodes) },
            errors: result.errors.map { ControlChildFailure(id: $0.id, error: $0.error) })
    }
}

/// Asks the host of a child to move it.
struct MigrateRequest: Codable, Sendable {
    var childID: ChildID
    var target: NodeID
}

/// How a move asked of the host went (`code` is `nil` on success).
struct MigrateReply: Codable, Sendable {
    var code: HubError.Code?
    var message: String
}

// MARK: Messages

/// A registry entry on the wire.
struct ControlChildRecord: Codable, Sendable {
    var spec: ChildSpec
    var locations: [ChildLocation]
    var metadata: ChildMetadata

    init(_ info: ChildInfo) {
        self.spec = info.spec
        self.locations = info.locations
        self.metadata = info.metadata
    }

    var info: ChildInfo { ChildInfo(spec: spec, locations: locations, metadata: metadata) }
}

/// A ``HubError`` on the wire (hub errors are not registered error types).
struct ControlError: Codable, Sendable {
    var code: HubError.Code
    var message: String
    var childIDs: [ChildID]

    init(_ error: HubError) {
        self.code = error.code
        self.message = error.message
        self.childIDs = error.childIDs
    }

    var hubError: HubError { HubError(code, message, childIDs: childIDs) }
}

/// A child that failed, on the wire.
struct ControlChildFailure: Codable, Sendable {
    var id: ChildID
    var error: ChildError
}

struct ControlStartRequest: Codable, Sendable {
    var specs: [ChildSpec]
    var checkExisting: Bool
    var rollback: Bool
    var metadata: ChildMetadata
    var timeout: Duration
    var awaitResult: Bool

    var options: StartOptions {
        StartOptions(checkExisting: checkExisting, onFailure: rollback ? .rollback : .continue, metadata: metadata, timeout: timeout)
    }
}

struct ControlStartReply: Codable, Sendable {
    struct Started: Codable, Sendable {
        var id: ChildID
        var locations: [ChildLocation]
    }

    var error: ControlError?
    var started: [Started]?
    var errors: [ControlChildFailure]?
    var rolledBack = false

    init(error: ControlError? = nil) {
        self.error = error
    }

    init(result: StartResult) {
        self.started = result.started.map { Started(id: $0.id, locations: $0.locations) }
        self.errors = result.errors.map { ControlChildFailure(id: $0.id, error: $0.error) }
        self.rolledBack = result.rolledBack
    }

    /// The outcome, when it was awaited.
    var result: StartResult? {
        guard let started, let errors else { return nil }
        return StartResult(
            started: started.map { ($0.id, $0.locations) }, errors: errors.map { ($0.id, $0.error) }, rolledBack: rolledBack)
    }
}

struct ControlStopRequest: Codable, Sendable {
    var ids: [ChildID]
    var timeout: Duration
    var awaitResult: Bool
}

struct ControlStopReply: Codable, Sendable {
    struct Stopped: Codable, Sendable {
        var id: ChildID
        var nodes: [NodeID]
    }

    var stopped: [Stopped]?
    var errors: [ControlChildFailure]?

    var result: StopResult? {
        guard let stopped, let errors else { return nil }
        return StopResult(stopped: stopped.map { ($0.id, $0.nodes) }, errors: errors.map { ($0.id, $0.error) })
    }
}
