import Foundation

/// Which inodes are open, and the shared write-back state of each. Its lock is innermost:
/// nothing else is taken while it is held.
final class OpenFileTable: @unchecked Sendable {
    private let lock = NSLock()
    private var files: [InodeNumber: OpenFile] = [:]

    /// Counts a new handle of `inode`, creating its state on first open.
    func retain(_ inode: InodeNumber, create: () -> OpenFile) -> OpenFile {
        lock.lock()
        defer { lock.unlock() }
        let file = files[inode] ?? create()
        files[inode] = file
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
        return true
    }

    func isOpen(_ inode: InodeNumber) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return files[inode] != nil
    }

    func file(_ inode: InodeNumber) -> OpenFile? {
        lock.lock()
        defer { lock.unlock() }
        return files[inode]
    }
}
