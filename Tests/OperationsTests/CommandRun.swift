import Foundation
import ProcessHubTesting
import Synchronization

/// One run of a short `processhub` command (status, start-children, …) as an OS process: its
/// exit status and output. The pid is recorded while it runs, and the process is killed if it
/// outlives the timeout or the test ends (``CommandRun/endAll()``).
struct CommandRun {
    var status: Int32
    var stdout: String
    var stderr: String

    private static let running = Mutex<Set<Int32>>([])

    /// Runs `processhub <arguments…>` to its end (killed after `timeout`).
    static func processhub(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> CommandRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try NodeProcess.defaultExecutable())
        process.arguments = arguments
        let folder = NSTemporaryDirectory() + "processhub-cmd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outPath = folder + "/out", errPath = folder + "/err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        running.withLock { _ = $0.insert(pid) }
        defer { running.withLock { _ = $0.remove(pid) } }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return CommandRun(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Kills every command still running (for a `defer` in tests).
    static func endAll() {
        for pid in running.withLock({ $0 }) { kill(pid, SIGKILL) }
    }

    /// Standard output decoded as JSON.
    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(stdout.utf8))
    }
}
