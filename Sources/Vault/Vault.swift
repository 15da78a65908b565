import Foundation
import VaultCrypto
import VolumePool

/// An unlocked vault: the POSIX surface (by inode) that the FUSE and S3 doors serve.
///
/// All state lives in one namespace guarded by one lock; metadata operations run to
/// completion on the caller's thread. Every mutation appends its record to the journal
/// without waiting; `sync()` waits for durability (fsync, syncfs, S3 PUT completion).
public final class Vault: @unchecked Sendable {
    public let pool: VolumePool
    public let keyFile: KeyFile
    let names: NameCipher
    let metadata: MetadataCipher
    let namespace: Namespace
    let journal: Journal
    let blocks: BlockStore
    let openFiles = OpenFileTable()
    let inlineLimit: Int
    /// Runs the background seals of full blocks (see `write`).
    let sealQueue = UnpinnedWorkQueue(label: "shardvault.seal")
    /// Files closed with data still to seal (Vault+WriteBehind.swift).
    let writeBacks = WriteBackTracker()
    /// When open files' unwritten data is written back (Vault+DurabilityHorizon.swift).
    let dirtyDataTimes: DirtyDataTimes
    private var sweeper: DirtyDataSweeper?
    /// Why the vault refuses changes, when it does: with fewer than k+1 volumes no write can
    /// reach the pool's write quorum, so changes are refused up front instead of being
    /// accepted and lost at the next commit.
    public let readOnlyReason: String?
    /// Serialises every namespace access. The journal takes it for checkpoint snapshots.
    let lock = NSLock()
    /// What opening the vault found and mended, for the user (`Recovery.Outcome.notes`).
    public let recoveryNotes: [String]

    public struct Options: Sendable {
        public var pool = VolumePool.Options()
        /// How long records may wait for company before a commit (the crash window of
        /// operations not followed by fsync).
        public var commitInterval: TimeInterval = 0.2
        /// Journal segments between checkpoints.
        public var checkpointInterval = 512
        /// An open file's buffered data is written back once the file has had no write for
        /// this long (Vault+DurabilityHorizon.swift)...
        public var idleWriteBackDelay: TimeInterval = 0.5
        /// ...or once its oldest unwritten byte is this old, however busy the writer.
        public var longestUnflushedWrite: TimeInterval = 5
        /// Memory for decrypted chunks kept for re-reading.
        public var cacheBytes = 64 << 20
        /// Files up to this size are stored inside the metadata instead of as a block.
        public var inlineLimit = Vault.defaultInlineLimit
        /// Chunk encryption buffers come from the thread-local chunk pool; false allocates a
        /// fresh pair per block operation (only to measure what the pool buys).
        public var pooledChunkBuffers = true
        /// Small blocks share pool objects ("packs", docs/FORMAT-blocks.md); false gives every
        /// block an object of its own, to measure what packing buys
        /// (`SHARDVAULT_PACK_SMALL_BLOCKS=off`).
        public var packsSmallBlocks = EnvironmentSwitch.isOn("SHARDVAULT_PACK_SMALL_BLOCKS")
        public init() {}
    }

    /// Creates a vault over empty directories (default 4+2, 1+0 for a single volume).
    public static func create(volumePaths: [String], dataShards: Int, parityShards: Int,
                              password: borrowing SecureBytes, strength: KDFStrength,
                              owner: (uid: UInt32, gid: UInt32) = (getuid(), getgid())) throws {
        // The key derivation runs first: if it fails (not enough memory for a strong KDF,
        // say), nothing has been written and the same directories can be used again.
        let (keyFile, keys) = try wrapCrypto { () throws(CryptoError) in try KeyFile.create(password: password, strength: strength) }
        defer { keys.close() }
        do {
            try VolumePool.create(volumePaths: volumePaths, dataShards: dataShards, parityShards: parityShards)
        } catch {
            throw VaultError(poolFailure: error)
        }
        let pool = try openPool(volumePaths, options: .init())
        defer { pool.close() }
        try KeyFileSlots(pool: pool).replace(nil, with: keyFile)
        let store = try metadataStore(pool: pool, keys: keys, algorithm: keyFile.contentAlgorithm)
        let root = Namespace(rootID: .random(), permissions: 0o755, uid: owner.uid, gid: owner.gid, time: .now)
        try store.write(root.snapshot(), kind: .checkpoint, sequence: 1)
        try store.writeSuperblock(Superblock(epoch: 1, checkpointSequence: 1, journalStart: 1))
    }

    /// Opens and unlocks the vault on `volumePaths`, replaying its journal.
    public init(volumePaths: [String], password: borrowing SecureBytes, options: Options = Options()) throws {
        let pool = try Self.openPool(volumePaths, options: options.pool)
        do {
            let (stored, keys) = try KeyFileSlots(pool: pool).unlock(password: password)
            defer { keys.close() }
            keyFile = stored.file
            names = try Self.wrapCrypto { () throws(CryptoError) in try NameCipher(keys: keys) }
            metadata = try Self.wrapCrypto { () throws(CryptoError) in try MetadataCipher(keys: keys, algorithm: stored.file.contentAlgorithm) }
            let content = try Self.wrapCrypto { () throws(CryptoError) in try ContentCipher(keys: keys, algorithm: stored.file.contentAlgorithm) }
            blocks = BlockStore(pool: pool, cipher: content, cache: ChunkCache(byteBudget: options.cacheBytes),
                                pooledChunkBuffers: options.pooledChunkBuffers, packsSmallBlocks: options.packsSmallBlocks)
            inlineLimit = min(max(0, options.inlineLimit), BlockStore.chunkSize)
            dirtyDataTimes = DirtyDataTimes(idle: options.idleWriteBackDelay, longest: options.longestUnflushedWrite)
            let store = try Self.metadataStore(pool: pool, keys: keys, algorithm: stored.file.contentAlgorithm)
            let blockStore = blocks
            let recovered = try Recovery(store: store, restoreSnapshot: { try Namespace(snapshot: $0) },
                                         decodeRecords: { try NamespaceRecord.decodeRecords($0) },
                                         checkStored: { (block) throws(VaultError) in try blockStore.checkStored(block) }).run()
            namespace = recovered.namespace
            recoveryNotes = recovered.notes
            let online = pool.volumeStatus().filter { $0.state == .online }.count
            let readOnlyReason = online < pool.writeQuorum
                ? "only \(online) of \(pool.totalShards) volumes are available and writes need \(pool.writeQuorum); the vault is read-only until volumes are restored or replaced"
                : nil
            self.readOnlyReason = readOnlyReason
            journal = Journal(store: store, position: recovered.position, encodeRecords: NamespaceRecord.encodeRecords,
                              writeData: { () throws(VaultError) in try blockStore.writePendingPacks() },
                              commitInterval: options.commitInterval, checkpointInterval: options.checkpointInterval,
                              readOnly: readOnlyReason != nil)
        } catch {
            pool.close()
            throw error
        }
        self.pool = pool
        journal.checkpointSource = self
        for node in namespace.nodes.values {
            for block in node.content.blocks { blocks.adopt(block) }
        }
        // Files unlinked while open before the last unmount or crash have no handles now.
        for content in namespace.removeOrphans() {
            for block in content.blocks { blocks.delete(block) }
        }
        namespace.isOpen = { [openFiles] in openFiles.isOpen($0) }
        if readOnlyReason == nil {
            sweeper = DirtyDataSweeper(vault: self, interval: min(options.idleWriteBackDelay, options.longestUnflushedWrite) / 2)
        }
    }

    /// Commits everything, writes a checkpoint, and releases the volumes.
    public func close() throws {
        defer { pool.close() }
        sweeper?.stop()
        let writeBackFailure = Result { () throws(VaultError) in try waitForWriteBacks() }
        try journal.close()
        try writeBackFailure.get()
    }

    /// Returns once every change made so far is durable on a quorum of volumes, including
    /// the data of closed files still being written back; throws the first write-back
    /// failure since the last sync.
    public func sync() throws(VaultError) {
        let writeBackFailure = Result { () throws(VaultError) in try waitForWriteBacks() }
        try journal.sync()
        try writeBackFailure.get()
    }

    /// Runs a namespace mutation under the lock and journals the record it produced.
    func mutate<Result>(_ body: (Namespace) throws(VaultError) -> (Result, [NamespaceRecord])) throws(VaultError) -> Result {
        if let readOnlyReason { throw VaultError(.readOnly, readOnlyReason) }
        lock.lock()
        defer { lock.unlock() }
        let (result, records) = try body(namespace)
        for record in records { journal.append(record) }
        return result
    }

    func read<Result>(_ body: (Namespace) throws(VaultError) -> Result) throws(VaultError) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(namespace)
    }

    static func openPool(_ paths: [String], options: VolumePool.Options) throws(VaultError) -> VolumePool {
        do {
            return try VolumePool.open(volumePaths: paths, options: options)
        } catch {
            throw VaultError(poolFailure: error)
        }
    }

    private static func metadataStore(pool: VolumePool, keys: MasterKeys, algorithm: AEADAlgorithm) throws(VaultError) -> MetadataStore {
        let protection = try wrapCrypto { () throws(CryptoError) in
            CryptoMetadataProtection(cipher: try MetadataCipher(keys: keys, algorithm: algorithm), namer: try ObjectNamer(keys: keys))
        }
        return MetadataStore(pool: pool, protection: protection)
    }

    static func wrapCrypto<T>(_ body: () throws(CryptoError) -> T) throws(VaultError) -> T {
        do {
            return try body()
        } catch {
            throw VaultError(error)
        }
    }
}

extension Vault: CheckpointSource {
    func withNamespaceQuiesced<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func namespaceSnapshot() -> [UInt8] { namespace.snapshot() }
}

extension Timestamp {
    /// The current wall-clock time in nanoseconds, from the coarse clock (one tick, 4 ms at
    /// HZ=250): the clock the kernel stamps file times with, as ext4 does. A node created now
    /// and written by the kernel's writeback cache within the same tick then needs no mtime
    /// update, which saved `tar -x` a SETATTR round trip per file (docs/FUSE.md, "Round trips
    /// per file").
    public static var now: Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
