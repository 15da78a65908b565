// Malloc counts of the VolumePool's steady-state put/get loops (docs/BENCHMARKS.md).
//
// The stripe loop inside put/get is not public, so it is isolated by difference: an object of
// 64 MiB runs 64 stripes (1 MiB each) and one of 1 MiB runs one, with the same per-object
// work around them, so  mallocs per stripe = (m(64 MiB) - m(1 MiB)) / 63.
// The codec and checksum calls the loop makes are public and are counted directly.

import Benchmark
import Buffers
import Erasure
import Foundation
import VolumePool

private let mebibyte = 1 << 20

/// A 4+2 pool in a temporary directory, written once, plus a second pool opened with
/// volumes 0 and 1 left out for degraded reads. Objects are named so that those two volumes
/// hold data shards 0 and 1, so every stripe of a degraded read rebuilds two data chunks.
final class PoolFixture: @unchecked Sendable {
    static let shared = try! PoolFixture()

    let root: String
    let payload: UnsafeMutableRawBufferPointer
    let healthy: VolumePool
    let degraded: VolumePool
    /// Objects readable from `healthy`, by size.
    private(set) var readable: [Int: ObjectID] = [:]
    /// Objects readable (degraded) from `degraded`, by size.
    private(set) var degradedReadable: [Int: ObjectID] = [:]
    private var generator = SystemRandomNumberGenerator()

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/pool-mallocs.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        let base = String(cString: made)
        root = base
        payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * mebibyte, alignment: 4096)
        for index in 0 ..< payload.count / 8 {
            payload.storeBytes(of: UInt64(index) &* 0x9E37_79B9_7F4A_7C15, toByteOffset: index * 8, as: UInt64.self)
        }
        var options = VolumePool.Options()
        options.healsInBackground = false

        let healthyPaths = (0 ..< 6).map { base + "/healthy/volume\($0)" }
        try VolumePool.create(volumePaths: healthyPaths, dataShards: 4, parityShards: 2)
        healthy = try VolumePool.open(volumePaths: healthyPaths, options: options)

        let degradedPaths = (0 ..< 6).map { base + "/degraded/volume\($0)" }
        try VolumePool.create(volumePaths: degradedPaths, dataShards: 4, parityShards: 2)
        var written: [Int: ObjectID] = [:]
        do {
            let full = try VolumePool.open(volumePaths: degradedPaths, options: options)
            for size in [mebibyte, 64 * mebibyte] {
                var local = SystemRandomNumberGenerator()
                let id = Self.randomID(&local)
                try Self.put(full, id, bytes: UnsafeRawBufferPointer(start: payload.baseAddress, count: size), durable: false)
                written[size] = id
            }
            full.close()
        }
        degradedReadable = written
        degraded = try VolumePool.open(volumePaths: Array(degradedPaths[2...]), options: options)
        for size in [mebibyte, 64 * mebibyte] {
            let id = nextID()
            try put(healthy, id, size: size)
            readable[size] = id
        }
    }

    /// A fresh id whose shards 0 and 1 land on volumes 0 and 1.
    func nextID() -> ObjectID { Self.randomID(&generator) }

    static func put(_ pool: VolumePool, _ id: ObjectID, bytes: UnsafeRawBufferPointer, durable: Bool) throws {
        var source = BufferSource(bytes)
        try pool.put(id, from: &source, length: bytes.count, durable: durable)
    }

    /// VolumePool's placement, repeated: ids whose shards 0 and 1 land on volumes 0 and 1.
    static func randomID(_ generator: inout SystemRandomNumberGenerator) -> ObjectID {
        while true {
            let id = ObjectID(high: generator.next(), low: generator.next())
            let order = Self.placement(of: id, volumeCount: 6)
            if order[0] < 2 && order[1] < 2 { return id }
        }
    }

    func put(_ pool: VolumePool, _ id: ObjectID, size: Int, durable: Bool = false) throws {
        try Self.put(pool, id, bytes: UnsafeRawBufferPointer(start: payload.baseAddress, count: size), durable: durable)
    }

    static func placement(of id: ObjectID, volumeCount: Int) -> [Int] {
        var order = Array(0 ..< volumeCount)
        var state = id.high ^ (id.low &* 0x9E37_79B9_7F4A_7C15)
        for i in stride(from: volumeCount - 1, to: 0, by: -1) {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            order.swapAt(i, Int(z % UInt64(i + 1)))
        }
        return order
    }

    func removeAll() {
        healthy.close()
        degraded.close()
        try? FileManager.default.removeItem(atPath: root)
    }
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .wallClock],
        warmupIterations: 2,
        maxDuration: .seconds(10),
        maxIterations: 10)
    Benchmark.teardown = { PoolFixture.shared.removeAll() }

    for size in [mebibyte, 64 * mebibyte] {
        let label = size == mebibyte ? "1 MiB" : "64 MiB"

        // put: one new object per iteration, deleted outside the measured region.
        for durable in [false, true] {
            Benchmark("put \(label)\(durable ? " durable" : "")", configuration: configuration) { benchmark in
                let fixture = PoolFixture.shared
                let id = fixture.nextID()
                benchmark.startMeasurement()
                try fixture.put(fixture.healthy, id, size: size, durable: durable)
                benchmark.stopMeasurement()
                try fixture.healthy.delete(id)
            }
        }

        Benchmark("get \(label)", configuration: configuration) { benchmark in
            let fixture = PoolFixture.shared
            let id = fixture.readable[size]!
            var sink = DiscardingSink()
            benchmark.startMeasurement()
            try fixture.healthy.get(id, into: &sink)
            benchmark.stopMeasurement()
            blackHole(sink.byteCount)
        }

        Benchmark("degraded get \(label)", configuration: configuration) { benchmark in
            let fixture = PoolFixture.shared
            let id = fixture.degradedReadable[size]!
            var sink = DiscardingSink()
            benchmark.startMeasurement()
            try fixture.degraded.get(id, into: &sink)
            benchmark.stopMeasurement()
            blackHole(sink.byteCount)
        }
    }

    // The per-stripe calls of the loops, one stripe (1 MiB payload) per iteration.
    let codec = try! ErasureCodec(dataShards: 4, parityShards: 2)
    let chunk = codec.shardLength(forPayload: mebibyte)
    let stripe = UnsafeMutableRawPointer.allocate(byteCount: codec.stripeByteCount(shardLength: chunk), alignment: 4096)
    stripe.initializeMemory(as: UInt8.self, repeating: 7, count: codec.stripeByteCount(shardLength: chunk))
    nonisolated(unsafe) let stripeBase = stripe

    Benchmark("encode 4+2 stripe", configuration: configuration) { benchmark in
        codec.encode(stripe: stripeBase, shardLength: chunk)
    }
    let survivors = ShardMask([2, 3, 4, 5])
    let lost = ShardMask([0, 1])
    Benchmark("reconstruct 4+2 stripe, 2 data shards lost", configuration: configuration) { benchmark in
        try codec.reconstruct(stripe: stripeBase, shardLength: chunk, available: survivors, targets: lost)
    }
    Benchmark("checksum 256 KiB chunk", configuration: configuration) { benchmark in
        blackHole(ShardChecksum(of: UnsafeRawBufferPointer(start: stripeBase, count: chunk), seed: 1))
    }
    Benchmark("SizeClassPool take+return 2 MiB", configuration: configuration) { benchmark in
        let buffer = SizeClassPool.shared.take(capacity: codec.stripeByteCount(shardLength: chunk))
        blackHole(buffer.baseAddress)
    }
}
