import Foundation

/// Which inodes are open, and the shared write-back state of each. Its lock is innermost:
/// nothing else is taken while it is held.
final class OpenFileTable: @unchecked Sendable {
    private let lock = NSLock()
    private var files: [InodeNumber: OpenFile] = [:]
    /// How many files have left the table. A file's last write-back records its content and
    /// only then leaves, so a caller that read recorded state *before* finding no file here
    /// may hold state older than what the departed file recorded; it compares this count
    /// taken before its read with the count after, and reads again when they differ.
    private var removals: UInt64 = 0

    /// The count of removals so far; see `removals`.
    var removalCount: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return removals
    }

    /// Counts a new handle of `inode`. A file already in the table is shared; otherwise a new
    /// one is made by `create` from recorded state read after `removalCount` returned
    /// `seenRemovals` — unless a file left the table since, when nil tells the caller to read
    /// the recorded state again.
    func retain(_ inode: InodeNumber, seenRemovals: UInt64, create: () -> OpenFile) -> OpenFile? {
        lock.lock()
        defer { lock.unlock() }
        let file: OpenFile
        if let existing = files[inode] {
            file = existing
        } else {
            guard removals == seenRemovals else { return nil }
            file = create()
            files[inode] = file
        }
        file.handleCount += 1
        return file
    }

    /// Drops a handle; true when it was the last one. The file stays in the table (and is
    /// found by a new open) until `removeIfIdle`: its data may still be written back.
    func dropHandle(_ file: OpenFile) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        file.handleCount -= 1
        return file.handleCount == 0
    }

    /// Removes `file` unless a handle was opened again meanwhile; true when removed.
    func removeIfIdle(_ file: OpenFile) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard file.handleCount == 0, files[file.inode] === file else { return false }
        files[file.inode] = nil
        removals &+= 1
        return true
    }

    func isOpen(_ inode: InodeNumber) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return files[inode] != nil
    }

    func allFiles() -> [OpenFile] {
        lock.lock()
        defer { lock.unlock() }
        return Array(files.values)
    }

    func file(_ inode: InodeNumber) -> OpenFile? {
        lock.lock()
        defer { lock.unlock() }
        return files[inode]
    }
}
