import CLinuxShims
import Foundation
import Synchronization

/// The threads a ring's owner hands the requests that may wait (for a disk, a flush, a seal
/// slot) to, so that one slow request does not hold up the rest of its CPU's queue. They run
/// on the ring's CPU, as its owner does, so handing over costs a switch on that CPU rather
/// than a wake-up across CPUs.
final class RingHelpers: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var work: [() -> Void] = []
    private var running = 0
    private var stopping = false
    /// `stop` waits for the work to finish.
    private var awaited = false
    /// The inodes of the requests handed over and not answered yet, with their count: a later
    /// request about one of them follows (it would likely wait for that file's lock).
    private let inodesHandedOver = Mutex<[UInt64: Int]>([:])
    /// How many requests are handed over, so the owner skips the table when none is.
    private let handedOver = Atomic<Int>(0)

    /// Starts `count` threads pinned to `cpu`, named `name`, SCHED_BATCH with `batchScheduling`
    /// (as their owner: handing a request over does not preempt it).
    init(count: Int, cpu: Int, batchScheduling: Bool, name: String) {
        for _ in 0 ..< count {
            let thread = Thread { [self] in
                _ = shardvault_name_this_thread(name)
                _ = shardvault_pin_thread_to_cpu(Int32(cpu))
                if batchScheduling { _ = shardvault_use_batch_scheduling() }
                serve()
            }
            thread.start()
        }
    }

    /// Whether `request` goes to a helper: reads (a cold one reads shards), fsync, large writes
    /// (they may wait for a seal slot), truncation (it may rewrite the last block), and
    /// anything about an inode a helper is busy with.
    func takes(_ request: KernelRequest) -> Bool {
        switch request.opcode {
        case Opcode.read, Opcode.fsync, Opcode.fsyncDirectory:
            return true
        case Opcode.write where request.writeSize >= Self.largeWrite:
            return true
        case Opcode.setAttributes where request.setsSize:
            return true
        default:
            guard handedOver.load(ordering: .acquiring) > 0 else { return false }
            return inodesHandedOver.withLock { $0[request.nodeID] != nil }
        }
    }

    static let largeWrite = 64 << 10

    /// Runs `item`, which answers a request about `inode`, on a helper.
    func run(inode: UInt64, _ item: @escaping () -> Void) {
        inodesHandedOver.withLock { $0[inode, default: 0] += 1 }
        handedOver.add(1, ordering: .releasing)
        condition.lock()
        work.append { [self] in
            item()
            handedOver.subtract(1, ordering: .releasing)
            inodesHandedOver.withLock { inodes in
                inodes[inode]! -= 1
                if inodes[inode] == 0 { inodes[inode] = nil }
            }
        }
        condition.signal()
        condition.unlock()
    }

    /// Waits (at most `timeout` seconds) until nothing is queued or running, then ends the
    /// threads. Returns whether everything finished: if not, work still running may touch
    /// what its items captured, which must then outlive it.
    func stop(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        awaited = true
        while (!work.isEmpty || running > 0) && Date() < deadline { _ = condition.wait(until: deadline) }
        let finished = work.isEmpty && running == 0
        stopping = true
        condition.broadcast()
        return finished
    }

    private func serve() {
        condition.lock()
        while true {
            if work.isEmpty {
                if stopping { break }
                condition.wait()
                continue
            }
            let item = work.removeFirst()
            running += 1
            condition.unlock()
            item()
            condition.lock()
            running -= 1
            if awaited { condition.broadcast() }
        }
        condition.unlock()
    }
}
