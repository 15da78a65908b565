import VaultCrypto
import Testing
import VolumePool
@testable import Vault

/// Names in these tests are "sealed" by taking their UTF-8 bytes: the namespace never looks
/// inside a name, so the real cipher is not needed to test tree semantics.
func n(_ name: String) -> SealedName { SealedName(Array(name.utf8)) }

func expectErrno(_ code: VaultError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as VaultError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a VaultError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct NamespaceTests {
    let tree = Namespace(rootID: .random(), time: 1)
    let root = Namespace.rootInode

    @discardableResult
    func make(_ parent: InodeNumber, _ name: String, _ kind: FileKind = .regular, time: Timestamp = 10) throws(VaultError) -> InodeNumber {
        try tree.create(in: parent, name: n(name), kind: kind, permissions: 0o644, uid: 1, gid: 2, time: time).0
    }

    @Test func createLookupAndAttributes() throws {
        let file = try make(root, "a")
        let directory = try make(root, "d", .directory)
        #expect(try tree.lookup(root, n("a")) == file)
        let attributes = try tree.attributes(file)
        #expect(attributes.kind == .regular && attributes.nlink == 1 && attributes.mode == 0o100644)
        #expect(try tree.attributes(directory).nlink == 2)
        #expect(try tree.attributes(root).nlink == 3)
        #expect(try tree.attributes(root).mtime == 10)
        expectErrno(.exists) { try make(root, "a") }
        expectErrno(.notFound) { _ = try tree.lookup(root, n("missing")) }
        expectErrno(.notDirectory) { try make(file, "x") }
        #expect(file != directory && file >= 2)
    }

    @Test func unlinkAndRmdirFollowPosix() throws {
        let directory = try make(root, "d", .directory)
        try make(directory, "f")
        expectErrno(.isDirectory) { _ = try tree.unlink(root, name: n("d"), time: 20) }
        expectErrno(.notEmpty) { try tree.rmdir(root, name: n("d"), time: 20) }
        expectErrno(.notDirectory) { try tree.rmdir(directory, name: n("f"), time: 20) }
        let (_, freed) = try tree.unlink(directory, name: n("f"), time: 20)
        #expect(freed == .empty)
        try tree.rmdir(root, name: n("d"), time: 21)
        #expect(try tree.attributes(root).nlink == 2)
        expectErrno(.notFound) { _ = try tree.attributes(directory) }
    }

    @Test func hardLinksCountAndKeepTheInode() throws {
        let file = try make(root, "a")
        let directory = try make(root, "d", .directory)
        try tree.link(file, into: directory, name: n("b"), time: 30)
        #expect(try tree.attributes(file).nlink == 2 && tree.attributes(file).ctime == 30)
        expectErrno(.notPermitted) { try tree.link(directory, into: root, name: n("dl"), time: 31) }
        expectErrno(.exists) { try tree.link(file, into: root, name: n("a"), time: 31) }
        let (_, first) = try tree.unlink(root, name: n("a"), time: 32)
        #expect(first == nil)
        #expect(try tree.lookup(directory, n("b")) == file)
        let (_, last) = try tree.unlink(directory, name: n("b"), time: 33)
        #expect(last == .empty)
    }

    @Test func openUnlinkedInodeLivesUntilRelease() throws {
        let file = try make(root, "a")
        tree.isOpen = { $0 == file }
        let (_, freed) = try tree.unlink(root, name: n("a"), time: 40)
        #expect(freed == nil)
        #expect(try tree.attributes(file).nlink == 0)
        tree.isOpen = { _ in false }
        #expect(tree.release(file) != nil)
        expectErrno(.notFound) { _ = try tree.attributes(file) }
    }

    @Test func renameReplacesMovesAndRefusesCycles() throws {
        let a = try make(root, "a")
        let b = try make(root, "b")
        let d1 = try make(root, "d1", .directory)
        let d2 = try make(d1, "d2", .directory)
        // Replace a file: the old target goes away.
        let (_, freed) = try tree.rename(root, n("a"), to: root, n("b"), time: 50)
        #expect(freed == .empty)
        #expect(try tree.lookup(root, n("b")) == a)
        expectErrno(.notFound) { _ = try tree.attributes(b) }
        // Directory into its own subtree.
        expectErrno(.invalidArgument) { _ = try tree.rename(root, n("d1"), to: d2, n("x"), time: 51) }
        expectErrno(.invalidArgument) { _ = try tree.rename(root, n("d1"), to: d1, n("x"), time: 51) }
        // Kind mismatches and non-empty targets.
        let e = try make(root, "e", .directory)
        expectErrno(.notDirectory) { _ = try tree.rename(root, n("d1"), to: root, n("b"), time: 52) }
        expectErrno(.isDirectory) { _ = try tree.rename(root, n("b"), to: root, n("e"), time: 52) }
        expectErrno(.notEmpty) { _ = try tree.rename(root, n("e"), to: root, n("d1"), time: 52) }
        // Move a directory across parents: link counts follow.
        try tree.rename(d1, n("d2"), to: e, n("d2"), time: 53)
        #expect(try tree.attributes(d1).nlink == 2 && tree.attributes(e).nlink == 3)
        #expect(try tree.parent(ofDirectory: d2) == e)
        // Replace an empty directory.
        try tree.rename(root, n("d1"), to: e, n("d2"), time: 54)
        #expect(try tree.lookup(e, n("d2")) == d1)
        expectErrno(.notFound) { _ = try tree.attributes(d2) }
        #expect(try tree.attributes(root).nlink == 3)  // root, ".", e
        // Renaming onto itself (or another link of itself) changes nothing.
        try tree.rename(root, n("b"), to: root, n("b"), time: 55)
        #expect(try tree.lookup(root, n("b")) == a)
    }

    @Test func renameNoReplaceAndExchange() throws {
        let a = try make(root, "a")
        let d = try make(root, "d", .directory)
        let inner = try make(d, "inner", .directory)
        expectErrno(.exists) { _ = try tree.rename(root, n("a"), to: root, n("d"), mode: .noReplace, time: 60) }
        expectErrno(.notFound) { _ = try tree.rename(root, n("a"), to: root, n("zz"), mode: .exchange, time: 60) }
        expectErrno(.invalidArgument) { _ = try tree.rename(d, n("inner"), to: root, n("d"), mode: .exchange, time: 60) }
        try tree.rename(root, n("a"), to: d, n("inner"), mode: .exchange, time: 61)
        #expect(try tree.lookup(root, n("a")) == inner && tree.lookup(d, n("inner")) == a)
        #expect(try tree.parent(ofDirectory: inner) == root)
        #expect(try tree.attributes(d).nlink == 2 && tree.attributes(root).nlink == 4)
    }

    @Test func readdirCookiesSurviveConcurrentChanges() throws {
        let d = try make(root, "d", .directory)
        for i in 0 ..< 300 { try make(d, "f\(i)") }
        let firstPage = try tree.readdir(d, after: 0, limit: 100)
        #expect(firstPage.count == 100)
        // Between pages: remove entries already seen and not yet seen, add new ones.
        for i in stride(from: 0, to: 300, by: 3) { _ = try tree.unlink(d, name: n("f\(i)"), time: 70) }
        for i in 300 ..< 310 { try make(d, "f\(i)") }
        var seen = firstPage.map(\.name)
        var cookie = firstPage.last!.cookie
        while true {
            let page = try tree.readdir(d, after: cookie, limit: 37)
            guard let last = page.last else { break }
            seen += page.map(\.name)
            cookie = last.cookie
        }
        #expect(Set(seen).count == seen.count, "no entry is returned twice")
        let survivors = Set((0 ..< 310).filter { $0 % 3 != 0 || $0 >= 300 }.map { n("f\($0)") })
        #expect(survivors.isSubset(of: Set(seen)), "every entry present throughout is returned")
        #expect(try tree.readdir(d, after: 0).count == 210)
    }

    @Test func xattrsAndSymlinks() throws {
        let file = try make(root, "a")
        try tree.setXattr(file, "user.colour", Array("blue".utf8), time: 80)
        #expect(try tree.xattr(file, "user.colour") == Array("blue".utf8))
        #expect(try tree.xattrNames(file) == ["user.colour"])
        try tree.removeXattr(file, "user.colour", time: 81)
        expectErrno(.noAttribute) { _ = try tree.xattr(file, "user.colour") }
        expectErrno(.noAttribute) { try tree.removeXattr(file, "user.colour", time: 82) }
        let (link, _) = try tree.create(in: root, name: n("l"), kind: .symlink, permissions: 0o777, uid: 0, gid: 0,
                                        time: 83, symlinkTarget: [1, 2, 3], symlinkLength: 9)
        #expect(try tree.symlinkTarget(link) == [1, 2, 3])
        #expect(try tree.attributes(link).size == 9 && tree.attributes(link).mode == 0o120777)
        expectErrno(.invalidArgument) { _ = try tree.symlinkTarget(file) }
    }

    @Test func setAttributesAndContent() throws {
        let file = try make(root, "a")
        try tree.setAttributes(file, AttributeChanges(permissions: 0o4755, uid: 7, mtime: 5), time: 90)
        let attributes = try tree.attributes(file)
        #expect(attributes.permissions == 0o4755 && attributes.uid == 7 && attributes.gid == 2)
        #expect(attributes.mtime == 5 && attributes.ctime == 90)
        let block = BlockReference(id: .init(high: 1, low: 2), length: 100)
        try tree.setContent(file, .blocks([nil, block]), size: 4 << 20 + 100, time: 91)
        let (_, released) = try tree.setContent(file, .inline([1, 2]), size: 2, time: 92)
        #expect(released == [block])
        #expect(try tree.content(file) == .inline([1, 2]) && tree.attributes(file).size == 2)
    }
}
