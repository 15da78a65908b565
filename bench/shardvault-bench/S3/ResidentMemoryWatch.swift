import Foundation

/// How far a process's resident memory rose above its level at creation, until `stop`. The
/// s3 mode reports this for ShardVault's large PUTs and GETs: issue 5 bounds the growth
/// (64 MiB for a 5 GiB body), and `make test` checks it only with a debug build.
///
/// The kernel keeps the peak itself: creating the watch resets the process's high-water mark
/// (VmHWM) to its current resident size by writing 5 to /proc/PID/clear_refs, and `stop`
/// reads how far the mark rose — no sampling, so no peak falls between two samples.
struct ResidentMemoryWatch {
    let pid: Int32
    private let baseline: Int

    init(pid: Int32) {
        self.pid = pid
        let descriptor = open("/proc/\(pid)/clear_refs", O_WRONLY)
        if descriptor >= 0 {
            _ = write(descriptor, "5", 1)
            close(descriptor)
        }
        baseline = ProcessMemory.of(pid)?.residentBytes ?? 0
    }

    /// The peak growth in bytes (0 when the process could not be read).
    func stop() -> Int {
        guard let memory = ProcessMemory.of(pid) else { return 0 }
        return max(0, memory.peakResidentBytes - baseline)
    }
}
