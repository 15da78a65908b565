import Foundation
import Testing
import VaultCrypto
@testable import Vault

/// A vault over temporary volume directories, removed afterwards.
final class VaultFixture {
    let root: String
    let volumePaths: [String]
    static let password = Array("correct horse battery staple".utf8)
    private(set) var vault: Vault!

    init(k: Int = 4, m: Int = 2, options: Vault.Options = VaultFixture.fastOptions) throws {
        let template = NSTemporaryDirectory() + "shardvault-vault-XXXXXX"
        var bytes = Array(template.utf8CString)
        let root = bytes.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        self.root = root
        volumePaths = (0 ..< k + m).map { "\(root)/vol\($0)" }
        do {
            try Vault.create(volumePaths: volumePaths, dataShards: k, parityShards: m,
                             password: SecureBytes(copying: Self.password), strength: .test)
            vault = try Vault(volumePaths: volumePaths, password: SecureBytes(copying: Self.password), options: options)
        } catch {
            try? FileManager.default.removeItem(atPath: root)  // a failed set-up leaves nothing behind
            throw error
        }
    }

    static var fastOptions: Vault.Options {
        var options = Vault.Options()
        options.pool.healsInBackground = false
        options.commitInterval = 0.02
        return options
    }

    func reopen(options: Vault.Options = VaultFixture.fastOptions) throws {
        try vault.close()
        vault = try Vault(volumePaths: volumePaths, password: SecureBytes(copying: Self.password), options: options)
    }

    /// Stops the vault as a crash would (nothing more is committed, the handles stay open)
    /// and opens the volumes again in a second vault, which the caller closes.
    func crashAndReopen(options: Vault.Options = VaultFixture.fastOptions) throws -> Vault {
        vault.journal.abandonForTesting()
        vault.pool.close()
        return try Vault(volumePaths: volumePaths, password: SecureBytes(copying: Self.password), options: options)
    }

    deinit {
        try? vault?.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A new empty regular file (0644, owned by root) in the root directory.
    func newFile(_ name: String) throws(VaultError) -> InodeNumber {
        try vault.mknod(Namespace.rootInode, name, kind: .regular, permissions: 0o644, uid: 0, gid: 0).0
    }

    /// The inode at `path` (components below the root).
    func resolve(_ path: [String]) throws(VaultError) -> InodeNumber {
        var inode = Namespace.rootInode
        for component in path { inode = try vault.lookup(inode, component).0 }
        return inode
    }

    /// The whole content of a regular file.
    func contents(_ inode: InodeNumber) throws -> [UInt8] {
        try Self.contents(inode, in: vault)
    }

    /// The whole content of a regular file of `vault` (one opened next to the fixture's).
    static func contents(_ inode: InodeNumber, in vault: Vault) throws -> [UInt8] {
        let handle = try vault.open(inode)
        defer { try? vault.release(handle) }
        let size = Int(vault.size(of: handle))
        var bytes = [UInt8](repeating: 0, count: size)
        let read = try bytes.withMutableVaultBytes { (raw) throws(VaultError) in try vault.read(handle, at: 0, into: raw) }
        #expect(read == size)
        return bytes
    }

    func write(_ inode: InodeNumber, at offset: UInt64, _ bytes: [UInt8]) throws {
        let handle = try vault.open(inode)
        defer { try? vault.release(handle) }
        try bytes.withVaultBytes { (raw) throws(VaultError) in try vault.write(handle, at: offset, raw) }
    }
}
