import Foundation
import Synchronization
import Testing
@testable import VolumePool

/// A volume whose writes or reads fail with a chosen errno (EIO here), wrapped around a real
/// one through the pool's decoration seam.
final class FaultyVolume: Volume, @unchecked Sendable {
    let inner: any Volume
    let writeErrno = Mutex<Int32?>(nil)
    let readErrno = Mutex<Int32?>(nil)

    init(_ inner: any Volume) { self.inner = inner }

    var location: String { inner.location }

    func createShard(_ id: ObjectID, caching: ShardCaching, expectedByteCount: Int?) throws(VolumeIOError) -> any ShardUpload {
        if let code = writeErrno.withLock({ $0 }) { throw VolumeIOError(path: location, operation: "create", code: code) }
        return try inner.createShard(id, caching: caching, expectedByteCount: expectedByteCount)
    }

    func openShard(_ id: ObjectID) throws(VolumeIOError) -> any ShardDownload {
        let download = try inner.openShard(id)
        guard let code = readErrno.withLock({ $0 }) else { return download }
        return FailingDownload(byteCount: download.byteCount, code: code, path: location)
    }

    func removeShard(_ id: ObjectID) throws(VolumeIOError) { try inner.removeShard(id) }
    func forEachShard(_ body: (ObjectID) throws -> Void) throws { try inner.forEachShard(body) }
    func sync() throws(VolumeIOError) { try inner.sync() }
    func capacity() throws(VolumeIOError) -> VolumeCapacity { try inner.capacity() }
    func close() { inner.close() }

    final class FailingDownload: ShardDownload {
        let byteCount: Int
        let code: Int32
        let path: String
        init(byteCount: Int, code: Int32, path: String) {
            self.byteCount = byteCount
            self.code = code
            self.path = path
        }
        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(VolumeIOError) {
            throw VolumeIOError(path: path, operation: "read", code: code)
        }
    }
}

/// EIO and permission errors on volumes: a write fails cleanly or completes on the others
/// within quorum, reads stay correct, and nothing already stored is damaged.
@Suite(.serialized) struct VolumeFaultTests {
    /// A 4+2 pool whose six volumes are all wrapped in `FaultyVolume`s.
    static func faultyPool(_ fixture: PoolFixture) throws -> (VolumePool, [FaultyVolume]) {
        fixture.pool.close()
        let faulty = Mutex<[Int: FaultyVolume]>([:])
        var options = PoolFixture.options()
        options.decorateVolume = { index, volume in
            let wrapped = FaultyVolume(volume)
            faulty.withLock { $0[index] = wrapped }
            return wrapped
        }
        let pool = try VolumePool.open(volumePaths: fixture.volumePaths, options: options)
        let volumes = faulty.withLock { map in (0 ..< 6).map { map[$0]! } }
        return (pool, volumes)
    }

    @Test func eioOnWritesIsSurvivedByQuorumOrRefusedCleanly() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        let (pool, volumes) = try Self.faultyPool(fixture)
        defer { pool.close() }
        let earlier = ObjectID.random()
        let earlierBytes = patternBytes(count: 300_000, seed: 1)
        try pool.put(earlier, bytes: earlierBytes)

        volumes[2].writeErrno.withLock { $0 = EIO }
        let survived = ObjectID.random()
        let bytes = patternBytes(count: 2_000_000, seed: 2)
        try pool.put(survived, bytes: bytes)
        #expect(pool.repairQueue.queued.contains(survived))
        #expect(try pool.get(survived) == bytes)

        volumes[4].writeErrno.withLock { $0 = EIO }
        let refused = ObjectID.random()
        do {
            try pool.put(refused, bytes: patternBytes(count: 100_000, seed: 3))
            Issue.record("a write reaching only 4 of 6 volumes must fail")
        } catch let PoolError.writeQuorumNotMet(object, written, needed, problems) {
            #expect(object == refused && written == 4 && needed == 5)
            #expect(problems.contains { $0.contains("Input/output error") })
        }
        for path in fixture.volumePaths {
            #expect(!FileManager.default.fileExists(atPath: path + "/objects/" + refused.hex.prefix(2) + "/" + refused.hex))
        }
        #expect(try pool.get(earlier) == earlierBytes)
        #expect(try pool.get(survived) == bytes)
    }

    @Test func eioOnReadsIsRepairedFromParityUpToM() throws {
        let fixture = try PoolFixture(k: 4, m: 2, stripeSize: 64 << 10)
        let (pool, volumes) = try Self.faultyPool(fixture)
        defer { pool.close() }
        let id = ObjectID.random()
        let bytes = patternBytes(count: 1_000_003, seed: 4)
        try pool.put(id, bytes: bytes)
        let dataVolumes = (0 ..< 3).map { fixture.volume(holdingShard: $0, of: id) }
        volumes[dataVolumes[0]].readErrno.withLock { $0 = EIO }
        volumes[dataVolumes[1]].readErrno.withLock { $0 = EIO }
        #expect(try pool.get(id) == bytes)
        #expect(try pool.get(id, range: 65_530 ..< 200_001) == Array(bytes[65_530 ..< 200_001]))
        #expect(pool.counters.degradedReads > 0)
        volumes[dataVolumes[2]].readErrno.withLock { $0 = EIO }
        #expect { try pool.get(id) } throws: { error in
            guard case let PoolError.objectUnreadable(object, _, needed, _) = error else { return false }
            return object == id && needed == 4
        }
        for volume in volumes { volume.readErrno.withLock { $0 = nil } }
        #expect(try pool.get(id) == bytes, "the failed reads damaged nothing")
    }

    /// Real permission errors: an immutable `tmp/` (chattr +i, which even root cannot write
    /// into) makes creating a shard fail with EPERM.
    @Test func permissionDeniedOnVolumesIsSurvivedByQuorumOrRefusedCleanly() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        let earlier = ObjectID.random()
        let earlierBytes = patternBytes(count: 70_000, seed: 5)
        try fixture.pool.put(earlier, bytes: earlierBytes)
        func setImmutable(_ index: Int, _ on: Bool) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            process.arguments = [on ? "+i" : "-i", fixture.volumePaths[index] + "/tmp"]
            try? process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        defer { for index in 0 ..< 6 { _ = setImmutable(index, false) } }
        try #require(setImmutable(1, true) == 0, "chattr +i must work on the test filesystem")

        let survived = ObjectID.random()
        let bytes = patternBytes(count: 500_000, seed: 6)
        try fixture.pool.put(survived, bytes: bytes)
        #expect(fixture.pool.repairQueue.queued.contains(survived))
        #expect(try fixture.pool.get(survived) == bytes)

        try #require(setImmutable(3, true) == 0)
        let refused = ObjectID.random()
        do {
            try fixture.pool.put(refused, bytes: patternBytes(count: 5000, seed: 7))
            Issue.record("a write refused by two volumes must fail")
        } catch let PoolError.writeQuorumNotMet(_, written, needed, problems) {
            #expect(written == 4 && needed == 5)
            #expect(problems.contains { $0.contains("Operation not permitted") })
        }
        #expect(try fixture.pool.get(earlier) == earlierBytes)
        #expect(try fixture.pool.get(survived) == bytes)
    }
}
