import Foundation
import Testing
import VaultCrypto
@testable import Vault
import SeededRandom

/// Invariant I1: after writing files with known names, contents and directory shapes, no byte
/// sequence on any volume reveals a name, a content fragment of 16 bytes or more, or a file
/// size field.
@Suite struct ZeroKnowledgeTests {
    @Test func volumesRevealNoNamesContentOrSizes() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let names = ["quarterly-report-FINAL", "passwords-backup", "holiday-photos-2026", "Ωmega-ñame-ünïcode"]
        let sizes = [1_234_567, 77_777, 3_141_592, 1_999]  // distinctive values for size-field search
        var contents: [[UInt8]] = []
        var parent = Namespace.rootInode
        for (index, name) in names.enumerated() {
            parent = try vault.mkdir(parent, name + "-dir", permissions: 0o755, uid: 0, gid: 0).0
            let (inode, _) = try vault.mknod(parent, name, kind: .regular, permissions: 0o600, uid: 0, gid: 0)
            var generator = SplitMix64(seed: UInt64(index + 1))
            let bytes = (0 ..< sizes[index]).map { _ in UInt8(truncatingIfNeeded: generator.next() % 251) }
            try fixture.write(inode, at: 0, bytes)
            _ = try vault.symlink(parent, name + "-link", target: "/secret/target/" + name, uid: 0, gid: 0)
            try vault.setXattr(inode, "user.comment", Array("confidential note \(name)".utf8))
            contents.append(bytes)
        }
        try fixture.reopen()  // journal, checkpoint and blocks all on disk
        try fixture.vault.close()

        var volumeBytes: [UInt8] = []
        for volume in fixture.volumePaths {
            let enumerator = FileManager.default.enumerator(atPath: volume)!
            for case let path as String in enumerator {
                var isDirectory: ObjCBool = false
                let full = volume + "/" + path
                guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                volumeBytes += try [UInt8](Data(contentsOf: URL(fileURLWithPath: full)))
            }
        }
        #expect(volumeBytes.count > sizes.reduce(0, +), "the scan sees the data")

        // Names, symlink targets, xattrs: as UTF-8, in NFC and NFD.
        var secrets = names + names.map { "/secret/target/" + $0 } + ["confidential note"]
        secrets += names.map(\.decomposedStringWithCanonicalMapping)
        for secret in Set(secrets) {
            #expect(!contains(volumeBytes, Array(secret.utf8)), "\"\(secret)\" appears on a volume")
        }
        // Content: index every 16-byte window of the plaintext, probe every window on disk.
        var windows = Set<Window>()
        for bytes in contents where bytes.count >= 16 {
            for start in stride(from: 0, through: bytes.count - 16, by: 1) { windows.insert(Window(bytes, start)) }
        }
        var leaks = 0
        if volumeBytes.count >= 16 {
            for start in 0 ... volumeBytes.count - 16 where windows.contains(Window(volumeBytes, start)) { leaks += 1 }
        }
        #expect(leaks == 0, "\(leaks) 16-byte windows of file content appear on the volumes")
        // Size fields: exact sizes as 8-byte little-endian integers.
        for size in sizes {
            #expect(!contains(volumeBytes, withUnsafeBytes(of: UInt64(size).littleEndian) { Array($0) }), "size \(size) appears")
        }
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return false }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && Array(haystack[index ..< index + needle.count]) == needle { return true }
            index += 1
        }
        return false
    }
}

/// 16 bytes as two words, so millions of windows fit in a Set cheaply.
struct Window: Hashable {
    let high: UInt64
    let low: UInt64
    init(_ bytes: [UInt8], _ start: Int) {
        (high, low) = bytes.withUnsafeBytes {
            ($0.loadUnaligned(fromByteOffset: start, as: UInt64.self), $0.loadUnaligned(fromByteOffset: start + 8, as: UInt64.self))
        }
    }
}
