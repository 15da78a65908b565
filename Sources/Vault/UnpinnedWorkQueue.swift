import CLinuxShims
import Dispatch

/// A concurrent dispatch queue whose work never runs pinned to one CPU.
///
/// Why: libdispatch starts a worker thread from whichever thread enqueues work while no
/// worker is idle, and a new thread inherits its creator's CPU affinity. The FUSE ring workers
/// are pinned to their queue's CPU (FuseDriver/RingQueues.swift), so a worker first started by
/// one of them stayed pinned to that CPU for good: a file released by `tar` on CPU 0 was then
/// sealed on CPU 0 too, next to `tar` and its ring worker, while CPU 1 could be idle. Each
/// worker thread takes back the process's affinity the first time it runs work from here.
struct UnpinnedWorkQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String, qos: DispatchQoS = .unspecified) {
        queue = DispatchQueue(label: label, qos: qos, attributes: .concurrent)
    }

    func async(_ work: @escaping @Sendable () -> Void) {
        queue.async {
            // A failure leaves the thread as it was: pinned work is slower, not wrong.
            _ = shardvault_unpin_thread_once()
            work()
        }
    }
}
