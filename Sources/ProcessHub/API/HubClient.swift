import ClusterNode
import Logging

/// A short-lived connection to a hub running elsewhere, for tools: status, starts and stops.
///
/// The client is a node of its own that joins the cluster with the cluster's secret (the
/// handshake proves it without sending it) and runs no hub, so the hub members never place
/// children on it. It asks one member — the node at the address it was given — which answers
/// from its registry and issues starts and stops as if they were its own. ``close()`` leaves the
/// cluster gracefully: peers see the node leave and nothing else changes.
///
/// ```swift
/// let client = try await HubClient.connect(
///     to: NodeAddress("127.0.0.1:7001")!, secret: ClusterSecret("s3cret"), hubID: "demo")
/// defer { Task { await client.close() } }
/// let status = try await client.status()
/// ```
public final class HubClient: Sendable {
    /// The client's own node.
    public let node: ClusterNode
    /// The hub member that answers.
    public let member: NodeID
    /// The hub.
    public let hubID: HubID
    private let endpoint: HubControlEndpoint

    private init(node: ClusterNode, member: NodeID, hubID: HubID, endpoint: HubControlEndpoint) {
        self.node = node
        self.member = member
        self.hubID = hubID
        self.endpoint = endpoint
    }

    /// Connects to the node at `address` and checks that it runs hub `hubID`.
    ///
    /// - Parameters:
    ///   - host: where the client node listens (other members may connect to it, as to any node).
    ///   - timeout: how long to wait for the node to accept the connection.
    /// - Throws: ``HubError/Code/timeout`` when no node at `address` accepts the connection in
    ///   time (wrong address or wrong secret), ``HubError/Code/notFound`` when it runs no such hub.
    public static func connect(
        to address: NodeAddress, secret: ClusterSecret, hubID: HubID, name: String = "processhub-client",
        host: String = "127.0.0.1", timeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "processhub.client")
    ) async throws -> HubClient {
        var settings = ClusterNodeSettings(name: name, host: host, secret: secret, seeds: [address])
        settings.memoryTrimInterval = nil
        let node = try await ClusterNode.start(settings, logger: logger)
        do {
            let member = try await waitForMember(at: address, on: node, timeout: timeout)
            let endpoint = try HubControlEndpoint.resolve(hubID, on: member, using: node.system)
            do {
                _ = try await endpoint.controlNodeReports()
            } catch let error as ClusterError where error.code == .unknownActor {
                throw HubError(.notFound, "\(member) runs no hub \(hubID)")
            }
            return HubClient(node: node, member: member, hubID: hubID, endpoint: endpoint)
        } catch {
            await node.shutdown()
            throw error
        }
    }

    /// Waits until the node at `address` is connected: the first member whose address it is (or,
    /// when it advertises another host name for itself, the first with its port).
    private static func waitForMember(at address: NodeAddress, on node: ClusterNode, timeout: Duration) async throws -> NodeID {
        let found = await withTaskGroup(of: NodeID?.self) { group in
            group.addTask {
                for await case .up(let member) in node.events where member.address == address || member.port == address.port {
                    return member
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let found else {
            throw HubError(.timeout, "no node at \(address) accepted the connection within \(timeout) (is the address right, and the secret the cluster's?)")
        }
        return found
    }

    /// The hub cluster as the member sees it: every member's report and, with
    /// `includingChildren`, the member's whole registry (fetched in pages).
    public func status(includingChildren: Bool = true) async throws -> HubClusterStatus {
        let nodes = try await endpoint.controlNodeReports()
        var children: [ChildInfo] = []
        while includingChildren {
            let page = try await endpoint.controlRegistryPage(after: children.last?.id, limit: Self.pageSize)
            children += page.map(\.info)
            if page.count < Self.pageSize { break }
        }
        return HubClusterStatus(hubID: hubID, reportedBy: member, nodes: nodes, children: children)
    }

    /// Registry entries per reply.
    static let pageSize = 2_000
    /// Children per start request: large batches go in several requests, one after the other.
    static let startBatch = 10_000

    /// Starts children through the member (``ProcessHub/startChildren(_:options:)`` there).
    ///
    /// Only ``StartOptions/checkExisting``, ``StartOptions/onFailure``, ``StartOptions/metadata``
    /// and ``StartOptions/timeout`` travel. Batches larger than 10,000 go in several requests,
    /// each checked and placed on its own.
    /// - Returns: the outcome with `awaitResult`, `nil` once dispatched otherwise.
    /// - Throws: the ``HubError`` the member's start threw (nothing of that request started).
    @discardableResult
    public func startChildren(_ specs: [ChildSpec], options: StartOptions = .init(), awaitResult: Bool = true) async throws -> StartResult? {
        var total = StartResult(started: [], errors: [])
        for batch in specs.chunked(Self.startBatch) {
            let request = ControlStartRequest(
                specs: Array(batch), checkExisting: options.checkExisting, rollback: options.onFailure == .rollback,
                metadata: options.metadata, timeout: options.timeout, awaitResult: awaitResult)
            let reply = try await ClusterSystem.withCallTimeout(options.timeout + .seconds(5)) {
                try await endpoint.controlStart(request)
            }
            if let error = reply.error { throw error.hubError }
            guard let result = reply.result else { continue }
            total.started += result.started
            total.errors += result.errors
            total.rolledBack = total.rolledBack || result.rolledBack
        }
        return awaitResult ? total : nil
    }

    /// Stops children through the member (``ProcessHub/stopChildren(_:options:)`` there).
    /// - Returns: the outcome with `awaitResult`, `nil` once dispatched otherwise.
    @discardableResult
    public func stopChildren(_ ids: [ChildID], options: StopOptions = .init(), awaitResult: Bool = true) async throws -> StopResult? {
        let request = ControlStopRequest(ids: ids, timeout: options.timeout, awaitResult: awaitResult)
        let reply = try await ClusterSystem.withCallTimeout(options.timeout + .seconds(5)) {
            try await endpoint.controlStop(request)
        }
        return reply.result
    }

    /// Leaves the cluster gracefully.
    public func close() async {
        await node.shutdown()
    }
}
