import Foundation

/// Samples a process's resident memory (VmRSS) every 20 ms on a thread of its own, from its
/// creation until `stop`, which returns how far above the level at creation it peaked. The
/// s3 mode reports this for ShardVault's large PUTs and GETs: issue 5 bounds the growth
/// (64 MiB for a 5 GiB body), and `make test` checks it only with a debug build.
final class ResidentMemoryWatch: @unchecked Sendable {
    private let pid: Int32
    private let baseline: Int
    private let lock = NSLock()
    private var running = true
    private var peak: Int
    private let finished = DispatchSemaphore(value: 0)

    init(pid: Int32) {
        self.pid = pid
        baseline = Self.residentBytes(of: pid) ?? 0
        peak = baseline
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                if let now = Self.residentBytes(of: pid) { lock.withLock { peak = max(peak, now) } }
                usleep(20_000)
            }
            finished.signal()
        }
    }

    /// Stops sampling; the peak growth in bytes (0 when the process could not be read).
    func stop() -> Int {
        lock.withLock { running = false }
        finished.wait()
        return lock.withLock { max(0, peak - baseline) }
    }

    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kibibytes = Int(fields[1]) { return kibibytes * 1024 }
        }
        return nil
    }
}
