import Foundation
import Testing
@testable import VolumePool

@Suite struct RoundTripTests {
    static let geometries = [(1, 0), (2, 1), (4, 2), (8, 3)]
    static let sizes = [0, 1, 4095, 4096, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12345]

    @Test(arguments: geometries)
    func objectsOfEverySizeComeBackIdentical(k: Int, m: Int) throws {
        let fixture = try PoolFixture(k: k, m: m)
        var stored: [(ObjectID, [UInt8])] = []
        for (i, size) in Self.sizes.enumerated() {
            let bytes = patternBytes(count: size, seed: UInt64(i))
            let id = ObjectID.random()
            let info = try fixture.pool.put(id, bytes: bytes, durable: i % 2 == 0)
            #expect(info.length == size)
            stored.append((id, bytes))
        }
        try fixture.pool.sync()
        try fixture.reopen()
        for (id, bytes) in stored {
            #expect(try fixture.pool.get(id) == bytes, "k=\(k) m=\(m) size=\(bytes.count)")
            #expect(try fixture.pool.head(id).length == bytes.count)
        }
        #expect(fixture.pool.counters.degradedReads == 0)
        #expect(try fixture.pool.list() == stored.map(\.0).sorted())
    }

    @Test(arguments: geometries)
    func sixtyFourMebibyteObjectStreamsBothWays(k: Int, m: Int) throws {
        let fixture = try PoolFixture(k: k, m: m)
        let bytes = patternBytes(count: 64 << 20, seed: 64)
        let id = ObjectID.random()
        try bytes.withUnsafeBytes { raw in
            var source = ChunkedSource(bytes: raw, pieceSize: 100_003)  // unknown length, odd pieces
            try fixture.pool.put(id, from: &source)
        }
        var sink = ArraySink()
        let info = try fixture.pool.get(id, into: &sink)
        #expect(info.length == bytes.count)
        #expect(sink.bytes == bytes)
    }

    @Test(arguments: geometries)
    func rangedGetsAtOddOffsets(k: Int, m: Int) throws {
        let fixture = try PoolFixture(k: k, m: m, stripeSize: 64 << 10)
        let bytes = patternBytes(count: 1_000_003, seed: 5)
        let id = ObjectID.random()
        try fixture.pool.put(id, bytes: bytes)
        let ranges = [0 ..< 1, 1 ..< 2, 17 ..< 4113, 65535 ..< 65537, 65536 ..< 131072, 123_457 ..< 999_999,
                      999_000 ..< 1_000_003, 1_000_003 ..< 1_000_003, 0 ..< 1_000_003, 300_001 ..< 300_001]
        for range in ranges {
            #expect(try fixture.pool.get(id, range: range) == Array(bytes[range]), "range \(range)")
        }
        #expect(throws: PoolError.invalidRange(object: id, range: 999_999 ..< 1_000_004, length: 1_000_003)) {
            try fixture.pool.get(id, range: 999_999 ..< 1_000_004)
        }
    }

    @Test func overwriteReplacesContentAndMissingObjectsAreNotFound() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        let id = ObjectID.random()
        try fixture.pool.put(id, bytes: patternBytes(count: 5000, seed: 1))
        let second = patternBytes(count: 7000, seed: 2)
        try fixture.pool.put(id, bytes: second)
        #expect(try fixture.pool.get(id) == second)
        try fixture.pool.delete(id)
        #expect(throws: PoolError.objectNotFound(id)) { try fixture.pool.get(id) }
        #expect(try fixture.pool.list().isEmpty)
    }

    @Test func sourceShorterThanAnnouncedIsRefusedAndLeavesNothing() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        let id = ObjectID.random()
        let bytes = patternBytes(count: 1000, seed: 3)
        bytes.withUnsafeBytes { raw in
            var source = BufferSource(raw)
            #expect(throws: PoolError.sourceLengthMismatch(object: id, expected: 2000, produced: 1000)) {
                try fixture.pool.put(id, from: &source, length: 2000)
            }
        }
        #expect(fixture.volumePaths.allSatisfy { shardFiles(in: $0).isEmpty })
        #expect(fixture.volumePaths.allSatisfy { (try? FileManager.default.contentsOfDirectory(atPath: $0 + "/tmp"))?.isEmpty == true })
    }

    @Test func placementIsDeterministicAndSpreadsShards() {
        var firstShardCounts = [Int](repeating: 0, count: 6)
        for i in 0 ..< 6000 {
            let id = ObjectID(high: UInt64(i) &* 0x9E37_79B9_7F4A_7C15, low: UInt64(i))
            let placement = Placement(objectID: id, volumeCount: 6)
            #expect(placement.volumeForShard == Placement(objectID: id, volumeCount: 6).volumeForShard)
            #expect(Set(placement.volumeForShard) == Set(0 ..< 6))
            firstShardCounts[placement.volumeForShard[0]] += 1
        }
        #expect(firstShardCounts.allSatisfy { (800 ... 1200).contains($0) }, "\(firstShardCounts)")
    }
}

/// A source of unknown length that hands out bytes in pieces of a fixed odd size.
struct ChunkedSource: ByteSource {
    let bytes: UnsafeRawBufferPointer
    let pieceSize: Int
    var position = 0

    init(bytes: UnsafeRawBufferPointer, pieceSize: Int) {
        self.bytes = bytes
        self.pieceSize = pieceSize
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, pieceSize, bytes.count - position)
        guard n > 0 else { return 0 }
        buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + position, byteCount: n)
        position += n
        return n
    }
}
