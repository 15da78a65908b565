import VolumePool

/// Whether a block a journal segment names reached the volumes (`Recovery`).
public enum StoredCheck: Equatable, Sendable {
    case intact
    /// Missing, or fewer than k shards intact: what a crash before the commit's flush leaves.
    case incomplete(String)
}

extension BlockStore {
    /// Reads the whole block back from the pool and authenticates every chunk.
    ///
    /// A block the pool cannot find, or finds with fewer than k intact shards, is
    /// `.incomplete`; anything else that fails — chunks that fail authentication although
    /// their shards are intact (tampering, never a crash), an I/O error — throws, so recovery
    /// stops instead of discarding what may be durable. Only a failed read asks the pool
    /// which case it is (the read's error no longer carries the pool's).
    public func checkStored(_ block: BlockReference) throws(VaultError) -> StoredCheck {
        var plaintext = [UInt8](repeating: 0, count: Int(block.length))
        do {
            try plaintext.withMutableVaultBytes { (raw) throws(VaultError) in try read(block, range: 0 ..< raw.count, into: raw) }
            return .intact
        } catch {
            if let missing = try missingShards(of: block) { return .incomplete(missing) }
            throw error
        }
    }

    /// Why the pool cannot serve `block`'s stored bytes — absent, too few intact shards, cut
    /// short — or nil when it can.
    private func missingShards(of block: BlockReference) throws(VaultError) -> String? {
        let layout = layout(of: block)
        let stored = layout.storedRange(ofChunks: 0 ..< layout.chunkCount)
        let offset = block.pack?.byteOffset(sealedChunkSize: layout.sealedChunkSize) ?? 0
        do {
            _ = try pool.get(block.storageObject, range: stored.lowerBound + offset ..< stored.upperBound + offset)
            return nil
        } catch PoolError.objectNotFound {
            return "block \(block.id.hex): its object \(block.storageObject.hex) is not on the volumes"
        } catch let PoolError.objectUnreadable(_, good, needed, _) {
            return "block \(block.id.hex): \(good) intact shards of \(block.storageObject.hex), \(needed) needed"
        } catch let PoolError.invalidRange(_, _, length) {
            return "block \(block.id.hex): its object \(block.storageObject.hex) holds only \(length) bytes"
        } catch {
            throw VaultError(poolFailure: error, context: "checking block \(block.id.hex)")
        }
    }
}
