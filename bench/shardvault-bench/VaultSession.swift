import Foundation
import Vault
import VaultCrypto

/// A 4+2 vault over six directories under `root` (KDF `test`), opened and reopened by the
/// vault jobs. The directories are removed by whoever owns `root`.
final class VaultSession {
    static let dataShards = 4
    static let parityShards = 2
    static let password = Array("shardvault-bench: not a secret".utf8)

    let root: String
    let volumePaths: [String]
    let options: Vault.Options
    private(set) var vault: Vault?

    /// Creates a fresh vault under `root` (which must not hold one) and opens it.
    init(root: String, options: Vault.Options) throws {
        self.root = root
        volumePaths = (0 ..< Self.dataShards + Self.parityShards).map { "\(root)/volume\($0)" }
        self.options = options
        try Vault.create(volumePaths: volumePaths, dataShards: Self.dataShards, parityShards: Self.parityShards,
                         password: SecureBytes(copying: Self.password), strength: .test)
        try open()
    }

    static func options(cacheBytes: Int? = nil) -> Vault.Options {
        var options = Vault.Options()
        options.pool.healsInBackground = false
        if let cacheBytes { options.cacheBytes = cacheBytes }
        return options
    }

    var opened: Vault {
        guard let vault else { preconditionFailure("vault is closed") }
        return vault
    }

    func open() throws {
        precondition(vault == nil)
        vault = try Vault(volumePaths: volumePaths, password: SecureBytes(copying: Self.password), options: options)
    }

    /// Closes the vault (commit + checkpoint when anything changed).
    func close() throws {
        guard let vault else { return }
        self.vault = nil
        try vault.close()
    }

    /// Closes and opens again: a cold chunk cache and a namespace restored from the checkpoint.
    func reopen() throws {
        try close()
        try open()
    }

    deinit { try? close() }
}

/// A fresh temporary directory under `base`.
func makeTemporaryDirectory(under base: String, prefix: String) throws -> String {
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    var template = Array((base + "/\(prefix).XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { throw BenchError.io("mkdtemp in \(base)", errno) }
    return String(cString: made)
}

func humanBytes(_ bytes: Int) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { return "\(bytes >> 30)GiB" }
    return sizeLabel(bytes)
}

/// "10k", "1M", or the plain number.
func countLabel(_ count: Int) -> String {
    if count >= 1_000_000 && count % 1_000_000 == 0 { return "\(count / 1_000_000)M" }
    if count >= 1000 && count % 1000 == 0 { return "\(count / 1000)k" }
    return String(count)
}
