import ClusterNode
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One measurement of a node's load: the Swift counterparts of the BEAM metrics ProcessHub's
/// ``CentralizedLoadBalancer`` samples (SPEC §4.1.3).
public struct LoadSample: Sendable, Hashable, Codable {
    /// Share of CPU time spent working since the previous sample, from 0 to 1 (the schedulers'
    /// utilisation on the BEAM).
    public var cpuUtilisation: Double
    /// Work ready to run: runnable tasks plus pending hub work (the BEAM's run-queue length).
    public var runQueue: Double
    /// Children running on the node (the BEAM's process count).
    public var childCount: Int
    /// Resident memory of the process, in bytes.
    public var memoryBytes: UInt64

    /// Creates a sample.
    public init(cpuUtilisation: Double = 0, runQueue: Double = 0, childCount: Int = 0, memoryBytes: UInt64 = 0) {
        self.cpuUtilisation = cpuUtilisation
        self.runQueue = runQueue
        self.childCount = childCount
        self.memoryBytes = memoryBytes
    }

    /// The sample's load score, from 0 (idle) to 1 (saturated), with ProcessHub's weights:
    /// `0.4·cpu + 0.3·runQueue/100 + 0.2·childCount/10 000 + 0.1·memory/1 GiB`, each term capped at 1.
    public var score: Double {
        func capped(_ value: Double) -> Double { min(max(value, 0), 1) }
        return 0.4 * capped(cpuUtilisation)
            + 0.3 * capped(runQueue / 100)
            + 0.2 * capped(Double(childCount) / 10_000)
            + 0.1 * capped(Double(memoryBytes) / 1_073_741_824)
    }
}

/// What the hub tells a sampler about the node it samples.
public struct LoadSamplingContext: Sendable, Hashable {
    /// The node being sampled.
    public var node: NodeID
    /// Children running on it.
    public var childCount: Int
    /// Hub work waiting on it.
    public var pendingWork: Int

    /// Creates a context.
    public init(node: NodeID, childCount: Int, pendingWork: Int) {
        self.node = node
        self.childCount = childCount
        self.pendingWork = pendingWork
    }
}

/// Measures a node's load for the ``CentralizedLoadBalancer``.
///
/// ``SystemLoadSampler`` is the default; supply your own to weigh other signals (or, in a test,
/// to report a chosen load).
public protocol LoadSampler: Sendable {
    /// Measures the node's load now.
    func sample(_ context: LoadSamplingContext) async -> LoadSample
}

/// Samples the operating system (Linux `/proc`; elsewhere only the hub's own numbers): CPU
/// utilisation between two samples from `/proc/stat`, runnable tasks from `/proc/loadavg` plus
/// the hub's pending work, resident memory from `/proc/self/statm`, and the hub's child count.
public final class SystemLoadSampler: LoadSampler {
    /// Busy and total CPU time (in clock ticks) at the previous sample.
    private let previous = Mutex<(busy: UInt64, total: UInt64)?>(nil)

    /// Creates a sampler.
    public init() {}

    /// Measures the node's load now; the first CPU reading counts since boot.
    public func sample(_ context: LoadSamplingContext) async -> LoadSample {
        LoadSample(
            cpuUtilisation: cpuUtilisation(),
            runQueue: Double(Self.runnableTasks() + context.pendingWork),
            childCount: context.childCount,
            memoryBytes: Self.residentBytes())
    }

    private func cpuUtilisation() -> Double {
        guard let now = Self.cpuTimes() else { return 0 }
        let last = previous.withLock { state -> (busy: UInt64, total: UInt64)? in
            defer { state = now }
            return state
        }
        let before = last ?? (busy: 0, total: 0)
        guard now.total > before.total, now.busy >= before.busy else { return 0 }
        return Double(now.busy - before.busy) / Double(now.total - before.total)
    }

    /// The aggregate `cpu` line of `/proc/stat`: busy = total − idle − iowait.
    static func cpuTimes() -> (busy: UInt64, total: UInt64)? {
        guard let line = readProcFile("/proc/stat")?.split(separator: "\n").first, line.hasPrefix("cpu ") else {
            return nil
        }
        let ticks = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard ticks.count >= 4 else { return nil }
        let total = ticks.reduce(0, +)
        let idle = ticks[3] + (ticks.count > 4 ? ticks[4] : 0)
        return (total - idle, total)
    }

    /// Runnable tasks from `/proc/loadavg` (`… running/total …`), this reader excluded.
    static func runnableTasks() -> Int {
        guard let fields = readProcFile("/proc/loadavg")?.split(separator: " "), fields.count >= 4,
            let running = fields[3].split(separator: "/").first.flatMap({ Int($0) })
        else { return 0 }
        return max(running - 1, 0)
    }

    /// Resident pages from `/proc/self/statm` times the page size.
    static func residentBytes() -> UInt64 {
        guard let fields = readProcFile("/proc/self/statm")?.split(separator: " "), fields.count >= 2,
            let pages = UInt64(fields[1])
        else { return 0 }
        return pages * UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 0))
    }

    /// The first 4 KiB of a small `/proc` file, or `nil` when it cannot be read.
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
