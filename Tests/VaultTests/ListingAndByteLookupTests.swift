import Foundation
import Testing
@testable import Vault

/// The FUSE door's allocation-free paths: `visitEntries` (readdir/readdirplus) must list
/// exactly what `readdir` lists, and `lookup(utf8:)` must find exactly what `lookup` finds
/// and refuse exactly what it refuses.
@Suite struct ListingAndByteLookupTests {
    let root = Namespace.rootInode

    private func visit(_ vault: Vault, _ directory: InodeNumber, after cookie: UInt64 = 0,
                       stopAfter limit: Int = .max) throws -> [(cookie: UInt64, name: String, inode: InodeNumber, stale: Bool)] {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Vault.nameScratchBytes, alignment: 1)
        defer { scratch.deallocate() }
        var seen: [(cookie: UInt64, name: String, inode: InodeNumber, stale: Bool)] = []
        try vault.visitEntries(directory, after: cookie, nameScratch: scratch) { entry in
            seen.append((entry.cookie, String(decoding: entry.name, as: UTF8.self), entry.inode, entry.sizeMayBeStale))
            return seen.count < limit
        }
        return seen
    }

    @Test func visitingListsWhatReaddirListsAndStopsWhenAsked() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let directory = try vault.mkdir(root, "photos", permissions: 0o755, uid: 0, gid: 0).0
        let names = (0 ..< 40).map { "photo-\($0)-\(String(repeating: "x", count: $0 * 6)).jpeg" } + ["café", "日本語"]
        for name in names { _ = try vault.mknod(directory, name, kind: .regular, permissions: 0o644, uid: 0, gid: 0) }
        try vault.unlink(directory, names[3])
        _ = try vault.mkdir(directory, "sub", permissions: 0o700, uid: 7, gid: 8)

        let expected = try vault.readdir(directory, after: 0)
        let visited = try visit(vault, directory)
        #expect(visited.map(\.name) == expected.map(\.name))
        #expect(visited.map(\.cookie) == expected.map(\.cookie))
        #expect(visited.map(\.inode) == expected.map(\.inode))

        let firstTen = try visit(vault, directory, stopAfter: 10)
        #expect(firstTen.map(\.name) == Array(expected.prefix(10).map(\.name)))
        let rest = try visit(vault, directory, after: firstTen.last!.cookie)
        #expect(rest.map(\.name) == Array(expected.dropFirst(10).map(\.name)))

        #expect(throws: VaultError.self) { try visit(vault, 999_999) }
        let file = try vault.lookup(directory, names[0]).0
        #expect(throws: VaultError.self) { try visit(vault, file) }
    }

    @Test func visitedAttributesAreCurrentAndOpenWritersAreFlagged() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "growing", kind: .regular, permissions: 0o640, uid: 5, gid: 6)
        #expect(try visit(vault, root).first?.stale == false)

        let handle = try vault.open(inode)
        try [UInt8](repeating: 1, count: 10_000).withVaultBytes { (bytes) throws(VaultError) in
            try vault.write(handle, at: 0, bytes)
        }
        #expect(try visit(vault, root).first?.stale == true)
        try vault.release(handle)

        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Vault.nameScratchBytes, alignment: 1)
        defer { scratch.deallocate() }
        var attributes: NodeAttributes?
        var stale = true
        try vault.visitEntries(root, after: 0, nameScratch: scratch) { entry in
            attributes = entry.attributes
            stale = entry.sizeMayBeStale
            return false
        }
        #expect(!stale)
        #expect(attributes == (try vault.attributes(inode)))
        #expect(attributes?.size == 10_000 && attributes?.uid == 5 && attributes?.permissions == 0o640)
    }

    @Test func byteLookupMatchesStringLookup() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let long = String(repeating: "n", count: 255)
        for name in ["a", "holiday-photo-1042.jpeg", long, "caf\u{E9}"] {
            _ = try vault.mknod(root, name, kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        }
        func lookup(_ bytes: [UInt8]) throws(VaultError) -> InodeNumber {
            try bytes.withVaultBytes { (raw) throws(VaultError) in try vault.lookup(root, utf8: raw).0 }
        }
        for name in ["a", "holiday-photo-1042.jpeg", long, "caf\u{E9}"] {
            #expect(try lookup(Array(name.utf8)) == (try vault.lookup(root, name).0))
        }
        // NFD spelling of "café" finds the NFC-stored name, as the String lookup does.
        #expect(try lookup(Array("cafe\u{301}".utf8)) == (try vault.lookup(root, "caf\u{E9}").0))

        func code(_ bytes: [UInt8]) -> VaultError.Code? {
            do {
                _ = try lookup(bytes)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code(Array("missing".utf8)) == .notFound)
        #expect(code(Array(".".utf8)) == .invalidArgument)
        #expect(code(Array("..".utf8)) == .invalidArgument)
        #expect(code([]) == .invalidArgument)
        #expect(code(Array("a/b".utf8)) == .invalidArgument)
        #expect(code([0x61, 0xFF, 0x62]) == .invalidArgument)  // not UTF-8: never a lookalike name
        #expect(code(Array(String(repeating: "n", count: 256).utf8)) == .nameTooLong)
    }
}
