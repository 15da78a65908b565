import Foundation
import Testing
import VolumePool
@testable import Vault

/// A commit writes its data and its journal segment, then flushes once; recovery discards a
/// newest segment whose blocks did not reach the volumes (Journal.swift, Recovery.swift).
/// A crash inside that flush is simulated by deleting a block before the restart: to
/// recovery the two look the same, as long as the segment freed nothing (a real crash in
/// the flush keeps the frees that wait for it from running; the simulation cannot).
@Suite struct CommitProtocolTests {
    let root = Namespace.rootInode

    /// Only explicit syncs commit, so each test decides what one segment holds.
    private static var oneSegmentPerSync: Vault.Options {
        var options = VaultFixture.fastOptions
        options.commitInterval = 600
        return options
    }

    private func pattern(_ count: Int, _ seed: Int) -> [UInt8] {
        (0 ..< count).map { UInt8(truncatingIfNeeded: ($0 &* 131 &+ seed) >> 3) }
    }

    private func blocks(_ vault: Vault, _ inode: InodeNumber) throws -> [ObjectID] {
        try vault.read { (namespace) throws(VaultError) in try namespace.content(inode).blocks.map(\.storageObject) }
    }

    @Test func aNewestSegmentWhoseBlocksNeverArrivedIsDiscarded() throws {
        let fixture = try VaultFixture(k: 2, m: 1, options: Self.oneSegmentPerSync)
        let vault = fixture.vault!
        let kept = try fixture.newFile("kept")
        let keptBytes = pattern(5_000_000, 1)
        try fixture.write(kept, at: 0, keptBytes)
        try vault.sync()

        let lost = try fixture.newFile("lost")
        try fixture.write(lost, at: 0, pattern(5_000_000, 2))
        try vault.setXattr(kept, "user.note", Array("changed".utf8))  // the same segment changes "kept" too
        try vault.sync()
        let lostBlocks = try blocks(vault, lost)
        #expect(lostBlocks.count == 2)
        try vault.pool.delete(lostBlocks[1])
        let after = try fixture.crashAndReopen()
        defer { try? after.close() }
        #expect(after.recoveryNotes.count == 1)
        #expect(after.recoveryNotes.first?.contains("was discarded") == true, "\(after.recoveryNotes)")
        #expect(throws: VaultError.self) { _ = try after.lookup(root, "lost") }
        #expect(try VaultFixture.contents(kept, in: after) == keptBytes)
        #expect(throws: VaultError.self, "the discarded segment's change to another file is gone with it") {
            _ = try after.getXattr(kept, "user.note")
        }
        let report = try after.fsck(repair: false)
        #expect(report.missingBlocks.isEmpty && report.namespaceProblems.isEmpty, "\(report)")
    }

    @Test func aNewestSegmentWhoseBlocksArrivedIsKept() throws {
        let fixture = try VaultFixture(k: 2, m: 1, options: Self.oneSegmentPerSync)
        let vault = fixture.vault!
        let inode = try fixture.newFile("file")
        let bytes = pattern(5_000_000, 4)
        try fixture.write(inode, at: 0, bytes)
        try vault.sync()

        let after = try fixture.crashAndReopen()
        defer { try? after.close() }
        #expect(after.recoveryNotes.isEmpty, "\(after.recoveryNotes)")
        #expect(try VaultFixture.contents(try after.lookup(root, "file").0, in: after) == bytes)
    }

    /// Blocks the newest segment both wrote and replaced were freed once it was durable:
    /// their absence must not cost the segment.
    @Test func blocksTheNewestSegmentReplacedAgainAreNotRequired() throws {
        let fixture = try VaultFixture(k: 2, m: 1, options: Self.oneSegmentPerSync)
        let vault = fixture.vault!
        let inode = try fixture.newFile("rewritten")
        let handle = try vault.open(inode)
        try pattern(5_000_000, 5).withVaultBytes { (raw) throws(VaultError) in try vault.write(handle, at: 0, raw) }
        try vault.flush(handle)
        let replaced = try blocks(vault, inode)
        let final = pattern(5_000_000, 6)
        try final.withVaultBytes { (raw) throws(VaultError) in try vault.write(handle, at: 0, raw) }
        try vault.flush(handle)
        try vault.release(handle)
        try vault.sync()
        // The replaced blocks are deleted after the commit, on the committer's thread.
        var gone = false
        for _ in 0 ..< 500 where !gone {
            gone = replaced.allSatisfy { (try? vault.pool.head($0)) == nil }
            if !gone { usleep(10_000) }
        }
        #expect(gone, "the replaced blocks were never freed")

        let after = try fixture.crashAndReopen()
        defer { try? after.close() }
        #expect(after.recoveryNotes.isEmpty, "\(after.recoveryNotes)")
        #expect(try VaultFixture.contents(inode, in: after) == final)
    }

    /// One flush per commit: the data and the segment share it.
    @Test func aCommitWithDataFlushesTheVolumesOnce() throws {
        let fixture = try VaultFixture(k: 2, m: 1, options: Self.oneSegmentPerSync)
        let vault = fixture.vault!
        let inode = try fixture.newFile("file")
        try vault.sync()
        let before = vault.pool.counters.filesystemFlushes
        try fixture.write(inode, at: 0, pattern(200_000, 7))
        try vault.sync()
        #expect(vault.pool.counters.filesystemFlushes - before == 1)
    }
}
