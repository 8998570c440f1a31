import ClusterNode
import Distributed

/// What tools on a node outside the hub (``HubClient``) ask a hub member: its view of the hub
/// cluster, its registry page by page, and starts and stops run as if issued on that member.
extension HubEndpoint {
    /// Every member's report, asked concurrently (a silent member is reported as such).
    distributed func controlNodeReports() async throws -> [HubClusterStatus.NodeReport] {
        let core = try running()
        return await onHubWorkExecutor { await core.nodeReports() }
    }

    /// Registry entries with ids after `after` (all when `nil`), sorted, at most `limit`: pages
    /// keep every reply far below the frame limit, whatever the registry's size.
    distributed func controlRegistryPage(after: ChildID?, limit: Int) throws -> [ControlChildRecord] {
        let infos = try running().registry.dump().values.filter { after == nil || $0.id > after! }
        return infos.sorted { $0.id < $1.id }.prefix(max(1, limit)).map(ControlChildRecord.init)
    }

    /// Starts children on behalf of a client; with `awaitResult` the reply carries the outcome.
    distributed func controlStart(_ request: ControlStartRequest) async throws -> ControlStartReply {
        let core = try running()
        let operation: Task<StartResult, Never>
        do {
            operation = try core.startChildren(request.specs, options: request.options)
        } catch {
            return ControlStartReply(error: ControlError(error))
        }
        guard request.awaitResult else { return ControlStartReply() }
        return ControlStartReply(result: await operation.value)
    }

    /// Stops children on behalf of a client; with `awaitResult` the reply carries the outcome.
    distributed func controlStop(_ request: ControlStopRequest) async throws -> ControlStopReply {
        let core = try running()
        let operation = core.stopChildren(request.ids, options: StopOptions(timeout: request.timeout))
        guard request.awaitResult else { return ControlStopReply(stopped: nil, errors: nil) }
        let result = await operation.value
        return ControlStopReply(
            stopped: result.stopped.map { ControlStopReply.Stopped(id: $0.id, nodes: $0.nodes) },
            errors: result.errors.map { ControlChildFailure(id: $0.id, error: $0.error) })
    }
}

extension HubCore {
    /// Each member's report; a member that does not answer within the cross-node timeout is
    /// reported with the reason.
    func nodeReports() async -> [HubClusterStatus.NodeReport] {
        let members = Set(hubNodes + [localNode])
        let timeout = configuration.crossNodeRequestTimeout
        let reports = await withTaskGroup(of: HubClusterStatus.NodeReport.self) { group in
            for node in members {
                group.addTask {
                    if node == self.localNode { return .init(node: node, status: await self.status(), failure: nil) }
                    do {
                        let endpoint = try self.endpoint(of: node)
                        let status = try await ClusterSystem.withCallTimeout(timeout) { try await endpoint.status() }
                        return .init(node: node, status: status, failure: nil)
                    } catch {
                        return .init(node: node, status: nil, failure: "\(error)")
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        return reports.sorted { $0.node < $1.node }
    }
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
