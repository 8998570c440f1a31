import Synchronization

/// Asks every child of a batch something at once and keeps the answers that arrive before one
/// shared deadline (ProcessHub's state query and consent collection).
///
/// Each question runs in a task of its own: a child that never answers only loses its answer, it
/// cannot hold the batch (a task group would wait for it). The deadline is measured on `clock`
/// (the driver's, which tests may drive by hand).
func gather<Answer: Sendable>(
    _ ids: [ChildID], within timeout: Duration, on clock: any HubClock = ContinuousHubClock(),
    _ ask: @escaping @Sendable (ChildID) async -> Answer?
) async -> [ChildID: Answer] {
    guard !ids.isEmpty else { return [:] }
    let collector = Collector<Answer>(expected: ids.count)
    return await withCheckedContinuation { continuation in
        collector.wait(with: continuation)
        for id in ids {
            Task { collector.add(id, await ask(id)) }
        }
        Task {
            try? await clock.sleep(for: timeout)
            collector.finish()
        }
    }
}

/// The answers of one ``gather(_:within:_:)``, handed over once: when all arrived or at the deadline.
private final class Collector<Answer: Sendable>: Sendable {
    private struct State {
        var answers: [ChildID: Answer] = [:]
        var pending: Int
        var continuation: CheckedContinuation<[ChildID: Answer], Never>?
    }

    private let state: Mutex<State>

    init(expected: Int) {
        state = Mutex(State(pending: expected))
    }

    func wait(with continuation: CheckedContinuation<[ChildID: Answer], Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func add(_ id: ChildID, _ answer: Answer?) {
        let done = state.withLock { state -> (CheckedContinuation<[ChildID: Answer], Never>, [ChildID: Answer])? in
            guard state.continuation != nil else { return nil }
            if let answer { state.answers[id] = answer }
            state.pending -= 1
            guard state.pending == 0, let continuation = state.continuation.take() else { return nil }
            return (continuation, state.answers)
        }
        done.map { $0.0.resume(returning: $0.1) }
    }

    func finish() {
        let done = state.withLock { state in state.continuation.take().map { ($0, state.answers) } }
        done.map { $0.0.resume(returning: $0.1) }
    }
}
