import Glibc

extension VolumePool {
    /// Ids of the objects stored in the pool (those with shards on at least k available
    /// volumes), in ascending order.
    public func list() throws -> [ObjectID] {
        try shardCounts().filter { $0.value >= dataShards }.keys.sorted()
    }

    /// Removes every shard of `id` from the available volumes. Shards on volumes that are
    /// unavailable now are found as dangling and removed by a later `heal`/`scrub --repair`.
    /// A read of `id` running at the same time fails (`objectNotFound` or, if it had already
    /// opened some shards, `objectUnreadable`); callers delete only what nobody reads.
    public func delete(_ id: ObjectID) throws {
        var failures: [String] = []
        for slot in slots {
            guard let volume = slot.volume else { continue }
            do {
                try volume.removeShard(id)
            } catch {
                failures.append("volume \(slot.index): \(error)")
            }
        }
        if !failures.isEmpty { throw PoolError.deleteIncomplete(object: id, problems: failures) }
    }

    /// For every id with at least one shard anywhere, on how many available volumes it has one.
    func shardCounts() throws -> [ObjectID: Int] {
        var counts: [ObjectID: Int] = [:]
        for slot in slots {
            try slot.volume?.forEachShard { counts[$0, default: 0] += 1 }
        }
        return counts
    }
}
