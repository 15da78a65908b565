import CFuse3
import CFuseRing
import CLinuxShims
import Foundation
import Glibc
import Synchronization

/// FUSE over io_uring (mount option `io_uring`, kernel 6.14+): the kernel keeps one request
/// queue per CPU and hands a request to a ring entry of the queue of the CPU the caller runs
/// on, so the worker that answers it runs there too (docs/FUSE.md, "Requests over io_uring").
///
/// Why: on this 2-core VM a round trip through /dev/fuse costs 36 µs on average — 17 µs when
/// the worker happens to run on the caller's CPU, 76 µs when it has to be woken on the other
/// one — and a file written by `tar -x` costs five of them.
///
/// libfuse 3.14 does not speak the protocol, so each queue has one thread (`RingWorker`),
/// pinned to its CPU, that owns a ring (`CFuseRing`) with several entries; it hands each
/// request to `fuse_session_process_buf`, and libfuse's reply, which arrives at `DeviceIO`'s
/// writev, is stored in the request's entry (`capture`) and committed with the next fetch.
/// FORGET, INTERRUPT and notifications still go through /dev/fuse and libfuse's own loop.
/// The kernel switches to the rings only once every queue has an entry.
///
/// One thread per queue rather than one per entry: the requests a process sends back to back
/// — the RELEASE of one file and the LOOKUP of the next, say — are then taken in one wake-up
/// (untar 3–8 % faster, docs/BENCHMARKS.md). Requests that may wait go to `RingHelpers`.
final class RingQueues: @unchecked Sendable {
    /// Entries per CPU queue, so that this many requests of one CPU can be in flight (those
    /// handed to helpers, and the one the owner is on). Four on small machines, two from
    /// eight CPUs on (each entry holds a payload buffer of max_write).
    static func entriesPerQueue(queues: Int) -> Int {
        max(2, min(4, 16 / max(1, queues)))
    }

    private let payloadSize: Int
    /// `FastPaths.batchScheduling`: the workers run SCHED_BATCH.
    private let batchScheduling: Bool
    /// Requests taken from a ring whose reply libfuse has not sent yet, by unique id: the
    /// worker and the entry (slot) that holds them.
    private let awaiting = Mutex<[UInt64: (worker: RingWorker, slot: UInt32)]>([:])
    private let lock = NSLock()
    // Guarded by `lock`: the `struct fuse_session *` from `attach` on, and whether the
    // workers were started.
    private var session: OpaquePointer?
    private var started = false
    /// Entered before each worker thread starts, left when it ends.
    private let workers = DispatchGroup()

    init(payloadSize: Int, batchScheduling: Bool) {
        self.payloadSize = payloadSize
        self.batchScheduling = batchScheduling
    }

    func attach(_ session: OpaquePointer) {
        lock.lock()
        self.session = session
        lock.unlock()
    }

    /// Starts the workers once the kernel agreed to io_uring (after the INIT reply is sent).
    func start(device: Int32, inspect: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard !started, let session else { return }
        started = true
        // The session is libfuse's; it outlives the workers (`waitForWorkers`).
        let sessionAddress = UInt(bitPattern: session)
        let queues = Self.possibleCPUs()
        for queue in 0 ..< queues {
            let worker = RingWorker(queue: UInt16(queue), device: device, payloadSize: payloadSize,
                                    entries: Self.entriesPerQueue(queues: queues), batchScheduling: batchScheduling)
            workers.enter()
            let thread = Thread { [self] in
                _ = shardvault_name_this_thread("sv-ring-\(queue)")
                defer { workers.leave() }
                worker.run(session: OpaquePointer(bitPattern: sessionAddress)!, queues: self, inspect: inspect)
            }
            thread.start()
        }
    }

    /// Waits (at most `timeout` seconds) for the workers, which end when the kernel tears
    /// the queues down at unmount; the session must outlive them.
    func waitForWorkers(timeout: Double = 5) {
        _ = workers.wait(timeout: .now() + timeout)
    }

    func expectReply(_ unique: UInt64, from worker: RingWorker, slot: UInt32) {
        awaiting.withLock { $0[unique] = (worker, slot) }
    }

    /// Takes libfuse's reply to a request that came from a ring; nil for any other write to
    /// /dev/fuse (requests read from it, notifications).
    func capture(_ vectors: UnsafeMutablePointer<iovec>, _ count: Int32) -> Int? {
        guard count >= 1, vectors[0].iov_len >= 16, let header = vectors[0].iov_base else { return nil }
        let unique = header.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        guard unique != 0, let taken = awaiting.withLock({ $0.removeValue(forKey: unique) }) else { return nil }
        return taken.worker.store(vectors, count, in: taken.slot)
    }

    /// Turns the fuse module's `enable_uring` parameter on (root only), without which the
    /// kernel does not offer io_uring at INIT. It only lets FUSE servers that ask for io_uring
    /// use it (libfuse 3.14 never asks). Returns why not, if it cannot.
    static func enableInKernel() -> String? {
        let parameter = "/sys/module/fuse/parameters/enable_uring"
        guard let current = try? String(contentsOfFile: parameter, encoding: .utf8) else {
            return "this kernel has no FUSE over io_uring (\(parameter) is missing)"
        }
        if current.hasPrefix("Y") { return nil }
        let descriptor = open(parameter, O_WRONLY)
        defer { if descriptor >= 0 { close(descriptor) } }
        guard descriptor >= 0, write(descriptor, "Y", 1) == 1 else {
            return "cannot switch it on in \(parameter): \(String(cString: strerror(errno)))"
        }
        return nil
    }

    /// The kernel makes one queue per possible CPU (`num_possible_cpus`), and uses the rings
    /// only when every one has an entry.
    static func possibleCPUs() -> Int {
        guard let text = try? String(contentsOfFile: "/sys/devices/system/cpu/possible", encoding: .utf8) else {
            return ProcessInfo.processInfo.processorCount
        }
        // "0-1" or "0,2-3": the highest CPU number plus one.
        let numbers = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return (numbers.max() ?? 0) + 1
    }
}

/// The thread that owns one CPU queue's ring: it takes every request of that CPU, answers
/// those that cannot wait for long itself and hands the others to its helpers.
final class RingWorker: @unchecked Sendable {
    let queue: UInt16
    private let device: Int32
    private let payloadSize: Int
    private let entries: Int
    private let batchScheduling: Bool
    private let ringLock = NSLock()
    // Guarded by `ringLock`: the ring, from `run` until it is closed; replies stored after
    // that are dropped.
    private var openRing: OpaquePointer?
    private var owner = pthread_t()
    private let helpers: RingHelpers

    init(queue: UInt16, device: Int32, payloadSize: Int, entries: Int, batchScheduling: Bool) {
        self.queue = queue
        self.device = device
        self.payloadSize = payloadSize
        self.entries = entries
        self.batchScheduling = batchScheduling
        helpers = RingHelpers(count: entries, cpu: Int(queue), batchScheduling: batchScheduling,
                              name: "sv-ring-\(queue)-help")
    }

    func run(session: OpaquePointer, queues: RingQueues, inspect: @Sendable (UnsafeRawBufferPointer) -> Void) {
        owner = pthread_self()
        _ = shardvault_pin_thread_to_cpu(Int32(queue))
        if batchScheduling { _ = shardvault_use_batch_scheduling() }
        guard let opened = shardvault_fuse_ring_open(device, queue, payloadSize, UInt32(entries)) else {
            Self.report("cannot set up an io_uring for queue \(queue): \(String(cString: strerror(errno)))")
            _ = helpers.stop(timeout: 0)
            return
        }
        ringLock.withLock { openRing = opened }
        defer { close(opened) }
        let sessionAddress = UInt(bitPattern: session)
        var failures = 0
        while true {
            var slot: UInt32 = 0
            var request: UnsafeMutableRawPointer?
            let length = shardvault_fuse_ring_next(opened, &slot, &request)
            if length == -Int(EAGAIN) {
                usleep(1000)   // the kernel has not finished INIT yet
                continue
            }
            if length == -Int(ENOTCONN) || length == -Int(ECONNABORTED) || length == -Int(ENODEV) { return }
            guard length > 0, let request else {
                failures += 1
                if failures > 100 {
                    Self.report("queue \(queue): the kernel keeps refusing the ring (\(String(cString: strerror(Int32(-length)))))")
                    return
                }
                continue
            }
            failures = 0
            let bytes = UnsafeRawBufferPointer(start: request, count: length)
            inspect(bytes)
            let kernelRequest = KernelRequest(bytes)
            queues.expectReply(kernelRequest.unique, from: self, slot: slot)
            if helpers.takes(kernelRequest) {
                // The entry, and so `request`, stays ours until its reply is committed.
                let address = UInt(bitPattern: request)
                helpers.run(inode: kernelRequest.nodeID) {
                    Self.process(UnsafeMutableRawPointer(bitPattern: address)!, length, in: OpaquePointer(bitPattern: sessionAddress)!)
                }
            } else {
                Self.process(request, length, in: session)
            }
        }
    }

    private static func process(_ request: UnsafeMutableRawPointer, _ length: Int, in session: OpaquePointer) {
        var buffer = fuse_buf()
        buffer.mem = request
        buffer.size = length
        fuse_session_process_buf(session, &buffer)
    }

    /// Stores libfuse's reply in `slot`; on the owner thread it is committed by the next
    /// fetch, from elsewhere the owner is woken to commit it.
    func store(_ vectors: UnsafeMutablePointer<iovec>, _ count: Int32, in slot: UInt32) -> Int {
        ringLock.withLock { () -> Int in
            guard let ring = openRing else {
                errno = ENOTCONN
                return -1
            }
            let stored = shardvault_fuse_ring_store_reply(ring, slot, vectors, count)
            if pthread_equal(pthread_self(), owner) != 0 {
                shardvault_fuse_ring_commit(ring, slot)
            } else {
                let failed = shardvault_fuse_ring_commit_from_elsewhere(ring, slot)
                // The request then stays unanswered: its caller waits until the mount goes.
                if failed < 0 { Self.report("queue \(queue): cannot wake the ring's owner (\(String(cString: strerror(-failed))))") }
            }
            if stored < 0 {
                errno = Int32(-stored)
                return -1
            }
            return stored
        }
    }

    /// Closes the ring once the helpers are done with its entries; if one is stuck, the ring
    /// is left open (a stored reply must not land in freed memory).
    private func close(_ opened: OpaquePointer) {
        guard helpers.stop(timeout: 5) else {
            Self.report("queue \(queue): a request was still running at unmount; its ring is left open")
            return
        }
        ringLock.withLock { openRing = nil }
        shardvault_fuse_ring_close(opened)
    }

    private static func report(_ message: String) {
        FileHandle.standardError.write(Data("shardvault: FUSE over io_uring: \(message)\n".utf8))
    }
}
