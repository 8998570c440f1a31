import Testing

@testable import ProcessHub

@Suite("Awaiting operations")
struct OperationTests {
    @Test func awaitingGivesUpAtItsTimeoutWithoutWaitingForTheOperation() async throws {
        let slow = Task<StartResult, Never> {
            try? await Task.sleep(for: .seconds(20))
            return StartResult(started: [], errors: [])
        }
        defer { slow.cancel() }
        let begin = ContinuousClock.now
        let error = await #expect(throws: HubError.self) {
            try await StartOperation(task: slow).result(timeout: .milliseconds(50))
        }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - begin < .seconds(10))  // generous: far from the 20 s operation
    }

    @Test func aFinishedOperationIsReturned() async throws {
        let done = Task<StopResult, Never> { StopResult(stopped: [("a", [])], errors: []) }
        #expect(try await StopOperation(task: done).result(timeout: .seconds(10)).ids == ["a"])
    }
}
