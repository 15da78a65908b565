import CFuseTestSupport
import Foundation
import Glibc
import Testing

/// Names through the mount: directories, rename flavours, links, symlinks, errno values.
@Suite(.serialized)
struct NamespaceTests {
    @Test func directoriesAndErrnos() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        #expect(mkdir(vault.path("a"), 0o755) == 0)
        #expect(errnoOf { mkdir(vault.path("a"), 0o755) } == EEXIST)
        #expect(mkdir(vault.path("a/b"), 0o700) == 0)
        #expect(errnoOf { rmdir(vault.path("a")) } == ENOTEMPTY)
        #expect(errnoOf { mkdir(vault.path("nope/x"), 0o755) } == ENOENT)
        #expect(errnoOf { unlink(vault.path("a")) } == EISDIR)
        try "x".write(toFile: vault.path("file"), atomically: false, encoding: .utf8)
        #expect(errnoOf { mkdir(vault.path("file/x"), 0o755) } == ENOTDIR)
        #expect(errnoOf { rmdir(vault.path("file")) } == ENOTDIR)
        let longName = String(repeating: "n", count: 256)
        #expect(errnoOf { mkdir(vault.path(longName), 0o755) } == ENAMETOOLONG)
        var status = stat()
        #expect(stat(vault.path("a/b"), &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o700)
        #expect(rmdir(vault.path("a/b")) == 0)
        #expect(rmdir(vault.path("a")) == 0)
        #expect(errnoOf { stat(vault.path("a"), &status) } == ENOENT)
    }

    @Test func renameReplaceNoReplaceExchange() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try "one".write(toFile: vault.path("one"), atomically: false, encoding: .utf8)
        try "two".write(toFile: vault.path("two"), atomically: false, encoding: .utf8)
        let noReplace: UInt32 = 1, exchange: UInt32 = 2
        #expect(errnoOf { shardvault_test_renameat2(AT_FDCWD, vault.path("one"), AT_FDCWD, vault.path("two"), noReplace) } == EEXIST)
        #expect(shardvault_test_renameat2(AT_FDCWD, vault.path("one"), AT_FDCWD, vault.path("two"), exchange) == 0)
        #expect(try String(contentsOfFile: vault.path("one"), encoding: .utf8) == "two")
        #expect(try String(contentsOfFile: vault.path("two"), encoding: .utf8) == "one")
        #expect(rename(vault.path("one"), vault.path("two")) == 0)
        #expect(try String(contentsOfFile: vault.path("two"), encoding: .utf8) == "two")
        #expect(mkdir(vault.path("d"), 0o755) == 0)
        #expect(shardvault_test_renameat2(AT_FDCWD, vault.path("two"), AT_FDCWD, vault.path("d/moved"), noReplace) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.mountpoint).sorted() == ["d"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.path("d")) == ["moved"])
        #expect(errnoOf { rename(vault.path("d"), vault.path("d/inside")) } == EINVAL)
    }

    @Test func hardLinksSymlinksAndUnlink() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try "content".write(toFile: vault.path("f"), atomically: false, encoding: .utf8)
        #expect(link(vault.path("f"), vault.path("g")) == 0)
        var status = stat()
        #expect(stat(vault.path("f"), &status) == 0)
        #expect(status.st_nlink == 2)
        let inode = status.st_ino
        #expect(stat(vault.path("g"), &status) == 0)
        #expect(status.st_ino == inode)
        #expect(unlink(vault.path("f")) == 0)
        #expect(stat(vault.path("g"), &status) == 0)
        #expect(status.st_nlink == 1)
        #expect(try String(contentsOfFile: vault.path("g"), encoding: .utf8) == "content")

        #expect(symlink("g", vault.path("s")) == 0)
        #expect(lstat(vault.path("s"), &status) == 0)
        #expect(status.st_mode & S_IFMT == S_IFLNK)
        #expect(status.st_size == 1)
        var target = [CChar](repeating: 0, count: 64)
        #expect(readlink(vault.path("s"), &target, 64) == 1)
        #expect(try String(contentsOfFile: vault.path("s"), encoding: .utf8) == "content")
        #expect(errnoOf { symlink("x", vault.path("s")) } == EEXIST)
        #expect(unlink(vault.path("s")) == 0)
        #expect(unlink(vault.path("g")) == 0)
        #expect(errnoOf { unlink(vault.path("g")) } == ENOENT)
        #expect(mkfifo(vault.path("fifo"), 0o644) == 0)
        #expect(lstat(vault.path("fifo"), &status) == 0)
        #expect(status.st_mode & S_IFMT == S_IFIFO)
    }

    @Test func readdirOfAThousandEntries() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        #expect(mkdir(vault.path("many"), 0o755) == 0)
        let names = (0 ..< 1000).map { "entry-\($0)-" + String(repeating: "x", count: $0 % 40) }
        for name in names {
            let descriptor = open(vault.path("many/" + name), O_CREAT | O_WRONLY | O_EXCL, 0o644)
            #expect(descriptor >= 0)
            close(descriptor)
        }
        // Raw readdir, to see "." and ".." too.
        guard let directory = opendir(vault.path("many")) else { Issue.record("opendir failed"); return }
        defer { closedir(directory) }
        var seen: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            seen.append(name)
        }
        #expect(seen.prefix(2) == [".", ".."])
        #expect(Set(seen.dropFirst(2)) == Set(names))
        #expect(seen.count == 1002)
    }
}
