import Foundation
import Testing
@testable import Vault

/// Data written to a file that stays open is written back without anyone asking, once the
/// file is idle or its oldest unwritten byte is old enough (Vault+DurabilityHorizon.swift):
/// the only durability a FUSE mount's syncfs can have, since the kernel does not forward it.
@Suite struct DurabilityHorizonTests {
    private func options(idle: TimeInterval, longest: TimeInterval) -> Vault.Options {
        var options = VaultFixture.fastOptions
        options.idleWriteBackDelay = idle
        options.longestUnflushedWrite = longest
        return options
    }

    /// Polls `condition` for up to 20 s (a loaded machine may delay the sweeper's thread).
    private func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0 ..< 2_000 {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }

    private func recordedSize(_ vault: Vault, _ inode: InodeNumber) throws -> UInt64 {
        try vault.read { (namespace) throws(VaultError) in try namespace.attributes(inode).size }
    }

    @Test func anIdleOpenFilesDataSurvivesACrash() throws {
        let fixture = try VaultFixture(k: 2, m: 1, options: options(idle: 0.2, longest: 60))
        let vault = fixture.vault!
        let inode = try fixture.newFile("open.log")
        let bytes = (0 ..< 300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let handle = try vault.open(inode)
        try bytes.withVaultBytes { (raw) throws(VaultError) in try vault.write(handle, at: 0, raw) }
        #expect(try recordedSize(vault, inode) == 0, "nothing is written back while the writer may go on")

        #expect(try eventually { try recordedSize(vault, inode) == UInt64(bytes.count) }, "the idle file was not written back")
        usleep(300_000)  // the journal commits every 0.02 s here
        let after = try fixture.crashAndReopen()  // the handle is never released
        defer { try? after.close() }
        #expect(try VaultFixture.contents(inode, in: after) == bytes)
    }

    @Test func aBusyWritersDataIsWrittenBackOnceItIsOldEnough() throws {
        let fixture = try VaultFixture(k: 2, m: 1, options: options(idle: 60, longest: 0.3))
        let vault = fixture.vault!
        let inode = try fixture.newFile("busy.log")
        let handle = try vault.open(inode)
        defer { try? vault.release(handle) }
        let line = Array("another line of a log that is never closed\n".utf8)
        var offset: UInt64 = 0
        // Writes every 10 ms, so the file is never idle; its data must still reach the volumes.
        let reachedVolumes = try eventually {
            try line.withVaultBytes { (raw) throws(VaultError) in try vault.write(handle, at: offset, raw) }
            offset += UInt64(line.count)
            return try recordedSize(vault, inode) > 0
        }
        #expect(reachedVolumes)
    }

    @Test func aFlushedFileIsNotWrittenBackAgain() throws {
        let fixture = try VaultFixture(k: 2, m: 1, options: options(idle: 0.05, longest: 0.05))
        let vault = fixture.vault!
        let inode = try fixture.newFile("synced")
        let handle = try vault.open(inode)
        defer { try? vault.release(handle) }
        try Array(repeating: UInt8(1), count: 100_000).withVaultBytes { (raw) throws(VaultError) in try vault.write(handle, at: 0, raw) }
        try vault.fsync(handle)
        let written = vault.pool.counters.objectsWritten
        usleep(500_000)
        #expect(vault.pool.counters.objectsWritten == written, "a clean file was written again")
    }
}
