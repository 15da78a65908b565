import Dispatch
import Erasure
import Foundation
import Synchronization
import VolumePool
import SeededRandom

/// Sizes of the files a pool object occupies (docs/FORMAT-pool.md): the object is cut into
/// stripes of `stripeSize`; each stripe gives every one of the n shards a chunk of
/// ceil(payload / k) bytes; each shard file ends with a 16-byte checksum per stripe and a
/// 64-byte trailer. The ceiling writes files of exactly these sizes, in the same appends.
struct ShardGeometry {
    static let checksumBytes = 16
    static let trailerBytes = 64

    let length: Int
    let stripeSize: Int
    let dataShards: Int

    var stripeCount: Int { (length + stripeSize - 1) / stripeSize }
    var fullChunk: Int { (stripeSize + dataShards - 1) / dataShards }
    func chunkLength(ofStripe stripe: Int) -> Int {
        (min(stripeSize, length - stripe * stripeSize) + dataShards - 1) / dataShards
    }
    var checksumTableLength: Int { stripeCount * Self.checksumBytes }
    var dataBytesPerShard: Int { (stripeCount - 1) * fullChunk + chunkLength(ofStripe: stripeCount - 1) }
    var shardFileSize: Int { dataBytesPerShard + checksumTableLength + Self.trailerBytes }
}

/// File descriptors handed to the concurrent fsyncs; each iteration touches its own slot.
private struct Descriptors: @unchecked Sendable {
    let base: UnsafeMutablePointer<Int32>
}

/// One object the pool stored during the run.
struct StoredObject {
    let id: ObjectID
    let length: Int
    let payloadOffset: Int
}

/// Pool put / get / degraded get on a 4+2 pool, each against a ceiling of plain POSIX I/O
/// moving the same bytes to and from the same directories, sampled in alternation.
final class PoolJobs {
    static let stripeSize = VolumePool.defaultStripeSize
    static let dataShards = 4
    static let parityShards = 2
    /// Volumes left out when the pool is reopened degraded. Objects are named so that these
    /// hold data shards 0 and 1: every stripe of a degraded read rebuilds two data chunks.
    static let omittedVolumes = [0, 1]
    static let payloadBytes = 64 << 20

    private let settings: MicroSettings
    private let reporter: Reporter
    private let volumePaths: [String]
    private var pool: VolumePool?
    private let payload: ScratchBuffer
    /// One encoded 4+2 stripe of the payload: the bytes the ceiling writes.
    private let stripeImage: ScratchBuffer
    private let readBuffer: ScratchBuffer
    private var names = SplitMix64(seed: 0x5348_4152_4456_4C54)
    private var stored: [Int: [StoredObject]] = [:]
    private var putSequence = 0
    private var ceilingSequence = 0
    private var totalShards: Int { Self.dataShards + Self.parityShards }

    private static var poolOptions: VolumePool.Options {
        var options = VolumePool.Options()
        options.healsInBackground = false  // a heal thread would compete with the measured reads
        return options
    }

    init(settings: MicroSettings, reporter: Reporter, root: String) throws {
        self.settings = settings
        self.reporter = reporter
        volumePaths = (0 ..< Self.dataShards + Self.parityShards).map { root + "/volume\($0)" }
        try VolumePool.create(volumePaths: volumePaths, dataShards: Self.dataShards,
                              parityShards: Self.parityShards, stripeSize: Self.stripeSize)
        for path in volumePaths { try SystemIO.makeDirectory(path + "/bench-ceiling") }
        pool = try VolumePool.open(volumePaths: volumePaths, options: Self.poolOptions)

        payload = ScratchBuffer(byteCount: Self.payloadBytes)
        var random = SplitMix64(seed: 0xB0B)
        random.fill(payload.bytes)
        let codec = try ErasureCodec(dataShards: Self.dataShards, parityShards: Self.parityShards)
        let chunk = codec.shardLength(forPayload: Self.stripeSize)
        stripeImage = ScratchBuffer(byteCount: codec.stripeByteCount(shardLength: chunk))
        stripeImage.base.copyMemory(from: payload.base, byteCount: Self.stripeSize)
        codec.encode(stripe: stripeImage.base, shardLength: chunk)
        readBuffer = ScratchBuffer(byteCount: codec.stripeByteCount(shardLength: chunk))
    }

    func run() throws {
        for size in settings.objectSizes {
            try putJob(size: size)
            try checkLayout(size: size)
            try getJob(size: size)
        }
        try reopenDegraded()
        for size in settings.objectSizes { try degradedGetJob(size: size) }
        pool = nil
        addRatios()
    }

    // MARK: - Naming and placement

    /// A fresh object id whose shards 0 and 1 land on the omitted volumes.
    private func nextObjectID() -> ObjectID {
        while true {
            let id = ObjectID(high: names.next(), low: names.next())
            let placement = Self.placement(of: id, volumeCount: totalShards)
            if Self.omittedVolumes.contains(placement[0]) && Self.omittedVolumes.contains(placement[1]) { return id }
        }
    }

    /// The pool's placement, so the read ceiling opens the very shard files the pool reads.
    /// `checkLayout` verifies it against the shard trailers on disk.
    static func placement(of id: ObjectID, volumeCount: Int) -> [Int] {
        Placement(objectID: id, volumeCount: volumeCount).volumeForShard
    }

    private func shardPath(_ id: ObjectID, shard: Int) -> String {
        let hex = id.hex
        let volume = Self.placement(of: id, volumeCount: totalShards)[shard]
        return volumePaths[volume] + "/objects/" + hex.prefix(2) + "/" + hex
    }

    private func dataShardPaths(_ id: ObjectID) -> [String] {
        (0 ..< Self.dataShards).map { shardPath(id, shard: $0) }
    }

    private func geometry(_ size: Int) -> ShardGeometry {
        ShardGeometry(length: size, stripeSize: Self.stripeSize, dataShards: Self.dataShards)
    }

    // MARK: - Put

    private func putJob(size: Int) throws {
        let label = sizeLabel(size)
        let shards = geometry(size)
        stored[size, default: []].reserveCapacity(4096)
        for durable in [true, false] {
            let mode = durable ? "durable" : "deferred+sync"
            let put: (Int) throws -> Void = { _ in try self.putObject(size: size, durable: durable) }
            let write: (Int) throws -> Void = { _ in try self.ceilingWrite(shards, durable: durable) }
            let poolFinish: () throws -> Void = durable ? {} : { try self.pool!.sync() }
            let ceilingFinish: () throws -> Void = durable ? {} : { try self.syncVolumes() }
            // Untimed warm-up of both paths (buffer pool, page cache, dentries).
            try put(0)
            try poolFinish()
            try write(0)
            try ceilingFinish()
            let (poolSamples, ceilingSamples) = try alternate(
                bytesPerOperation: size, target: settings.ioTarget(), prepare: { sync() },
                pool: put, poolFinish: poolFinish, ceiling: write, ceilingFinish: ceilingFinish)
            let fsyncNote = durable
                ? "fsync every shard file, concurrently (DispatchQueue.concurrentPerform) as the pool does"
                : "no fsync per object; one syncfs per volume at the end of the sample, timed"
            reporter.add(Measurement(name: "pool.put.\(mode).\(label)", samples: poolSamples,
                                     note: "VolumePool.put(_:from:length:durable: \(durable)) from memory"
                                         + (durable ? "" : ", then pool.sync() (timed)")))
            reporter.add(Measurement(name: "ceiling.write.\(mode).\(label)", samples: ceilingSamples,
                                     note: "\(totalShards) files of \(shards.shardFileSize) B per object, same appends; "
                                         + fsyncNote + "; no rename, no directory fsync"))
        }
    }

    private func putObject(size: Int, durable: Bool) throws {
        let id = nextObjectID()
        let offset = (putSequence * size) % Self.payloadBytes
        putSequence += 1
        var source = BufferSource(UnsafeRawBufferPointer(start: payload.base + offset, count: size))
        try pool!.put(id, from: &source, length: size, durable: durable)
        stored[size, default: []].append(StoredObject(id: id, length: size, payloadOffset: offset))
    }

    /// The plain-I/O version of a put: n files with the shard files' sizes, written stripe by
    /// stripe in the same chunk appends, then table and trailer, fsynced like the pool does.
    private func ceilingWrite(_ shards: ShardGeometry, durable: Bool) throws {
        ceilingSequence += 1
        let name = "/bench-ceiling/c" + String(ceilingSequence) + "."
        let n = totalShards
        try withUnsafeTemporaryAllocation(of: Int32.self, capacity: n) { fds in
            var opened = 0
            defer { for shard in 0 ..< opened { close(fds[shard]) } }
            for shard in 0 ..< n {
                let path = volumePaths[shard] + name + String(shard)
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw BenchError.io("create \(path)", errno) }
                fds[shard] = fd
                opened += 1
            }
            for stripe in 0 ..< shards.stripeCount {
                let chunk = shards.chunkLength(ofStripe: stripe)
                for shard in 0 ..< n {
                    try SystemIO.writeAll(fds[shard], stripeImage.base + shard * shards.fullChunk, chunk)
                }
            }
            for shard in 0 ..< n {
                try SystemIO.writeAll(fds[shard], payload.base, shards.checksumTableLength)
                try SystemIO.writeAll(fds[shard], payload.base, ShardGeometry.trailerBytes)
            }
            if durable {
                let failures = Atomic<Int32>(0)
                let descriptors = Descriptors(base: fds.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: n) { shard in
                    if fsync(descriptors.base[shard]) != 0 { failures.store(errno, ordering: .relaxed) }
                }
                let code = failures.load(ordering: .relaxed)
                if code != 0 { throw BenchError.io("fsync", code) }
            }
        }
    }

    /// What `VolumePool.sync()` does, minus the pool: one syncfs per volume.
    private func syncVolumes() throws {
        for path in volumePaths {
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
            defer { close(fd) }
            try SystemIO.syncFileSystem(of: fd)
        }
    }

    /// Checks the assumptions the read ceiling rests on: shard i of an object is where the
    /// repeated placement says, has shard index i in its trailer, and the size computed here.
    private func checkLayout(size: Int) throws {
        guard let objects = stored[size], !objects.isEmpty else { return }
        let expected = geometry(size).shardFileSize
        for object in [objects.first!, objects.last!] {
            for shard in 0 ..< totalShards {
                let path = shardPath(object.id, shard: shard)
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BenchError.setup("shard \(shard) of \(object.id) not at \(path): placement changed?") }
                defer { close(fd) }
                var info = stat()
                fstat(fd, &info)
                guard Int(info.st_size) == expected else {
                    throw BenchError.setup("\(path) is \(info.st_size) B, the ceiling assumes \(expected) B: shard format changed?")
                }
                var index: UInt8 = 0
                try SystemIO.readExactly(fd, &index, 1, at: expected - ShardGeometry.trailerBytes + 10)
                guard Int(index) == shard else {
                    throw BenchError.setup("\(path) holds shard \(index), expected \(shard): placement changed?")
                }
            }
        }
    }

    // MARK: - Get

    private func getJob(size: Int) throws {
        let label = sizeLabel(size)
        let objects = stored[size] ?? []
        guard let first = objects.first else { return }
        try verify(first, reconstructs: false)
        let shards = geometry(size)
        let paths = objects.map { dataShardPaths($0.id) }
        let get: (Int) throws -> Void = { try self.getObject(objects[$0 % objects.count]) }

        // Warm: every object a sample can touch is read once, untimed, so all of them are cached.
        let warmCount = min(objects.count, max(1, settings.ioTargetBytes / size))
        for index in 0 ..< warmCount { try getObject(objects[index]) }
        let (poolWarm, ceilingWarm) = try alternate(
            bytesPerOperation: size, target: settings.ioTarget(), prepare: {},
            pool: { try self.getObject(objects[$0 % warmCount]) },
            ceiling: { try self.ceilingRead(paths[$0 % warmCount], shards) })
        reporter.add(Measurement(name: "pool.get.warm.\(label)", samples: poolWarm,
                                 note: "VolumePool.get into DiscardingSink; \(warmCount) objects, all in page cache"))
        reporter.add(Measurement(name: "ceiling.read.warm.\(label)", samples: ceilingWarm,
                                 note: "open the \(Self.dataShards) data-shard files, pread the same chunks, close"))

        // Cold: page cache (and dentries/inodes) dropped before every sample; no object is read twice in one.
        guard settings.coldUnavailable == nil else { return }
        let (poolCold, ceilingCold) = try alternate(
            bytesPerOperation: size, target: settings.ioTarget(maximumOperations: objects.count),
            prepare: { try PageCache.drop() }, pool: get,
            ceiling: { try self.ceilingRead(paths[$0], shards) })
        reporter.add(Measurement(name: "pool.get.cold.\(label)", samples: poolCold,
                                 note: "echo 3 > drop_caches before each sample"))
        reporter.add(Measurement(name: "ceiling.read.cold.\(label)", samples: ceilingCold,
                                 note: "echo 3 > drop_caches before each sample"))
    }

    private func getObject(_ object: StoredObject) throws {
        var sink = DiscardingSink()
        try pool!.get(object.id, into: &sink)
        guard sink.byteCount == object.length else {
            throw BenchError.wrongResult("get \(object.id) returned \(sink.byteCount) of \(object.length) bytes")
        }
    }

    /// The plain-I/O version of a healthy get: the k data-shard files of the object, the same
    /// chunk preads in the same order (stripe by stripe), no trailer, table or checksum.
    private func ceilingRead(_ paths: [String], _ shards: ShardGeometry) throws {
        let k = Self.dataShards
        try withUnsafeTemporaryAllocation(of: Int32.self, capacity: k) { fds in
            var opened = 0
            defer { for shard in 0 ..< opened { close(fds[shard]) } }
            for shard in 0 ..< k {
                let fd = open(paths[shard], O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BenchError.io("open \(paths[shard])", errno) }
                fds[shard] = fd
                opened += 1
            }
            for stripe in 0 ..< shards.stripeCount {
                let chunk = shards.chunkLength(ofStripe: stripe)
                let offset = stripe * shards.fullChunk
                for shard in 0 ..< k {
                    try SystemIO.readExactly(fds[shard], readBuffer.base + shard * chunk, chunk, at: offset)
                }
            }
        }
    }

    /// Reads `object` back in full and compares it with what was put (untimed).
    private func verify(_ object: StoredObject, reconstructs: Bool) throws {
        let before = pool!.counters.reconstructedStripes
        let bytes = try pool!.get(object.id)
        let same = bytes.count == object.length && bytes.withUnsafeBytes {
            memcmp($0.baseAddress!, payload.base + object.payloadOffset, object.length) == 0
        }
        guard same else { throw BenchError.wrongResult("object \(object.id) read back different bytes") }
        let rebuilt = pool!.counters.reconstructedStripes - before
        let expected = reconstructs ? geometry(object.length).stripeCount : 0
        guard rebuilt == expected else {
            throw BenchError.wrongResult("get of \(object.id) reconstructed \(rebuilt) stripes, expected \(expected)")
        }
    }

    // MARK: - Degraded get

    private func reopenDegraded() throws {
        pool?.close()
        pool = nil  // releases the volume locks
        let present = volumePaths.indices.filter { !Self.omittedVolumes.contains($0) }.map { volumePaths[$0] }
        pool = try VolumePool.open(volumePaths: present, options: Self.poolOptions)
    }

    private func degradedGetJob(size: Int) throws {
        let label = sizeLabel(size)
        let objects = stored[size] ?? []
        guard let first = objects.first else { return }
        try verify(first, reconstructs: true)
        let warmCount = min(objects.count, max(1, settings.ioTargetBytes / size))
        for index in 0 ..< warmCount { try getObject(objects[index]) }
        let note = "volumes \(Self.omittedVolumes) left out at open; they hold data shards 0 and 1 of every object, "
            + "so every stripe reads 2 data + 2 parity chunks and rebuilds 2"
        var warm: [Sample] = []
        for _ in 0 ..< settings.samples {
            sync()
            warm.append(try Sampler.run(bytesPerOperation: size, target: settings.ioTarget()) {
                try self.getObject(objects[$0 % warmCount])
            })
        }
        reporter.add(Measurement(name: "pool.get.degraded.warm.\(label)", samples: warm, note: note))
        guard settings.coldUnavailable == nil else { return }
        var cold: [Sample] = []
        for _ in 0 ..< settings.samples {
            try PageCache.drop()
            cold.append(try Sampler.run(bytesPerOperation: size, target: settings.ioTarget(maximumOperations: objects.count)) {
                try self.getObject(objects[$0])
            })
        }
        reporter.add(Measurement(name: "pool.get.degraded.cold.\(label)", samples: cold, note: note))
    }

    // MARK: - Sampling

    /// Takes `settings.samples` samples of `pool` and of `ceiling`, alternating which goes
    /// first so drift on the shared machine hits both alike. The first pool sample runs to
    /// `target`; every later sample of either side repeats its operation count, so both sides
    /// move the same bytes in every sample. `prepare` runs (untimed) before every sample.
    private func alternate(bytesPerOperation: Int, target: SampleTarget, prepare: () throws -> Void,
                           pool: (Int) throws -> Void, poolFinish: () throws -> Void = {},
                           ceiling: (Int) throws -> Void, ceilingFinish: () throws -> Void = {})
        throws -> (pool: [Sample], ceiling: [Sample]) {
        try prepare()
        let first = try Sampler.run(bytesPerOperation: bytesPerOperation, target: target,
                                    operation: pool, finish: poolFinish)
        var poolSamples = [first]
        var ceilingSamples: [Sample] = []
        let count = first.operations
        for sample in 0 ..< settings.samples {
            let ceilingFirst = sample % 2 == 1
            if ceilingFirst || sample == 0 {
                try prepare()
                ceilingSamples.append(try Sampler.run(bytesPerOperation: bytesPerOperation, operations: count,
                                                      operation: ceiling, finish: ceilingFinish))
            }
            if sample > 0 {
                try prepare()
                poolSamples.append(try Sampler.run(bytesPerOperation: bytesPerOperation, operations: count,
                                                   operation: pool, finish: poolFinish))
            }
            if !ceilingFirst && sample > 0 {
                try prepare()
                ceilingSamples.append(try Sampler.run(bytesPerOperation: bytesPerOperation, operations: count,
                                                      operation: ceiling, finish: ceilingFinish))
            }
        }
        return (poolSamples, ceilingSamples)
    }

    // MARK: - Ratios

    private func addRatios() {
        for size in settings.objectSizes {
            let label = sizeLabel(size)
            let goalPut: Double? = size == 64 << 20 ? 0.6 : nil
            let goalGet: Double? = size == 64 << 20 ? 0.7 : nil
            for mode in ["durable", "deferred+sync"] {
                reporter.addRatio("put/write-ceiling \(mode) \(label)", numerator: "pool.put.\(mode).\(label)",
                                  denominator: "ceiling.write.\(mode).\(label)", goal: goalPut)
            }
            for cache in ["warm", "cold"] {
                reporter.addRatio("get/read-ceiling \(cache) \(label)", numerator: "pool.get.\(cache).\(label)",
                                  denominator: "ceiling.read.\(cache).\(label)", goal: goalGet)
            }
            for cache in ["warm", "cold"] {
                reporter.addRatio("degraded-get/get \(cache) \(label)", numerator: "pool.get.degraded.\(cache).\(label)",
                                  denominator: "pool.get.\(cache).\(label)", goal: nil)
            }
        }
    }
}
