import Foundation
import Synchronization

/// A real node OS process (the `processhub` executable), for tests and benchmarks that need
/// real crashes: SIGKILL, SIGSTOP, SIGTERM.
///
/// Every launched process is recorded; ``terminate(timeout:)`` or ``kill()`` ends one,
/// ``NodeProcess/endAll()`` ends every one still running (call it in a `defer`). A node started
/// with `--parent-pid` (added by ``launch(_:executable:)``) also exits by itself when the process
/// that launched it is gone, so nothing is left behind even if the launcher crashes.
public final class NodeProcess: Sendable {
    /// Errors of launching or waiting for a node process.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// The OS process id.
    public let pid: Int32
    /// The arguments it was started with (without the executable).
    public let arguments: [String]
    private let process: Process
    private let output = Mutex<[String]>([])
    private let stderrPath: String

    private static let running = Mutex<[Int32: NodeProcess]>([:])

    private init(process: Process, arguments: [String], stderrPath: String) {
        self.process = process
        self.pid = process.processIdentifier
        self.arguments = arguments
        self.stderrPath = stderrPath
    }

    /// The `processhub` executable: `$PROCESSHUB_BINARY`, or the one beside the running binary
    /// (SwiftPM puts test bundles and executables in the same build folder).
    public static func defaultExecutable() throws -> String {
        if let path = ProcessInfo.processInfo.environment["PROCESSHUB_BINARY"] { return path }
        let me = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        var folder = me.deletingLastPathComponent()
        // Test bundles on Linux are `…/debug/Name.xctest`; executables sit in `…/debug/`.
        if folder.pathExtension == "xctest" { folder = folder.deletingLastPathComponent() }
        let candidate = folder.appendingPathComponent("processhub").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw Failure(description: "no processhub executable at \(candidate); run `swift build` first")
        }
        return candidate
    }

    /// Starts `processhub <arguments…> --parent-pid <this process>` and captures its output lines.
    public static func launch(_ arguments: [String], executable: String? = nil) throws -> NodeProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable ?? defaultExecutable())
        let fullArguments = arguments + ["--parent-pid", String(getpid())]
        process.arguments = fullArguments
        let stdout = Pipe()
        process.standardOutput = stdout
        let stderrPath = NSTemporaryDirectory() + "processhub-node-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let node = NodeProcess(process: process, arguments: fullArguments, stderrPath: stderrPath)
        running.withLock { $0[node.pid] = node }
        node.readLines(from: stdout.fileHandleForReading)
        return node
    }

    private func readLines(from handle: FileHandle) {
        let partial = Mutex<String>("")
        handle.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            let text = String(decoding: data, as: UTF8.self)
            let complete: [String] = partial.withLock { buffer in
                buffer += text
                var lines = buffer.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                buffer = lines.removeLast()
                return lines
            }
            self?.output.withLock { $0.append(contentsOf: complete) }
        }
    }

    /// Every line the process printed so far.
    public var lines: [String] { output.withLock { $0 } }

    /// What the process wrote to standard error (its log), for diagnosing a failed test.
    public var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until a printed line satisfies `predicate` (lines already printed count) and returns it.
    public func waitForLine(
        timeout: Duration = .seconds(30), _ what: String = "a line", where predicate: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = lines.first(where: predicate) { return line }
            if !process.isRunning, let line = lines.first(where: predicate) { return line }
            if !process.isRunning {
                throw Failure(description: "process \(pid) exited (\(process.terminationStatus)) before printing \(what); log:\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Failure(description: "process \(pid) did not print \(what) within \(timeout); lines: \(lines)")
    }

    /// Waits for the `READY <node-id>` line and returns the node id text.
    public func waitUntilReady(timeout: Duration = .seconds(60)) async throws -> String {
        let line = try await waitForLine(timeout: timeout, "READY") { $0.hasPrefix("READY ") }
        return String(line.dropFirst("READY ".count).split(separator: " ")[0])
    }

    /// Sends a signal (SIGSTOP, SIGCONT, SIGTERM, …).
    public func send(_ signal: Int32) {
        if process.isRunning { Foundation.kill(pid, signal) }
    }

    /// Kills the process with SIGKILL and reaps it.
    public func kill() {
        guard process.isRunning else { return forget() }
        Foundation.kill(pid, SIGCONT)
        Foundation.kill(pid, SIGKILL)
        process.waitUntilExit()
        forget()
    }

    /// Asks the process to stop (SIGTERM), waits up to `timeout`, then kills it. Returns its exit status.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(10)) async -> Int32 {
        if process.isRunning {
            Foundation.kill(pid, SIGCONT)
            Foundation.kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + timeout
            while process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            if process.isRunning { kill() }
        }
        process.waitUntilExit()
        forget()
        return process.terminationStatus
    }

    /// Whether the process is still running.
    public var isRunning: Bool { process.isRunning }

    private func forget() {
        _ = Self.running.withLock { $0.removeValue(forKey: pid) }
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    /// Kills every node process launched by this process that is still running.
    public static func endAll() {
        let all = running.withLock { Array($0.values) }
        for node in all { node.kill() }
    }
}
