import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Gives memory that the process freed back to the system after a burst of allocation.
///
/// glibc keeps freed heap memory resident (per thread arena, in the middle of its heaps) until
/// `malloc_trim` is called. A node that decodes and merges a batch of 100 000 children frees
/// tens of megabytes of transient buffers and keeps them: on the W6 benchmark that was a fifth
/// of the resident memory per child. The trimmer reads the resident size periodically and trims
/// once memory grew by more than `threshold` since the last trim and has stopped growing fast,
/// so a node at rest pays one `/proc` read per interval. It runs on its own
/// Dispatch queue: a trim locks the allocator's arenas for a few milliseconds and must never
/// run on an event loop.
final class MemoryTrimmer: Sendable {
    /// Dispatch sources are thread-safe; the protocol just predates `Sendable`.
    private nonisolated(unsafe) let timer: any DispatchSourceTimer
    /// The resident size right after the last trim, and at the last check.
    private let afterTrim = Atomic(0)
    private let lastSeen = Atomic(0)
    /// Whether memory grew by more than the threshold since the last trim.
    private let grown = Atomic(false)

    /// Starts trimming every `interval`; returns `nil` where there is no `malloc_trim` (not glibc).
    static func start(every interval: Duration, threshold: Int = 16 << 20) -> MemoryTrimmer? {
        guard let trim = mallocTrim else { return nil }
        return MemoryTrimmer(interval: interval, threshold: threshold, trim: trim)
    }

    private init(interval: Duration, threshold: Int, trim: @escaping MallocTrim) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "processhub.memory-trim"))
        let nanoseconds = Int(interval.components.seconds) * 1_000_000_000
            + Int(interval.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler { [weak self] in self?.check(threshold: threshold, trim: trim) }
        timer.resume()
    }

    /// Trims once a burst is over (memory grew by more than `threshold` since the last trim and
    /// no longer grows fast): trimming in the middle of a burst would only be undone by it.
    private func check(threshold: Int, trim: MallocTrim) {
        guard let resident = Self.residentBytes() else { return }
        let previous = lastSeen.exchange(resident, ordering: .relaxed)
        if resident > afterTrim.load(ordering: .relaxed) + threshold { grown.store(true, ordering: .relaxed) }
        guard grown.load(ordering: .relaxed), resident <= previous + threshold / 4 else { return }
        _ = trim(0)
        let trimmed = Self.residentBytes() ?? resident
        afterTrim.store(trimmed, ordering: .relaxed)
        lastSeen.store(trimmed, ordering: .relaxed)
        grown.store(false, ordering: .relaxed)
    }

    /// Stops the periodic checks.
    func stop() {
        timer.cancel()
    }

    private typealias MallocTrim = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module does not export it.
    private static let mallocTrim: MallocTrim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: MallocTrim.self)
        #else
        return nil
        #endif
    }()

    /// The resident size from `/proc/self/statm` (second field, in pages).
    private static func residentBytes() -> Int? {
        #if canImport(Glibc)
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = read(descriptor, &buffer, buffer.count)
        guard count > 0 else { return nil }
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
        return nil
        #endif
    }
}
