import CFuseTestSupport
import Foundation
import Glibc
import Testing

/// File contents and attributes through the mount.
@Suite(.serialized)
struct FileTests {
    static func pattern(_ count: Int, seed: UInt64) -> Data {
        var state = seed | 1
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0 ..< count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return Data(bytes)
    }

    @Test func smallAndTwentyMebibyteFilesReadBack() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let small = Self.pattern(1000, seed: 1)
        try small.write(to: URL(fileURLWithPath: vault.path("small")))
        let big = Self.pattern(20 << 20, seed: 2)
        try big.write(to: URL(fileURLWithPath: vault.path("big")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("small"))) == small)
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("big"))) == big)
        var status = stat()
        #expect(stat(vault.path("big"), &status) == 0)
        #expect(status.st_size == 20 << 20)
        #expect(status.st_blocks == (20 << 20) / 512)

        // Overwrite in the middle, append, fsync, and read through a fresh descriptor.
        let descriptor = open(vault.path("big"), O_RDWR)
        #expect(descriptor >= 0)
        let patch = Self.pattern(100_000, seed: 3)
        _ = patch.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 5_000_000) }
        #expect(fsync(descriptor) == 0)
        close(descriptor)
        var expected = big
        expected.replaceSubrange(5_000_000 ..< 5_100_000, with: patch)
        let appender = open(vault.path("big"), O_WRONLY | O_APPEND)
        _ = "tail".withCString { write(appender, $0, 4) }
        close(appender)
        expected.append(contentsOf: Array("tail".utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("big"))) == expected)
        #expect(errnoOf { open(vault.path("big"), O_CREAT | O_EXCL | O_WRONLY, 0o644) } == EEXIST)
    }

    @Test func truncateUpAndDown() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let original = Self.pattern(300_000, seed: 4)
        try original.write(to: URL(fileURLWithPath: vault.path("t")))
        #expect(truncate(vault.path("t"), 1000) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("t"))) == original.prefix(1000))
        #expect(truncate(vault.path("t"), 70_000) == 0)
        var expected = Data(original.prefix(1000))
        expected.append(Data(count: 69_000))
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("t"))) == expected)
        let descriptor = open(vault.path("t"), O_RDWR)
        #expect(ftruncate(descriptor, 10) == 0)
        close(descriptor)
        var status = stat()
        #expect(stat(vault.path("t"), &status) == 0)
        #expect(status.st_size == 10)
        let opened = open(vault.path("t"), O_WRONLY | O_TRUNC)
        close(opened)
        #expect(stat(vault.path("t"), &status) == 0)
        #expect(status.st_size == 0)
    }

    @Test func chmodChownAndNanosecondTimes() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try "x".write(toFile: vault.path("f"), atomically: false, encoding: .utf8)
        // chown first: Linux clears set-user-ID on chown, and so does the kernel's FUSE setattr.
        #expect(chmod(vault.path("f"), 0o4751) == 0)
        #expect(chown(vault.path("f"), 1234, 5678) == 0)
        var status = stat()
        #expect(stat(vault.path("f"), &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o751)
        #expect(chmod(vault.path("f"), 0o4751) == 0)
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_600_000_000, tv_nsec: 987_654_321)]
        #expect(utimensat(AT_FDCWD, vault.path("f"), &times, 0) == 0)
        #expect(stat(vault.path("f"), &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o4751)
        #expect(status.st_uid == 1234 && status.st_gid == 5678)
        #expect(status.st_atim.tv_sec == 1_000_000_000 && status.st_atim.tv_nsec == 123_456_789)
        #expect(status.st_mtim.tv_sec == 1_600_000_000 && status.st_mtim.tv_nsec == 987_654_321)

        // UTIME_OMIT keeps atime; UTIME_NOW sets mtime to about now.
        let before = Date().timeIntervalSince1970
        var partial = [timespec(tv_sec: 0, tv_nsec: shardvault_test_utime_omit), timespec(tv_sec: 0, tv_nsec: shardvault_test_utime_now)]
        #expect(utimensat(AT_FDCWD, vault.path("f"), &partial, 0) == 0)
        #expect(stat(vault.path("f"), &status) == 0)
        #expect(status.st_atim.tv_sec == 1_000_000_000 && status.st_atim.tv_nsec == 123_456_789)
        #expect(abs(Double(status.st_mtim.tv_sec) - before) < 5)

        // access(2) without default_permissions is answered by the driver: root may read
        // and write anything, but execute only what has an x bit.
        #expect(chmod(vault.path("f"), 0o644) == 0)
        #expect(access(vault.path("f"), R_OK | W_OK) == 0)
        #expect(errnoOf { access(vault.path("f"), X_OK) } == EACCES)
        #expect(access(vault.mountpoint, X_OK) == 0)

        // Before 1970: nanoseconds stay in 0..<1e9 on the way through the vault's Int64.
        var early = [timespec(tv_sec: -2, tv_nsec: 250_000_000), timespec(tv_sec: -1, tv_nsec: 999_999_999)]
        #expect(utimensat(AT_FDCWD, vault.path("f"), &early, 0) == 0)
        #expect(stat(vault.path("f"), &status) == 0)
        #expect(status.st_atim.tv_sec == -2 && status.st_atim.tv_nsec == 250_000_000)
        #expect(status.st_mtim.tv_sec == -1 && status.st_mtim.tv_nsec == 999_999_999)
    }

    @Test func extendedAttributes() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try "x".write(toFile: vault.path("f"), atomically: false, encoding: .utf8)
        let path = vault.path("f")
        #expect(setxattr(path, "user.colour", "blue", 4, 0) == 0)
        #expect(setxattr(path, "user.size", "large", 5, 0) == 0)
        #expect(errnoOf { setxattr(path, "user.colour", "red", 3, shardvault_test_xattr_create) } == EEXIST)
        #expect(errnoOf { setxattr(path, "user.none", "red", 3, shardvault_test_xattr_replace) } == ENODATA)
        #expect(getxattr(path, "user.colour", nil, 0) == 4)
        var small = [CChar](repeating: 0, count: 2)
        #expect(errnoOf { Int32(getxattr(path, "user.colour", &small, 2)) } == ERANGE)
        var value = [CChar](repeating: 0, count: 16)
        #expect(getxattr(path, "user.colour", &value, 16) == 4)
        #expect(String(decoding: value.prefix(4).map { UInt8(bitPattern: $0) }, as: UTF8.self) == "blue")
        let listLength = listxattr(path, nil, 0)
        #expect(listLength == "user.colour\0user.size\0".utf8.count)
        var list = [CChar](repeating: 0, count: 64)
        let got = listxattr(path, &list, 64)
        let names = String(decoding: list.prefix(max(0, got)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: "\0").map(String.init).sorted()
        #expect(names == ["user.colour", "user.size"])
        #expect(removexattr(path, "user.colour") == 0)
        #expect(errnoOf { Int32(getxattr(path, "user.colour", nil, 0)) } == ENODATA)
        // Other namespaces are refused as unsupported, before the name is decoded: the kernel
        // asks each new file for security.capability.
        for name in ["security.capability", "trusted.x", "user.", "use", "u"] {
            #expect(errnoOf { Int32(getxattr(path, name, nil, 0)) } == EOPNOTSUPP, "\(name)")
        }
        #expect(errnoOf { setxattr(path, "security.x", "1", 1, 0) } == EOPNOTSUPP)
    }

    @Test func statfsReportsTheVault() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        var result = statvfs()
        #expect(statvfs(vault.mountpoint, &result) == 0)
        #expect(result.f_bsize == 4096)
        #expect(result.f_blocks > 0 && result.f_bavail <= result.f_blocks)
        #expect(result.f_namemax == 255)
    }

    @Test func unlinkedOpenFileStaysUsable() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try "still here".write(toFile: vault.path("gone"), atomically: false, encoding: .utf8)
        let descriptor = open(vault.path("gone"), O_RDWR)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        #expect(unlink(vault.path("gone")) == 0)
        var status = stat()
        #expect(errnoOf { stat(vault.path("gone"), &status) } == ENOENT)
        var buffer = [UInt8](repeating: 0, count: 32)
        #expect(pread(descriptor, &buffer, 32, 0) == 10)
        #expect(pwrite(descriptor, "!", 1, 10) == 1)
        #expect(fstat(descriptor, &status) == 0)
        #expect(status.st_size == 11)
        #expect(errnoOf { open(vault.mountpoint, O_WRONLY) } == EISDIR)
        #expect(errnoOf { open(vault.path("missing"), O_RDONLY) } == ENOENT)
    }

    /// Several writers at once on the multithreaded loop, then rm -rf style removal
    /// (readdir interleaved with unlink).
    @Test func concurrentWritersAndRecursiveRemoval() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        #expect(mkdir(vault.path("tree"), 0o755) == 0)
        let contents = (0 ..< 6).map { Self.pattern(1 << 20 + $0 * 4099, seed: UInt64(20 + $0)) }
        let root = vault.path("tree")
        DispatchQueue.concurrentPerform(iterations: contents.count) { index in
            try? contents[index].write(to: URL(fileURLWithPath: root + "/file\(index)"))
        }
        for index in contents.indices {
            #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/file\(index)")) == contents[index])
        }
        for index in 0 ..< 300 {
            #expect(mkdir(root + "/d\(index % 7)", 0o755) == 0 || errno == EEXIST)
            try "x".write(toFile: root + "/d\(index % 7)/f\(index)", atomically: false, encoding: .utf8)
        }
        try FileManager.default.removeItem(atPath: root)
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.mountpoint) == [])
    }

    /// Shared writable mappings go through the kernel's writeback cache to `write`.
    @Test func sharedMappingWritesReachTheFile() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let length = 200_000
        let descriptor = open(vault.path("mapped"), O_CREAT | O_RDWR, 0o644)
        #expect(descriptor >= 0)
        #expect(ftruncate(descriptor, off_t(length)) == 0)
        guard let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), mapping != MAP_FAILED else {
            Issue.record("mmap failed: \(errno)")
            close(descriptor)
            return
        }
        let expected = Self.pattern(length, seed: 12)
        expected.withUnsafeBytes { mapping.copyMemory(from: $0.baseAddress!, byteCount: length) }
        #expect(msync(mapping, length, MS_SYNC) == 0)
        munmap(mapping, length)
        close(descriptor)
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("mapped"))) == expected)
    }
}
