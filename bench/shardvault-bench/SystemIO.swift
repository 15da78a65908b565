import Foundation

/// Plain POSIX I/O for the ceiling measurements: the least work that moves the same bytes.
enum SystemIO {
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) throws {
        var done = 0
        while done < count {
            let n = write(fd, bytes + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError.io("write", errno)
            }
            done += n
        }
    }

    static func readExactly(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError.io("pread", errno)
            }
            if n == 0 { throw BenchError.io("pread (short file)", EIO) }
            done += n
        }
    }

    /// `syncfs(2)`; Swift's Glibc module hides it behind _GNU_SOURCE, so it is looked up once per call.
    static func syncFileSystem(of fd: Int32) throws {
        typealias SyncFS = @convention(c) (Int32) -> Int32
        guard let symbol = dlsym(nil, "syncfs") else { throw BenchError.setup("syncfs not found in libc") }
        let function = unsafeBitCast(symbol, to: SyncFS.self)
        guard function(fd) == 0 else { throw BenchError.io("syncfs", errno) }
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw BenchError.io("mkdir \(path)", errno) }
    }
}

/// Cold reads: write back dirty pages, then drop clean page cache, dentries and inodes.
/// System-wide and root-only; other processes on the machine lose their cache too.
enum PageCache {
    static let controlPath = "/proc/sys/vm/drop_caches"

    /// nil when caches can be dropped, otherwise why not.
    static func unavailableReason() -> String? {
        guard geteuid() == 0 else { return "not root: \(controlPath) needs root" }
        let fd = open(controlPath, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return "cannot open \(controlPath): \(String(cString: strerror(errno)))" }
        close(fd)
        return nil
    }

    static func drop() throws {
        sync()
        let fd = open(controlPath, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(controlPath)", errno) }
        defer { close(fd) }
        let command: [UInt8] = Array("3\n".utf8)
        guard write(fd, command, command.count) == command.count else { throw BenchError.io("write \(controlPath)", errno) }
    }
}
