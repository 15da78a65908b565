import Foundation
import Testing
@testable import VolumePool

@Suite struct RepairQueueTests {
    @Test func queueIsBoundedDeduplicatedAndFirstInFirstOut() {
        let queue = RepairQueue(capacity: 3)
        let ids = (0 ..< 5).map { ObjectID(high: 0, low: UInt64($0)) }
        queue.enqueue(ids[0])
        queue.enqueue(ids[1])
        queue.enqueue(ids[0])
        #expect(queue.count == 2)
        queue.enqueue(ids[2])
        queue.enqueue(ids[3])
        #expect(queue.count == 3 && queue.droppedCount == 1)
        #expect(queue.dequeue() == ids[0])
        queue.enqueue(ids[0])  // may be queued again once taken
        #expect(queue.queued == [ids[1], ids[2], ids[0]])
        #expect([queue.dequeue(), queue.dequeue(), queue.dequeue(), queue.dequeue()] == [ids[1], ids[2], ids[0], nil])
    }

    @Test func backgroundHealerRepairsWhatADegradedReadFound() throws {
        let fixture = try PoolFixture(k: 4, m: 2, backgroundHeal: true)
        let id = ObjectID.random()
        let bytes = patternBytes(count: 3 << 20, seed: 8)
        try fixture.pool.put(id, bytes: bytes)
        let victim = fixture.shardPath(id, volume: fixture.volume(holdingShard: 2, of: id))
        try corrupt(file: victim, bytes: 1, seed: 1)
        let damaged = try Data(contentsOf: URL(fileURLWithPath: victim))
        #expect(try fixture.pool.get(id) == bytes)
        let deadline = Date().addingTimeInterval(20)
        while fixture.pool.counters.shardsHealed == 0 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(fixture.pool.counters.shardsHealed == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: victim)) != damaged)
        let degradedBefore = fixture.pool.counters.degradedReads
        #expect(try fixture.pool.get(id) == bytes)
        #expect(fixture.pool.counters.degradedReads == degradedBefore)
    }
}
