import Foundation
import Testing
@testable import VolumePool

/// Invariant I2 on a 4+2 pool: losing or damaging any two shards loses nothing.
@Suite struct FaultTests {
    /// Objects spanning one and several stripes, plus an empty one.
    static func fill(_ fixture: PoolFixture) throws -> [(ObjectID, [UInt8])] {
        try [0, 1, 4096, 100_000, 300_000, 1 << 20].enumerated().map { i, size in
            let id = ObjectID.random()
            let bytes = patternBytes(count: size, seed: UInt64(100 + i))
            try fixture.pool.put(id, bytes: bytes)
            return (id, bytes)
        }
    }

    static func expectAllIdentical(_ fixture: PoolFixture, _ objects: [(ObjectID, [UInt8])],
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (id, bytes) in objects {
            #expect(try fixture.pool.get(id) == bytes, "object \(id) of \(bytes.count) bytes", sourceLocation: sourceLocation)
        }
    }

    @Test func twoDeletedVolumeDirectoriesLoseNothing() throws {
        let fixture = try PoolFixture(k: 4, m: 2, stripeSize: 64 << 10)
        let objects = try Self.fill(fixture)
        fixture.removeVolume(1)
        fixture.removeVolume(4)
        try Self.expectAllIdentical(fixture, objects)  // under the live pool
        #expect(fixture.pool.counters.degradedReads > 0)
        try fixture.reopen()  // and after reopening with the paths gone
        try Self.expectAllIdentical(fixture, objects)
        let states = fixture.pool.volumeStatus().map(\.state)
        #expect(states.filter { $0 != .online }.count == 2)
    }

    @Test func flippedBytesInTwoShardsAreRepairedOnReadAndCountedByScrub() throws {
        let fixture = try PoolFixture(k: 4, m: 2, stripeSize: 64 << 10)
        let objects = try Self.fill(fixture).filter { $0.1.count > 0 }
        for (n, (id, _)) in objects.enumerated() {
            for shard in [n % 6, (n + 3) % 6] {
                try corrupt(file: fixture.shardPath(id, volume: fixture.volume(holdingShard: shard, of: id)),
                            bytes: 3, seed: UInt64(n * 10 + shard))
            }
        }
        try Self.expectAllIdentical(fixture, objects)
        let report = try fixture.pool.scrub()
        #expect(report.objects == objects.count + 1)  // plus the empty object
        #expect(report.degradedObjects == objects.count)
        #expect(report.badShards == 2 * objects.count)
        #expect(report.unrecoverable.isEmpty)
        let repaired = try fixture.pool.scrub(repair: true)
        #expect(repaired.repairedShards == 2 * objects.count)
        let after = try fixture.pool.scrub()
        #expect(after.degradedObjects == 0 && after.healthyObjects == objects.count + 1)
    }

    @Test func truncatedShardIsDetectedAndRead() throws {
        let fixture = try PoolFixture(k: 4, m: 2, stripeSize: 64 << 10)
        let objects = try Self.fill(fixture)
        let (id, _) = objects[5]
        let path = fixture.shardPath(id, volume: fixture.volume(holdingShard: 0, of: id))
        #expect(truncate(path, 1000) == 0)
        try Self.expectAllIdentical(fixture, objects)
        #expect(fixture.pool.repairQueue.queued.contains(id))
        #expect(try fixture.pool.scrub().badShards == 1)
    }

    @Test func threeLostVolumesGiveAPreciseError() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        let objects = try Self.fill(fixture)
        for index in [0, 2, 5] { fixture.removeVolume(index) }
        let (id, _) = objects[3]
        do {
            _ = try fixture.pool.get(id)
            Issue.record("read with three volumes gone must fail")
        } catch let PoolError.objectUnreadable(object, good, needed, problems) {
            #expect(object == id && good == 3 && needed == 4)
            #expect(problems.contains { $0.contains("missing") })
        }
        do {
            try fixture.reopen()
            Issue.record("opening with three volumes gone must fail")
        } catch let PoolError.notEnoughVolumes(usable, needed, problems) {
            #expect(usable == 3 && needed == 4)
            for index in [0, 2, 5] {
                #expect(problems.contains { $0.contains(fixture.volumePaths[index]) })
            }
        }
    }

    @Test func healAfterReplacingTwoVolumesRestoresFullRedundancy() throws {
        let fixture = try PoolFixture(k: 4, m: 2, stripeSize: 64 << 10)
        let objects = try Self.fill(fixture)
        fixture.removeVolume(0)
        fixture.removeVolume(3)
        fixture.pool.close()
        #expect(throws: PoolError.self) {  // two are missing: which one is meant must be said
            try VolumePool.replaceVolume(volumePaths: fixture.volumePaths, index: nil, with: fixture.volumePaths[0])
        }
        #expect(try VolumePool.replaceVolume(volumePaths: fixture.volumePaths, index: 0, with: fixture.volumePaths[0]) == 0)
        #expect(try VolumePool.replaceVolume(volumePaths: fixture.volumePaths, index: nil, with: fixture.volumePaths[3]) == 3)
        try fixture.reopen()
        let healed = try fixture.pool.scrub(repair: true)
        #expect(healed.unrecoverable.isEmpty)
        #expect(healed.repairedShards == 2 * objects.count)
        let report = try fixture.pool.scrub()
        #expect(report.healthyObjects == objects.count && report.degradedObjects == 0)
        try Self.expectAllIdentical(fixture, objects)
        #expect(fixture.pool.counters.degradedReads == 0)
        #expect(fixture.pool.counters.reconstructedStripes == 0)
        // The rebuilt volumes alone carry their share: drop two *other* volumes and read again.
        fixture.removeVolume(1)
        fixture.removeVolume(2)
        try Self.expectAllIdentical(fixture, objects)
    }

    @Test func writeMissingOneVolumeMeetsQuorumAndIsQueuedForRepair() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        fixture.removeVolume(2)
        let id = ObjectID.random()
        let bytes = patternBytes(count: 200_000, seed: 9)
        try fixture.pool.put(id, bytes: bytes)
        #expect(fixture.pool.repairQueue.queued == [id])
        #expect(fixture.pool.counters.partialWrites == 1)
        #expect(try fixture.pool.get(id) == bytes)
    }

    @Test func writeMissingTwoVolumesFailsAndKeepsNothing() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        let earlier = try Self.fill(fixture)
        fixture.removeVolume(2)
        fixture.removeVolume(5)
        let id = ObjectID.random()
        #expect(throws: PoolError.self) { try fixture.pool.put(id, bytes: patternBytes(count: 5000, seed: 1)) }
        for index in [0, 1, 3, 4] {
            #expect(!FileManager.default.fileExists(atPath: fixture.shardPath(id, volume: index)))
            #expect((try FileManager.default.contentsOfDirectory(atPath: fixture.volumePaths[index] + "/tmp")).isEmpty)
        }
        try Self.expectAllIdentical(fixture, earlier)
    }

    @Test func staleShardFromAnInterruptedOverwriteIsIgnoredAndHealed() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        let id = ObjectID.random()
        try fixture.pool.put(id, bytes: patternBytes(count: 9000, seed: 1))
        let holder = fixture.volume(holdingShard: 1, of: id)
        let oldShard = try Data(contentsOf: URL(fileURLWithPath: fixture.shardPath(id, volume: holder)))
        let newer = patternBytes(count: 9000, seed: 2)
        try fixture.pool.put(id, bytes: newer)
        try oldShard.write(to: URL(fileURLWithPath: fixture.shardPath(id, volume: holder)))
        #expect(try fixture.pool.get(id) == newer)
        #expect(try fixture.pool.heal(id) == .repaired(shards: 1))
        #expect(try fixture.pool.heal(id) == .healthy)
    }

    @Test func leftoversOfAnIncompleteDeleteAreRemovedByHeal() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        let id = ObjectID.random()
        try fixture.pool.put(id, bytes: patternBytes(count: 100, seed: 1))
        let survivor = fixture.shardPath(id, volume: 0)
        let kept = try Data(contentsOf: URL(fileURLWithPath: survivor))
        try fixture.pool.delete(id)
        try kept.write(to: URL(fileURLWithPath: survivor))
        #expect(try fixture.pool.list().isEmpty)
        let found = try fixture.pool.scrub()
        #expect(found.danglingObjects == 1 && found.unrecoverable.isEmpty && found.objects == 0)
        #expect(try fixture.pool.scrub(repair: true).removedDangling == 1)
        #expect(!FileManager.default.fileExists(atPath: survivor))
    }
}
