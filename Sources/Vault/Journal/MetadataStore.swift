import VolumePool

/// Reads and writes sealed metadata objects (superblocks, checkpoints, journal segments) in
/// the pool, under ids only the key holder can compute.
struct MetadataStore: Sendable {
    let pool: VolumePool
    let protection: any MetadataProtection

    func write(_ plaintext: [UInt8], kind: MetadataKind, sequence: UInt64, durable: Bool = true) throws(VaultError) {
        let id = protection.objectID(kind: kind, sequence: sequence)
        do {
            let sealed = try protection.seal(plaintext, kind: kind, sequence: sequence)
            try pool.put(id, bytes: sealed, durable: durable)
        } catch {
            throw VaultError(poolFailure: error, context: "writing \(kind) \(sequence)")
        }
    }

    /// Makes everything written to the volumes so far durable (one flush per filesystem).
    func flush() throws(VaultError) {
        do {
            try pool.sync()
        } catch {
            throw VaultError(poolFailure: error, context: "flushing the volumes")
        }
    }

    /// Why a metadata object could not be read.
    enum ReadFailure: Error {
        /// Fewer than k intact shards: lost, or torn by a crash in the middle of its write.
        case unreadable(VaultError)
        /// The bytes are there but fail authentication: tampering, never a crash.
        case unauthentic(VaultError)

        var error: VaultError {
            switch self {
            case let .unreadable(error), let .unauthentic(error): return error
            }
        }
    }

    /// The plaintext of a metadata object, or nil when it does not exist.
    func read(kind: MetadataKind, sequence: UInt64) throws(VaultError) -> [UInt8]? {
        do {
            return try readDistinguishing(kind: kind, sequence: sequence)
        } catch {
            throw error.error
        }
    }

    func readDistinguishing(kind: MetadataKind, sequence: UInt64) throws(ReadFailure) -> [UInt8]? {
        let id = protection.objectID(kind: kind, sequence: sequence)
        let sealed: [UInt8]
        do {
            sealed = try pool.get(id)
        } catch PoolError.objectNotFound {
            return nil
        } catch {
            throw .unreadable(VaultError(poolFailure: error, context: "reading \(kind) \(sequence)"))
        }
        do {
            return try protection.open(sealed, kind: kind, sequence: sequence)
        } catch {
            throw .unauthentic(VaultError(.io, "\(kind) \(sequence) fails authentication (tampered or corrupt): \(error)"))
        }
    }

    /// Whether any shard of the object exists (used to tell a torn tail from a lost middle).
    func exists(kind: MetadataKind, sequence: UInt64) -> Bool {
        (try? pool.head(protection.objectID(kind: kind, sequence: sequence))) != nil
    }

    func remove(kind: MetadataKind, sequence: UInt64) {
        try? pool.delete(protection.objectID(kind: kind, sequence: sequence))
    }

    /// The newest superblock of the two slots; nil when neither exists (not a vault).
    func readSuperblock() throws(VaultError) -> Superblock? {
        var newest: Superblock?
        var failures: [String] = []
        for slot in UInt64(0) ... 1 {
            do {
                guard let bytes = try read(kind: .superblock, sequence: slot) else { continue }
                let superblock = try Superblock(decoding: bytes)
                if superblock.epoch > newest?.epoch ?? 0 || newest == nil { newest = superblock }
            } catch {
                failures.append(error.context)
            }
        }
        if newest == nil && !failures.isEmpty {
            throw VaultError(.io, "no readable superblock: " + failures.joined(separator: "; "))
        }
        return newest
    }

    func writeSuperblock(_ superblock: Superblock) throws(VaultError) {
        try write(superblock.encoded(), kind: .superblock, sequence: superblock.slot)
    }
}

extension MetadataKind: CustomStringConvertible {
    public var description: String {
        switch self {
        case .superblock: return "superblock"
        case .checkpoint: return "checkpoint"
        case .journalSegment: return "journal segment"
        case .s3Credentials: return "S3 credentials"
        }
    }
}
