import ArgumentParser
import ClusterNode
import DemoActors
import Foundation
import ProcessHubTesting

/// `processhub bench <workload>`: runs a benchmark workload on real node processes and prints
/// one JSON line per metric (median of `--reps` runs, with min and max).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark workload and print its figures.",
        discussion: """
            Workloads: w5 (remote calls between two node processes, bare TCP floor, coder cost). \
            The hub workloads (w1–w4, w6, w7) arrive with the hub.
            """
    )

    @Argument(help: "The workload: w5.")
    var workload: String

    @Option(help: "Runs per metric; the median is reported.")
    var reps: Int = 3

    @Flag(help: "Print only JSON lines.")
    var json = false

    func run() async throws {
        switch workload.lowercased() {
        case "w5": try await runW5()
        default: throw ValidationError("unknown or not yet available workload \(workload); available: w5")
        }
    }

    private func runW5() async throws {
        let secret = "bench-\(UInt64.random(in: 0 ... .max))"
        defer { NodeProcess.endAll() }
        let server = try NodeProcess.launch(["bench-node", "server", "--name", "w5-server", "--secret", secret, "--log-level", "warning"])
        let ready = try await server.waitForLine(timeout: .seconds(60), "READY") { $0.hasPrefix("READY ") }
        let parts = ready.split(separator: " ")
        guard parts.count == 3, let serverID = NodeID(String(parts[1])) else {
            throw ValidationError("unexpected server line: \(ready)")
        }
        let client = try NodeProcess.launch([
            "bench-node", "client", "--name", "w5-client", "--secret", secret, "--log-level", "warning",
            "--seed", "\(serverID.address)", "--tcp-port", String(parts[2]), "--reps", String(reps),
        ])
        _ = try await client.waitForLine(timeout: .seconds(600), "all reps") { _ in
            client.lines.filter { $0.hasPrefix("REP ") }.count >= reps
        }
        await client.terminate()
        await server.terminate()
        let samples = try client.lines.filter { $0.hasPrefix("REP ") }.map { line in
            try JSONDecoder().decode([String: Double].self, from: Data(line.dropFirst(4).utf8))
        }
        var report = BenchReport(workload: "W5", json: json)
        let seq = samples.map { $0["seq_call_us"]! }
        let tcp = samples.map { $0["tcp_rtt_us"]! }
        report.add("seq_call_us", seq, extra: ["nodes": "2"])
        report.add("tcp_rtt_us", tcp, extra: ["nodes": "2"])
        report.add("seq_ratio", zip(seq, tcp).map { $0 / $1 }, extra: ["nodes": "2"])
        report.add("concurrent_calls_per_s", samples.map { $0["concurrent_calls_per_s"]! }, extra: ["nodes": "2", "callers": "100"])
        let coder = try CoderBenchmark.run(reps: reps)
        report.add("codec_roundtrip_ns", coder.binary, extra: ["coder": "\"binary\""])
        report.add("codec_roundtrip_ns", coder.json, extra: ["coder": "\"json\""])
        report.print()
    }
}

/// Figures of one workload, printed as JSON lines or a table.
struct BenchReport {
    var workload: String
    var json: Bool
    private var rows: [(metric: String, median: Double, min: Double, max: Double, n: Int, extra: [String: String])] = []

    init(workload: String, json: Bool) {
        self.workload = workload
        self.json = json
    }

    mutating func add(_ metric: String, _ values: [Double], extra: [String: String] = [:]) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return }
        rows.append((metric, sorted[sorted.count / 2], sorted.first!, sorted.last!, sorted.count, extra))
    }

    func print() {
        for row in rows {
            if json {
                let extra = row.extra.sorted { $0.key < $1.key }.map { ",\"\($0.key)\":\($0.value)" }.joined()
                emit(
                    #"{"workload":"\#(workload)","metric":"\#(row.metric)","value":\#(rounded(row.median)),"min":\#(rounded(row.min)),"max":\#(rounded(row.max)),"reps":\#(row.n)\#(extra)}"#
                )
            } else {
                let extra = row.extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                emit("\(workload)  \(row.metric.padding(toLength: 24, withPad: " ", startingAt: 0)) \(rounded(row.median))  (min \(rounded(row.min)), max \(rounded(row.max)))  \(extra)")
            }
        }
    }

    private func rounded(_ value: Double) -> String {
        String(format: "%.2f", value)
    }
}

/// ns per encode+decode of a small argument struct, with our coder and with Foundation's JSON.
enum CoderBenchmark {
    static func run(reps: Int, iterations: Int = 200_000) throws -> (binary: [Double], json: [Double]) {
        let ping = Ping(sequence: 42, text: "hello, cluster", flag: true)
        var binary: [Double] = []
        var json: [Double] = []
        let encoder = BinaryEncoder()
        let decoder = BinaryDecoder()
        let jsonEncoder = JSONEncoder()
        let jsonDecoder = JSONDecoder()
        for _ in 0..<reps {
            var start = ContinuousClock.now
            for _ in 0..<iterations {
                let bytes = try encoder.encode(ping)
                _ = try decoder.decode(Ping.self, from: bytes)
            }
            binary.append((ContinuousClock.now - start).microseconds * 1000 / Double(iterations))
            start = ContinuousClock.now
            for _ in 0..<iterations / 10 {
                let data = try jsonEncoder.encode(ping)
                _ = try jsonDecoder.decode(Ping.self, from: data)
            }
            json.append((ContinuousClock.now - start).microseconds * 1000 / Double(iterations / 10))
        }
        return (binary, json)
    }
}
