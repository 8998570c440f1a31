import ClusterNode
import Logging
import ProcessHub
import ServiceLifecycle

/// A cluster node and its hubs as a swift-service-lifecycle `Service`: it runs them until the
/// service group shuts down gracefully, then leaves the way a node should.
///
/// ```swift
/// var counters = HubConfiguration(hubID: "counters")
/// counters.register(Counter.self)
/// let service = ProcessHubService(settings: settings, hubs: [counters], logger: logger)
/// let group = ServiceGroup(configuration: .init(
///     services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await group.run()
/// ```
///
/// On graceful shutdown each hub stops with ``ProcessHub/stop(movingChildren:)`` — its children
/// move to their new nodes first, with their state when the migration strategy hands over —
/// then the node leaves the cluster and `run()` returns. When the group cancels the service
/// instead, the hubs stop without moving their children (the peers restart them). The teardown
/// runs to its end in both cases, even when the service's task is cancelled meanwhile.
///
/// This lives in its own library, `ProcessHubLifecycle`, so applications that do not use
/// swift-service-lifecycle do not build it (and swift-async-algorithms) with `ProcessHub`.
public struct ProcessHubService: Service {
    /// The node's settings.
    public var settings: ClusterNodeSettings
    /// The hubs to run on the node, started in this order once the node listens.
    public var hubs: [HubConfiguration]
    /// Where the node and its hubs log.
    public var logger: Logger
    /// Called once the node runs and before any hub starts: register node-level actor kinds
    /// and error types here. Throwing ends `run()` with that error (the node leaves first).
    public var prepare: @Sendable (ClusterNode) throws -> Void
    /// Called once every hub runs, before the service waits for shutdown.
    public var onStarted: @Sendable (ClusterNode, [ProcessHub]) async -> Void

    /// Creates the service; nothing starts before ``run()``.
    public init(
        settings: ClusterNodeSettings, hubs: [HubConfiguration], logger: Logger = Logger(label: "processhub"),
        prepare: @escaping @Sendable (ClusterNode) throws -> Void = { _ in },
        onStarted: @escaping @Sendable (ClusterNode, [ProcessHub]) async -> Void = { _, _ in }
    ) {
        self.settings = settings
        self.hubs = hubs
        self.logger = logger
        self.prepare = prepare
        self.onStarted = onStarted
    }

    /// Starts the node and the hubs, waits for graceful shutdown (or cancellation), stops the
    /// hubs, leaves, and returns. Throws when the node or a hub cannot start.
    public func run() async throws {
        let node = try await ClusterNode.start(settings, logger: logger)
        let running: [ProcessHub]
        do {
            try prepare(node)
            running = try await startHubs(on: node)
        } catch {
            await node.shutdown()
            throw error
        }
        await onStarted(node, running)
        let graceful = (try? await gracefulShutdown()) != nil
        logger.info(
            graceful ? "graceful shutdown: moving children away, then leaving" : "cancelled: stopping without moving children",
            metadata: ["node": "\(node.id)"])
        // An unstructured task does not inherit our cancellation: the peers must hear from us.
        await Task {
            for hub in running { await hub.stop(movingChildren: graceful) }
            await node.shutdown()
        }.value
    }

    /// Starts every hub; on a failure stops those already started and rethrows.
    private func startHubs(on node: ClusterNode) async throws -> [ProcessHub] {
        var running: [ProcessHub] = []
        do {
            for configuration in hubs {
                running.append(try await ProcessHub.start(configuration, on: node, logger: logger))
            }
        } catch {
            for hub in running { await hub.stop(movingChildren: false) }
            throw error
        }
        return running
    }
}
