import Foundation
import Testing
@testable import Vault
import SeededRandom

/// Random namespace and data operations against the Vault and the reference model; names,
/// attributes and every byte must agree throughout, and after close + reopen.
@Suite(.serialized) struct DifferentialTests {
    static let names = ["a", "b", "c", "dir", "Ünï", "x.txt", "ζ"]

    struct Runner {
        let fixture: VaultFixture
        let model = ReferenceFileSystem()
        var random: SplitMix64
        let seed: UInt64

        init(seed: UInt64) throws {
            self.seed = seed
            random = SplitMix64(seed: seed)
            fixture = try VaultFixture()
        }

        mutating func randomPath(depth: Int = 3) -> [String] {
            (0 ..< Int.random(in: 1 ... depth, using: &random)).map { _ in Self.pick(names, &random) }
        }

        static func pick<T>(_ items: [T], _ random: inout SplitMix64) -> T { items[Int.random(in: 0 ..< items.count, using: &random)] }

        /// Prefers paths that exist, so operations do more than fail.
        mutating func existingOrRandomPath() -> [String] {
            let existing = model.allPaths()
            if !existing.isEmpty && Bool.random(using: &random) { return Self.pick(existing, &random) }
            return randomPath()
        }

        var vault: Vault { fixture.vault }

        /// Resolves the parent like a kernel path walk: a parent that is not a directory is
        /// ENOTDIR right away, before any other path of the call is looked at.
        func parentInode(_ path: [String]) throws(VaultError) -> InodeNumber {
            let parent = try fixture.resolve(Array(path.dropLast()))
            guard try vault.attributes(parent).kind == .directory else { throw VaultError(.notDirectory, "parent is not a directory") }
            return parent
        }

        mutating func step(_ index: Int) throws {
            if let trace = ProcessInfo.processInfo.environment["SHARDVAULT_TRACE_STEP"], Int(trace) == index {
                for path in model.allPaths() {
                    let kind = model.resolve(path)!.kind
                    let vaultKind = (try? vault.attributes(try fixture.resolve(path)))?.kind
                    print("TRACE \(path) model \(kind) vault \(String(describing: vaultKind))")
                }
            }
            let roll = Int.random(in: 0 ..< 100, using: &random)
            let path = existingOrRandomPath()
            let other = existingOrRandomPath()
            var description = ""
            let expected: VaultError.Code?
            let actual: VaultError.Code?
            switch roll {
            case 0 ..< 15:
                description = "mkdir \(path)"
                expected = outcome { () throws(VaultError.Code) in try model.create(path, kind: .directory, permissions: 0o755) }
                actual = outcome { () throws(VaultError) in _ = try vault.mkdir(try parentInode(path), path.last!, permissions: 0o755, uid: 0, gid: 0) }
            case 15 ..< 30:
                description = "create \(path)"
                expected = outcome { () throws(VaultError.Code) in try model.create(path, kind: .regular, permissions: 0o644) }
                actual = outcome { () throws(VaultError) in _ = try vault.mknod(try parentInode(path), path.last!, kind: .regular, permissions: 0o644, uid: 0, gid: 0) }
            case 30 ..< 50:
                let offset = Bool.random(using: &random) ? Int.random(in: 0 ..< 5000, using: &random)
                    : OpenFile.blockSize - Int.random(in: 0 ..< 3000, using: &random)
                let count = Bool.random(using: &random) ? Int.random(in: 1 ..< 3000, using: &random) : Int.random(in: 30_000 ..< 70_000, using: &random)
                let bytes = (0 ..< count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
                description = "write \(path) at \(offset) (\(count) bytes)"
                expected = outcome { () throws(VaultError.Code) in try model.write(path, at: offset, bytes) }
                actual = outcome { () throws(VaultError) in
                    let inode = try fixture.resolve(path)
                    let attributes = try vault.attributes(inode)
                    guard attributes.kind == .regular else {
                        throw VaultError(attributes.kind == .directory ? .isDirectory : .invalidArgument, "not a file")
                    }
                    try rethrowing { try fixture.write(inode, at: UInt64(offset), bytes) }
                }
            case 50 ..< 58:
                let size = Int.random(in: 0 ..< 6000, using: &random) + (Bool.random(using: &random) ? OpenFile.blockSize : 0)
                description = "truncate \(path) to \(size)"
                expected = outcome { () throws(VaultError.Code) in try model.truncate(path, to: size) }
                actual = outcome { () throws(VaultError) in
                    let inode = try fixture.resolve(path)
                    let attributes = try vault.attributes(inode)
                    guard attributes.kind == .regular else {
                        throw VaultError(attributes.kind == .directory ? .isDirectory : .invalidArgument, "not a file")
                    }
                    try vault.truncate(inode, to: UInt64(size))
                }
            case 58 ..< 68:
                description = "unlink \(path)"
                expected = outcome { () throws(VaultError.Code) in try model.unlink(path) }
                actual = outcome { () throws(VaultError) in try vault.unlink(try parentInode(path), path.last!) }
            case 68 ..< 75:
                description = "rmdir \(path)"
                expected = outcome { () throws(VaultError.Code) in try model.rmdir(path) }
                actual = outcome { () throws(VaultError) in try vault.rmdir(try parentInode(path), path.last!) }
            case 75 ..< 88:
                let mode = Self.pick([RenameMode.replace, .replace, .noReplace, .exchange], &random)
                description = "rename \(path) -> \(other) \(mode)"
                expected = outcome { () throws(VaultError.Code) in try model.rename(path, other, mode: mode) }
                actual = outcome { () throws(VaultError) in
                    try vault.rename(try parentInode(path), path.last!, to: try parentInode(other), other.last!, mode: mode)
                }
            case 88 ..< 93:
                description = "link \(path) -> \(other)"
                expected = outcome { () throws(VaultError.Code) in try model.link(path, other) }
                actual = outcome { () throws(VaultError) in _ = try vault.link(try fixture.resolve(path), into: try parentInode(other), other.last!) }
            case 93 ..< 96:
                let target = other.joined(separator: "/")
                description = "symlink \(path) -> \(target)"
                expected = outcome { () throws(VaultError.Code) in try model.create(path, kind: .symlink, permissions: 0o777, target: target) }
                actual = outcome { () throws(VaultError) in _ = try vault.symlink(try parentInode(path), path.last!, target: target, uid: 0, gid: 0) }
            default:
                let value = Array("v\(index)".utf8)
                description = "setxattr \(path)"
                expected = outcome { () throws(VaultError.Code) in try model.lookup(path).xattrs["user.k"] = value }
                actual = outcome { () throws(VaultError) in try vault.setXattr(try fixture.resolve(path), "user.k", value) }
            }
            #expect(expected == actual, "step \(index) (seed \(seed)): \(description): model \(String(describing: expected)), vault \(String(describing: actual))")
        }

        /// Compares the whole tree: names, kinds, sizes, link counts, targets, xattrs, bytes.
        func compareTrees(_ label: String) throws {
            for path in model.allPaths() {
                let node = model.resolve(path)!
                let inode = try fixture.resolve(path)
                let attributes = try vault.attributes(inode)
                let context = "\(label) (seed \(seed)) \(path)"
                #expect(attributes.kind == node.kind, "\(context) kind")
                switch node.kind {
                case .regular:
                    #expect(attributes.size == UInt64(node.bytes.count), "\(context) size")
                    #expect(attributes.nlink == UInt32(node.links), "\(context) nlink")
                    #expect(try fixture.contents(inode) == node.bytes, "\(context) bytes")
                case .directory:
                    let names = Set(try vault.readdir(inode, after: 0).map(\.name))
                    #expect(names == Set(node.children.keys), "\(context) entries")
                case .symlink:
                    #expect(try vault.readlink(inode) == node.target, "\(context) target")
                case .fifo:
                    break
                }
                #expect(Set(try vault.listXattrs(inode)) == Set(node.xattrs.keys), "\(context) xattrs")
            }
            let rootNames = Set(try vault.readdir(Namespace.rootInode, after: 0).map(\.name))
            #expect(rootNames == Set(model.root.children.keys), "\(label) (seed \(seed)) root entries")
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func randomOperationsAgreeWithTheModel(seed: UInt64) throws {
        var runner = try Runner(seed: seed)
        let steps = 2_600
        let compareEvery = Int(ProcessInfo.processInfo.environment["SHARDVAULT_COMPARE_EVERY"] ?? "") ?? 500
        for index in 0 ..< steps {
            try runner.step(index)
            if index % compareEvery == compareEvery - 1 { try runner.compareTrees("after step \(index)") }
            if index % 900 == 899 {
                try runner.fixture.reopen()
                try runner.compareTrees("after reopen at step \(index)")
            }
        }
        try runner.fixture.reopen()
        try runner.compareTrees("final reopen")
    }
}

func outcome(_ body: () throws(VaultError.Code) -> Void) -> VaultError.Code? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

func outcome(_ body: () throws(VaultError) -> Void) -> VaultError.Code? {
    do {
        try body()
        return nil
    } catch {
        return error.code
    }
}

/// Runs untyped-throwing test helpers inside typed-throwing closures.
func rethrowing(_ body: () throws -> Void) throws(VaultError) {
    do {
        try body()
    } catch let error as VaultError {
        throw error
    } catch {
        throw VaultError(.io, "\(error)")
    }
}

