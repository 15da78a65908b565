// Mallocs and throughput of the VaultCrypto hot paths: sealing and opening a 32 KiB content
// chunk (both AEADs) and encrypting/decrypting a name, all in caller buffers.
//
// Each benchmark warms up on the running thread first (pooled cipher contexts, OpenSSL's
// per-thread random generator, the chunk buffer pool), then calls `startMeasurement()`, so
// only steady-state iterations are counted. Throughput is chunks (or names) per second;
// MB/s for chunks = throughput × 32 KiB.

import Benchmark
import Buffers
import VaultCrypto

private let chunkSize = ContentCipher.chunkSize

let benchmarks: @Sendable () -> Void = {
    let steadyState = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .wallClock, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(3))

    let keys = try! MasterKeys.generate()
    let names = try! NameCipher(keys: keys)
    let directory = DirectoryID.random()

    for algorithm in AEADAlgorithm.allCases {
        let cipher = try! ContentCipher(keys: keys, algorithm: algorithm)
        let block = BlockID.random()

        Benchmark("sealChunk 32 KiB \(algorithm)", configuration: steadyState) { benchmark in
            let plain = ChunkBufferPool.take()
            let sealed = ChunkBufferPool.take()
            let plaintext = UnsafeRawBufferPointer(rebasing: plain.bytes[..<chunkSize])
            _ = try cipher.sealChunk(plaintext: plaintext, blockID: block, index: 0, into: sealed.bytes)
            benchmark.startMeasurement()
            for iteration in benchmark.scaledIterations {
                blackHole(try cipher.sealChunk(plaintext: plaintext, blockID: block, index: UInt32(truncatingIfNeeded: iteration), into: sealed.bytes))
            }
        }

        Benchmark("openChunk 32 KiB \(algorithm)", configuration: steadyState) { benchmark in
            let plain = ChunkBufferPool.take()
            let sealed = ChunkBufferPool.take()
            let opened = ChunkBufferPool.take()
            let sealedCount = try cipher.sealChunk(plaintext: UnsafeRawBufferPointer(rebasing: plain.bytes[..<chunkSize]),
                                                   blockID: block, index: 1, into: sealed.bytes)
            let sealedChunk = UnsafeRawBufferPointer(rebasing: sealed.bytes[..<sealedCount])
            _ = try cipher.openChunk(sealed: sealedChunk, blockID: block, index: 1, into: opened.bytes)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try cipher.openChunk(sealed: sealedChunk, blockID: block, index: 1, into: opened.bytes))
            }
        }
    }

    Benchmark("NameCipher encrypt ASCII name into buffer", configuration: steadyState) { benchmark in
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: NameCipher.maximumSealedBytes, alignment: 16)
        defer { output.deallocate() }
        let name = "holiday-photo-0042.jpeg"
        _ = try names.encrypt(name: name, parent: directory, into: output)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try names.encrypt(name: name, parent: directory, into: output))
        }
    }

    Benchmark("NameCipher decrypt name into buffer", configuration: steadyState) { benchmark in
        let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: NameCipher.maximumSealedBytes, alignment: 16)
        let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: NameCipher.maximumNameBytes, alignment: 16)
        defer { sealed.deallocate(); plain.deallocate() }
        let count = try names.encrypt(name: "holiday-photo-0042.jpeg", parent: directory, into: sealed)
        let sealedName = UnsafeRawBufferPointer(rebasing: sealed[..<count])
        _ = try names.decrypt(sealedName, parent: directory, into: plain)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try names.decrypt(sealedName, parent: directory, into: plain))
        }
    }

    Benchmark("NameText encode 271-byte sealed name", configuration: steadyState) { benchmark in
        let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: NameCipher.maximumSealedBytes, alignment: 16)
        let text = UnsafeMutableRawBufferPointer.allocate(byteCount: 400, alignment: 16)
        defer { sealed.deallocate(); text.deallocate() }
        sealed.initializeMemory(as: UInt8.self, repeating: 0xA5)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try NameText.encode(UnsafeRawBufferPointer(sealed), into: text))
        }
    }
}
