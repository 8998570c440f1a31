import ClusterNode

/// What ``ProcessHub`` and the control endpoint need from the hub's coordinator on this node.
///
/// Two coordinators implement it while the hub moves to its state machine: ``HubDriver``, the
/// shell of ``HubMachine`` (the default), and `HubCore`, the older lock-guarded coordinator,
/// kept only for the configurations the machine does not run yet (``HubDriver/runs(_:on:)``
/// says which). Everything the public API does goes through this protocol, so the two can be
/// swapped, and `HubCore` deleted, without touching the API.
protocol HubCoordinator: AnyObject, Sendable {
    /// The configuration, with its strategies as the coordinator uses them.
    var configuration: HubConfiguration { get }
    /// The node the hub runs on.
    var node: ClusterNode { get }
    /// The lock-cheap read side every lookup is served from.
    var registry: ChildRegistry { get }
    /// The hub's hook handlers.
    var hooks: HookRegistry { get }
    /// The local children.
    var supervisor: ChildSupervisor { get }

    /// Whether ``stop(movingChildren:)`` ran.
    var isStopped: Bool { get }
    /// Whether topology work (a batch, a redistribution) is pending.
    var isLocked: Bool { get }
    /// Whether quorum is lost here.
    var isPartitioned: Bool { get }
    /// The nodes that take children, this one included unless it drains, sorted.
    var hubNodes: [NodeID] { get }
    /// The hub's other members, sorted.
    var peers: [NodeID] { get }
    /// Local children that deferred their migration.
    var deferredIDs: [ChildID] { get }

    /// Validates and dispatches a start; the task ends with the per-child outcome.
    func startChildren(_ specs: [ChildSpec], options: StartOptions) throws(HubError) -> Task<StartResult, Never>
    /// Dispatches a stop; the task ends with the per-child outcome.
    func stopChildren(_ ids: [ChildID], options: StopOptions) throws(HubError) -> Task<StopResult, Never>
    /// Leaves the hub, moving the children first when asked.
    func stop(movingChildren: Bool) async
    /// Moves every local child away and stops taking new ones.
    func drain(timeout: Duration) async throws(HubError) -> DrainResult
    /// Moves one child, from whichever node hosts it, to `target`.
    func migrateChild(_ id: ChildID, to target: NodeID) async throws(HubError)
    /// Moves a child hosted here to `target` (a move issued on another node).
    func migrateLocalChild(_ id: ChildID, to target: NodeID) async throws(HubError)
    /// Moves deferred children now, without asking them again.
    func migrationReady(_ ids: Set<ChildID>) async
    /// Follows a promotion of a local-only node, and pushes the local children to the peers.
    func promote() async throws(HubError)
    /// This node's report.
    func status() async -> HubNodeStatus
    /// Overwrites the largest cluster size ``MajorityQuorum`` has seen here.
    func resetQuorumClusterSize(_ size: Int) throws(HubError)
}

extension HubCoordinator {
    var hubID: HubID { configuration.hubID }
    var localNode: NodeID { node.id }
    var system: ClusterSystem { node.system }

    /// The control endpoint of this hub on `node`.
    func control(on node: NodeID) throws -> HubControlEndpoint {
        try HubControlEndpoint.resolve(hubID, on: node, using: system)
    }

    /// Every member's report, asked concurrently; a member that does not answer within the
    /// cross-node timeout is reported with the reason.
    func nodeReports() async -> [HubClusterStatus.NodeReport] {
        let members = Set(hubNodes + peers + [localNode])
        let timeout = configuration.crossNodeRequestTimeout
        let reports = await withTaskGroup(of: HubClusterStatus.NodeReport.self) { group in
            for node in members {
                group.addTask {
                    if node == self.localNode { return .init(node: node, status: await self.status(), failure: nil) }
                    do {
                        let endpoint = try self.control(on: node)
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
