/// Mount-time reconstruction of the namespace: the newest checkpoint named by a superblock,
/// then every journal segment after it, in order.
struct Recovery {
    let store: MetadataStore
    let restoreSnapshot: ([UInt8]) throws -> Namespace
    let decodeRecords: ([UInt8]) throws -> [NamespaceRecord]

    struct Outcome {
        var namespace: Namespace
        var position: Journal.Position
        var replayedSegments: Int
        var replayedRecords: Int
    }

    func run() throws(VaultError) -> Outcome {
        guard let superblock = try store.readSuperblock() else {
            throw VaultError(.notFound, "no vault metadata found on these volumes (never initialised, or metadata lost)")
        }
        guard let snapshot = try store.read(kind: .checkpoint, sequence: superblock.checkpointSequence) else {
            throw VaultError(.io, "checkpoint \(superblock.checkpointSequence) named by the superblock is missing")
        }
        let namespace: Namespace
        do {
            namespace = try restoreSnapshot(snapshot)
        } catch {
            throw VaultError(.io, "checkpoint \(superblock.checkpointSequence) cannot be decoded: \(error)")
        }
        var sequence = superblock.journalStart
        var records = 0
        while true {
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
            records += batch.count
            sequence += 1
        }
        let position = Journal.Position(epoch: superblock.epoch, checkpointSequence: superblock.checkpointSequence,
                                        journalStart: superblock.journalStart, nextSegment: sequence)
        return Outcome(namespace: namespace, position: position,
                       replayedSegments: Int(sequence - superblock.journalStart), replayedRecords: records)
    }
}
