import Erasure

/// The shards of one object a read or heal works from: which are open and agree on one
/// generation, which are missing, damaged or stale. Parity shards are opened only when a
/// data shard fails, so a healthy read touches k files.
final class ObjectView {
    let id: ObjectID
    let trailer: ShardTrailer
    private let pool: VolumePool
    private let placement: Placement
    private var readers: [ShardReader?]
    private(set) var tried: ShardMask
    /// Shards that are absent, unreadable, from another generation, or failed a checksum.
    private(set) var bad: ShardMask
    private(set) var problems: [String] = []

    var geometry: ObjectGeometry { trailer.geometry }

    /// Opens the data shards, or every shard when they disagree or one fails.
    /// `allShards` opens everything up front (heal, scrub).
    init(pool: VolumePool, id: ObjectID, allShards: Bool) throws {
        self.pool = pool
        self.id = id
        let placement = pool.placement(of: id)
        self.placement = placement
        let n = pool.totalShards
        let k = pool.dataShards
        var readers = [ShardReader?](repeating: nil, count: n)
        var tried = ShardMask()
        var problems: [String] = []
        var absent = 0
        func openShard(_ shard: Int) {
            tried.insert(shard)
            let volumeIndex = placement.volumeForShard[shard]
            guard let volume = pool.slots[volumeIndex].volume else {
                problems.append("shard \(shard): volume \(volumeIndex) unavailable")
                return
            }
            do {
                readers[shard] = try ShardReader(volume: volume, volumeIndex: volumeIndex, objectID: id, shardIndex: shard)
            } catch {
                switch error {
                case .missing:
                    absent += 1
                    problems.append("shard \(shard): missing on volume \(volumeIndex)")
                case let .damaged(reason):
                    problems.append("shard \(shard) on volume \(volumeIndex): \(reason)")
                }
            }
        }
        // A healthy read trusts the data shards alone only when they could not all be stale:
        // a quorum write leaves at most m-1 old shards, fewer than k whenever k ≥ m.
        let dataFirst = !allShards && k >= pool.parityShards
        for shard in 0 ..< (dataFirst ? k : n) { openShard(shard) }
        var chosen = Self.newestComplete(readers, k: k)
        if chosen == nil || (dataFirst && readers[0 ..< k].contains { $0 == nil || $0!.trailer.generation != chosen }) {
            for shard in k ..< n where !tried.contains(shard) { openShard(shard) }
            chosen = Self.newestComplete(readers, k: k)
        }
        guard let generation = chosen else {
            if absent == n { throw PoolError.objectNotFound(id) }
            let good = readers.compactMap { $0 }.count
            throw PoolError.objectUnreadable(object: id, goodShards: good, needed: k, problems: problems)
        }
        var bad = ShardMask()
        for shard in 0 ..< n where tried.contains(shard) {
            guard let reader = readers[shard] else { bad.insert(shard); continue }
            if reader.trailer.generation != generation {
                problems.append("shard \(shard) on volume \(reader.volumeIndex): stale generation")
                readers[shard] = nil
                bad.insert(shard)
            }
        }
        self.readers = readers
        self.tried = tried
        self.bad = bad
        self.problems = problems
        trailer = readers.first { $0 != nil }!!.trailer
    }

    /// The newest generation that at least k opened shards share.
    private static func newestComplete(_ readers: [ShardReader?], k: Int) -> UInt64? {
        var counts: [UInt64: Int] = [:]
        for reader in readers {
            if let generation = reader?.trailer.generation { counts[generation, default: 0] += 1 }
        }
        return counts.filter { $0.value >= k }.keys.max()
    }

    /// Hints the already opened shards among `shards` that their chunks of `stripes` will be
    /// read soon (see `ShardDownload.willRead`).
    func willRead(shards: Range<Int>, stripes: Range<Int>) {
        for shard in shards where !bad.contains(shard) { readers[shard]?.willRead(stripes: stripes) }
    }

    /// Reads and verifies chunk `stripe` of `shard` into `buffer`; on failure the shard is
    /// marked bad for the rest of the operation.
    func readChunk(shard: Int, stripe: Int, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard !bad.contains(shard), let reader = reader(shard) else { return false }
        if reader.readChunk(stripe: stripe, into: buffer) { return true }
        bad.insert(shard)
        problems.append("shard \(shard) on volume \(reader.volumeIndex): stripe \(stripe) fails its checksum")
        return false
    }

    /// The reader of `shard`, opening it on first use; nil when absent, damaged or stale.
    private func reader(_ shard: Int) -> ShardReader? {
        if !tried.contains(shard) {
            tried.insert(shard)
            let volumeIndex = placement.volumeForShard[shard]
            if let volume = pool.slots[volumeIndex].volume,
               let reader = try? ShardReader(volume: volume, volumeIndex: volumeIndex, objectID: id, shardIndex: shard),
               reader.trailer.generation == trailer.generation {
                readers[shard] = reader
            } else {
                bad.insert(shard)
            }
        }
        return readers[shard]
    }

    func volumeIndex(ofShard shard: Int) -> Int { placement.volumeForShard[shard] }

    var info: ObjectInfo { ObjectInfo(id: id, length: trailer.objectLength, generation: trailer.generation) }
}

extension ObjectView {
    /// Reads and verifies every chunk of every shard still considered good, so `bad` ends up
    /// naming every shard that needs rebuilding.
    func verifyAllChunks(scratch: UnsafeMutableRawPointer) {
        let geometry = geometry
        for stripe in 0 ..< geometry.stripeCount {
            let chunk = UnsafeMutableRawBufferPointer(start: scratch, count: geometry.chunkLength(ofStripe: stripe))
            for shard in 0 ..< pool.totalShards where !bad.contains(shard) {
                _ = readChunk(shard: shard, stripe: stripe, into: chunk)
            }
        }
    }
}
