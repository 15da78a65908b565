import CFuse3
import CLinuxShims
import Foundation
import Glibc
import Vault

/// Tells the kernel to forget what it caches about names and inodes that changed behind its
/// back — through the S3 door of the same daemon (DESIGN.md I5) — with
/// `fuse_lowlevel_notify_inval_entry`, `…_inval_inode` and `…_delete`.
///
/// libfuse's rule (fuse_lowlevel.h): a notification must not be sent from the execution path
/// of a related request, nor while holding a lock such a request needs, or the kernel and the
/// daemon wait for each other (the kernel takes the parent directory's inode lock to process
/// it; an inode invalidation with the writeback cache first writes dirty pages back, which
/// needs the worker threads). So callers only queue, and one thread of its own sends: it
/// holds no vault lock and is never a FUSE worker, so every request it might wait for can be
/// answered meanwhile.
///
/// `applied()` lets a caller wait until what it queued has been sent: the S3 door answers a
/// request only after its changes are visible through the mount.
///
/// Before `attach` and after `detach` there is no kernel cache to invalidate, so
/// notifications are dropped.
public final class KernelCacheNotifier: @unchecked Sendable {
    /// What to tell the kernel. Inode numbers are the vault's, which are the kernel's.
    enum Notification {
        /// A name in `parent` was created, replaced or removed.
        case entry(parent: InodeNumber, name: String)
        /// The entry `name` of `parent`, which was `child`, is gone.
        case removed(parent: InodeNumber, name: String, child: InodeNumber)
        /// The content or attributes of `inode` changed.
        case inode(InodeNumber)
    }

    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    /// The session to notify (`struct fuse_session *`), between attach and detach.
    private var session: OpaquePointer?
    private var pending: [Notification] = []
    private var queuedCount: UInt64 = 0
    private var sentCount: UInt64 = 0
    private var waiters: [(target: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private var senderRunning = false
    private var stopping = false

    public init() {}

    /// A name in `parent` was created, replaced or removed: the kernel drops its dentry (and
    /// a negative one) and the parent's attributes (mtime, nlink).
    public func entryChanged(parent: InodeNumber, name: String) {
        enqueue(.entry(parent: parent, name: name))
    }

    /// `child`, named `name` in `parent`, was removed (unlinked, or an empty directory
    /// removed): as `entryChanged`, and watchers (inotify) of the name are told it was deleted.
    public func entryRemoved(parent: InodeNumber, name: String, child: InodeNumber) {
        enqueue(.removed(parent: parent, name: name, child: child))
    }

    /// The content or attributes of `inode` changed: the kernel drops its cached attributes and
    /// pages (open() sets keep_cache, so without this a later open would show old pages).
    public func inodeChanged(_ inode: InodeNumber) {
        enqueue(.inode(inode))
    }

    /// `inode`'s attributes changed while a request for it is being answered (set-ID bits
    /// cleared before a write, see DeviceIO): the kernel marks them stale at once, before it
    /// has the reply. Unlike the notifications above this one may be sent from a worker: with
    /// a negative offset the kernel takes no lock a request could hold.
    func attributesChangedNow(_ inode: InodeNumber) {
        condition.withLock {
            guard let session, !stopping else { return }
            Self.invalidateAttributes(of: inode, session)
        }
    }

    /// Returns once every notification queued before the call has been sent (or dropped
    /// because the mount is gone).
    public func applied() async {
        let target: UInt64? = condition.withLock { sentCount >= queuedCount ? nil : queuedCount }
        guard let target else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done: Bool = condition.withLock {
                if sentCount >= target { return true }
                waiters.append((target, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func enqueue(_ notification: Notification) {
        condition.withLock {
            guard session != nil, !stopping else { return }
            pending.append(notification)
            queuedCount += 1
            condition.signal()
        }
    }

    // MARK: The session's side (FuseMount)

    /// From when the mount is live: notifications go to `session`'s kernel connection.
    func attach(_ session: OpaquePointer) {
        condition.withLock {
            self.session = session
            stopping = false
            senderRunning = true
        }
        let thread = Thread { [self] in
            _ = shardvault_name_this_thread("sv-notify")
            sendUntilStopped()
        }
        thread.start()
    }

    /// Before the session is unmounted and destroyed: stops the sender (after the
    /// notification it is sending, if any) and drops the rest. Waiters are released.
    func detach() {
        let released: [CheckedContinuation<Void, Never>] = condition.withLock {
            guard session != nil else { return [] }
            stopping = true
            condition.broadcast()
            while senderRunning { condition.wait() }
            session = nil
            pending.removeAll()
            sentCount = queuedCount
            defer { waiters.removeAll() }
            return waiters.map(\.continuation)
        }
        for continuation in released { continuation.resume() }
    }

    private func sendUntilStopped() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if stopping {
                senderRunning = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            let session = session!
            condition.unlock()

            for notification in batch { Self.send(notification, to: session) }

            let released: [CheckedContinuation<Void, Never>] = condition.withLock {
                sentCount += UInt64(batch.count)
                let ready = waiters.filter { $0.target <= sentCount }
                waiters.removeAll { $0.target <= sentCount }
                return ready.map(\.continuation)
            }
            for continuation in released { continuation.resume() }
        }
    }

    /// One notification. -ENOENT means the kernel has nothing cached for it (the usual case
    /// for a name nobody looked up), so results are not errors to report.
    private static func send(_ notification: Notification, to session: OpaquePointer) {
        switch notification {
        case .entry(let parent, let name):
            _ = name.withCString { fuse_lowlevel_notify_inval_entry(session, parent, $0, strlen($0)) }
            invalidateAttributes(of: parent, session)
        case .removed(let parent, let name, let child):
            // notify_delete invalidates the dentry before it compares the child, so a
            // mismatch (the kernel had another inode under the name) still drops it.
            _ = name.withCString { fuse_lowlevel_notify_delete(session, parent, child, $0, strlen($0)) }
            invalidateAttributes(of: parent, session)
            _ = fuse_lowlevel_notify_inval_inode(session, child, 0, 0)
        case .inode(let inode):
            _ = fuse_lowlevel_notify_inval_inode(session, inode, 0, 0)
        }
    }

    /// The parent's mtime and link count changed with its entries. The kernel drops them
    /// itself only when it had the name cached; a negative offset leaves its pages alone.
    private static func invalidateAttributes(of directory: InodeNumber, _ session: OpaquePointer) {
        _ = fuse_lowlevel_notify_inval_inode(session, directory, -1, 0)
    }
}
