import VaultCrypto

/// One directory entry as `Vault.visitEntries` shows it. `name` (plaintext UTF-8, not
/// NUL-terminated) is borrowed from the caller's scratch buffer and valid only during the visit.
public struct EntryView {
    public let cookie: UInt64
    public let name: UnsafeRawBufferPointer
    public let inode: InodeNumber
    /// As recorded in the namespace. For a file open for writing the size may lag behind
    /// (`sizeMayBeStale`); `attributes(_:)` gives the current one.
    public let attributes: NodeAttributes
    public let sizeMayBeStale: Bool
}

/// Directory listing without allocation per entry, for the FUSE door's readdir(plus).
extension Vault {
    /// Bytes `visitEntries` needs in `nameScratch`: the longest plaintext name.
    public static let nameScratchBytes = NameCipher.maximumNameBytes

    /// Visits the entries of directory `inode` after `cookie` (0 = from the start) in cookie
    /// order until `visit` returns false, decrypting each name into `nameScratch`.
    ///
    /// Runs under the namespace lock: `visit` must be quick and must not call the vault.
    public func visitEntries(_ inode: InodeNumber, after cookie: UInt64, nameScratch: UnsafeMutableRawBufferPointer,
                             _ visit: (EntryView) -> Bool) throws(VaultError) {
        precondition(nameScratch.count >= Self.nameScratchBytes, "name scratch too small")
        try read { (namespace) throws(VaultError) in
            let directoryID = try namespace.directoryID(inode)
            try namespace.forEachEntry(inode, after: cookie) { (cookie, name, child, attributes) throws(VaultError) in
                let length = try name.bytes.withVaultBytes { (sealed) throws(VaultError) in
                    try Self.wrapCrypto { () throws(CryptoError) in try names.decrypt(sealed, parent: directoryID, into: nameScratch) }
                }
                return visit(EntryView(cookie: cookie, name: UnsafeRawBufferPointer(rebasing: nameScratch[..<length]),
                                       inode: child, attributes: attributes,
                                       sizeMayBeStale: attributes.kind == .regular && openFiles.file(child) != nil))
            }
        }
    }
}
