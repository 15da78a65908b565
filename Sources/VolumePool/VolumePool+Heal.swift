import Buffers
import Erasure
import Glibc

/// What `heal` did to one object.
public enum HealOutcome: Sendable, Equatable {
    case healthy
    case repaired(shards: Int)
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
                  let upload = try? volume.createShard(id) else { continue }
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
        if repaired < view.bad.count { return repaired == 0 ? .deferred(unavailableShards: view.bad.count) : .repaired(shards: repaired) }
        return .repaired(shards: repaired)
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
        guard slots.allSatisfy({ $0.volume != nil }) else { return false }
        let present = slots.filter { slot in (try? slot.volume!.openShard(id)) != nil }
        guard present.count < dataShards else { return false }
        for slot in present { try? slot.volume!.removeShard(id) }
        return true
    }
}
