import CFuse3
import CLinuxShims
import Foundation
import Glibc
import Vault

/// One mount of a vault: creates the libfuse session, mounts, serves requests on libfuse's
/// multithreaded loop until the filesystem is unmounted, and tears the session down.
///
/// Shutdown goes through the kernel: SIGTERM/SIGINT/SIGHUP (or `shardvault unmount`) unmount
/// the mount point while the worker threads still run, so the kernel can write back its
/// cached pages first; the loop then ends on its own and the caller closes the vault.
public final class FuseMount: Sendable {
    public let mountpoint: String
    let filesystem: FuseFilesystem
    /// Invalidates the kernel's caches for changes made around the mount (the S3 door of the
    /// same daemon); live from when the mount is until the session ends.
    public var notifier: KernelCacheNotifier { filesystem.notifier }

    /// `hiddenRootNames`: entries of the vault's root the mount does not show (the S3 door's
    /// work area).
    public init(vault: Vault, mountpoint: String, options: MountOptions, fastPaths: FastPaths = .all,
                hiddenRootNames: [String] = []) {
        self.mountpoint = mountpoint
        self.filesystem = FuseFilesystem(vault: vault, options: options, fastPaths: fastPaths, hiddenRootNames: hiddenRootNames)
    }

    /// Signals that end a mount.
    static let terminationSignals = [SIGINT, SIGTERM, SIGHUP]

    /// Blocks the termination signals in the calling thread and every thread started after
    /// it, so they queue for the watcher in `serve` instead of killing the process halfway.
    /// Call first thing in the mount command, before the vault starts its threads.
    public static func blockTerminationSignals() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in terminationSignals { sigaddset(&set, signal) }
        return set
    }

    /// Mounts and serves until unmounted. `ready` runs once the mount is live.
    public func serve(ready: () -> Void = {}) throws(FuseMountError) {
        var ops = OperationTable.make()
        var arguments = fuse_args(argc: 0, argv: nil, allocated: 0)
        defer { fuse_opt_free_args(&arguments) }
        for argument in ["shardvault", "-o", filesystem.options.kernelOptions] {
            guard fuse_opt_add_arg(&arguments, argument) == 0 else { throw FuseMountError("out of memory building fuse arguments") }
        }
        // The session holds this retain as its userdata for as long as it exists.
        let userdata = Unmanaged.passRetained(filesystem)
        defer { userdata.release() }
        guard let session = fuse_session_new(&arguments, &ops, MemoryLayout<fuse_lowlevel_ops>.size, userdata.toOpaque()) else {
            throw FuseMountError("libfuse refused the session options (\(filesystem.options.kernelOptions))")
        }
        defer { fuse_session_destroy(session) }
        if let rings = filesystem.rings {
            if let reason = RingQueues.enableInKernel(), filesystem.options.reportsNegotiation {
                FileHandle.standardError.write(Data("shardvault: io_uring: \(reason); requests go through /dev/fuse\n".utf8))
            }
            rings.attach(session)
        }
        guard fuse_session_mount(session, mountpoint) == 0 else {
            throw FuseMountError("cannot mount on \(mountpoint): is it an existing empty directory, not already mounted "
                + "(a stale mount needs `shardvault unmount \(mountpoint)`), and is /dev/fuse usable?")
        }
        do {
            try DeviceIO.install(on: session)
        } catch {
            fuse_session_unmount(session)
            throw error
        }
        let watcher = startSignalWatcher()
        notifier.attach(session)
        ready()

        let config = fuse_loop_cfg_create()
        defer { fuse_loop_cfg_destroy(config) }
        // Each worker reads from its own clone of /dev/fuse, so requests are not all funnelled
        // through one file's wait queue (libfuse's passthrough_hp does the same).
        fuse_loop_cfg_set_clone_fd(config, 1)
        fuse_loop_cfg_set_max_threads(config, UInt32(filesystem.options.maximumThreads))
        filesystem.releases?.start()
        let status = fuse_session_loop_mt(session, config)
        filesystem.rings?.waitForWorkers()
        filesystem.releases?.stop()
        // Done with the session before it is unmounted (which closes its descriptor) and destroyed.
        notifier.detach()
        // Already unmounted in the normal case; this covers a loop that ended on an error.
        fuse_session_unmount(session)
        watcher.stop()
        if let census = filesystem.census { FileHandle.standardError.write(Data("shardvault: \(census.report)\n".utf8)) }
        if status < 0 { throw FuseMountError("the FUSE session ended with an error: \(String(cString: strerror(-status)))") }
    }

    /// A thread that waits for a termination signal and answers it with an unmount. If the
    /// mount is busy (a process has its cwd inside), it detaches lazily: the daemon then
    /// serves the remaining users and exits when the last one leaves. The wait has a short
    /// timeout so the thread also ends when the loop ends for another reason (an external
    /// unmount), without a signal of its own that could hit some other thread.
    private func startSignalWatcher() -> SignalWatcher {
        let watcher = SignalWatcher()
        let mountpoint = mountpoint
        let thread = Thread {
            _ = shardvault_name_this_thread("sv-signals")
            var set = Self.signalSet()
            pthread_sigmask(SIG_BLOCK, &set, nil)
            var pollInterval = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            while !watcher.isStopping {
                let received = sigtimedwait(&set, nil, &pollInterval)
                guard received > 0, Self.terminationSignals.contains(received) else { continue }
                if !Unmounter.unmount(mountpoint, lazy: false) {
                    _ = Unmounter.unmount(mountpoint, lazy: true)
                }
            }
        }
        thread.start()
        return watcher
    }
}

/// Lets the signal watcher thread end once the loop is over.
final class SignalWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false

    var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
    }
}

public struct FuseMountError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
