import Dispatch

/// The FUSE door's fast paths (the seeds' three, and the kernel's set-ID handling left to the
/// filesystem), each of which can be switched off at mount so a benchmark can show what it
/// buys (docs/BENCHMARKS.md, "FUSE fast paths"):
///
///     SHARDVAULT_FUSE_DISABLE=inline,arena,pools shardvault mount ...
///
/// Off is never faster; the switches exist only for measurement.
public struct FastPaths: Sendable, Equatable, CustomStringConvertible {
    /// Every operation runs to completion on the libfuse worker thread that received it.
    /// Off: the worker hands the operation to a Swift `Task` and blocks until it is done — the
    /// async bridge a filesystem built on Swift concurrency would have.
    public var inlineOperations = true
    /// Names and directory replies are assembled in the worker thread's bump arena, reset
    /// after each reply. Off: names become heap `String`s and reply buffers are malloc'ed.
    public var operationArena = true
    /// Read replies use size-class pool buffers and chunk encryption uses the thread-local
    /// chunk pool. Off: both are fresh allocations per request.
    public var bufferPools = true
    /// The driver clears set-ID bits itself (FUSE_HANDLE_KILLPRIV_V2, see DeviceIO), so the
    /// kernel stops asking for `security.capability` before every write(2) and for the
    /// attributes before every chown. Off: the kernel does both.
    public var clearsSetIDBits = true
    /// close(2) costs no round trip: the first FLUSH is answered ENOSYS and the kernel sends
    /// no more (it still writes the file's cached pages first and reports their failure). A
    /// background seal's failure is then reported by fsync, syncfs or the next fsync after a
    /// reopen, as local filesystems report theirs. Off: every close waits for a FLUSH, which
    /// reports that failure too.
    public var skipsFlush = true
    /// RELEASE of a file of up to 1 MiB is answered and the vault's release runs afterwards on
    /// a thread of its own (`DeferredReleases`), not on the ring worker beside the closing
    /// process. Off: the release runs before the reply, on the worker that took the request.
    public var defersReleases = true
    /// The ring workers and the release thread run SCHED_BATCH, so a request the caller does
    /// not wait for (RELEASE above all, one per file) is taken when the caller next blocks
    /// instead of preempting it: on `tar`'s CPU that was one pair of context switches per
    /// file. A request the caller waits for is served as before, since the caller's CPU is
    /// free; the threads keep their fair share under load. Off: SCHED_OTHER.
    public var batchScheduling = true

    public static let all = FastPaths()
    public static let environmentVariable = "SHARDVAULT_FUSE_DISABLE"

    public init() {}

    /// Reads `SHARDVAULT_FUSE_DISABLE` (comma-separated: inline, arena, pools, killpriv, flush, release, batch,
    /// all).
    public init(environment: [String: String]) throws(MountOptionError) {
        guard let list = environment[Self.environmentVariable] else { return }
        for item in list.split(separator: ",", omittingEmptySubsequences: true) {
            switch item {
            case "inline": inlineOperations = false
            case "arena": operationArena = false
            case "pools": bufferPools = false
            case "killpriv": clearsSetIDBits = false
            case "flush": skipsFlush = false
            case "release": defersReleases = false
            case "batch": batchScheduling = false
            case "all":
                self = FastPaths(inlineOperations: false, operationArena: false, bufferPools: false, clearsSetIDBits: false,
                                 skipsFlush: false, defersReleases: false, batchScheduling: false)
            default:
                throw MountOptionError(
                    "\(Self.environmentVariable): unknown fast path \(item) (inline, arena, pools, killpriv, flush, release, batch, all)")
            }
        }
    }

    init(inlineOperations: Bool, operationArena: Bool, bufferPools: Bool, clearsSetIDBits: Bool, skipsFlush: Bool,
         defersReleases: Bool, batchScheduling: Bool) {
        self.inlineOperations = inlineOperations
        self.operationArena = operationArena
        self.bufferPools = bufferPools
        self.clearsSetIDBits = clearsSetIDBits
        self.skipsFlush = skipsFlush
        self.defersReleases = defersReleases
        self.batchScheduling = batchScheduling
    }

    public var description: String {
        let disabled = [(inlineOperations, "inline"), (operationArena, "arena"), (bufferPools, "pools"), (clearsSetIDBits, "killpriv"),
                        (skipsFlush, "flush"), (defersReleases, "release"), (batchScheduling, "batch")]
            .filter { !$0.0 }.map(\.1)
        return disabled.isEmpty ? "all fast paths on" : "disabled: " + disabled.joined(separator: ",")
    }
}

/// The switched-off form of `inlineOperations`: run `operation` on the Swift concurrency pool
/// and block the worker until it returns.
enum TaskBridge {
    static func run(_ operation: () -> Void) {
        let finished = DispatchSemaphore(value: 0)
        withoutActuallyEscaping(operation) { escapable in
            withUnsafePointer(to: escapable) { pointer in
                // Only the address crosses into the task; the closure itself stays here and
                // outlives the task because this thread waits for it.
                let address = UnsafeSendableAddress(pointer: pointer)
                Task {
                    address.pointer.pointee()
                    finished.signal()
                }
                finished.wait()
            }
        }
    }
}

private struct UnsafeSendableAddress: @unchecked Sendable {
    let pointer: UnsafePointer<() -> Void>
}
