import ArgumentParser
import ClusterNode
import Foundation
import Logging

/// The flags every command that starts a node shares. Each flag overrides the same setting of
/// a configuration file (``NodeConfigurationFile``, `processhub node --config`).
struct NodeOptions: ParsableArguments {
    @Option(help: "The node's name (default: node).")
    var name: String?

    @Option(help: "The host to listen on and advertise (default: 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on; 0 = any free port (default: 0).")
    var port: Int?

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

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info).")
    var logLevel: String?

    @OptionGroup(title: "TLS") var tls: TLSOptions

    @Option(help: ArgumentHelp("Exit when the process with this pid is no longer our parent.", visibility: .hidden))
    var parentPid: Int32?

    /// Exits this process when its launcher is gone, so test and benchmark nodes never linger.
    func watchParent() {
        exitWhenOrphaned(parentPid)
    }

    /// The node's settings: each flag given, else the file's value, else the default.
    func settings(file: NodeConfigurationFile? = nil) throws -> ClusterNodeSettings {
        let secret = try clusterSecret(
            secret: self.secret ?? (secretFile == nil ? file?.secret : nil), secretFile: secretFile ?? file?.secretFile)
        var settings = ClusterNodeSettings(
            name: name ?? file?.name ?? "node", host: host ?? file?.host ?? "127.0.0.1", port: port ?? file?.port ?? 0,
            secret: secret)
        let seedTexts = seeds.isEmpty ? file?.seeds ?? [] : seeds
        settings.seeds = try seedTexts.map { text in
            guard let address = NodeAddress(text) else { throw ValidationError("invalid seed address \(text)") }
            return address
        }
        if let ms = heartbeatIntervalMs ?? file?.heartbeatIntervalMs { settings.heartbeatInterval = .milliseconds(ms) }
        if let ms = heartbeatTimeoutMs ?? file?.heartbeatTimeoutMs { settings.heartbeatTimeout = .milliseconds(ms) }
        settings.tls = tls.nodeTLS
        return settings
    }

    func logger(label: String, file: NodeConfigurationFile? = nil) -> Logger {
        makeLogger(label: label, level: logLevel ?? file?.logLevel, default: .info)
    }
}

/// A logger at the level named `level` (`fallback` when absent or unknown).
func makeLogger(label: String, level: String?, default fallback: Logger.Level) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = level.flatMap(Logger.Level.init(rawValue:)) ?? fallback
    return logger
}

/// The cluster secret: `secret`, else the trimmed content of `secretFile`, else
/// `$PROCESSHUB_SECRET`.
func clusterSecret(secret: String?, secretFile: String?) throws -> ClusterSecret {
    if let secret { return ClusterSecret(secret) }
    if let secretFile {
        let text: String
        do {
            text = try String(contentsOfFile: secretFile, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read the secret file \(secretFile): \(error.localizedDescription)")
        }
        return ClusterSecret(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    if let secret = ProcessInfo.processInfo.environment["PROCESSHUB_SECRET"] { return ClusterSecret(secret) }
    throw ValidationError("a cluster secret is required: --secret-file, --secret or PROCESSHUB_SECRET")
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
