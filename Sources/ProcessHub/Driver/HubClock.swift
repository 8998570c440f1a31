import Synchronization

/// The time a hub's driver gives its machine and waits on for the machine's timers.
///
/// The driver never reads a clock or sleeps for the machine by itself: it asks its clock, so a
/// test can drive a real driver's timers (debounce, sync rounds, deadlines, graces) with
/// ``ManualHubClock`` instead of waiting for them.
package protocol HubClock: Sendable {
    /// Time since the clock's origin; never goes back.
    var elapsed: Duration { get }
    /// Returns once `duration` has passed on this clock; throws `CancellationError` when the
    /// waiting task is cancelled first.
    func sleep(for duration: Duration) async throws
}

/// Real time: `ContinuousClock` from the moment the clock is made.
package struct ContinuousHubClock: HubClock {
    private let origin = ContinuousClock.now

    package init() {}

    package var elapsed: Duration { ContinuousClock.now - origin }

    package func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

/// Time that passes only when ``advance(by:)`` says: sleepers wake in deadline order.
package final class ManualHubClock: HubClock {
    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Duration = .zero
        var nextToken = 0
        var sleepers: [Int: Sleeper] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    package init() {}

    package var elapsed: Duration { state.withLock { $0.now } }

    /// How many tasks wait on this clock.
    package var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    package func sleep(for duration: Duration) async throws {
        let token = state.withLock { state in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(token) != nil { return .failure(CancellationError()) }
                    if duration <= .zero { return .success(()) }
                    state.sleepers[token] = Sleeper(deadline: state.now + duration, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                if let sleeper = state.sleepers.removeValue(forKey: token) { return sleeper }
                state.cancelled.insert(token)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time on by `duration` and wakes every sleeper whose deadline it reached.
    package func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now += duration
            let due = state.sleepers.filter { $0.value.deadline <= state.now }.sorted { ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key) }
            for (token, _) in due { state.sleepers[token] = nil }
            return due.map(\.value.continuation)
        }
        for continuation in due { continuation.resume() }
    }
}
