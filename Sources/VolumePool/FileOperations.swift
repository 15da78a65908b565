import Foundation

/// Thin, errno-preserving wrappers over the POSIX calls the local volume needs.
/// Everything here retries EINTR and short transfers so callers see all-or-error.
enum FileOperations {
    /// Writes every byte at the file position, or at `offset` when given.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int? = nil,
                         path: String) throws(VolumeIOError) {
        var done = 0
        while done < bytes.count {
            let n = offset.map { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t($0 + done)) }
                ?? Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .lastError("write", path)
            }
            done += n
        }
    }

    /// Reads exactly `buffer.count` bytes at `offset`; a short file is an error (`EIO`-like).
    static func readExactly(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int,
                            path: String) throws(VolumeIOError) {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .lastError("read", path)
            }
            if n == 0 { throw VolumeIOError(path: path, operation: "read (file shorter than expected)", code: EIO) }
            done += n
        }
    }

    static func fsync(_ fd: Int32, path: String) throws(VolumeIOError) {
        while Glibc.fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw .lastError("fsync", path)
        }
    }

    static func fsyncDirectory(_ path: String) throws(VolumeIOError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .lastError("open directory", path) }
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// Calls `body` with the name of every entry of `directory` but "." and "..". A directory
    /// that cannot be opened throws (errno kept), unless it is missing and `missingIsEmpty`.
    static func forEachEntry(in directory: String, missingIsEmpty: Bool = false,
                             _ body: (String) throws -> Void) throws {
        guard let stream = opendir(directory) else {
            if missingIsEmpty && errno == ENOENT { return }
            throw VolumeIOError.lastError("opendir", directory)
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { try body(name) }
        }
    }

    static func makeDirectory(_ path: String) throws(VolumeIOError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw .lastError("mkdir", path) }
    }

    /// Writes `data` under `name` in `directory` so a crash leaves either the old or the new file.
    static func writeAtomically(_ data: Data, directory: String, name: String) throws {
        let temporary = directory + "/." + name + ".tmp"
        let final = directory + "/" + name
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VolumeIOError.lastError("create", temporary) }
        do {
            try data.withUnsafeBytes { bytes in try writeAll(fd, bytes, path: temporary) }
            try fsync(fd, path: temporary)
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, final) == 0 else { throw VolumeIOError.lastError("rename", final) }
        try fsyncDirectory(directory)
    }
}
