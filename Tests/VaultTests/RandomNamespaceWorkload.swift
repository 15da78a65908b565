import VaultCrypto
import VolumePool
@testable import Vault
import SeededRandom

/// Drives a namespace through random valid-or-refused operations using only the public
/// mutation API, and collects the records of those that succeeded. Names come from a small
/// pool so creates collide, renames replace and exchanges find targets.
struct RandomNamespaceWorkload {
    static let rootTime: Timestamp = 1_700_000_000_000_000_000

    let tree: Namespace
    let rootID: DirectoryID
    private(set) var records: [NamespaceRecord] = []
    private var random: SplitMix64
    private var time = rootTime
    private let namePool: [SealedName]

    init(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let rootID = DirectoryID(high: generator.next(), low: generator.next())
        var pool: [SealedName] = []
        for _ in 0 ..< 14 {
            let length = Int.random(in: 1 ... 24, using: &generator)
            pool.append(SealedName((0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }))
        }
        self.rootID = rootID
        tree = Namespace(rootID: rootID, time: Self.rootTime)
        namePool = pool
        random = generator
    }

    /// A fresh namespace in the state the live one started in, for replay.
    func freshNamespace() -> Namespace {
        Namespace(rootID: rootID, time: Self.rootTime)
    }

    /// One random operation; refused ones (POSIX errors) leave no record.
    mutating func step() {
        time += Int64.random(in: 0 ... 5_000, using: &random)
        do {
            if let record = try randomOperation() { records.append(record) }
        } catch {
            // A refused operation is part of the workload: it must change nothing.
        }
    }

    private mutating func randomOperation() throws(VaultError) -> NamespaceRecord? {
        switch Int.random(in: 0 ..< 100, using: &random) {
        case 0 ..< 22: return try create(.regular)
        case 22 ..< 32: return try create(.directory)
        case 32 ..< 35: return try create(.symlink)
        case 35 ..< 37: return try create(.fifo)
        case 37 ..< 44: return try link()
        case 44 ..< 54: return try unlinkOrRmdir()
        case 54 ..< 68: return try rename()
        case 68 ..< 74: return try setAttributes()
        case 74 ..< 86: return try setContent()
        case 86 ..< 94: return try setXattr()
        default: return try removeXattr()
        }
    }

    private mutating func create(_ kind: FileKind) throws(VaultError) -> NamespaceRecord {
        let target = kind == .symlink ? randomBytes(maximumCount: 40) : nil
        return try tree.create(in: randomDirectory(), name: randomName(), kind: kind,
                               permissions: UInt32.random(in: 0 ... 0o7777, using: &random),
                               uid: randomID(), gid: randomID(), time: time, symlinkTarget: target,
                               symlinkLength: UInt64(target?.count ?? 0) + 3).1
    }

    private mutating func link() throws(VaultError) -> NamespaceRecord {
        guard let entry = randomEntry(where: { $0.kind != .directory }) else {
            throw VaultError(.notFound, "no file to link")
        }
        return try tree.link(entry.inode, into: randomDirectory(), name: randomName(), time: time)
    }

    private mutating func unlinkOrRmdir() throws(VaultError) -> NamespaceRecord {
        guard let entry = randomEntry(where: { _ in true }) else { throw VaultError(.notFound, "empty tree") }
        if entry.kind == .directory { return try tree.rmdir(entry.parent, name: entry.name, time: time) }
        return try tree.unlink(entry.parent, name: entry.name, time: time).0
    }

    private mutating func rename() throws(VaultError) -> NamespaceRecord {
        guard let entry = randomEntry(where: { _ in true }) else { throw VaultError(.notFound, "empty tree") }
        let modes: [RenameMode] = [.replace, .replace, .noReplace, .exchange]
        let mode = modes.randomElement(using: &random)!
        // Half the time aim at an existing name, so replace and exchange have targets.
        let (toParent, toName): (InodeNumber, SealedName)
        if Bool.random(using: &random), let target = randomEntry(where: { _ in true }) {
            (toParent, toName) = (target.parent, target.name)
        } else {
            (toParent, toName) = (randomDirectory(), randomName())
        }
        return try tree.rename(entry.parent, entry.name, to: toParent, toName, mode: mode, time: time).0
    }

    private mutating func setAttributes() throws(VaultError) -> NamespaceRecord {
        let inode = randomInode()
        var changes = AttributeChanges()
        if Bool.random(using: &random) { changes.permissions = UInt32.random(in: 0 ... 0o7777, using: &random) }
        if Bool.random(using: &random) { changes.uid = randomID() }
        if Bool.random(using: &random) { changes.gid = randomID() }
        if Bool.random(using: &random) { changes.atime = time - Int64.random(in: 0 ... 1 << 40, using: &random) }
        if Bool.random(using: &random) { changes.mtime = Int64.random(in: .min ... .max, using: &random) }
        return try tree.setAttributes(inode, changes, time: time)
    }

    private mutating func setContent() throws(VaultError) -> NamespaceRecord {
        guard let entry = randomEntry(where: { $0.kind == .regular }) else { throw VaultError(.notFound, "no file") }
        let content: FileContent
        if Bool.random(using: &random) {
            content = .inline(randomBytes(maximumCount: 64))
        } else {
            content = .blocks((0 ..< Int.random(in: 0 ... 6, using: &random)).map { _ in
                Bool.random(using: &random) ? nil : BlockReference(
                    id: ObjectID(high: random.next(), low: random.next()),
                    length: UInt32.random(in: 1 ... 4 << 20, using: &random))
            })
        }
        return try tree.setContent(entry.inode, content, size: UInt64.random(in: 0 ... 1 << 40, using: &random),
                                   time: time).0
    }

    private mutating func setXattr() throws(VaultError) -> NamespaceRecord {
        let name = ["user.a", "user.colour", "user.é", "user.tags"].randomElement(using: &random)!
        return try tree.setXattr(randomInode(), name, randomBytes(maximumCount: 30), time: time)
    }

    private mutating func removeXattr() throws(VaultError) -> NamespaceRecord {
        let inode = randomInode()
        guard let name = try tree.xattrNames(inode).randomElement(using: &random) else {
            throw VaultError(.noAttribute, "nothing to remove")
        }
        return try tree.removeXattr(inode, name, time: time)
    }

    // MARK: Choosing

    private mutating func randomName() -> SealedName { namePool.randomElement(using: &random)! }

    private mutating func randomID() -> UInt32 {
        Bool.random(using: &random) ? UInt32.random(in: 0 ... 2000, using: &random) : .random(in: 0 ... .max, using: &random)
    }

    private mutating func randomBytes(maximumCount: Int) -> [UInt8] {
        (0 ..< Int.random(in: 0 ... maximumCount, using: &random)).map { _ in UInt8.random(in: 0 ... 255, using: &random) }
    }

    /// Sorted, so the choice depends on the seed only, not on hash-table order.
    private mutating func randomInode() -> InodeNumber {
        tree.nodes.keys.sorted().randomElement(using: &random)!
    }

    private mutating func randomDirectory() -> InodeNumber {
        tree.nodes.filter { $0.value.isDirectory }.keys.sorted().randomElement(using: &random)!
    }

    private mutating func randomEntry(
        where accept: (DirectoryEntry) -> Bool
    ) -> (parent: InodeNumber, name: SealedName, inode: InodeNumber, kind: FileKind)? {
        var candidates: [(parent: InodeNumber, name: SealedName, inode: InodeNumber, kind: FileKind)] = []
        for directory in tree.nodes.filter({ $0.value.isDirectory }).keys.sorted() {
            for entry in try! tree.readdir(directory, after: 0) where accept(entry) {
                candidates.append((directory, entry.name, entry.inode, entry.kind))
            }
        }
        return candidates.randomElement(using: &random)
    }
}
