@testable import Vault

/// Structural equality of two namespaces, for persistence tests: what a client could observe
/// (inodes, attributes, lookups, readdir order and cookies, symlink targets, contents, xattrs)
/// plus what must survive for the future (next inode, each directory's next cookie).
/// The `parent` field of non-directories is not compared: it is only meaningful for
/// directories ("..") and a snapshot does not keep it for anything else.
extension Namespace {
    func isEquivalent(to other: Namespace) -> Bool {
        difference(from: other) == nil
    }

    /// The first difference found, described for a test failure; nil when equivalent.
    func difference(from other: Namespace) -> String? {
        if nextInode != other.nextInode { return "next inode \(nextInode) vs \(other.nextInode)" }
        let inodes = nodes.keys.sorted()
        let otherInodes = other.nodes.keys.sorted()
        if inodes != otherInodes {
            let missing = Set(inodes).subtracting(otherInodes).sorted()
            let extra = Set(otherInodes).subtracting(inodes).sorted()
            return "inode sets differ: only left \(missing.prefix(10)), only right \(extra.prefix(10))"
        }
        for inode in inodes {
            if let difference = Self.difference(nodes[inode]!, other.nodes[inode]!) {
                return "inode \(inode): \(difference)"
            }
        }
        return nil
    }

    private static func difference(_ left: Node, _ right: Node) -> String? {
        if left.attributes != right.attributes { return "attributes \(left.attributes) vs \(right.attributes)" }
        if left.symlinkTarget != right.symlinkTarget { return "symlink targets differ" }
        if left.content != right.content { return "content \(left.content) vs \(right.content)" }
        if left.xattrs != right.xattrs { return "xattrs \(left.xattrs.keys.sorted()) vs \(right.xattrs.keys.sorted())" }
        switch (left.directory, right.directory) {
        case (nil, nil):
            return nil
        case let (leftContents?, rightContents?):
            if left.parent != right.parent { return "parent \(left.parent) vs \(right.parent)" }
            return difference(leftContents, rightContents)
        default:
            return "only one side is a directory"
        }
    }

    private static func difference(_ left: DirectoryContents, _ right: DirectoryContents) -> String? {
        if left.id != right.id { return "directory id \(left.id) vs \(right.id)" }
        if left.nextCookie != right.nextCookie { return "next cookie \(left.nextCookie) vs \(right.nextCookie)" }
        let leftChildren = left.orderedChildren
        let rightChildren = right.orderedChildren
        if leftChildren.count != rightChildren.count {
            return "\(leftChildren.count) vs \(rightChildren.count) children"
        }
        for (l, r) in zip(leftChildren, rightChildren) where l != r {
            return "child \(l.name.bytes) → \(l.inode) cookie \(l.cookie) vs \(r.name.bytes) → \(r.inode) cookie \(r.cookie)"
        }
        return nil
    }

    /// Every directory's readdir listing through the public API, for tests that want to check
    /// the observable surface rather than internals.
    func allListings() throws -> [InodeNumber: [DirectoryEntry]] {
        var listings: [InodeNumber: [DirectoryEntry]] = [:]
        for (inode, node) in nodes where node.isDirectory {
            listings[inode] = try readdir(inode, after: 0)
        }
        return listings
    }
}
