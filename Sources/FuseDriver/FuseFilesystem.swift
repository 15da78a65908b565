import CFuse3
import Foundation
import Synchronization
import Vault

/// The vault as the kernel sees it through /dev/fuse: every low-level operation, by inode,
/// answered synchronously on the libfuse worker thread that received it (DESIGN.md, FUSE door).
///
/// libfuse calls plain C function pointers, which cannot capture anything; this object
/// reaches them as the session's userdata (`fuse_req_userdata`), see `OperationTable`.
public final class FuseFilesystem: Sendable {
    let vault: Vault
    let options: MountOptions
    let fastPaths: FastPaths
    /// Set once by `init` (before any other request is dispatched): whether the kernel agreed
    /// to cache writes. With it, the kernel resolves O_APPEND offsets itself.
    let writebackCacheEnabled = Atomic<Bool>(false)
    /// Root entries the mount does not show (the S3 door's work area), see HiddenRootNames.
    let hiddenRootNames: HiddenRootNames
    /// Tells the kernel what changed behind its back (see FuseMount.notifier).
    let notifier = KernelCacheNotifier()
    /// Asks the kernel for FUSE_HANDLE_KILLPRIV_V2 (see DeviceIO).
    let initReply: InitReplyAmendment
    /// Counts the kernel's requests by kind, with mount option report_requests.
    let census: RequestCensus?
    /// The io_uring request queues, with mount option io_uring.
    let rings: RingQueues?
    /// Where small files' releases run after their reply, with `FastPaths.defersReleases`.
    let releases: DeferredReleases?

    public init(vault: Vault, options: MountOptions, fastPaths: FastPaths = .all, hiddenRootNames: [String] = []) {
        self.vault = vault
        self.options = options
        self.fastPaths = fastPaths
        self.hiddenRootNames = HiddenRootNames(hiddenRootNames)
        self.initReply = InitReplyAmendment(killsPrivileges: fastPaths.clearsSetIDBits, usesRings: options.usesIOUring,
                                            reports: options.reportsNegotiation)
        self.census = options.reportsRequests ? RequestCensus() : nil
        self.rings = options.usesIOUring
            ? RingQueues(payloadSize: max(options.maximumWrite, 1 << 20) + (64 << 10), batchScheduling: fastPaths.batchScheduling)
            : nil
        self.releases = fastPaths.defersReleases ? DeferredReleases(batchScheduling: fastPaths.batchScheduling) : nil
    }

    /// The filesystem a request belongs to.
    static func from(_ request: fuse_req_t) -> FuseFilesystem {
        Unmanaged<FuseFilesystem>.fromOpaque(fuse_req_userdata(request)!).takeUnretainedValue()
    }

    /// Runs `body` for `request`, turning a thrown VaultError into `fuse_reply_err`. `body`
    /// must send exactly one reply when it returns normally. (Untyped `throws` only so the
    /// closures of the operation table infer; the operations themselves throw VaultError.)
    static func serve(_ request: fuse_req_t, _ body: (FuseFilesystem) throws -> Void) {
        let filesystem = from(request)
        if filesystem.fastPaths.inlineOperations {
            filesystem.answer(request, body)
        } else {
            TaskBridge.run { filesystem.answer(request, body) }
        }
    }

    private func answer(_ request: fuse_req_t, _ body: (FuseFilesystem) throws -> Void) {
        do {
            try body(self)
        } catch let error as VaultError {
            fuse_reply_err(request, error.errno)
        } catch {
            fuse_reply_err(request, EIO)
        }
    }

    /// The caller's uid and gid (for ownership of new nodes).
    static func caller(_ request: fuse_req_t) -> (uid: UInt32, gid: UInt32) {
        guard let context = fuse_req_ctx(request) else { return (0, 0) }
        return (context.pointee.uid, context.pointee.gid)
    }

    /// Called from the `init` operation: asks for the kernel features the design relies on.
    func negotiate(_ connection: UnsafeMutablePointer<fuse_conn_info>) {
        let capable = connection.pointee.capable
        if capable & UInt32(FUSE_CAP_WRITEBACK_CACHE) != 0 && !options.readOnly {
            connection.pointee.want |= UInt32(FUSE_CAP_WRITEBACK_CACHE)
            writebackCacheEnabled.store(true, ordering: .releasing)
        }
        // Big writes: libfuse's buffer holds 256 pages plus the header, so 1 MiB fits, and the
        // kernel is told max_pages accordingly.
        connection.pointee.max_write = UInt32(options.maximumWrite)
        connection.pointee.max_readahead = min(connection.pointee.max_readahead, UInt32(options.maximumWrite))
        if capable & UInt32(FUSE_CAP_ASYNC_READ) != 0 { connection.pointee.want |= UInt32(FUSE_CAP_ASYNC_READ) }
        // readdirplus answers `ls -l` and `find` walks without a lookup per name; "auto" lets
        // the kernel fall back to plain readdir when the attributes would go unused.
        for capability in [FUSE_CAP_READDIRPLUS, FUSE_CAP_READDIRPLUS_AUTO] where capable & UInt32(capability) != 0 {
            connection.pointee.want |= UInt32(capability)
        }
        if options.reportsNegotiation {
            let writeback = connection.pointee.want & UInt32(FUSE_CAP_WRITEBACK_CACHE) != 0
            FileHandle.standardError.write(Data(("shardvault: FUSE protocol \(connection.pointee.proto_major).\(connection.pointee.proto_minor), "
                + "writeback cache \(writeback ? "on" : "off"), max_write \(connection.pointee.max_write), "
                + "max_readahead \(connection.pointee.max_readahead)\n").utf8))
        }
    }
}
