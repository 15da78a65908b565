import Foundation
import Testing
@testable import VolumePool

/// Warm spares (`SpareShardFiles`): a removed shard file keeps its bytes (within a byte bound)
/// so the next shard written through the page cache overwrites cached pages instead of
/// faulting in new ones; the new shard never shows the old bytes.
@Suite struct WarmSpareTests {
    private static func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : -1
    }

    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    private static func spareSizes(_ volume: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: volume + "/spare")) ?? []).map { size(volume + "/spare/" + $0) }
    }

    private static func geometry(_ length: Int, k: Int) -> ObjectGeometry {
        ObjectGeometry(objectLength: length, stripeSize: VolumePool.defaultStripeSize, dataShards: k)
    }

    /// A bigger object, then a smaller one into its files (the stale tail is cut off), then
    /// a bigger one again (the file grows past the spare's bytes); each reads back exactly,
    /// before and after reopening, and the shard files have exactly the size of their shards.
    @Test(arguments: [2_300_000, 3_500_000])
    func aRemovedShardKeepsItsBytesAndTheNextShardOverwritesThem(secondLength: Int) throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        let first = ObjectID.random()
        let firstLength = 2_600_000
        try fixture.pool.put(first, bytes: patternBytes(count: firstLength, seed: 1))
        let inodes = Set((0 ..< 3).compactMap { Self.inode(fixture.shardPath(first, volume: $0)) })
        try fixture.pool.delete(first)
        for volume in fixture.volumePaths {
            #expect(Self.spareSizes(volume) == [Self.geometry(firstLength, k: 2).shardFileSize], "kept warm, bytes and all")
        }

        let second = ObjectID.random()
        let bytes = patternBytes(count: secondLength, seed: 2)
        try fixture.pool.put(second, bytes: bytes)
        #expect(Set((0 ..< 3).compactMap { Self.inode(fixture.shardPath(second, volume: $0)) }) == inodes)
        for volume in 0 ..< 3 {
            #expect(Self.size(fixture.shardPath(second, volume: volume)) == Self.geometry(secondLength, k: 2).shardFileSize)
        }
        #expect(try fixture.pool.get(second) == bytes)
        #expect(try fixture.pool.scrub().badShards == 0)
        try fixture.reopen()
        #expect(try fixture.pool.get(second) == bytes)
    }

    /// A put that bypasses the page cache takes a warm spare only when no empty one is left,
    /// and empties it first: the direct writes gain nothing from its pages.
    @Test func aBypassingPutEmptiesTheWarmSpareItTakes() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        let first = ObjectID.random()
        try fixture.pool.put(first, bytes: patternBytes(count: 2_600_000, seed: 3))
        try fixture.pool.delete(first)
        let id = ObjectID.random()
        let bytes = patternBytes(count: 1_000_000, seed: 4)
        try bytes.withUnsafeBytes { raw in
            var source = BufferSource(raw)
            try fixture.pool.put(id, from: &source, length: raw.count, durable: true, caching: .bypass)
        }
        #expect(Self.size(fixture.shardPath(id, volume: 0)) == Self.geometry(1_000_000, k: 2).shardFileSize)
        #expect(try fixture.pool.get(id) == bytes)
    }

    @Test func warmSparesAreBoundedInBytes() throws {
        let directory = TemporaryDirectory("warm-spares")
        try FileManager.default.createDirectory(atPath: directory.path + "/spare", withIntermediateDirectories: true)
        let spares = SpareShardFiles(directory: directory.path + "/spare", limit: 10, warmByteLimit: (200 << 10) + 1000)
        for (index, size) in [100 << 10, 100 << 10, 100 << 10, 1000].enumerated() {
            let path = directory.path + "/shard\(index)"
            try Data(repeating: 1, count: size).write(to: URL(fileURLWithPath: path))
            #expect(spares.keep(path))
        }
        #expect(spares.count == 4)
        #expect(spares.warmByteCount == (200 << 10) + 1000)
        #expect(Self.spareSizes(directory.path).sorted() == [0, 1000, 100 << 10, 100 << 10],
                "the third 100 KiB file is over the bound: emptied")

        // Page-cache shards take the best-fitting warm spare; direct-write shards an empty one.
        #expect(spares.reuse(as: directory.path + "/small", expectedByteCount: 500, wantsContent: true)?.byteCount == 1000)
        #expect(spares.reuse(as: directory.path + "/large", expectedByteCount: 90 << 10, wantsContent: true)?.byteCount == 100 << 10)
        #expect(spares.reuse(as: directory.path + "/direct", expectedByteCount: 90 << 10, wantsContent: false)?.byteCount == 0)
        #expect(spares.warmByteCount == 100 << 10)
        #expect(Self.size(directory.path + "/large") == 100 << 10)
    }

    /// Spares found when the volume opens are warm while they fit the bound, emptied beyond it,
    /// and unlinked beyond the count limit.
    @Test func sparesFoundAtOpenKeepTheBounds() throws {
        let directory = TemporaryDirectory("found-spares")
        let spareDirectory = directory.path + "/spare"
        try FileManager.default.createDirectory(atPath: spareDirectory, withIntermediateDirectories: true)
        for index in 0 ..< 3 {
            try Data(repeating: 1, count: 5000).write(to: URL(fileURLWithPath: spareDirectory + "/s\(index)"))
        }
        let spares = SpareShardFiles(directory: spareDirectory, limit: 2, warmByteLimit: 6000)
        #expect(spares.count == 2)
        #expect(spares.warmByteCount == 5000)
        #expect(Self.spareSizes(directory.path).sorted() == [0, 5000])
    }

    @Test func aWarmSpareIsChosenByBestFit() {
        let sizes = [100 << 10, 300 << 10, 200 << 10, 1 << 20]
        let warm = sizes.map { SpareShardFiles.Spare(path: "s\($0)", byteCount: $0) }
        func fit(_ expected: Int?) -> Int? { SpareShardFiles.bestFit(warm, for: expected).map { warm[$0].byteCount } }
        #expect(fit(150 << 10) == 200 << 10, "the smallest that holds it")
        #expect(fit(300 << 10) == 300 << 10)
        #expect(fit(900 << 10) == 1 << 20, "within the slack")
        #expect(fit(2 << 20) == 1 << 20, "none holds it: the largest smaller one")
        #expect(fit(nil) == 1 << 20, "size unknown: the newest")
        #expect(SpareShardFiles.bestFit([SpareShardFiles.Spare(path: "big", byteCount: 1 << 20)], for: 2048) == nil,
                "a small shard does not cut a large spare down")
        #expect(SpareShardFiles.bestFit([], for: 2048) == nil)
    }

    /// A small shard leaves a large warm spare alone: it takes an empty spare, or a new file.
    @Test func aSmallShardDoesNotTakeALargeWarmSpare() throws {
        let directory = TemporaryDirectory("large-spare")
        try FileManager.default.createDirectory(atPath: directory.path + "/spare", withIntermediateDirectories: true)
        let spares = SpareShardFiles(directory: directory.path + "/spare", limit: 10, warmByteLimit: 4 << 20)
        let path = directory.path + "/big"
        try Data(repeating: 1, count: 1 << 20).write(to: URL(fileURLWithPath: path))
        #expect(spares.keep(path))
        #expect(spares.reuse(as: directory.path + "/small", expectedByteCount: 2048, wantsContent: true) == nil)
        #expect(spares.reuse(as: directory.path + "/large", expectedByteCount: 1 << 20, wantsContent: true)?.byteCount == 1 << 20)
    }

    /// Appends overwrite a spare's old bytes in place, whole pages or not (cutting early would
    /// free the blocks the spare was kept for); the commit cuts what is left past the end.
    /// An upload into a reused spare that still holds 1 MiB of old bytes.
    private static func uploadOverOldBytes(in directory: TemporaryDirectory) throws -> (LocalShardUpload, temporary: String) {
        try FileManager.default.createDirectory(atPath: directory.path + "/objects", withIntermediateDirectories: true)
        let temporary = directory.path + "/upload"
        try Data(repeating: 0xAB, count: 1 << 20).write(to: URL(fileURLWithPath: temporary))
        let fd = open(temporary, O_WRONLY | O_CLOEXEC)
        try #require(fd >= 0)
        let upload = LocalShardUpload(descriptor: fd, temporaryPath: temporary, finalDirectory: directory.path + "/objects",
                                      finalPath: directory.path + "/objects/shard", directWrites: nil, staleByteCount: 1 << 20)
        return (upload, temporary)
    }

    @Test func appendsOverwriteInPlaceAndTheCommitCutsTheRest() throws {
        let directory = TemporaryDirectory("stale-tail")
        let (upload, temporary) = try Self.uploadOverOldBytes(in: directory)
        let whole = [UInt8](repeating: 1, count: 8192), part = [UInt8](repeating: 2, count: 100)
        try whole.withUnsafeBytes { try upload.append($0) }
        try part.withUnsafeBytes { try upload.append($0) }
        #expect(Self.size(temporary) == 1 << 20, "written in place")
        try upload.commit(durable: false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/objects/shard")) == Data(whole + part))
    }

    @Test func aCommitCutsTheStaleTailOff() throws {
        let directory = TemporaryDirectory("stale-commit")
        let (upload, _) = try Self.uploadOverOldBytes(in: directory)
        let whole = [UInt8](repeating: 1, count: 4096)
        try whole.withUnsafeBytes { try upload.append($0) }
        try upload.commit(durable: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/objects/shard")) == Data(whole))
    }
}
