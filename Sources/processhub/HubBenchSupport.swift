import DemoActors
import Foundation
import ProcessHub
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A benchmark step that could not complete (a timeout, a failed start, a dead node process).
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One configuration of a hub workload (for example W7 with n = 100 000): the metrics one run
/// measures, the fixed fields printed with them, and the run itself, on a fresh cluster each time.
struct HubBenchCase: Sendable {
    var metrics: [String]
    var extra: [String: String]
    var run: @Sendable () async throws -> [String: Double]

    /// Runs the case `reps` times and prints its lines. A failed run ends the case: the runs done
    /// before it are reported, then one `"error"` line per metric.
    func measure(workload: String, reps requested: Int, json: Bool) async {
        let reps = max(requested, 1)
        var samples: [String: [Double]] = [:]
        var failure: String?
        for rep in 1...reps {
            progress("\(workload) \(BenchReport.textFields(extra)) rep \(rep)/\(reps)")
            do {
                let values = try await run()
                for (metric, value) in values { samples[metric, default: []].append(value) }
            } catch {
                failure = "\(error)"
                progress("\(workload) \(BenchReport.textFields(extra)) rep \(rep) failed: \(error)")
                break
            }
        }
        var report = BenchReport(workload: workload, json: json)
        for metric in metrics {
            report.add(metric, samples[metric] ?? [], extra: extra)
            if let failure { report.addError(metric, failure, extra: extra) }
        }
        report.print()
    }
}

/// Progress for whoever watches a long run; standard error, so `--json` output stays clean.
func progress(_ line: String) {
    FileHandle.standardError.write(Data("[bench] \(line)\n".utf8))
}

/// Polling for a condition that another node (or this one) reaches on its own.
enum Poll {
    /// The pause between two checks.
    static let interval: Duration = .milliseconds(2)

    /// Checks every ~2 ms until `check` holds; returns the time from `start` to the beginning of
    /// the first check that held. Throws once `timeout` (from `start`) has passed.
    static func until(
        since start: ContinuousClock.Instant = .now, timeout: Duration, _ what: @autoclosure () -> String,
        _ check: () async throws -> Bool
    ) async throws -> Duration {
        let deadline = start + timeout
        while true {
            let checked = ContinuousClock.now
            if try await check() { return checked - start }
            guard ContinuousClock.now < deadline else { throw BenchFailure("timed out after \(timeout) waiting for \(what())") }
            try await Task.sleep(for: interval)
        }
    }
}

/// The benchmark children: `Counter`s `c0`, `c1`, …
enum BenchChildren {
    static func id(_ index: Int) -> ChildID { "c\(index)" }

    static func specs(_ count: Int) throws -> [ChildSpec] {
        try (0..<count).map { try ChildSpec(id: id($0), Counter.self, .init(start: $0)) }
    }

    static func ids(_ count: Int) -> [ChildID] { (0..<count).map(id) }
}

/// Resident memory of a process (VmRSS in /proc/<pid>/status), in bytes.
func residentBytes(of pid: Int32) throws -> Int {
    let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else {
        throw BenchFailure("no VmRSS in /proc/\(pid)/status")
    }
    let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    guard fields.count >= 2, let kilobytes = Int(fields[1]) else { throw BenchFailure("unreadable line \(line)") }
    return kilobytes * 1024
}

/// Gives memory freed by earlier runs in this process back to the system (glibc's
/// `malloc_trim`, which Swift's Glibc module does not export), so that a resident memory
/// difference measured next is not hidden by reuse of freed pages.
func releaseFreedMemory() {
    #if canImport(Glibc)
    typealias MallocTrim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(nil, "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    #endif
}

extension Duration {
    var milliseconds: Double { microseconds / 1000 }
    var nanoseconds: Double { microseconds * 1000 }
}
