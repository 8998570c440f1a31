import ClusterNode
import Synchronization
import Testing

@testable import ProcessHub

/// Collects what handlers saw, from any task.
private final class HookRecorder: Sendable {
    private let log = Mutex<[String]>([])
    func append(_ entry: String) { log.withLock { $0.append(entry) } }
    var entries: [String] { log.withLock { $0 } }
}

private let hookTestNode = NodeID(name: "n1", host: "127.0.0.1", port: 7001, incarnation: 1)

private func startData(metadata: ChildMetadata = [:]) -> ChildStartData {
    ChildStartData(
        childID: "c1", spec: ChildSpec(id: "c1", kind: "counter", encodedArguments: []), nodes: [hookTestNode],
        metadata: metadata)
}

/// Fires a hook from actor-isolated code with a payload built from the actor's state: this must
/// compile (the dispatch runs in the caller's isolation) and read the state when it fires.
private actor HookEmitter {
    let hooks: HookRegistry
    var reason = "first"
    init(hooks: HookRegistry) { self.hooks = hooks }

    func fire() async {
        await hooks.dispatch(.coordinatorShutdown, CoordinatorShutdownEvent(reason: reason))
        reason = "second"
    }
}

@Suite("Hooks")
struct HookTests {
    @Test func handlersRunByDescendingPriorityThenRegistrationOrder() async throws {
        let hooks = HookRegistry()
        let recorder = HookRecorder()
        for (id, priority) in [("low", 1), ("high", 10), ("mid", 5), ("mid-later", 5), ("default", 0)] {
            try hooks.register(.childRegistered, id: id, priority: priority) { event in
                recorder.append("\(id):\(event.childID)")
            }
        }

        await hooks.dispatch(.childRegistered, ChildRegisteredEvent(childID: "c1", locations: []))

        #expect(recorder.entries == ["high:c1", "mid:c1", "mid-later:c1", "low:c1", "default:c1"])
    }

    @Test func aDuplicateIDIsRejectedAndTheFirstHandlerKept() async throws {
        let hooks = HookRegistry()
        let recorder = HookRecorder()
        try hooks.register(.preNodeJoin, id: "audit", priority: 3) { _ in recorder.append("first") }

        #expect(throws: HookError(code: .duplicateID, hook: "pre_node_join", handlerID: "audit")) {
            try hooks.register(.preNodeJoin, id: "audit", priority: 9) { _ in recorder.append("second") }
        }
        #expect(throws: HookError(code: .duplicateID, hook: "child_data_alter", handlerID: "stamp")) {
            try hooks.register(alter: .childDataAlter, id: "stamp") { $0 }
            try hooks.register(alter: .childDataAlter, id: "stamp") { $0 }
        }
        // The same id under another hook is a different handler.
        try hooks.register(.postNodeJoin, id: "audit") { _ in }

        await hooks.dispatch(.preNodeJoin, NodeEvent(node: hookTestNode))
        #expect(recorder.entries == ["first"])
        #expect(hooks.handlers(for: .preNodeJoin) == [HookHandlerInfo(id: "audit", priority: 3)])
        #expect(hooks.handlers(forAlter: .childDataAlter).map(\.id) == ["stamp"])
    }

    @Test func cancelRemovesAHandlerAndReportsUnknownOnes() async throws {
        let hooks = HookRegistry()
        let recorder = HookRecorder()
        try hooks.register(.postNodeLeave, id: "a") { _ in recorder.append("a") }
        try hooks.register(.postNodeLeave, id: "b") { _ in recorder.append("b") }
        try hooks.register(alter: .childDataAlter, id: "x") { $0 }

        #expect(hooks.cancel(.postNodeLeave, id: "a"))
        #expect(!hooks.cancel(.postNodeLeave, id: "a"))
        #expect(!hooks.cancel(.postNodeLeave, id: "unknown"))
        #expect(!hooks.cancel(.preNodeLeave, id: "b"))
        #expect(hooks.cancel(alter: .childDataAlter, id: "x"))
        #expect(!hooks.cancel(alter: .childDataAlter, id: "x"))

        await hooks.dispatch(.postNodeLeave, NodeEvent(node: hookTestNode))
        #expect(recorder.entries == ["b"])
        #expect(!hooks.hasHandlers(alter: .childDataAlter))
        // A cancelled id can be registered again.
        try hooks.register(.postNodeLeave, id: "a") { _ in }
    }

    @Test func handlersAreListedInDispatchOrder() throws {
        let hooks = HookRegistry()
        #expect(hooks.handlers(for: .childUnregistered).isEmpty)
        #expect(!hooks.hasHandlers(.childUnregistered))

        try hooks.register(.childUnregistered, id: "a") { _ in }
        try hooks.register(.childUnregistered, id: "b", priority: 100) { _ in }
        try hooks.register(alter: .childDataAlter, id: "z", priority: -1) { $0 }

        #expect(
            hooks.handlers(for: .childUnregistered) == [
                HookHandlerInfo(id: "b", priority: 100), HookHandlerInfo(id: "a", priority: 0),
            ])
        #expect(hooks.handlers(forAlter: .childDataAlter) == [HookHandlerInfo(id: "z", priority: -1)])
        #expect(hooks.hasHandlers(.childUnregistered))
        // Other hooks stay empty.
        #expect(hooks.handlers(for: .childRegistered).isEmpty)
    }

    @Test func alterHandlersAreChainedByPriority() async throws {
        let hooks = HookRegistry()
        for (id, priority) in [("p1", 1), ("p10", 10), ("p5", 5)] {
            try hooks.register(alter: .childDataAlter, id: id, priority: priority) { data in
                var data = data
                data.metadata["trail", default: ""] += data.metadata["trail"] == nil ? id : ",\(id)"
                data.metadata[id] = "seen"
                return data
            }
        }

        let result = await hooks.alter(.childDataAlter, startData(metadata: ["tag": "t"]))

        #expect(result.metadata == ["tag": "t", "trail": "p10,p5,p1", "p10": "seen", "p5": "seen", "p1": "seen"])
        #expect(result.childID == "c1")
    }

    @Test func withoutHandlersAlterReturnsTheInputAndDispatchBuildsNoPayload() async throws {
        let hooks = HookRegistry()
        let built = HookRecorder()
        func payload() -> ChildrenStartedEvent {
            built.append("built")
            return ChildrenStartedEvent(children: [])
        }

        let input = startData(metadata: ["k": "v"])
        #expect(await hooks.alter(.childDataAlter, input) == input)
        await hooks.dispatch(.postChildrenStart, payload())
        #expect(built.entries.isEmpty)

        // With listeners the payload is built exactly once, however many handlers there are.
        try hooks.register(.postChildrenStart, id: "a") { _ in }
        try hooks.register(.postChildrenStart, id: "b") { _ in }
        await hooks.dispatch(.postChildrenStart, payload())
        #expect(built.entries == ["built"])
    }

    @Test func aCopyIsIndependentOfItsOriginal() async throws {
        let original = HookRegistry()
        try original.register(.drainCompleted, id: "shared") { _ in }

        let copy = original.copy()
        try copy.register(.drainCompleted, id: "copy-only") { _ in }
        try original.register(.drainCompleted, id: "original-only", priority: 1) { _ in }
        #expect(copy.cancel(.drainCompleted, id: "shared"))

        #expect(original.handlers(for: .drainCompleted).map(\.id) == ["original-only", "shared"])
        #expect(copy.handlers(for: .drainCompleted).map(\.id) == ["copy-only"])
    }

    @Test func concurrentRegistrationsAllLand() async throws {
        let hooks = HookRegistry()
        let count = 400
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    try? hooks.register(.scoreboardUpdated, id: "h\(index)", priority: index % 7) { _ in }
                    try? hooks.register(alter: .childDataAlter, id: "a\(index)") { $0 }
                }
            }
        }

        let listed = hooks.handlers(for: .scoreboardUpdated)
        #expect(Set(listed.map(\.id)) == Set((0..<count).map { "h\($0)" }))
        #expect(listed.map(\.priority) == listed.map(\.priority).sorted(by: >))
        #expect(hooks.handlers(forAlter: .childDataAlter).count == count)
    }

    @Test(.timeLimit(.minutes(1)))
    func aHandlerMayChangeTheRegistryWhileBeingDispatched() async throws {
        let hooks = HookRegistry()
        let recorder = HookRecorder()
        try hooks.register(.migrationDeferred, id: "a", priority: 10) { _ in
            recorder.append("a")
            try? hooks.register(.migrationDeferred, id: "c") { _ in recorder.append("c") }
            hooks.cancel(.migrationDeferred, id: "b")
            _ = hooks.handlers(for: .migrationDeferred)
        }
        try hooks.register(.migrationDeferred, id: "b") { _ in recorder.append("b") }

        // The running dispatch keeps the list it started with; the change applies to the next one.
        await hooks.dispatch(.migrationDeferred, MigrationDeferredEvent(childIDs: ["c1"]))
        #expect(recorder.entries == ["a", "b"])
        await hooks.dispatch(.migrationDeferred, MigrationDeferredEvent(childIDs: ["c1"]))
        #expect(recorder.entries == ["a", "b", "a", "c"])
        #expect(hooks.handlers(for: .migrationDeferred).map(\.id) == ["a", "c"])
    }

    @Test func anActorCanFireAHookWithAPayloadFromItsState() async throws {
        let hooks = HookRegistry()
        let recorder = HookRecorder()
        try hooks.register(.coordinatorShutdown, id: "log") { event in recorder.append(event.reason) }
        let emitter = HookEmitter(hooks: hooks)

        await emitter.fire()
        await emitter.fire()

        #expect(recorder.entries == ["first", "second"])
    }

    @Test func startDataSurvivesTheWire() throws {
        // Start data travels in start requests between nodes.
        let data = startData(metadata: ["tag": "t"])
        let decoded = try BinaryDecoder().decode(ChildStartData.self, from: try BinaryEncoder().encode(data))
        #expect(decoded == data)
    }

    @Test func catalogueNamesFollowProcessHub() {
        func event<P>(_ key: HookKey<P>) -> String { key.name }
        func alter<V>(_ key: AlterHookKey<V>) -> String { key.name }
        let names = [
            event(.preNodeJoin), event(.postNodeJoin), event(.preNodeLeave), event(.postNodeLeave),
            event(.childRegistered), event(.childUnregistered), event(.preChildrenStart),
            event(.postChildrenStart), alter(.childDataAlter), event(.preRedistribution),
            event(.postRedistribution), event(.preChildrenRedistribution), event(.childrenForwarded),
            event(.migrationCompleted), event(.coordinatorShutdown), event(.childPidUpdated),
            event(.handoverDelivered), event(.migrationDeferred), event(.drainCompleted),
            event(.scoreboardUpdated),
        ]
        #expect(Set(names).count == names.count)
        #expect(event(.childPidUpdated) == "child_pid_updated")
        #expect(alter(.childDataAlter) == "child_data_alter")
        #expect(names.allSatisfy { !$0.hasSuffix("_hook") && $0 == $0.lowercased() })
    }
}
