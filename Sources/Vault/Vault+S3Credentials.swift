import VolumePool

// The S3 door's key pair, kept in the pool as a sealed metadata object of its own kind, so it
// is encrypted with the vault's metadata key, erasure-coded like everything else, and named by
// an id only the key holder can compute (invariant I1). The vault does not interpret the
// bytes: the S3 door owns their format (docs/S3.md, "Credentials"). Like the key file, two
// slots alternate so that a crash while rotating never leaves neither readable.
//
// Stored plaintext: 8 bytes generation (little endian), then the S3 door's bytes.
extension Vault {
    /// The newest stored S3 credential blob, or nil when none was ever stored.
    public func storedS3Credentials() throws(VaultError) -> [UInt8]? {
        try newestS3CredentialSlot()?.payload
    }

    /// Stores `payload` as the new S3 credential blob, durably, replacing the previous one.
    public func storeS3Credentials(_ payload: [UInt8]) throws(VaultError) {
        if let readOnlyReason { throw VaultError(.readOnly, readOnlyReason) }
        let current = try newestS3CredentialSlot()
        let slot: UInt64 = current.map { 1 - $0.slot } ?? 0
        let generation = (current?.generation ?? 0) + 1
        var plaintext = withUnsafeBytes(of: generation.littleEndian) { Array($0) }
        plaintext += payload
        try journal.store.write(plaintext, kind: .s3Credentials, sequence: slot)
        journal.store.remove(kind: .s3Credentials, sequence: 1 - slot)
    }

    private func newestS3CredentialSlot() throws(VaultError) -> (slot: UInt64, generation: UInt64, payload: [UInt8])? {
        var newest: (slot: UInt64, generation: UInt64, payload: [UInt8])?
        var failure: VaultError?
        for slot: UInt64 in [0, 1] {
            do {
                guard let plaintext = try journal.store.read(kind: .s3Credentials, sequence: slot), plaintext.count >= 8 else { continue }
                let generation = plaintext.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
                if newest == nil || generation > newest!.generation {
                    newest = (slot, generation, Array(plaintext.dropFirst(8)))
                }
            } catch {
                failure = error
            }
        }
        // One unreadable slot is tolerated when the other one is intact (a torn rotation).
        if newest == nil, let failure { throw failure }
        return newest
    }
}

extension Vault {
    /// Both slots' object ids, so `fsck` counts them as metadata and never removes them as orphans.
    var s3CredentialObjectIDs: [ObjectID] {
        [0, 1].map { journal.store.protection.objectID(kind: .s3Credentials, sequence: $0) }
    }
}
