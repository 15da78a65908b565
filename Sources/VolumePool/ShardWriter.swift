import Glibc
import Erasure

/// Streams one shard of an object to its volume: chunk after chunk, each checksummed into a
/// table that is appended, sealed by the trailer, when the object ends. Used by one thread at
/// a time (the put's, or one concurrent commit per writer), hence the unchecked Sendable.
final class ShardWriter: @unchecked Sendable {
    let shardIndex: Int
    let volumeIndex: Int
    private let objectID: ObjectID
    private let upload: any ShardUpload
    private var checksumTable: [UInt8]
    private(set) var failure: VolumeIOError?

    init(objectID: ObjectID, shardIndex: Int, volumeIndex: Int, upload: any ShardUpload, expectedStripes: Int) {
        self.objectID = objectID
        self.shardIndex = shardIndex
        self.volumeIndex = volumeIndex
        self.upload = upload
        checksumTable = []
        checksumTable.reserveCapacity(max(1, expectedStripes) * ShardChecksum.byteCount)
    }

    var isHealthy: Bool { failure == nil }

    /// Appends the chunk of stripe `stripe`. A failure is remembered, not thrown: the caller
    /// decides by quorum whether the object can still be written.
    func append(chunk: UnsafeRawBufferPointer, stripe: Int) {
        guard failure == nil else { return }
        let checksum = ShardChecksum(of: chunk, seed: objectID.checksumSeed(stripe: stripe, shard: shardIndex))
        withUnsafeTemporaryAllocation(byteCount: ShardChecksum.byteCount, alignment: 8) { raw in
            checksum.store(to: raw)
            checksumTable.append(contentsOf: UnsafeRawBufferPointer(raw))
        }
        do {
            try upload.append(chunk)
        } catch {
            fail(error)
        }
    }

    /// Writes table and trailer and publishes the shard. Returns false (and remembers why)
    /// when the volume refused.
    func finish(trailer template: ShardTrailer, durable: Bool) {
        guard failure == nil else { return }
        var trailer = template
        trailer.shardIndex = shardIndex
        do {
            try checksumTable.withUnsafeBytes { table in
                try upload.append(table)
                try withUnsafeTemporaryAllocation(byteCount: ShardTrailer.byteCount, alignment: 8) {
                    raw in
                    trailer.encode(checksumTable: table, into: raw)
                    try upload.append(UnsafeRawBufferPointer(raw))
                }
            }
            try upload.commit(durable: durable)
        } catch {
            fail(error as? VolumeIOError ?? VolumeIOError(path: "shard \(shardIndex)", operation: "finish", code: EIO))
        }
    }

    func abort() { upload.abort() }

    func fail(_ error: VolumeIOError) {
        failure = error
        upload.abort()
    }
}
