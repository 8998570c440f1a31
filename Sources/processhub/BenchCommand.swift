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
            Workloads (DESIGN §7), each on real node processes: \
            w1 (3 nodes start 10 000 children from node 1: awaited result, full registries), \
            w2 (registry lookups on node 1), \
            w3 (a 4th node joins 10 000 children: convergence), \
            w4 (a node process of 4 is killed with SIGKILL or stopped with SIGSTOP: detection, recovery), \
            w5 (remote calls between two node processes, bare TCP floor, coder cost), \
            w6 (resident memory per child, 10 000 and 100 000 children), \
            w7 (w1 with 100 000 and 1 000 000 children), \
            w8 (3 nodes, 20 awaited batches of 50 000 children one after another: time per batch \
            and growth = last ÷ first; --batches and --batch-size run it smaller), \
            all (every workload in this order). \
            Hub workloads run on a fresh cluster per rep: this process is node 1, the others are \
            `processhub node --hub bench` processes. A run that fails or times out prints an \
            "error" line instead of figures.
            """
    )

    @Argument(help: "The workload: w1, w2, w3, w4, w5, w6, w7, w8 or all.")
    var workload: String

    @Option(help: "Runs per metric; the median is reported.")
    var reps: Int = 3

    @Option(help: "W8: how many batches are started one after another.")
    var batches: Int = 20

    @Option(help: "W8: children per batch.")
    var batchSize: Int = 50_000

    @Flag(help: "Print only JSON lines.")
    var json = false

    func validate() throws {
        guard batches >= 1, batchSize >= 1 else { throw ValidationError("--batches and --batch-size must be at least 1") }
    }

    func run() async throws {
        defer { NodeProcess.endAll() }
        let name = workload.lowercased()
        guard name == "all" || Self.workloads.contains(name) else {
            throw ValidationError("unknown workload \(workload); available: \(Self.workloads.joined(separator: ", ")), all")
        }
        for selected in name == "all" ? Self.workloads : [name] {
            try await runWorkload(selected)
        }
    }

    private static let workloads = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]

    private func runWorkload(_ workload: String) async throws {
        let cases: [HubBenchCase]
        switch workload {
        case "w1": cases = StartBench.w1
        case "w2": cases = LookupBench.cases
        case "w3": cases = JoinBench.cases
        case "w4": cases = FailoverBench.cases
        case "w6": cases = MemoryBench.cases
        case "w7": cases = StartBench.w7
        case "w8": return await GrowthBench(batches: batches, batchSize: batchSize).measure(reps: reps, json: json)
        default: return try await runW5()
        }
        for benchCase in cases {
            await benchCase.measure(workload: workload.uppercased(), reps: reps, json: json)
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
    private var errors: [(metric: String, message: String, extra: [String: String])] = []

    init(workload: String, json: Bool) {
        self.workload = workload
        self.json = json
    }

    mutating func add(_ metric: String, _ values: [Double], extra: [String: String] = [:]) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return }
        rows.append((metric, sorted[sorted.count / 2], sorted.first!, sorted.last!, sorted.count, extra))
    }

    /// Records that `metric` could not be measured (printed after the figures).
    mutating func addError(_ metric: String, _ message: String, extra: [String: String] = [:]) {
        errors.append((metric, message, extra))
    }

    func print() {
        printRows()
        for error in errors {
            if json {
                emit(#"{"workload":"\#(workload)","metric":"\#(error.metric)","error":\#(Self.jsonString(error.message))\#(Self.jsonFields(error.extra))}"#)
            } else {
                emit("\(workload)  \(error.metric.padding(toLength: 24, withPad: " ", startingAt: 0)) error: \(error.message)")
            }
        }
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    /// Extra fields (raw JSON values) as `,"key":value…`, sorted by key.
    static func jsonFields(_ extra: [String: String]) -> String {
        extra.sorted { $0.key < $1.key }.map { ",\"\($0.key)\":\($0.value)" }.joined()
    }

    /// Extra fields as `key=value …`, sorted by key.
    static func textFields(_ extra: [String: String]) -> String {
        extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    private func printRows() {
        for row in rows {
            if json {
                let extra = Self.jsonFields(row.extra)
                emit(
                    #"{"workload":"\#(workload)","metric":"\#(row.metric)","value":\#(rounded(row.median)),"min":\#(rounded(row.min)),"max":\#(rounded(row.max)),"reps":\#(row.n)\#(extra)}"#
                )
            } else {
                let extra = Self.textFields(row.extra)
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
