import ArgumentParser
import ClusterNode
import Foundation
import Logging

/// The flags every command that starts a node shares.
struct NodeOptions: ParsableArguments {
    @Option(help: "The node's name.")
    var name: String = "node"

    @Option(help: "The host to listen on and advertise.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on (0 = any free port).")
    var port: Int = 0

    @Option(help: "The cluster secret (prefer --secret-file or PROCESSHUB_SECRET).")
    var secret: String?

    @Option(help: "A file whose content (trimmed) is the cluster secret.")
    var secretFile: String?

    @Option(name: .customLong("seed"), help: "A seed address host:port (repeatable).")
    var seeds: [String] = []

    @Option(help: "Heartbeat interval in milliseconds.")
    var heartbeatIntervalMs: Int?

    @Option(help: "Heartbeat timeout in milliseconds.")
    var heartbeatTimeoutMs: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @OptionGroup(title: "TLS") var tls: TLSOptions

    @Option(help: ArgumentHelp("Exit when the process with this pid is no longer our parent.", visibility: .hidden))
    var parentPid: Int32?

    /// Exits this process when its launcher is gone, so test and benchmark nodes never linger.
    func watchParent() {
        exitWhenOrphaned(parentPid)
    }

    func settings() throws -> ClusterNodeSettings {
        var settings = ClusterNodeSettings(name: name, host: host, port: port, secret: ClusterSecret(try secretText()))
        settings.seeds = try seeds.map { text in
            guard let address = NodeAddress(text) else { throw ValidationError("invalid seed address \(text)") }
            return address
        }
        if let ms = heartbeatIntervalMs { settings.heartbeatInterval = .milliseconds(ms) }
        if let ms = heartbeatTimeoutMs { settings.heartbeatTimeout = .milliseconds(ms) }
        settings.tls = tls.nodeTLS
        return settings
    }

    func logger(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }

    private func secretText() throws -> String {
        if let secret { return secret }
        if let secretFile {
            let text = try String(contentsOfFile: secretFile, encoding: .utf8)
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let secret = ProcessInfo.processInfo.environment["PROCESSHUB_SECRET"] { return secret }
        throw ValidationError("a cluster secret is required: --secret-file, --secret or PROCESSHUB_SECRET")
    }
}

/// Exits this process (status 3) once `parentPid` is no longer its parent: processes started by
/// tests, benchmarks and the demo never outlive their launcher.
func exitWhenOrphaned(_ parentPid: Int32?) {
    guard let parentPid else { return }
    Task.detached {
        while getppid() == parentPid {
            try? await Task.sleep(for: .milliseconds(200))
        }
        Foundation.exit(3)
    }
}

/// Prints a line to standard output and flushes at once (a parent process may wait for it).
func emit(_ line: String) {
    print(line)
    fflush(nil)
}

/// Waits for SIGTERM or SIGINT.
func waitForTerminationSignal() async {
    let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
    var sources: [any DispatchSourceSignal] = []
    for signalNumber in [SIGTERM, SIGINT] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { continuation.yield(signalNumber) }
        source.resume()
        sources.append(source)
    }
    for await _ in signals { break }
    for source in sources { source.cancel() }
}
