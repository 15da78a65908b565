import Foundation

/// Write-behind: the last close of a file with buffered data returns at once, and the data is
/// sealed into blocks on the seal queue afterwards.
///
/// Sealing a small file means encrypting it and writing k+m shard files; done inside close(2)
/// it made every `tar x` or `cp -r` wait for it file by file. Durability was never promised by
/// close (I4: fsync, syncfs, sync), and those now wait for the pending write-backs and report
/// their failures. Until its write-back ends, a closed file stays in the open-file table, so
/// a reopen, a read or getattr sees the buffered bytes, never the older recorded content.
extension Vault {
    /// Closed files whose write-back may be pending at once. Each holds its dirty block
    /// buffers (up to 4 MiB each) until sealed, so the bound is also a memory bound; a close
    /// past it waits for a slot.
    static let maximumPendingWriteBacks = 8

    /// The last handle of `file` is gone (`file.lock` held): seal what it buffered, now for
    /// inline-sized files (a record, no pool I/O), in the background otherwise, then let the
    /// file leave the open-file table.
    func closeLastHandle(_ file: OpenFile) throws(VaultError) {
        if try isUnlinked(file) {
            // Nobody can open it again: its buffered bytes are garbage.
            file.waitForSeals()
            file.dirtyBlocks.removeAll()
            return try finishClose(file)
        }
        if file.size <= UInt64(inlineLimit) || !file.isDirty {
            // A failed flush loses the buffered bytes, as it always did; the failure is
            // reported, and the file leaves the table either way.
            let flushed = Result { () throws(VaultError) in try flush(file) }
            try finishClose(file)
            return try flushed.get()
        }
        scheduleWriteBack(file)
    }

    /// Waits for every pending write-back and reports the first failure since the last call.
    func waitForWriteBacks() throws(VaultError) {
        writeBacks.group.wait()
        if let failure = writeBacks.takeFailure() { throw failure }
    }

    private func scheduleWriteBack(_ file: OpenFile) {
        guard !file.writeBackScheduled else { return }
        file.writeBackScheduled = true
        // Waiting for a slot without the lock: the write-backs holding the slots need their
        // own files' locks, and another closer of this file must not wait on us.
        file.lock.unlock()
        writeBacks.slots.wait()
        file.lock.lock()
        writeBacks.group.enter()
        sealQueue.async { [self] in
            file.lock.lock()
            defer {
                file.lock.unlock()
                writeBacks.slots.signal()
                writeBacks.group.leave()
            }
            file.writeBackScheduled = false
            // Closed for good meanwhile: reopened, unlinked and closed again takes the
            // unlinked path, which drops the buffered bytes and frees the inode.
            guard openFiles.file(file.inode) === file else { return }
            let flushed = Result { () throws(VaultError) in try flush(file) }
            let closed = Result { () throws(VaultError) in try finishClose(file) }
            for case let .failure(error) in [flushed, closed] where !isGone(file) {
                writeBacks.record(error)
                // A reopened file hears of it at its next flush or fsync too.
                if file.writebackError == nil { file.writebackError = error }
            }
        }
    }

    /// Removes `file` from the open-file table unless it was opened again meanwhile; an
    /// unlinked file's inode and blocks are then freed.
    private func finishClose(_ file: OpenFile) throws(VaultError) {
        guard openFiles.removeIfIdle(file) else { return }
        guard try isUnlinked(file) else { return }
        if let freed = try mutate({ (namespace) throws(VaultError) in
            guard let (record, content) = namespace.release(file.inode) else { return (FileContent?.none, []) }
            return (content, [record])
        }) {
            freeAfterDurable(freed)
        }
    }

    /// The file's inode no longer exists (unlinked and freed while its write-back waited):
    /// its buffered bytes belonged to nothing, so failing to write them is no failure.
    private func isGone(_ file: OpenFile) -> Bool {
        (try? read { (namespace) throws(VaultError) in try namespace.attributes(file.inode) }) == nil
    }

    func isUnlinked(_ file: OpenFile) throws(VaultError) -> Bool {
        (try? read { (namespace) throws(VaultError) in try namespace.attributes(file.inode).nlink == 0 }) ?? false
    }
}

/// The bookkeeping of pending write-backs: a slot per pending file, a group `sync` waits
/// on, and the first failure nobody has been told about yet.
final class WriteBackTracker: @unchecked Sendable {
    let slots = DispatchSemaphore(value: Vault.maximumPendingWriteBacks)
    let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: VaultError?

    func record(_ error: VaultError) {
        lock.lock()
        defer { lock.unlock() }
        if failure == nil { failure = error }
    }

    func takeFailure() -> VaultError? {
        lock.lock()
        defer { lock.unlock() }
        defer { failure = nil }
        return failure
    }
}
