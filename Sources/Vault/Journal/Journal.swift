import CLinuxShims
import Foundation
import VolumePool

/// Gives the journal a namespace snapshot that matches its pending records exactly.
protocol CheckpointSource: AnyObject, Sendable {
    /// Runs `body` while no namespace mutation (and so no `append`) can happen.
    func withNamespaceQuiesced<R>(_ body: () throws -> R) rethrows -> R
    /// The namespace, encoded; called inside `withNamespaceQuiesced`.
    func namespaceSnapshot() -> [UInt8]
}

/// The metadata journal with group commit.
///
/// Mutations `append` records without waiting. A committer thread writes everything pending
/// as one sealed segment whenever someone waits in `sync()`, or at least every
/// `commitInterval`: first the data still in memory that the records point to
/// (`writeData`), then the segment, then one flush of the volumes for both.
/// Only the newest segment can therefore name data a crash kept from the disk, and
/// `Recovery` checks that data before it trusts that segment (docs/FORMAT-vault.md,
/// "Commit protocol").
/// Every `checkpointInterval` segments it writes a checkpoint, flips the superblock to it
/// and deletes what the checkpoint covers. Actions registered with `afterDurable` (freeing
/// replaced blocks) run once the records before them are on a quorum.
final class Journal: @unchecked Sendable {
    struct Position: Equatable, Sendable {
        var epoch: UInt64
        var checkpointSequence: UInt64
        var journalStart: UInt64
        var nextSegment: UInt64
    }

    let store: MetadataStore
    let encodeRecords: @Sendable ([NamespaceRecord]) -> [UInt8]
    /// Writes the data the pending records point to that is still in memory (packs).
    let writeData: @Sendable () throws(VaultError) -> Void
    weak var checkpointSource: (any CheckpointSource)?
    let commitInterval: TimeInterval
    let checkpointInterval: Int

    /// A vault opened read-only (too few volumes for a write quorum) never checkpoints:
    /// the write would fail, and the journal it would fold in is replayed next time anyway.
    private let readOnly: Bool
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var position: Position
    private var pending: [NamespaceRecord] = []
    private var appended: UInt64 = 0
    private var committed: UInt64 = 0
    private var commitRequested = false
    private var stopping = false
    private var stopped = false
    private var abandoned = false
    private var lastFailure: VaultError?
    private var failedCommits = 0
    private var deferredActions: [(afterRecord: UInt64, action: @Sendable () -> Void)] = []

    init(store: MetadataStore, position: Position, encodeRecords: @escaping @Sendable ([NamespaceRecord]) -> [UInt8],
         writeData: @escaping @Sendable () throws(VaultError) -> Void,
         commitInterval: TimeInterval = 0.2, checkpointInterval: Int = 512, readOnly: Bool = false) {
        self.readOnly = readOnly
        self.store = store
        self.position = position
        self.encodeRecords = encodeRecords
        self.writeData = writeData
        self.commitInterval = commitInterval
        self.checkpointInterval = checkpointInterval
        let thread = Thread { [weak self] in
            _ = shardvault_name_this_thread("sv-journal")
            self?.runCommitter()
        }
        thread.start()
    }

    /// Queues a record; the caller holds the namespace lock, so records keep their order.
    func append(_ record: NamespaceRecord) {
        condition.lock()
        pending.append(record)
        appended += 1
        if pending.count == 1 { condition.broadcast() }  // starts the committer's batching window
        condition.unlock()
    }

    /// Runs `action` once every record appended so far is durable.
    func afterDurable(_ action: @escaping @Sendable () -> Void) {
        condition.lock()
        deferredActions.append((appended, action))
        condition.unlock()
    }

    /// Returns once every record appended before the call is durable on a quorum.
    func sync() throws(VaultError) {
        condition.lock()
        defer { condition.unlock() }
        let target = appended
        let failuresBefore = failedCommits
        commitRequested = true
        condition.broadcast()
        while committed < target {
            if failedCommits > failuresBefore, let lastFailure { throw lastFailure }
            if stopped { throw VaultError(.io, "the journal is closed") }
            condition.wait()
        }
    }

    /// Commits everything, writes a final checkpoint (so the next mount replays nothing),
    /// and stops the committer.
    func close() throws(VaultError) {
        try sync()
        condition.lock()
        stopping = true
        commitRequested = true
        condition.broadcast()
        while !stopped { condition.wait() }
        let failure = lastFailure
        condition.unlock()
        if let failure { throw failure }
    }

    /// Stops the committer without committing or checkpointing (tests that simulate a
    /// crash, or tamper with what was committed).
    func abandonForTesting() {
        condition.lock()
        pending.removeAll()
        abandoned = true
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    /// Ids of the metadata objects the current position needs (superblock slots, the
    /// checkpoint, the live journal segments).
    func liveMetadataObjectIDs() -> [ObjectID] {
        let position = currentPosition
        let protection = store.protection
        var ids = [protection.objectID(kind: .superblock, sequence: 0), protection.objectID(kind: .superblock, sequence: 1),
                   protection.objectID(kind: .checkpoint, sequence: position.checkpointSequence)]
        for segment in position.journalStart ..< position.nextSegment {
            ids.append(protection.objectID(kind: .journalSegment, sequence: segment))
        }
        return ids
    }

    var currentPosition: Position {
        condition.lock()
        defer { condition.unlock() }
        return position
    }

    // MARK: Committer

    private func runCommitter() {
        condition.lock()
        while true {
            while pending.isEmpty && !commitRequested && !stopping { condition.wait() }
            if abandoned {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            // Let more records join this commit unless someone is waiting for it.
            let deadline = Date().addingTimeInterval(commitInterval)
            while !commitRequested && !stopping && Date() < deadline { _ = condition.wait(until: deadline) }
            commitRequested = false
            // On close, checkpoint only if the journal holds anything: a vault opened and
            // closed without changes writes nothing (it may be read-only for lack of volumes).
            let journalLength = position.nextSegment - position.journalStart
            let checkpointDue = journalLength >= UInt64(checkpointInterval)
                || (stopping && !readOnly && (journalLength > 0 || !pending.isEmpty))
            condition.unlock()
            let outcome = Result { () throws(VaultError) in try commitPending(withCheckpoint: checkpointDue) }
            condition.lock()
            if case let .failure(error) = outcome {
                lastFailure = error
                failedCommits += 1
            }
            condition.broadcast()
            if stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    /// Writes the pending records as the next segment (and, when due, a checkpoint after it).
    private func commitPending(withCheckpoint: Bool) throws(VaultError) {
        var snapshot: [UInt8]?
        var records: [NamespaceRecord] = []
        if withCheckpoint, let source = checkpointSource {
            (snapshot, records) = source.withNamespaceQuiesced { (source.namespaceSnapshot(), takePending()) }
        } else {
            records = takePending()
        }
        condition.lock()
        var position = self.position
        condition.unlock()
        if !records.isEmpty {
            do throws(VaultError) {
                try writeData()
            } catch {
                restorePending(records)
                throw VaultError(.io, "before a journal commit: \(error.context)")
            }
            do throws(VaultError) {
                try store.write(encodeRecords(records), kind: .journalSegment, sequence: position.nextSegment, durable: false)
                try store.flush()
            } catch {
                // Unflushed, the segment may or may not survive a crash; the next commit
                // writes these records again under the same sequence number.
                restorePending(records)
                throw error
            }
            position.nextSegment += 1
        }
        if let snapshot {
            try writeCheckpoint(snapshot, after: &position)
        }
        condition.lock()
        self.position = position
        committed += UInt64(records.count)
        let due = deferredActions.filter { $0.afterRecord <= committed }
        deferredActions.removeAll { $0.afterRecord <= committed }
        condition.unlock()
        for entry in due { entry.action() }
    }

    /// Checkpoint, then superblock, then deletion of what they made redundant — in that order,
    /// so a crash at any point leaves a superblock whose checkpoint and segments all exist.
    private func writeCheckpoint(_ snapshot: [UInt8], after position: inout Position) throws(VaultError) {
        let old = position
        let checkpoint = old.checkpointSequence + 1
        try store.write(snapshot, kind: .checkpoint, sequence: checkpoint)
        let superblock = Superblock(epoch: old.epoch + 1, checkpointSequence: checkpoint, journalStart: old.nextSegment)
        try store.writeSuperblock(superblock)
        position = Position(epoch: superblock.epoch, checkpointSequence: checkpoint,
                            journalStart: old.nextSegment, nextSegment: old.nextSegment)
        store.remove(kind: .checkpoint, sequence: old.checkpointSequence)
        for segment in old.journalStart ..< old.nextSegment {
            store.remove(kind: .journalSegment, sequence: segment)
        }
    }

    private func takePending() -> [NamespaceRecord] {
        condition.lock()
        defer { condition.unlock() }
        let records = pending
        pending.removeAll(keepingCapacity: true)
        return records
    }

    private func restorePending(_ records: [NamespaceRecord]) {
        condition.lock()
        pending.insert(contentsOf: records, at: 0)
        condition.unlock()
    }
}
