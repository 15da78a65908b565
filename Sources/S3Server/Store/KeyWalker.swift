import Vault

/// Walks a bucket's tree and yields its keys in UTF-8 byte order of full keys, the order of
/// S3 listings. Within a directory, a file "a.txt" sorts by its name and a directory "a" by
/// "a/", and every key below "a/" begins with "a/": so visiting entries in that order, depth
/// first, gives the global order ("a.txt" < "a/b", since "." < "/"). Whole subtrees outside
/// the prefix or before the marker are skipped without being read.
struct KeyWalker {
    enum Entry {
        case object(key: String, inode: InodeNumber, attributes: NodeAttributes)
        case commonPrefix(String)

        var key: String {
            switch self {
            case let .object(key, _, _): return key
            case let .commonPrefix(prefix): return prefix
            }
        }
    }

    let vault: Vault
    let prefix: String
    let delimiter: String?
    /// Keys and common prefixes up to and including this are left out.
    let marker: String?
    let limit: Int

    private(set) var entries: [Entry] = []
    private(set) var isTruncated = false
    private var lastCommonPrefix: String?

    init(vault: Vault, prefix: String, delimiter: String?, marker: String?, limit: Int) {
        self.vault = vault
        self.prefix = prefix
        self.delimiter = delimiter.flatMap { $0.isEmpty ? nil : $0 }
        self.marker = marker.flatMap { $0.isEmpty ? nil : $0 }
        self.limit = limit
    }

    /// Walks from the bucket's directory; afterwards `entries` and `isTruncated` hold the page.
    mutating func walk(bucket: InodeNumber) throws(VaultError) {
        _ = try walk(directory: bucket, keyPrefix: "")
    }

    /// Returns false once the page is full.
    private mutating func walk(directory: InodeNumber, keyPrefix: String) throws(VaultError) -> Bool {
        let children = try vault.readdir(directory, after: 0)
            .filter { $0.kind == .directory || $0.kind == .regular }
            .map { (sortKey: keyPrefix + $0.name + ($0.kind == .directory ? "/" : ""), entry: $0) }
            .sorted { $0.sortKey.utf8.lexicographicallyPrecedes($1.sortKey.utf8) }
        for child in children {
            let key = child.sortKey
            if child.entry.kind == .directory {
                guard key.hasPrefix(prefix) || prefix.hasPrefix(key) else { continue }
                if let marker, !marker.hasPrefix(key), !Self.isAfter(key, marker) { continue }
                if key.hasPrefix(prefix), let common = commonPrefix(of: key) {
                    // Everything below rolls up into one common prefix (for "/", the directory itself).
                    guard emit(.commonPrefix(common)) else { return false }
                    continue
                }
                guard try walk(directory: child.entry.inode, keyPrefix: key) else { return false }
            } else {
                guard key.hasPrefix(prefix) else { continue }
                if let marker, !Self.isAfter(key, marker) { continue }
                if let common = commonPrefix(of: key) {
                    guard emit(.commonPrefix(common)) else { return false }
                    continue
                }
                let attributes = try vault.attributes(child.entry.inode)
                guard emit(.object(key: key, inode: child.entry.inode, attributes: attributes)) else { return false }
            }
        }
        return true
    }

    /// The key cut after the first delimiter following the prefix, if it has one there.
    private func commonPrefix(of key: String) -> String? {
        guard let delimiter else { return nil }
        let rest = key.utf8.dropFirst(prefix.utf8.count)
        let delimiterBytes = Array(delimiter.utf8)
        guard let start = Self.firstIndex(of: delimiterBytes, in: rest) else { return nil }
        let end = rest.index(start, offsetBy: delimiterBytes.count)
        return String(decoding: key.utf8[..<end], as: UTF8.self)
    }

    /// Adds an entry unless it repeats the last common prefix or is at/before the marker;
    /// false when the page was already full (the listing is truncated).
    private mutating func emit(_ entry: Entry) -> Bool {
        if case let .commonPrefix(common) = entry {
            if common == lastCommonPrefix { return true }
            if let marker, !Self.isAfter(common, marker) { return true }
        }
        guard entries.count < limit else {
            isTruncated = true
            return false
        }
        if case let .commonPrefix(common) = entry { lastCommonPrefix = common }
        entries.append(entry)
        return true
    }

    static func isAfter(_ key: String, _ marker: String) -> Bool {
        marker.utf8.lexicographicallyPrecedes(key.utf8)
    }

    private static func firstIndex(of needle: [UInt8], in haystack: Substring.UTF8View) -> Substring.UTF8View.Index? {
        guard !needle.isEmpty else { return nil }
        var index = haystack.startIndex
        while index != haystack.endIndex {
            if haystack[index...].starts(with: needle) { return index }
            index = haystack.index(after: index)
        }
        return nil
    }
}
