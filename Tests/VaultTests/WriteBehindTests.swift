import Foundation
import Testing
@testable import Vault

/// The last close hands buffered data to a background write-back (Vault+WriteBehind.swift):
/// until it ends the file must look exactly as written, and sync/close must wait for it.
@Suite struct WriteBehindTests {
    let root = Namespace.rootInode

    private func pattern(_ count: Int, _ seed: Int) -> [UInt8] {
        (0 ..< count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ seed) }
    }

    @Test func closedFilesReadBackBeforeAndAfterTheirWriteBack() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        var files: [(InodeNumber, [UInt8])] = []
        for index in 0 ..< 40 {
            let (inode, _) = try vault.mknod(root, "file-\(index)", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
            let bytes = pattern(3_000 + index * 7_919, index)
            try fixture.write(inode, at: 0, bytes)  // opens, writes, closes: returns before the seal
            files.append((inode, bytes))
        }
        // Pending or not, every file reads back and reports its size.
        for (inode, bytes) in files {
            #expect(try vault.attributes(inode).size == UInt64(bytes.count))
            #expect(try fixture.contents(inode) == bytes)
        }
        try vault.sync()
        #expect(vault.openFiles.file(files[0].0) == nil, "a written-back file leaves the open-file table")
        #expect(vault.pool.counters.objectsWritten >= files.count)
        try fixture.reopen()
        for (inode, bytes) in files { #expect(try fixture.contents(inode) == bytes) }
    }

    @Test func reopeningDuringTheWriteBackSeesTheBufferedBytes() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "rewritten", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        let first = pattern(100_000, 1)
        try fixture.write(inode, at: 0, first)
        let patch = pattern(5_000, 2)
        try fixture.write(inode, at: 50_000, patch)  // a second open while the first close may be pending
        var expected = first
        expected.replaceSubrange(50_000 ..< 55_000, with: patch)
        #expect(try fixture.contents(inode) == expected)
        try fixture.reopen()  // close waits for the write-backs
        #expect(try fixture.contents(inode) == expected)
    }

    @Test func unlinkingAFileWhoseWriteBackIsPendingFreesIt() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "short-lived", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        try fixture.write(inode, at: 0, pattern(200_000, 3))
        try vault.unlink(root, "short-lived")
        try vault.sync()
        #expect(vault.openFiles.file(inode) == nil)
        #expect(throws: VaultError.self) { try vault.attributes(inode) }
        try fixture.reopen()
        #expect(try vault.readdir(root, after: 0).isEmpty)
        #expect(try vault.fsck(repair: false).isClean)
    }

    /// Close (write-back queued), reopen, unlink, close: the second close frees the inode, so
    /// the queued write-back must let it be instead of failing (and failing the next sync)
    /// with "inode does not exist". Found by DifferentialTests under load.
    @Test func aWriteBackQueuedForAFileFreedMeanwhileDoesNothing() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        for index in 0 ..< 60 {
            let name = "churn-\(index)"
            let (inode, _) = try vault.mknod(root, name, kind: .regular, permissions: 0o644, uid: 0, gid: 0)
            try fixture.write(inode, at: 0, pattern(40_000, index))  // closed: write-back queued
            let again = try vault.open(inode)
            try vault.unlink(root, name)
            try vault.release(again)  // the unlinked path frees the inode
        }
        try vault.sync()
        #expect(try vault.readdir(root, after: 0).isEmpty)
        try fixture.reopen()
        #expect(try fixture.vault.fsck(repair: false).isClean)
    }

    /// An open that read the recorded content just before a write-back recorded newer content
    /// and took its file out of the table must not build a file from what it read (stale
    /// bytes and size: fsx read 32 stale bytes after close + open under load).
    @Test func anOpenThatReadTheRecordBeforeALastWriteBackLeftReadsItAgain() throws {
        let table = OpenFileTable()
        let departing = try #require(table.retain(7, seenRemovals: table.removalCount) { OpenFile(inode: 7, size: 0, content: .inline([])) })
        let seen = table.removalCount  // an open takes the count, then reads the record…
        #expect(table.dropHandle(departing))
        #expect(table.removeIfIdle(departing))  // …the write-back records and leaves…
        #expect(table.retain(7, seenRemovals: seen) { OpenFile(inode: 7, size: 0, content: .inline([])) } == nil,
                "…so what the open read may be stale and it must read again")
        #expect(table.retain(7, seenRemovals: table.removalCount) { OpenFile(inode: 7, size: 0, content: .inline([])) } != nil)
    }
}
