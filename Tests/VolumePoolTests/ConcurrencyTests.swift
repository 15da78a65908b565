import Foundation
import Synchronization
import Testing
@testable import VolumePool

@Suite struct ConcurrencyTests {
    /// 8 threads put, get and delete at random for a few seconds — reading each other's
    /// objects too — with a background healer running; then every surviving object verifies.
    @Test func eightThreadsOfMixedTrafficLeaveEveryObjectIntact() throws {
        let fixture = try PoolFixture(k: 4, m: 2, stripeSize: 64 << 10, backgroundHeal: true)
        let pool = fixture.pool
        let live = Mutex<[ObjectID: UInt64]>([:])  // id -> seed of its content
        let failures = Mutex<[String]>([])
        let deadline = Date().addingTimeInterval(4)
        let work: @Sendable (Int) -> Void = { thread in
                var random = SystemRandomNumberGenerator()
                var operations = 0
                while Date() < deadline || operations < 20 {
                    operations += 1
                    let roll = Int.random(in: 0 ..< 10, using: &random)
                    do {
                        if roll < 4 {
                            let seed = UInt64(thread) << 32 | UInt64(operations)
                            let id = ObjectID.random()
                            try pool.put(id, bytes: patternBytes(count: Self.size(seed), seed: seed), durable: false)
                            live.withLock { $0[id] = seed }
                        } else if roll < 8 {
                            guard let (id, seed) = live.withLock({ $0.randomElement() }) else { continue }
                            do {
                                let bytes = try pool.get(id)
                                if bytes != patternBytes(count: Self.size(seed), seed: seed) {
                                    failures.withLock { $0.append("object \(id) read back different bytes") }
                                }
                            } catch PoolError.objectNotFound {
                                // deleted by another thread meanwhile
                            } catch PoolError.objectUnreadable where live.withLock({ $0[id] == nil }) {
                                // deleted while this read had some shards open: the pool's
                                // callers never delete what they still read (see VolumePool+Catalog)
                            }
                        } else {
                            guard let (id, _) = live.withLock({ $0.randomElement() }) else { continue }
                            guard live.withLock({ $0.removeValue(forKey: id) }) != nil else { continue }
                            try pool.delete(id)
                        }
                    } catch {
                        failures.withLock { $0.append("thread \(thread): \(error)") }
                    }
                }
        }
        let done = DispatchGroup()
        for thread in 0 ..< 8 {
            done.enter()
            Thread.detachNewThread { work(thread); done.leave() }
        }
        done.wait()
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
        let survivors = live.withLock { $0 }
        #expect(!survivors.isEmpty)
        try pool.sync()
        try fixture.reopen()
        for (id, seed) in survivors {
            #expect(try fixture.pool.get(id) == patternBytes(count: Self.size(seed), seed: seed))
        }
        #expect(Set(try fixture.pool.list()) == Set(survivors.keys))
        #expect(fixture.pool.counters.degradedReads == 0)
    }

    /// Sizes from 0 to ~300 KiB, so objects span zero to five stripes.
    static func size(_ seed: UInt64) -> Int { Int(seed % 7) * 50_001 }
}
