import VaultCrypto

/// The children of one directory, keyed by sealed name, with readdir cookies that stay valid
/// while entries come and go: each insert takes the next cookie, removals leave tombstones
/// that are compacted away once they outnumber live entries.
struct DirectoryContents: Sendable {
    struct Child: Equatable, Sendable {
        var inode: InodeNumber
        var cookie: UInt64
    }

    let id: DirectoryID
    private(set) var children: [SealedName: Child] = [:]
    /// Insertion order by increasing cookie; nil marks a removed entry.
    private var order: [(cookie: UInt64, name: SealedName?)] = []
    private var tombstones = 0
    /// 1 and 2 are the cookies of "." and ".." in readdir.
    private(set) var nextCookie: UInt64 = 3

    init(id: DirectoryID) { self.id = id }

    var count: Int { children.count }
    var isEmpty: Bool { children.isEmpty }

    subscript(name: SealedName) -> InodeNumber? { children[name]?.inode }

    mutating func insert(_ name: SealedName, inode: InodeNumber) {
        precondition(children[name] == nil, "insert over an existing entry")
        children[name] = Child(inode: inode, cookie: nextCookie)
        order.append((nextCookie, name))
        nextCookie += 1
    }

    /// Points an existing entry at another inode, keeping its cookie (rename over a target).
    mutating func repoint(_ name: SealedName, to inode: InodeNumber) {
        children[name]!.inode = inode
    }

    @discardableResult
    mutating func remove(_ name: SealedName) -> InodeNumber? {
        guard let child = children.removeValue(forKey: name) else { return nil }
        if let position = position(ofCookie: child.cookie) {
            order[position].name = nil
            tombstones += 1
        }
        if tombstones > 64 && tombstones > children.count {
            order.removeAll { $0.name == nil }
            tombstones = 0
        }
        return child.inode
    }

    /// Up to `limit` entries whose cookie is greater than `cookie`, in cookie order.
    func entries(after cookie: UInt64, limit: Int) -> [(cookie: UInt64, name: SealedName, inode: InodeNumber)] {
        var result: [(cookie: UInt64, name: SealedName, inode: InodeNumber)] = []
        forEachEntry(after: cookie) { cookie, name, inode in
            result.append((cookie, name, inode))
            return result.count < limit
        }
        return result
    }

    /// Visits the entries whose cookie is greater than `cookie`, in cookie order, until
    /// `visit` returns false. Allocates nothing.
    func forEachEntry<Failure: Error>(after cookie: UInt64,
                                      _ visit: (UInt64, SealedName, InodeNumber) throws(Failure) -> Bool) throws(Failure) {
        var index = firstPosition(after: cookie)
        while index < order.count {
            if let name = order[index].name, let child = children[name] {
                guard try visit(order[index].cookie, name, child.inode) else { return }
            }
            index += 1
        }
    }

    /// Restores the cookie counter from a checkpoint, so cookies are never reused.
    mutating func restore(nextCookie: UInt64) {
        self.nextCookie = max(self.nextCookie, nextCookie)
    }

    /// Children in cookie order (checkpoints preserve it so cookies survive a remount).
    var orderedChildren: [(name: SealedName, inode: InodeNumber, cookie: UInt64)] {
        order.compactMap { slot in
            guard let name = slot.name, let child = children[name] else { return nil }
            return (name, child.inode, slot.cookie)
        }
    }

    /// Room for `count` children, so a checkpoint load does not rehash a large directory.
    mutating func reserveCapacity(_ count: Int) {
        children.reserveCapacity(count)
        order.reserveCapacity(count)
    }

    /// Re-inserts a child with its recorded cookie (checkpoint load, in cookie order).
    /// Returns false when the name was already present (a corrupt checkpoint; the loader
    /// throws and drops this directory), so the loader needs no separate lookup.
    @discardableResult
    mutating func restore(_ name: SealedName, inode: InodeNumber, cookie: UInt64) -> Bool {
        let previous = children.updateValue(Child(inode: inode, cookie: cookie), forKey: name)
        order.append((cookie, name))
        nextCookie = max(nextCookie, cookie + 1)
        return previous == nil
    }

    private func position(ofCookie cookie: UInt64) -> Int? {
        let index = firstPosition(after: cookie - 1)
        return index < order.count && order[index].cookie == cookie ? index : nil
    }

    /// Index of the first slot with a cookie greater than `cookie` (binary search).
    private func firstPosition(after cookie: UInt64) -> Int {
        var low = 0
        var high = order.count
        while low < high {
            let middle = (low + high) / 2
            if order[middle].cookie <= cookie { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
