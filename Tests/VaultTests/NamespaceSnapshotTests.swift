import VaultCrypto
import Testing
import VolumePool
@testable import Vault
import SeededRandom

/// A small tree with one of everything a snapshot must carry: every kind, hard links, an
/// xattr, symlink target, inline and block content with holes, directories with removed
/// entries (so cookies have gaps and the next cookie is past the last live child).
func makeSampleTree() throws -> Namespace {
    let tree = Namespace(rootID: DirectoryID(high: 1, low: 2), permissions: 0o700, uid: 5, gid: 6, time: 100)
    let root = Namespace.rootInode
    func make(_ parent: InodeNumber, _ name: String, _ kind: FileKind, time: Timestamp) throws -> InodeNumber {
        try tree.create(in: parent, name: n(name), kind: kind, permissions: 0o640, uid: 7, gid: 8, time: time,
                        symlinkTarget: kind == .symlink ? Array("target:\(name)".utf8) : nil, symlinkLength: 11).0
    }
    let docs = try make(root, "docs", .directory, time: 110)
    let file = try make(docs, "a.txt", .regular, time: 111)
    _ = try make(docs, "gone", .regular, time: 112)
    _ = try make(docs, "link", .symlink, time: 113)
    _ = try make(root, "pipe", .fifo, time: 114)
    let big = try make(root, "big", .regular, time: 115)
    let nested = try make(docs, "nested", .directory, time: 116)
    _ = try make(nested, "last", .regular, time: 117)
    try tree.link(file, into: nested, name: n("hard"), time: 120)
    _ = try tree.unlink(docs, name: n("gone"), time: 121)
    _ = try tree.unlink(nested, name: n("last"), time: 122)
    try tree.setContent(file, .inline(Array("hello".utf8)), size: 5, time: 130)
    try tree.setContent(big, .blocks([nil, BlockReference(id: ObjectID(high: 3, low: 4), length: 4 << 20), nil]),
                        size: 9 << 20, time: 131)
    try tree.setXattr(file, "user.colour", Array("blue".utf8), time: 132)
    try tree.setXattr(file, "user.z", [], time: 133)
    try tree.setXattr(docs, "user.dir", [1], time: 134)
    try tree.setAttributes(big, AttributeChanges(atime: -7, mtime: Int64.max), time: 135)
    _ = try tree.rename(root, n("pipe"), to: nested, n("pipe2"), time: 136)
    return tree
}

@Suite struct NamespaceSnapshotTests {
    @Test func restoreGivesAnEquivalentTree() throws {
        let tree = try makeSampleTree()
        let bytes = tree.snapshot()
        let restored = try Namespace(snapshot: bytes)
        #expect(restored.difference(from: tree) == nil)
        #expect(try restored.allListings() == tree.allListings())
        #expect(restored.snapshot() == bytes, "snapshots are deterministic")
    }

    @Test func cookiesResumeAndContinueAfterRestore() throws {
        let tree = Namespace(rootID: .random(), time: 1)
        let directory = try tree.create(in: 1, name: n("d"), kind: .directory, permissions: 0o755, uid: 0, gid: 0, time: 2).0
        for i in 0 ..< 200 { try tree.create(in: directory, name: n("f\(i)"), kind: .regular, permissions: 0o644, uid: 0, gid: 0, time: 3) }
        // Enough removals to compact the tombstones, and the last entries, so the next cookie
        // is ahead of every surviving one.
        for i in stride(from: 0, to: 200, by: 2) { _ = try tree.unlink(directory, name: n("f\(i)"), time: 4) }
        for i in 190 ..< 200 where i % 2 == 1 { _ = try tree.unlink(directory, name: n("f\(i)"), time: 4) }
        let page = try tree.readdir(directory, after: 0, limit: 30)
        let restored = try Namespace(snapshot: tree.snapshot())
        #expect(try restored.readdir(directory, after: page.last!.cookie) == tree.readdir(directory, after: page.last!.cookie))
        try tree.create(in: directory, name: n("new"), kind: .regular, permissions: 0o644, uid: 0, gid: 0, time: 5)
        try restored.create(in: directory, name: n("new"), kind: .regular, permissions: 0o644, uid: 0, gid: 0, time: 5)
        let cookie = try tree.readdir(directory, after: 0).last!.cookie
        #expect(cookie == 3 + 200, "a new entry never reuses a cookie")
        #expect(try restored.readdir(directory, after: 0).last!.cookie == cookie)
        #expect(restored.difference(from: tree) == nil)
    }

    @Test func anOpenUnlinkedFileSurvivesUntilRelease() throws {
        let tree = try makeSampleTree()
        let file = try tree.lookup(Namespace.rootInode, n("big"))
        tree.isOpen = { $0 == file }
        _ = try tree.unlink(Namespace.rootInode, name: n("big"), time: 200)
        let restored = try Namespace(snapshot: tree.snapshot())
        #expect(restored.difference(from: tree) == nil)
        #expect(try restored.attributes(file).nlink == 0)
        #expect(restored.release(file) != nil)
        expectErrno(.notFound) { _ = try restored.attributes(file) }
    }

    @Test func layoutStartsWithMagicAndVersion() throws {
        let bytes = Namespace(rootID: DirectoryID(high: 0, low: 0), time: 0).snapshot()
        #expect(Array(bytes[0 ..< 7]) == Array("SVNS".utf8) + [3, 2, 1])  // magic, version, nextInode, count
        expectDecodingError(matching: isMalformed) { _ = try Namespace(snapshot: [0x53, 0x56, 0x4E, 0x54] + bytes.dropFirst(4)) }
        var future = bytes
        future[4] = 4
        expectDecodingError(matching: { $0 == .unsupportedVersion(what: "namespace snapshot", found: 4, supported: 3) }) {
            _ = try Namespace(snapshot: future)
        }
        for earlier: UInt8 in [1, 2] {  // earlier builds: the same layout without compact (1: any) packed blocks
            var old = bytes
            old[4] = earlier
            #expect(try Namespace(snapshot: old).snapshot() == bytes)
        }
    }

    @Test func everyTruncationThrows() throws {
        let bytes = try makeSampleTree().snapshot()
        for length in 0 ..< bytes.count {
            expectDecodingError { _ = try Namespace(snapshot: Array(bytes[..<length])) }
        }
        expectDecodingError(matching: isMalformed) { _ = try Namespace(snapshot: bytes + [0]) }
    }

    @Test func randomByteFlipsNeverTrap() throws {
        let original = try makeSampleTree().snapshot()
        var random = SplitMix64(seed: 0x5A4F)
        for _ in 0 ..< 3000 {
            var bytes = original
            for _ in 0 ..< Int.random(in: 1 ... 3, using: &random) {
                bytes[Int.random(in: 0 ..< bytes.count, using: &random)] ^= UInt8.random(in: 1 ... 255, using: &random)
            }
            // Whatever decodes has passed validation, so every query on it must be safe too.
            guard let restored = try? Namespace(snapshot: bytes) else { continue }
            _ = try restored.allListings()
            _ = restored.snapshot()
        }
    }

    // MARK: Inconsistent trees are refused

    /// Breaks a sample tree's internals, snapshots it, and expects the restore to refuse it.
    private func expectRefused(_ sourceLocation: SourceLocation = #_sourceLocation,
                               _ breakTree: (Namespace) throws -> Void) throws {
        let tree = try makeSampleTree()
        try breakTree(tree)
        expectDecodingError(sourceLocation, matching: { error in
            if case .inconsistent = error { return true }
            return false
        }) { _ = try Namespace(snapshot: tree.snapshot()) }
    }

    @Test func inconsistentTreesAreRefused() throws {
        let root = Namespace.rootInode
        // An entry for an inode that does not exist.
        try expectRefused { tree in tree.nodes[try tree.lookup(root, n("big"))] = nil }
        // The root missing, or not its own parent.
        try expectRefused { tree in tree.nodes[root]!.parent = 2 }
        try expectRefused { tree in
            let docs = try tree.lookup(root, n("docs"))
            tree.nodes[docs]!.parent = docs
        }
        // A file's link count disagreeing with its entries.
        try expectRefused { tree in tree.nodes[try tree.lookup(root, n("big"))]!.attributes.nlink = 2 }
        // A directory's link count disagreeing with its subdirectories.
        try expectRefused { tree in tree.nodes[root]!.attributes.nlink = 2 }
        // A directory entered twice (a hard link to a directory).
        try expectRefused { tree in
            let docs = try tree.lookup(root, n("docs"))
            tree.nodes[root]!.directory!.insert(n("docs-again"), inode: docs)
            tree.nodes[root]!.attributes.nlink += 1
        }
        // A cycle cut off from the root.
        try expectRefused { tree in
            let docs = try tree.lookup(root, n("docs"))
            let nested = try tree.lookup(docs, n("nested"))
            tree.nodes[root]!.directory!.remove(n("docs"))
            tree.nodes[root]!.attributes.nlink -= 1
            tree.nodes[nested]!.directory!.insert(n("loop"), inode: docs)
            tree.nodes[nested]!.attributes.nlink += 1
            tree.nodes[docs]!.parent = nested
        }
        // An inode at or past the next inode number.
        try expectRefused { tree in tree.nextInode = 3 }
        // A file nobody names that is not an unlinked-open orphan.
        try expectRefused { tree in tree.nodes[99] = tree.nodes[try tree.lookup(root, n("big"))]!; tree.nextInode = 100 }
    }
}
