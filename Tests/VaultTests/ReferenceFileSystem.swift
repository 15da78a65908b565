@testable import Vault

/// A deliberately simple in-memory POSIX model: plaintext names, whole-file byte arrays,
/// paths instead of inodes. The differential test runs the same operations here and on a
/// real Vault and demands the same outcome.
final class ReferenceFileSystem {
    final class Node {
        var kind: FileKind
        var permissions: UInt32
        var bytes: [UInt8] = []
        var target = ""
        var children: [String: Node] = [:]
        var links = 1
        var xattrs: [String: [UInt8]] = [:]

        init(kind: FileKind, permissions: UInt32) {
            self.kind = kind
            self.permissions = permissions
        }
    }

    let root = Node(kind: .directory, permissions: 0o755)

    func resolve(_ path: [String]) -> Node? {
        try? lookup(path)
    }

    /// The node at `path`: ENOENT for a missing component, ENOTDIR for a path through a file.
    func lookup(_ path: [String]) throws(VaultError.Code) -> Node {
        var node = root
        for component in path {
            guard node.kind == .directory else { throw .notDirectory }
            guard let child = node.children[component] else { throw .notFound }
            node = child
        }
        return node
    }

    /// The parent directory of `path`, or the error a real filesystem gives.
    func parent(of path: [String]) throws(VaultError.Code) -> Node {
        let parent = try lookup(Array(path.dropLast()))
        guard parent.kind == .directory else { throw .notDirectory }
        return parent
    }

    func create(_ path: [String], kind: FileKind, permissions: UInt32, target: String = "") throws(VaultError.Code) {
        let parent = try parent(of: path)
        guard parent.children[path.last!] == nil else { throw .exists }
        let node = Node(kind: kind, permissions: kind == .symlink ? 0o777 : permissions)
        node.target = target
        parent.children[path.last!] = node
    }

    func write(_ path: [String], at offset: Int, _ bytes: [UInt8]) throws(VaultError.Code) {
        let node = try lookup(path)
        guard node.kind == .regular else { throw node.kind == .directory ? .isDirectory : .invalidArgument }
        if node.bytes.count < offset + bytes.count {
            node.bytes += [UInt8](repeating: 0, count: offset + bytes.count - node.bytes.count)
        }
        node.bytes.replaceSubrange(offset ..< offset + bytes.count, with: bytes)
    }

    func truncate(_ path: [String], to size: Int) throws(VaultError.Code) {
        let node = try lookup(path)
        guard node.kind == .regular else { throw node.kind == .directory ? .isDirectory : .invalidArgument }
        if size < node.bytes.count { node.bytes.removeSubrange(size...) } else {
            node.bytes += [UInt8](repeating: 0, count: size - node.bytes.count)
        }
    }

    func unlink(_ path: [String]) throws(VaultError.Code) {
        let parent = try parent(of: path)
        guard let node = parent.children[path.last!] else { throw .notFound }
        guard node.kind != .directory else { throw .isDirectory }
        parent.children[path.last!] = nil
        node.links -= 1
    }

    func rmdir(_ path: [String]) throws(VaultError.Code) {
        let parent = try parent(of: path)
        guard let node = parent.children[path.last!] else { throw .notFound }
        guard node.kind == .directory else { throw .notDirectory }
        guard node.children.isEmpty else { throw .notEmpty }
        parent.children[path.last!] = nil
    }

    func link(_ existing: [String], _ path: [String]) throws(VaultError.Code) {
        let node = try lookup(existing)
        let parent = try parent(of: path)
        guard node.kind != .directory else { throw .notPermitted }
        guard parent.children[path.last!] == nil else { throw .exists }
        parent.children[path.last!] = node
        node.links += 1
    }

    func rename(_ from: [String], _ to: [String], mode: RenameMode) throws(VaultError.Code) {
        // Like renameat2: both parent paths resolve before either entry is looked at.
        let fromParent = try parent(of: from)
        let toParent = try parent(of: to)
        guard let source = fromParent.children[from.last!] else { throw .notFound }
        let target = toParent.children[to.last!]
        if source.kind == .directory && isPrefix(from, of: Array(to.dropLast())) { throw .invalidArgument }
        switch mode {
        case .exchange:
            guard let target else { throw .notFound }
            if target.kind == .directory && isPrefix(to, of: Array(from.dropLast())) { throw .invalidArgument }
            fromParent.children[from.last!] = target
            toParent.children[to.last!] = source
            return
        case .noReplace:
            if target != nil { throw .exists }
        case .replace:
            if let target {
                if target === source { return }
                if source.kind == .directory && target.kind != .directory { throw .notDirectory }
                if source.kind != .directory && target.kind == .directory { throw .isDirectory }
                if target.kind == .directory && !target.children.isEmpty { throw .notEmpty }
                target.links -= 1
            }
        }
        fromParent.children[from.last!] = nil
        toParent.children[to.last!] = source
    }

    private func isPrefix(_ prefix: [String], of path: [String]) -> Bool {
        path.count >= prefix.count && Array(path.prefix(prefix.count)) == prefix
    }

    /// Every path in the tree, parents before children.
    func allPaths() -> [[String]] {
        var result: [[String]] = []
        func walk(_ node: Node, _ path: [String]) {
            for name in node.children.keys.sorted() {
                let child = node.children[name]!
                result.append(path + [name])
                if child.kind == .directory { walk(child, path + [name]) }
            }
        }
        walk(root, [])
        return result
    }
}

/// The model throws bare codes; they compare directly with a vault error's `code`.
extension VaultError.Code: Error {}
