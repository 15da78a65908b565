import Foundation
import Testing
@testable import VolumePool

/// How a local volume writes shard files: emptied shard files are kept and reused
/// (`SpareShardFiles`) and full-stripe chunks bypass the page cache (`LocalShardUpload`).
@Suite struct LocalVolumeWriteTests {
    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    private static func spares(_ volume: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: volume + "/spare")) ?? []).map { volume + "/spare/" + $0 }
    }

    private static func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : -1
    }

    /// What the spare keeps of the old bytes is `WarmSpareTests`' subject.
    @Test func aRemovedShardFileIsKeptAndReusedByTheNextPut() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        let first = ObjectID.random()
        try fixture.pool.put(first, bytes: patternBytes(count: 100_000, seed: 1))
        let firstInodes = Set((0 ..< 3).compactMap { Self.inode(fixture.shardPath(first, volume: $0)) })
        #expect(firstInodes.count == 3)

        try fixture.pool.delete(first)
        for volume in fixture.volumePaths {
            let spares = Self.spares(volume)
            #expect(spares.count == 1, "\(volume)")
        }
        #expect(throws: (any Error).self) { try fixture.pool.get(first) }

        let second = ObjectID.random()
        let bytes = patternBytes(count: 80_000, seed: 2)
        try fixture.pool.put(second, bytes: bytes)
        let secondInodes = Set((0 ..< 3).compactMap { Self.inode(fixture.shardPath(second, volume: $0)) })
        #expect(secondInodes == firstInodes, "the new shards live in the old inodes")
        #expect(fixture.volumePaths.allSatisfy { Self.spares($0).isEmpty })
        #expect(try fixture.pool.get(second) == bytes)
        try fixture.reopen()
        #expect(try fixture.pool.get(second) == bytes)
    }

    @Test func sparesLeftByAnEarlierProcessAreKeptAndReused() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        for volume in fixture.volumePaths {
            try Data(repeating: 0xAB, count: 5000).write(to: URL(fileURLWithPath: volume + "/spare/leftover"))
        }
        try fixture.reopen()
        for volume in fixture.volumePaths {
            #expect(Self.size(volume + "/spare/leftover") == 5000, "kept warm (WarmSpareTests: the bound)")
        }
        let leftovers = Set(fixture.volumePaths.compactMap { Self.inode($0 + "/spare/leftover") })
        let id = ObjectID.random()
        let bytes = patternBytes(count: 70_000, seed: 3)
        try fixture.pool.put(id, bytes: bytes)
        #expect(Set((0 ..< 3).compactMap { Self.inode(fixture.shardPath(id, volume: $0)) }) == leftovers)
        #expect(try fixture.pool.get(id) == bytes)
    }

    @Test func theSpareListIsBounded() throws {
        let directory = TemporaryDirectory("spares")
        try FileManager.default.createDirectory(atPath: directory.path + "/spare", withIntermediateDirectories: true)
        let spares = SpareShardFiles(directory: directory.path + "/spare", limit: 2)
        var kept: [Bool] = []
        for index in 0 ..< 3 {
            let path = directory.path + "/shard\(index)"
            try Data(repeating: 1, count: 100).write(to: URL(fileURLWithPath: path))
            kept.append(spares.keep(path))
        }
        #expect(kept == [true, true, false])
        #expect(spares.count == 2)
        #expect(FileManager.default.fileExists(atPath: directory.path + "/shard2"), "the caller unlinks what was not kept")
        #expect(spares.keep(directory.path + "/missing") == false)
        #expect(spares.reuse(as: directory.path + "/a", expectedByteCount: nil, wantsContent: true) != nil)
        #expect(spares.reuse(as: directory.path + "/b", expectedByteCount: 100, wantsContent: false) != nil)
        #expect(spares.reuse(as: directory.path + "/c", expectedByteCount: nil, wantsContent: true) == nil)
    }

    /// With `.bypass`, full stripes of a put reach the disk without passing through the page
    /// cache; only the tail (last chunk, checksum table, trailer) does. With `.keep`, or when
    /// the volume's direct writes are off, they stay cached. Checked with mincore.
    @Test(arguments: [(ShardCaching.bypass, true), (.keep, true), (.bypass, false)])
    func fullStripeChunksOfABypassingPutSkipThePageCache(caching: ShardCaching, directWrites: Bool) throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        for volume in fixture.pool.slots.compactMap({ $0.volume as? LocalVolume }) {
            volume.directWrites.setEnabled(directWrites)
        }
        let id = ObjectID.random()
        let bytes = patternBytes(count: 4 * VolumePool.defaultStripeSize + 1000, seed: 4)
        try bytes.withUnsafeBytes { raw in
            var source = BufferSource(raw)
            try fixture.pool.put(id, from: &source, length: raw.count, durable: false, caching: caching)
        }
        let resident = try Self.residentPages(fixture.shardPath(id, volume: 0), firstBytes: 2 * VolumePool.defaultStripeSize)
        if caching == .bypass && directWrites {
            #expect(resident == 0, "direct writes leave no page of the full stripes cached")
        } else {
            #expect(resident > 0)
        }
        #expect(try fixture.pool.get(id) == bytes)
    }

    @Test func onlyPageAlignedAppendsQualifyForDirectWrites() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 3 * 4096, alignment: 4096)
        defer { buffer.deallocate() }
        #expect(DirectWrites.isAligned(UnsafeRawBufferPointer(rebasing: buffer[0 ..< 8192]), at: 4096))
        #expect(!DirectWrites.isAligned(UnsafeRawBufferPointer(rebasing: buffer[0 ..< 8192]), at: 100))
        #expect(!DirectWrites.isAligned(UnsafeRawBufferPointer(rebasing: buffer[0 ..< 8000]), at: 0))
        #expect(!DirectWrites.isAligned(UnsafeRawBufferPointer(rebasing: buffer[1 ..< 4097]), at: 0))
        #expect(!DirectWrites.isAligned(UnsafeRawBufferPointer(rebasing: buffer[0 ..< 0]), at: 0))
    }

    /// Pages of the file's first `firstBytes` bytes that are in the page cache.
    private static func residentPages(_ path: String, firstBytes: Int) throws -> Int {
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let mapping = try #require(mmap(nil, firstBytes, PROT_READ, MAP_SHARED, fd, 0))
        try #require(mapping != MAP_FAILED)
        defer { munmap(mapping, firstBytes) }
        var vector = [UInt8](repeating: 0, count: firstBytes / 4096)
        try #require(mincore(mapping, firstBytes, &vector) == 0)
        return vector.filter { $0 & 1 != 0 }.count
    }
}
