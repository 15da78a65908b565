import VaultCrypto
import VolumePool

// Key-file administration for the CLI (`status`, `passwd`): reading the public part of the key
// file without a password, and changing the password by re-wrapping the master keys. Nothing
// else of the vault is opened, so neither needs the namespace or the journal.

extension Vault {
    /// The newest readable key file of the vault whose pool is `pool`, without unlocking it
    /// (its KDF strength and content cipher are public). Nil when the pool holds no key file
    /// at all (a bare storage pool); throws when key files exist but none can be read.
    public static func storedKeyFile(in pool: VolumePool) throws(VaultError) -> KeyFile? {
        do {
            return try KeyFileSlots(pool: pool).load().first?.file
        } catch where error.code == .notFound {
            return nil
        }
    }

    /// Changes the vault's password: the same master keys, re-wrapped under `new` with a fresh
    /// salt and `strength` (nil keeps the current strength). Nothing but the key file is
    /// rewritten. Throws `VaultError(.accessDenied, "wrong password")` when `old` opens no key
    /// file. Returns the new key file.
    @discardableResult
    public static func changePassword(volumePaths: [String], old: borrowing SecureBytes, new: borrowing SecureBytes,
                                      strength: KDFStrength? = nil,
                                      poolOptions: VolumePool.Options = .init()) throws(VaultError) -> KeyFile {
        let pool = try openPool(volumePaths, options: poolOptions)
        defer { pool.close() }
        let slots = KeyFileSlots(pool: pool)
        // Newest first, like `unlock`: the first key file the old password opens is re-wrapped.
        let (current, rewrapped) = try slots.firstOpening { (file) throws(CryptoError) in
            try file.rewrapped(oldPassword: old, newPassword: new, strength: strength ?? file.strength)
        }
        try slots.replace(current, with: rewrapped)
        return rewrapped
    }
}
