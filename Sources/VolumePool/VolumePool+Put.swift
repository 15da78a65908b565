import Buffers
import Foundation
import Synchronization

/// What the pool knows about a stored object.
public struct ObjectInfo: Sendable, Equatable {
    public var id: ObjectID
    public var length: Int
    /// Start time of the write that produced this content (ns since the epoch).
    public var generation: UInt64
}

extension VolumePool {
    /// Stores the bytes `source` produces as object `id`, streaming stripe by stripe.
    ///
    /// With `length`, exactly that many bytes are read and a shorter source is an error;
    /// without it the object ends when the source does. With `durable` (the default) every
    /// shard is on stable storage when this returns; with `durable: false` a later `sync()`
    /// makes a whole batch durable at once. Fails, keeping nothing, unless `writeQuorum`
    /// volumes accepted every shard; when quorum was met but a volume missed its shard the
    /// object is queued for repair. `caching` tells the volumes whether to keep the shards
    /// in their cache for reads soon.
    @discardableResult
    public func put(_ id: ObjectID, from source: inout some ByteSource, length: Int? = nil,
                    durable: Bool = true, caching: ShardCaching = .keep) throws -> ObjectInfo {
        let generation = UInt64(Date().timeIntervalSince1970 * 1e9)
        let geometry = length.map { ObjectGeometry(objectLength: $0, stripeSize: stripeSize, dataShards: dataShards) }
        var problems: [String] = []
        let writers = openWriters(for: id, expectedStripes: geometry?.stripeCount ?? 1,
                                  expectedShardBytes: geometry?.shardFileSize, caching: caching, problems: &problems)
        try requireQuorum(writers, id: id, problems: &problems)

        let fullChunk = codec.shardLength(forPayload: stripeSize)
        let stripe = SizeClassPool.shared.take(capacity: codec.stripeByteCount(shardLength: fullChunk))
        var written = 0
        var stripeIndex = 0
        do {
            while true {
                let want = length.map { min(stripeSize, $0 - written) } ?? stripeSize
                let payload = try fill(stripe.baseAddress, count: want, from: &source, object: id)
                if let length, payload < want {
                    throw PoolError.sourceLengthMismatch(object: id, expected: length, produced: written + payload)
                }
                if payload == 0 { break }
                let chunk = codec.shardLength(forPayload: payload)
                (stripe.baseAddress + payload).initializeMemory(as: UInt8.self, repeating: 0,
                                                                count: chunk * dataShards - payload)
                codec.encode(stripe: stripe.baseAddress, shardLength: chunk)
                for writer in writers {
                    let bytes = UnsafeRawBufferPointer(start: stripe.baseAddress + writer.shardIndex * chunk, count: chunk)
                    writer.append(chunk: bytes, stripe: stripeIndex)
                }
                try requireQuorum(writers, id: id, problems: &problems)
                written += payload
                stripeIndex += 1
                if payload < stripeSize || written == length { break }
            }
        } catch {
            writers.forEach { $0.abort() }
            throw error
        }

        let trailer = ShardTrailer(shardIndex: 0, dataShards: dataShards, parityShards: parityShards,
                                           objectID: id, objectLength: written, stripeSize: stripeSize,
                                           generation: generation)
        finish(writers, trailer: trailer, durable: durable)
        let committed = writers.filter(\.isHealthy)
        guard committed.count >= writeQuorum else {
            for writer in committed { try? slots[writer.volumeIndex].volume?.removeShard(id) }
            problems += writers.compactMap { writer in writer.failure.map { "volume \(writer.volumeIndex): \($0)" } }
            throw PoolError.writeQuorumNotMet(object: id, written: committed.count, needed: writeQuorum, problems: problems)
        }
        let complete = committed.count == totalShards
        if !complete { repairQueue.enqueue(id) }
        record {
            $0.objectsWritten += 1
            if !complete { $0.partialWrites += 1 }
        }
        return ObjectInfo(id: id, length: written, generation: generation)
    }

    /// Stores `bytes` as object `id`.
    @discardableResult
    public func put(_ id: ObjectID, bytes: some ContiguousBytes, durable: Bool = true) throws -> ObjectInfo {
        try bytes.withUnsafeBytes { raw in
            var source = BufferSource(raw)
            return try put(id, from: &source, length: raw.count, durable: durable)
        }
    }

    private func openWriters(for id: ObjectID, expectedStripes: Int, expectedShardBytes: Int?, caching: ShardCaching,
                             problems: inout [String]) -> [ShardWriter] {
        let placement = placement(of: id)
        var writers: [ShardWriter] = []
        writers.reserveCapacity(totalShards)
        for shard in 0 ..< totalShards {
            let volumeIndex = placement.volumeForShard[shard]
            guard let volume = slots[volumeIndex].volume else {
                problems.append("volume \(volumeIndex) unavailable")
                continue
            }
            do {
                writers.append(ShardWriter(objectID: id, shardIndex: shard, volumeIndex: volumeIndex,
                                           upload: try volume.createShard(id, caching: caching, expectedByteCount: expectedShardBytes),
                                           expectedStripes: expectedStripes))
            } catch {
                problems.append("volume \(volumeIndex): \(error)")
            }
        }
        return writers
    }

    private func requireQuorum(_ writers: [ShardWriter], id: ObjectID, problems: inout [String]) throws {
        let healthy = writers.reduce(0) { $0 + ($1.isHealthy ? 1 : 0) }
        guard healthy < writeQuorum else { return }
        problems += writers.compactMap { writer in writer.failure.map { "volume \(writer.volumeIndex): \($0)" } }
        writers.forEach { $0.abort() }
        throw PoolError.writeQuorumNotMet(object: id, written: healthy, needed: writeQuorum, problems: problems)
    }

    /// Seals and publishes every healthy shard. A durable put then flushes each filesystem
    /// holding a shard once (syncfs covers the shard files, their renames and directories):
    /// one flush for six volumes on one disk instead of a file and a directory fsync per
    /// shard. The flushes of different filesystems run concurrently, each waiting for its own
    /// disk; a failed flush fails every shard on that filesystem.
    private func finish(_ writers: [ShardWriter], trailer: ShardTrailer, durable: Bool) {
        writers.forEach { $0.finish(trailer: trailer, durable: false) }
        guard durable else { return }
        let committed = writers.filter(\.isHealthy)
        let volumes = committed.compactMap { slots[$0.volumeIndex].volume }
        let flushed = Self.onePerFilesystem(volumes)
        record { $0.filesystemFlushes += flushed.count }
        let failures = Mutex<[Int: VolumeIOError]>([:])
        DispatchQueue.concurrentPerform(iterations: flushed.count) { index in
            do throws(VolumeIOError) {
                try flushed[index].sync()
            } catch {
                failures.withLock { $0[index] = error }
            }
        }
        for (index, error) in failures.withLock({ $0 }) {
            let failed = flushed[index]
            for writer in committed {
                guard let volume = slots[writer.volumeIndex].volume else { continue }
                if volume === failed || (failed.filesystemID != nil && volume.filesystemID == failed.filesystemID) {
                    writer.fail(error)
                }
            }
        }
    }

    /// Reads up to `count` bytes into `buffer`, stopping early only at the end of the source.
    private func fill(_ buffer: UnsafeMutableRawPointer, count: Int, from source: inout some ByteSource,
                      object: ObjectID) throws -> Int {
        var filled = 0
        while filled < count {
            let n: Int
            do {
                n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + filled, count: count - filled))
            } catch {
                throw PoolError.sourceFailed(object: object, reason: "\(error)")
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}
