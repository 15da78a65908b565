import Foundation
import Testing
import VaultCrypto
import VolumePool
@testable import Vault
import SeededRandom

@Suite struct VaultBehaviourTests {
    let root = Namespace.rootInode

    @Test func wrongPasswordSaysSo() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        try fixture.vault.close()
        do {
            _ = try Vault(volumePaths: fixture.volumePaths, password: SecureBytes(copying: Array("nope".utf8)))
            Issue.record("a wrong password must not open the vault")
        } catch let error as VaultError {
            #expect(error.code == .accessDenied && error.description.contains("wrong password"), "\(error)")
        }
        try fixture.reopen()
    }

    @Test func unlinkedOpenFileStaysReadableUntilRelease() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "doomed", kind: .regular, permissions: 0o600, uid: 0, gid: 0)
        let bytes = (0 ..< 5_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try fixture.write(inode, at: 0, bytes)
        try vault.sync()
        let blocks = try vault.read { (namespace) throws(VaultError) in try namespace.content(inode).blockIDs }
        #expect(blocks.count == 2)
        let handle = try vault.open(inode)
        try vault.unlink(root, "doomed")
        #expect(throws: VaultError.self) { _ = try vault.lookup(root, "doomed") }
        var back = [UInt8](repeating: 0, count: bytes.count)
        let count = try back.withUnsafeMutableBytes { (raw) throws(VaultError) in try vault.read(handle, at: 0, into: raw) }
        #expect(count == bytes.count && back == bytes)
        #expect(try vault.attributes(inode).nlink == 0)
        try vault.release(handle)
        #expect(throws: VaultError.self) { _ = try vault.attributes(inode) }
        try vault.sync()  // deletions run once the release is durable
        let remaining = Set(try vault.pool.list())
        #expect(blocks.allSatisfy { !remaining.contains($0) }, "the file's blocks are freed after release")
    }

    @Test func sparseFilesStoreOnlyWhatWasWritten() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "sparse", kind: .regular, permissions: 0o600, uid: 0, gid: 0)
        try vault.sync()
        let before = try vault.pool.list().count
        let far: UInt64 = 10 * (4 << 20) + 5
        try fixture.write(inode, at: 0, Array(repeating: 0xAB, count: 100))
        try fixture.write(inode, at: far, Array(repeating: 0xCD, count: 1000))
        try vault.sync()
        #expect(try vault.attributes(inode).size == far + 1000)
        let content = try fixture.contents(inode)
        #expect(content[0 ..< 100].allSatisfy { $0 == 0xAB })
        #expect(content[100 ..< Int(far)].allSatisfy { $0 == 0 })
        #expect(content[Int(far)...].allSatisfy { $0 == 0xCD })
        let added = try vault.pool.list().count - before
        #expect(added <= 4, "two data blocks plus journal objects, not eleven blocks (\(added))")
        try vault.truncate(inode, to: 50)
        #expect(try fixture.contents(inode) == Array(repeating: 0xAB, count: 50))
        try fixture.reopen()
        #expect(try fixture.contents(inode) == Array(repeating: 0xAB, count: 50))
    }

    @Test func limitsGiveTheRightErrors() throws {
        let fixture = try VaultFixture(k: 1, m: 0)
        let vault = fixture.vault!
        let long = String(repeating: "n", count: 256)
        #expect { _ = try vault.mkdir(root, long, permissions: 0o755, uid: 0, gid: 0) } throws: { ($0 as? VaultError)?.code == .nameTooLong }
        #expect { _ = try vault.mkdir(root, "a/b", permissions: 0o755, uid: 0, gid: 0) } throws: { ($0 as? VaultError)?.code == .invalidArgument }
        let target = String(repeating: "t", count: 4096)
        #expect { _ = try vault.symlink(root, "l", target: target, uid: 0, gid: 0) } throws: { ($0 as? VaultError)?.code == .nameTooLong }
        #expect { try vault.setXattr(root, "trusted.x", [1]) } throws: { ($0 as? VaultError)?.code == .notSupported }
        let exact = String(repeating: "é", count: 127)  // 254 bytes in NFC
        #expect(try vault.mkdir(root, exact, permissions: 0o755, uid: 0, gid: 0).0 > 1)
        #expect(try vault.lookup(root, exact.decomposedStringWithCanonicalMapping).0 > 1, "NFD finds the NFC name")
    }

    @Test func twoLostVolumesLoseNothingAndThreeGiveAClearError() throws {
        let fixture = try VaultFixture(k: 4, m: 2)
        let vault = fixture.vault!
        let (directory, _) = try vault.mkdir(root, "photos", permissions: 0o755, uid: 0, gid: 0)
        var files: [(String, [UInt8])] = []
        for i in 0 ..< 6 {
            let bytes = (0 ..< (i * 700_001 + 3)).map { UInt8(truncatingIfNeeded: $0 ^ i) }
            let (inode, _) = try vault.mknod(directory, "img\(i)", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
            try fixture.write(inode, at: 0, bytes)
            files.append(("img\(i)", bytes))
        }
        try vault.close()
        for index in [1, 4] { try FileManager.default.removeItem(atPath: fixture.volumePaths[index]) }
        let degraded = try Vault(volumePaths: fixture.volumePaths, password: SecureBytes(copying: VaultFixture.password),
                                 options: VaultFixture.fastOptions)
        let photos = try degraded.lookup(root, "photos").0
        #expect(degraded.readOnlyReason != nil)
        #expect { _ = try degraded.mkdir(root, "new", permissions: 0o755, uid: 0, gid: 0) } throws: {
            ($0 as? VaultError)?.code == .readOnly && "\($0)".contains("read-only")
        }
        for (name, bytes) in files {
            let inode = try degraded.lookup(photos, name).0
            let handle = try degraded.open(inode)
            var back = [UInt8](repeating: 0, count: bytes.count)
            _ = try back.withUnsafeMutableBytes { (raw) throws(VaultError) in try degraded.read(handle, at: 0, into: raw) }
            try degraded.release(handle)
            #expect(back == bytes, "\(name)")
        }
        try degraded.close()
        try FileManager.default.removeItem(atPath: fixture.volumePaths[2])
        do {
            _ = try Vault(volumePaths: fixture.volumePaths, password: SecureBytes(copying: VaultFixture.password))
            Issue.record("three lost volumes of 4+2 must not open")
        } catch let error as VaultError {
            #expect(error.description.contains("only 3 usable volumes, 4 needed"), "\(error)")
        }
        try FileManager.default.createDirectory(atPath: fixture.volumePaths[2], withIntermediateDirectories: true)
    }

    @Test func tamperedJournalSegmentIsRefused() throws {
        var options = VaultFixture.fastOptions
        options.checkpointInterval = 1_000_000
        let fixture = try VaultFixture(k: 2, m: 1, options: options)
        let vault = fixture.vault!
        _ = try vault.mkdir(root, "a", permissions: 0o755, uid: 0, gid: 0)
        try vault.sync()
        let position = vault.journal.currentPosition
        let segment = vault.journal.store.protection.objectID(kind: .journalSegment, sequence: position.nextSegment - 1)
        let pool = vault.pool
        var sealed = try pool.get(segment)
        sealed[sealed.count / 2] ^= 0x01
        try pool.put(segment, bytes: sealed)
        vault.journal.abandonForTesting()
        pool.close()
        do {
            _ = try Vault(volumePaths: fixture.volumePaths, password: SecureBytes(copying: VaultFixture.password))
            Issue.record("a tampered journal segment must stop the mount")
        } catch let error as VaultError {
            #expect(error.description.contains("fails authentication"), "\(error)")
        }
    }
}

@Suite struct WriteBackTests {
    /// Sequential writes seal full blocks in the background; reads issued meanwhile see every
    /// byte, and after fsync and a reopen the file is intact.
    @Test func sequentialWritesSealInTheBackgroundAndReadBack() throws {
        let fixture = try VaultFixture(k: 4, m: 2)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(Namespace.rootInode, "big", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        let handle = try vault.open(inode)
        var generator = SplitMix64(seed: 42)
        let total = 21 * (1 << 20) + 12345
        let bytes = (0 ..< total).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var offset = 0
        while offset < total {
            let piece = min(1 << 20, total - offset)
            try bytes[offset ..< offset + piece].withUnsafeBytes { raw in try vault.write(handle, at: UInt64(offset), raw) }
            // Read back a window that straddles what may still be sealing.
            let probe = max(0, offset - 70_000)
            var window = [UInt8](repeating: 0, count: offset + piece - probe)
            _ = try window.withUnsafeMutableBytes { raw in try vault.read(handle, at: UInt64(probe), into: raw) }
            #expect(window == Array(bytes[probe ..< offset + piece]), "read at \(probe) while writing")
            offset += piece
        }
        try vault.fsync(handle)
        try vault.release(handle)
        try fixture.reopen()
        #expect(try fixture.contents(inode) == bytes)
        let blocks = try fixture.vault.read { (namespace) throws(VaultError) in try namespace.content(inode).blockIDs }
        #expect(blocks.count == 6)
    }
}
