import Buffers

/// What a scrub found (and, with repair, fixed) across the whole pool.
public struct ScrubReport: Sendable, Equatable {
    public var objects = 0
    public var healthyObjects = 0
    /// Objects with at least one missing, stale or corrupt shard.
    public var degradedObjects = 0
    public var badShards = 0
    public var repairedShards = 0
    /// Leftovers of deletes or failed writes (fewer than k shard files, every volume present),
    /// found by a scrub; a repairing scrub removes them and counts `removedDangling` instead.
    public var danglingObjects = 0
    public var removedDangling = 0
    public var unrecoverable: [ObjectID: String] = [:]

    public init() {}
}

extension VolumePool {
    /// Verifies every chunk of every shard of every object. With `repair`, heals what it finds.
    public func scrub(repair: Bool = false) throws -> ScrubReport {
        var report = ScrubReport()
        let ids = try shardCounts().keys.sorted()
        let scratch = SizeClassPool.shared.take(capacity: max(1, (stripeSize + dataShards - 1) / dataShards))
        for id in ids {
            if repair {
                tally(try heal(id), of: id, into: &report)
                continue
            }
            report.objects += 1
            do {
                let view = try ObjectView(pool: self, id: id, allShards: true)
                view.verifyAllChunks(scratch: scratch.baseAddress)
                if view.bad.isEmpty {
                    report.healthyObjects += 1
                } else {
                    report.degradedObjects += 1
                    report.badShards += view.bad.count
                }
            } catch PoolError.objectNotFound {
                report.objects -= 1  // deleted since the listing
            } catch {
                if danglingShardHolders(id) != nil {
                    report.objects -= 1
                    report.danglingObjects += 1
                } else {
                    report.unrecoverable[id] = "\(error)"
                }
            }
        }
        return report
    }

    private func tally(_ outcome: HealOutcome, of id: ObjectID, into report: inout ScrubReport) {
        switch outcome {
        case .absent:
            return
        case .removedDangling:
            report.removedDangling += 1
            return
        case .healthy:
            report.healthyObjects += 1
        case let .repaired(shards):
            report.degradedObjects += 1
            report.badShards += shards
            report.repairedShards += shards
        case let .deferred(unavailable):
            report.degradedObjects += 1
            report.badShards += unavailable
        case let .partiallyRepaired(repaired, deferred):
            report.degradedObjects += 1
            report.badShards += repaired + deferred
            report.repairedShards += repaired
        case let .unrecoverable(reason):
            report.unrecoverable[id] = reason
        }
        report.objects += 1
    }
}
