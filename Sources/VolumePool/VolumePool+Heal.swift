import Buffers
import Erasure
import Glibc

/// What `heal` did to one object.
public enum HealOutcome: Sendable, Equatable {
    case healthy
    case repaired(shards: Int)
    /// Some bad shards were rebuilt; the others wait for their volume to come back.
    case partiallyRepaired(repaired: Int, deferred: Int)
    /// Some shards are bad but their volumes are unavailable; nothing could be written yet.
    case deferred(unavailableShards: Int)
    /// Fewer than k shard files existed on a complete set of volumes: leftovers of a delete or
    /// a failed write, removed.
    case removedDangling
    case absent
    case unrecoverable(String)
}

extension VolumePool {
    /// Verifies every chunk of `id` and rewrites every missing, stale or corrupt shard whose
    /// volume is available, from k intact ones. Rebuilt shards keep the object's generation.
    @discardableResult
    public func heal(_ id: ObjectID) throws -> HealOutcome {
        let view: ObjectView
        do {
            view = try ObjectView(pool: self, id: id, allShards: true)
        } catch PoolError.objectNotFound {
            return .absent
        } catch let PoolError.objectUnreadable(_, _, _, problems) {
            return removeIfDangling(id) ? .removedDangling : .unrecoverable(problems.joined(separator: "; "))
        }
        let geometry = view.geometry
        let stripe = SizeClassPool.shared.take(capacity: codec.stripeByteCount(shardLength: max(1, geometry.fullChunkLength)))
        view.verifyAllChunks(scratch: stripe.baseAddress)
        guard !view.bad.isEmpty else { return .healthy }

        var targets = ShardMask()
        var writers: [ShardWriter] = []
        for shard in view.bad.indices {
            let volumeIndex = view.volumeIndex(ofShard: shard)
            guard let volume = slots[volumeIndex].volume,
                  let upload = try? volume.createShard(id, caching: .keep, expectedByteCount: geometry.shardFileSize) else { continue }
            targets.insert(shard)
            writers.append(ShardWriter(objectID: id, shardIndex: shard, volumeIndex: volumeIndex, upload: upload,
                                       expectedStripes: geometry.stripeCount))
        }
        guard !writers.isEmpty else { return .deferred(unavailableShards: view.bad.count) }

        for stripeIndex in 0 ..< geometry.stripeCount {
            let chunk = geometry.chunkLength(ofStripe: stripeIndex)
            var available = ShardMask()
            for shard in 0 ..< totalShards where available.count < dataShards && !view.bad.contains(shard) {
                let buffer = UnsafeMutableRawBufferPointer(start: stripe.baseAddress + shard * chunk, count: chunk)
                if view.readChunk(shard: shard, stripe: stripeIndex, into: buffer) { available.insert(shard) }
            }
            guard available.count >= dataShards else {
                writers.forEach { $0.abort() }
                return .unrecoverable("stripe \(stripeIndex) has only \(available.count) intact chunks: "
                    + view.problems.joined(separator: "; "))
            }
            try codec.reconstruct(stripe: stripe.baseAddress, shardLength: chunk, available: available, targets: targets)
            for writer in writers {
                writer.append(chunk: UnsafeRawBufferPointer(start: stripe.baseAddress + writer.shardIndex * chunk, count: chunk),
                              stripe: stripeIndex)
            }
        }
        for writer in writers { writer.finish(trailer: view.trailer, durable: true) }
        let repaired = writers.filter(\.isHealthy).count
        record { $0.shardsHealed += repaired }
        let remaining = view.bad.count - repaired
        if remaining == 0 { return .repaired(shards: repaired) }
        if repaired == 0 { return .deferred(unavailableShards: remaining) }
        return .partiallyRepaired(repaired: repaired, deferred: remaining)
    }

    /// Heals everything in the repair queue now, on the calling thread.
    public func healQueued() -> [ObjectID: HealOutcome] {
        var outcomes: [ObjectID: HealOutcome] = [:]
        while let id = repairQueue.dequeue() {
            outcomes[id] = (try? heal(id)) ?? .unrecoverable("heal failed")
        }
        return outcomes
    }

    /// With every volume present and fewer than k shard files left, the object was deleted or
    /// never completed: remove the leftovers. Anything else is kept for a human to look at.
    private func removeIfDangling(_ id: ObjectID) -> Bool {
        guard let holders = danglingShardHolders(id) else { return false }
        for volume in holders { try? volume.removeShard(id) }
        return true
    }

    /// The volumes holding leftovers of `id`, when `id` is dangling; nil when it is not.
    func danglingShardHolders(_ id: ObjectID) -> [any Volume]? {
        let volumes = slots.compactMap(\.volume)
        guard volumes.count == totalShards else { return nil }
        let holders = volumes.filter { (try? $0.openShard(id)) != nil }
        return holders.count < dataShards ? holders : nil
    }
}
