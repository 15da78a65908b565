import VolumePool

/// Mount-time reconstruction of the namespace: the newest checkpoint named by a superblock,
/// then every journal segment after it, in order.
///
/// A commit writes its data and its segment, then flushes once (`Journal`), so a crash in
/// that flush can leave the newest segment on the volumes without the blocks it names. Such a
/// segment was never acknowledged: if a block it leaves in use is missing or torn, the
/// segment is discarded and the namespace is the one before it (docs/FORMAT-vault.md,
/// "Commit protocol"). Only the newest segment can be in that state, since a commit starts
/// writing only after the previous commit's flush returned.
struct Recovery {
    let store: MetadataStore
    let restoreSnapshot: ([UInt8]) throws -> Namespace
    let decodeRecords: ([UInt8]) throws -> [NamespaceRecord]
    /// Whether a block reached the volumes (`BlockStore.checkStored`).
    let checkStored: (BlockReference) throws(VaultError) -> StoredCheck

    struct Outcome {
        var namespace: Namespace
        var position: Journal.Position
        var replayedSegments: Int
        var replayedRecords: Int
        /// What recovery mended, in words for the user (a discarded segment).
        var notes: [String] = []
    }

    func run() throws(VaultError) -> Outcome {
        guard let superblock = try store.readSuperblock() else {
            throw VaultError(.notFound, "no vault metadata found on these volumes (never initialised, or metadata lost)")
        }
        guard let snapshot = try store.read(kind: .checkpoint, sequence: superblock.checkpointSequence) else {
            throw VaultError(.io, "checkpoint \(superblock.checkpointSequence) named by the superblock is missing")
        }
        var replay = try self.replay(snapshot, superblock: superblock, before: nil)
        var notes: [String] = []
        if let newest = replay.newestBatch, let missing = try firstIncompleteBlock(named: newest, in: replay.namespace) {
            let discarded = replay.end - 1
            store.remove(kind: .journalSegment, sequence: discarded)
            replay = try self.replay(snapshot, superblock: superblock, before: discarded)
            notes.append("journal segment \(discarded) was discarded: \(missing). A crash came before its commit was "
                + "flushed, so none of its \(newest.count) changes had been acknowledged.")
        }
        let position = Journal.Position(epoch: superblock.epoch, checkpointSequence: superblock.checkpointSequence,
                                        journalStart: superblock.journalStart, nextSegment: replay.end)
        return Outcome(namespace: replay.namespace, position: position,
                       replayedSegments: Int(replay.end - superblock.journalStart), replayedRecords: replay.records,
                       notes: notes)
    }

    private struct Replay {
        var namespace: Namespace
        /// The sequence number after the last segment applied.
        var end: UInt64
        var records = 0
        var newestBatch: [NamespaceRecord]?
    }

    /// The checkpoint with every segment after it applied, up to (not including) `limit`
    /// when given, else up to the end of the journal.
    private func replay(_ snapshot: [UInt8], superblock: Superblock, before limit: UInt64?) throws(VaultError) -> Replay {
        let namespace: Namespace
        do {
            namespace = try restoreSnapshot(snapshot)
        } catch {
            throw VaultError(.io, "checkpoint \(superblock.checkpointSequence) cannot be decoded: \(error)")
        }
        var replay = Replay(namespace: namespace, end: superblock.journalStart)
        while limit.map({ replay.end < $0 }) ?? true {
            let sequence = replay.end
            let bytes: [UInt8]?
            do {
                bytes = try store.readDistinguishing(kind: .journalSegment, sequence: sequence)
            } catch {
                // A segment torn by a crash mid-commit was never acknowledged: if nothing
                // follows it, it is the end of the journal. Anything later means real loss,
                // and tampering is never mistaken for a torn write.
                guard case .unreadable = error, !store.exists(kind: .journalSegment, sequence: sequence + 1) else {
                    throw error.error
                }
                store.remove(kind: .journalSegment, sequence: sequence)
                break
            }
            guard let bytes else { break }
            let batch: [NamespaceRecord]
            do {
                batch = try decodeRecords(bytes)
            } catch {
                throw VaultError(.io, "journal segment \(sequence) cannot be decoded: \(error)")
            }
            for record in batch { namespace.apply(record) }
            replay.records += batch.count
            replay.newestBatch = batch
            replay.end += 1
        }
        return replay
    }

    /// The first block that `batch` names, that is still in use after it, and that did not
    /// reach the volumes intact; nil when there is none. Blocks the batch replaced again
    /// may have been freed once it was durable, so only those still in use are checked.
    private func firstIncompleteBlock(named batch: [NamespaceRecord], in namespace: Namespace) throws(VaultError) -> String? {
        var named: [ObjectID: BlockReference] = [:]
        for record in batch {
            switch record {
            case let .setContent(_, content, _, _):
                for block in content.blocks { named[block.id] = block }
            case let .setBlock(_, _, block?, _, _):
                named[block.id] = block
            default:
                continue
            }
        }
        guard !named.isEmpty else { return nil }
        for node in namespace.nodes.values {
            for block in node.content.blocks {
                guard named.removeValue(forKey: block.id) != nil else { continue }
                if case let .incomplete(reason) = try checkStored(block) { return reason }
            }
        }
        return nil
    }
}
