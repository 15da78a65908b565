import Foundation
import Glibc
import Vault
import SeededRandom

/// File data through `Vault` (no FUSE): sequential write/read of one big file, chunk-cache
/// re-reads, random 4 KiB reads and writes. One fresh 4+2 vault, closed and reopened for
/// cold reads.
final class VaultDataJobs {
    private let settings: VaultSettings
    private let reporter: VaultReporter
    private let session: VaultSession
    /// One piece of the file; its first and last 8 bytes are replaced by the piece index.
    private let payload: ScratchBuffer
    private let readBuffer: ScratchBuffer
    private var fileInode: InodeNumber = 0
    private var offsets: SplitMix64

    init(settings: VaultSettings, reporter: VaultReporter, root: String) throws {
        self.settings = settings
        self.reporter = reporter
        session = try VaultSession(root: root, options: VaultSession.options())
        payload = ScratchBuffer(byteCount: settings.pieceBytes)
        var filler = SplitMix64(seed: 0x7661_756C_7464_6174)
        filler.fill(payload.bytes)
        readBuffer = ScratchBuffer(byteCount: settings.pieceBytes)
        offsets = SplitMix64(seed: settings.randomSeed)
    }

    private var vault: Vault { session.opened }
    private var fileLabel: String { humanBytes(settings.fileBytes) }
    private var pieceCount: Int { settings.fileBytes / settings.pieceBytes }

    func run() throws {
        try sequentialWrites()
        try sequentialReads()
        try ceiling()
        try randomReads()
        try randomWrites()
        try session.close()
    }

    // MARK: Sequential

    /// Each sample writes a new file of `fileBytes` in `pieceBytes` calls, then fsyncs it; the
    /// previous sample's file is unlinked first (its blocks are freed once that is durable).
    private func sequentialWrites() throws {
        var withoutSync: [Sample] = []
        var withSync: [Sample] = []
        for sample in 0 ..< settings.samples {
            if sample > 0 {
                try vault.unlink(Namespace.rootInode, "sequential-\(sample - 1)")
                try vault.sync()
            }
            let (inode, _) = try vault.mknod(Namespace.rootInode, "sequential-\(sample)", kind: .regular,
                                             permissions: 0o644, uid: 0, gid: 0)
            let handle = try vault.open(inode)
            sync()
            let start = monotonicNanoseconds()
            for piece in 0 ..< pieceCount {
                stamp(piece)
                try vault.write(handle, at: UInt64(piece * settings.pieceBytes), UnsafeRawBufferPointer(payload.bytes))
            }
            let written = monotonicNanoseconds()
            try vault.fsync(handle)
            let synced = monotonicNanoseconds()
            try vault.release(handle)
            withoutSync.append(Sample(operations: pieceCount, bytes: settings.fileBytes, seconds: Double(written - start) / 1e9))
            withSync.append(Sample(operations: pieceCount, bytes: settings.fileBytes, seconds: Double(synced - start) / 1e9))
            fileInode = inode
        }
        let piece = sizeLabel(settings.pieceBytes)
        reporter.add(Measurement(name: "vault.write.seq.\(fileLabel)", samples: withoutSync,
                                 note: "one new file per sample, written in \(piece) vault.write calls; no fsync "
                                     + "(full 4 MiB blocks are sealed and put to the pool, not yet durable)"))
        reporter.add(Measurement(name: "vault.write.seq+fsync.\(fileLabel)", samples: withSync,
                                 note: "the same writes plus vault.fsync (pool.sync = syncfs per volume, then a journal commit), timed"))
    }

    /// The first and last 8 bytes of the payload become the piece index, so reads can check
    /// they got the right piece.
    private func stamp(_ piece: Int) {
        payload.bytes.storeBytes(of: UInt64(piece), toByteOffset: 0, as: UInt64.self)
        payload.bytes.storeBytes(of: UInt64(piece), toByteOffset: settings.pieceBytes - 8, as: UInt64.self)
    }

    private func readWholeFile() throws -> Sample {
        let handle = try vault.open(fileInode)
        defer { try? vault.release(handle) }
        let sample = try Sampler.run(bytesPerOperation: settings.pieceBytes, operations: pieceCount) { piece in
            let count = try vault.read(handle, at: UInt64(piece * settings.pieceBytes), into: readBuffer.bytes)
            guard count == settings.pieceBytes,
                  readBuffer.bytes.load(fromByteOffset: 0, as: UInt64.self) == UInt64(piece),
                  readBuffer.bytes.load(fromByteOffset: count - 8, as: UInt64.self) == UInt64(piece) else {
                throw BenchError.wrongResult("sequential read of piece \(piece) returned \(count) bytes or the wrong piece")
            }
        }
        return sample
    }

    private func sequentialReads() throws {
        let piece = sizeLabel(settings.pieceBytes)
        if let why = settings.coldUnavailable {
            reporter.note("cold sequential read not measured: \(why)")
        } else {
            var cold: [Sample] = []
            for _ in 0 ..< settings.samples {
                try session.close()
                try PageCache.drop()
                try session.open()
                cold.append(try readWholeFile())
            }
            reporter.add(Measurement(name: "vault.read.seq.cold.\(fileLabel)", samples: cold,
                                     note: "vault closed, sync + drop_caches, vault reopened (empty chunk cache), then the "
                                         + "whole file in \(piece) vault.read calls"))
        }
        _ = try readWholeFile()  // warms the page cache if the cold reads did not run
        var warm: [Sample] = []
        for _ in 0 ..< settings.samples { warm.append(try readWholeFile()) }
        reporter.add(Measurement(name: "vault.read.seq.warm.\(fileLabel)", samples: warm,
                                 note: "the whole file again, shard files in the page cache; the \(sizeLabel(settings.cacheBytes)) "
                                     + "chunk cache holds only the last part read, so every chunk is fetched and decrypted again"))

        // A range that fits the chunk cache, read twice before: decrypted chunks come from it.
        let cachedBytes = min(settings.fileBytes, settings.cacheBytes / 2)
        let cachedPieces = cachedBytes / settings.pieceBytes
        let handle = try vault.open(fileInode)
        defer { try? vault.release(handle) }
        let readCached = { (piece: Int) throws in
            let count = try self.vault.read(handle, at: UInt64(piece * self.settings.pieceBytes), into: self.readBuffer.bytes)
            guard count == self.settings.pieceBytes else { throw BenchError.wrongResult("cached read of piece \(piece): \(count) bytes") }
        }
        for _ in 0 ..< 2 { for piece in 0 ..< cachedPieces { try readCached(piece) } }
        var cached: [Sample] = []
        for _ in 0 ..< settings.samples {
            cached.append(try Sampler.run(bytesPerOperation: settings.pieceBytes, operations: cachedPieces, operation: readCached))
        }
        reporter.add(Measurement(name: "vault.read.seq.chunk-cached.\(humanBytes(cachedBytes))", samples: cached,
                                 note: "the first \(humanBytes(cachedBytes)) of the file, read twice before: every chunk is "
                                     + "a chunk-cache hit (copy out under the cache lock; no pool get, no decrypt)"))
    }

    // MARK: Ceiling

    /// Plain POSIX I/O of the shard bytes the file occupies, in the vault's volume directories:
    /// per `pieceBytes` of data, one write of pieceBytes/k to each of the k+m files (then one
    /// fsync per file); reads take the k data files back in the same pieces. No encryption,
    /// no erasure coding, no checksums, no metadata: what the disk and page cache allow.
    private func ceiling() throws {
        let shards = VaultSession.dataShards + VaultSession.parityShards
        let part = settings.pieceBytes / VaultSession.dataShards
        let paths = session.volumePaths.map { $0 + "/ceiling.bin" }
        defer { for path in paths { unlink(path) } }
        let openAll = { (flags: Int32) throws -> [Int32] in
            try paths.map { path in
                let fd = Glibc.open(path, flags | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
                return fd
            }
        }
        var writes: [Sample] = []
        for _ in 0 ..< settings.samples {
            sync()
            let start = monotonicNanoseconds()
            let fds = try openAll(O_WRONLY | O_CREAT | O_TRUNC)
            defer { fds.forEach { _ = Glibc.close($0) } }
            for _ in 0 ..< pieceCount {
                for shard in 0 ..< shards {
                    try SystemIO.writeAll(fds[shard], payload.base + (shard % VaultSession.dataShards) * part, part)
                }
            }
            for fd in fds where fsync(fd) != 0 { throw BenchError.io("fsync", errno) }
            writes.append(Sample(operations: pieceCount, bytes: settings.fileBytes, seconds: Double(monotonicNanoseconds() - start) / 1e9))
        }
        reporter.add(Measurement(name: "ceiling.write.seq+fsync.\(fileLabel)", samples: writes,
                                 note: "plain write() of the file's shard bytes (\(shards) files, \(sizeLabel(part)) per file per "
                                     + "\(sizeLabel(settings.pieceBytes)) of data) into the volume directories, then fsync of each"))
        let readAll = { () throws -> Sample in
            let fds = try openAll(O_RDONLY)
            defer { fds.forEach { _ = Glibc.close($0) } }
            let start = monotonicNanoseconds()
            for piece in 0 ..< self.pieceCount {
                for shard in 0 ..< VaultSession.dataShards {
                    try SystemIO.readExactly(fds[shard], self.readBuffer.base + shard * part, part, at: piece * part)
                }
            }
            return Sample(operations: self.pieceCount, bytes: self.settings.fileBytes,
                          seconds: Double(monotonicNanoseconds() - start) / 1e9)
        }
        if settings.coldUnavailable == nil {
            var cold: [Sample] = []
            for _ in 0 ..< settings.samples {
                try PageCache.drop()
                cold.append(try readAll())
            }
            reporter.add(Measurement(name: "ceiling.read.seq.cold.\(fileLabel)", samples: cold,
                                     note: "pread of the k=\(VaultSession.dataShards) data files in the same pieces after sync + drop_caches"))
        }
        var warm: [Sample] = []
        _ = try readAll()
        for _ in 0 ..< settings.samples { warm.append(try readAll()) }
        reporter.add(Measurement(name: "ceiling.read.seq.warm.\(fileLabel)", samples: warm,
                                 note: "the same preads from the page cache"))
    }

    // MARK: Random

    private func randomOffset() -> UInt64 {
        let slots = UInt64(settings.fileBytes / settings.randomIOBytes)
        return (offsets.next() % slots) * UInt64(settings.randomIOBytes)
    }

    private func randomReads() throws {
        let handle = try vault.open(fileInode)
        defer { try? vault.release(handle) }
        let io = UnsafeMutableRawBufferPointer(rebasing: readBuffer.bytes[0 ..< settings.randomIOBytes])
        var runs: [Sample] = []
        let target = SampleTarget(bytes: .max, seconds: settings.randomReadSeconds, minimumOperations: 16)
        for _ in 0 ..< settings.samples {
            runs.append(try Sampler.run(bytesPerOperation: settings.randomIOBytes, target: target) { _ in
                let offset = randomOffset()
                let count = try vault.read(handle, at: offset, into: io)
                guard count == settings.randomIOBytes else {
                    throw BenchError.wrongResult("random read at \(offset) returned \(count) bytes")
                }
            })
        }
        reporter.add(Measurement(name: "vault.read.random4KiB.warm", rateOf: runs, unit: "IOPS",
                                 note: "4 KiB vault.read at uniformly random 4 KiB-aligned offsets of the \(fileLabel) file "
                                     + "(seed \(settings.randomSeed)), \(settings.randomReadSeconds) s per sample; shard files in the "
                                     + "page cache, \(sizeLabel(settings.cacheBytes)) chunk cache (each miss fetches and decrypts a 32 KiB chunk)"))
    }

    /// Each sample: `randomWritesPerSample` 4 KiB writes at random offsets, then one fsync,
    /// all timed (the fsync seals every dirty 4 MiB block).
    private func randomWrites() throws {
        let handle = try vault.open(fileInode)
        let io = UnsafeRawBufferPointer(rebasing: payload.bytes[0 ..< settings.randomIOBytes])
        var withoutSync: [Sample] = []
        var withSync: [Sample] = []
        for _ in 0 ..< settings.samples {
            sync()
            let start = monotonicNanoseconds()
            for _ in 0 ..< settings.randomWrites {
                try vault.write(handle, at: randomOffset(), io)
            }
            let written = monotonicNanoseconds()
            try vault.fsync(handle)
            let synced = monotonicNanoseconds()
            withoutSync.append(Sample(operations: settings.randomWrites, bytes: settings.randomWrites * settings.randomIOBytes,
                                      seconds: Double(written - start) / 1e9))
            withSync.append(Sample(operations: settings.randomWrites, bytes: settings.randomWrites * settings.randomIOBytes,
                                   seconds: Double(synced - start) / 1e9))
        }
        let size = vault.size(of: handle)
        try vault.release(handle)
        guard size == UInt64(settings.fileBytes) else {
            throw BenchError.wrongResult("random writes changed the file size to \(size)")
        }
        reporter.add(Measurement(name: "vault.write.random4KiB+fsync", rateOf: withSync, unit: "IOPS",
                                 note: "\(settings.randomWrites) vault.write of 4 KiB at random 4 KiB-aligned offsets of the "
                                     + "\(fileLabel) file, then one vault.fsync, all timed and counted"))
        reporter.add(Measurement(name: "vault.write.random4KiB.nofsync", rateOf: withoutSync, unit: "IOPS",
                                 note: "the same writes without the final fsync (they only fill dirty 4 MiB blocks in memory, "
                                     + "reading the 32 KiB chunk they land in); for locating the cost, not a durable rate"))
    }
}
