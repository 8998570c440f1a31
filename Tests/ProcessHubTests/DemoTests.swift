import Foundation
import ProcessHubTesting
import Testing

/// `processhub demo`, the README's first command, run as a real OS process.
@Suite("processhub demo", .timeLimit(.minutes(3)))
struct DemoTests {
    @Test func theDemoRunsEveryStepExitsZeroAndLeavesNoProcessBehind() async throws {
        defer { NodeProcess.endAll() }
        let demo = try NodeProcess.launch(["demo", "--children", "1000"])
        try await waitUntil(timeout: .seconds(150), "the demo to finish") { !demo.isRunning }
        let lines = demo.lines
        #expect(await demo.terminate() == 0, "\(lines.joined(separator: "\n"))\n\(demo.log)")
        let output = lines.joined(separator: "\n")
        #expect(output.contains("all started in"))
        #expect(output.contains("restarted on the survivors after"))
        #expect(output.contains("moved to n4 with their state"))
        #expect(output.contains("kept its value"))
        #expect(lines.last == "Done.")
        // Every node process the demo started is gone.
        let pids = output.matches(of: /pid (\d+)/).compactMap { Int32($0.output.1) }
        #expect(pids.count >= 4)
        for pid in pids { #expect(kill(pid, 0) != 0, "process \(pid) is still running") }
    }
}
