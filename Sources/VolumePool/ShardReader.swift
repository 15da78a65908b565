import Glibc
import Erasure

/// One committed shard, opened and its trailer checked, ready for verified chunk reads.
final class ShardReader {
    let shardIndex: Int
    let volumeIndex: Int
    let trailer: ShardTrailer
    private let download: any ShardDownload
    private let checksumTable: [UInt8]

    enum OpenFailure: Error {
        case missing
        case damaged(String)
    }

    /// Opens shard `shardIndex` of `id` on `volume` and checks that it is what it claims:
    /// magic, version, object id, position, exact size and the seal over its checksum table.
    init(volume: any Volume, volumeIndex: Int, objectID: ObjectID, shardIndex: Int) throws(OpenFailure) {
        let download: any ShardDownload
        do {
            download = try volume.openShard(objectID)
        } catch {
            throw error.code == ENOENT ? .missing : .damaged(error.description)
        }
        let size = download.byteCount
        guard size >= ShardTrailer.byteCount else { throw .damaged("truncated to \(size) bytes") }
        var rawTrailer = [UInt8](repeating: 0, count: ShardTrailer.byteCount)
        let trailer: ShardTrailer
        do {
            try rawTrailer.withUnsafeMutableBytes { raw in
                try download.read(into: raw, at: size - ShardTrailer.byteCount)
            }
            trailer = try rawTrailer.withUnsafeBytes { raw in
                try ShardTrailer.decodeHead(raw)
            }
        } catch let error as VolumeIOError {
            throw .damaged(error.description)
        } catch {
            throw .damaged("trailer unreadable (\(error))")
        }
        guard trailer.objectID == objectID, trailer.shardIndex == shardIndex else {
            throw .damaged("holds shard \(trailer.shardIndex) of \(trailer.objectID), not shard \(shardIndex) of \(objectID)")
        }
        let geometry = trailer.geometry
        guard size == geometry.shardFileSize else {
            throw .damaged("size \(size) bytes, \(geometry.shardFileSize) expected (truncated or extended)")
        }
        var table = [UInt8](repeating: 0, count: geometry.checksumTableLength)
        do {
            try table.withUnsafeMutableBytes { raw in
                try download.read(into: raw, at: geometry.dataBytesPerShard)
            }
            try table.withUnsafeBytes { tableBytes in
                try rawTrailer.withUnsafeBytes { raw in
                    try ShardTrailer.verifySeal(trailer: raw, checksumTable: tableBytes)
                }
            }
        } catch let error as VolumeIOError {
            throw .damaged(error.description)
        } catch {
            throw .damaged("checksum table does not match its seal")
        }
        self.shardIndex = shardIndex
        self.volumeIndex = volumeIndex
        self.trailer = trailer
        self.download = download
        self.checksumTable = table
    }

    /// Hints that the chunks of `stripes` will be read soon.
    func willRead(stripes: Range<Int>) {
        guard let last = stripes.last else { return }
        let geometry = trailer.geometry
        download.willRead(geometry.chunkOffset(ofStripe: stripes.lowerBound)
            ..< geometry.chunkOffset(ofStripe: last) + geometry.chunkLength(ofStripe: last))
    }

    /// Reads the chunk of `stripe` into `buffer` (exactly its length) and verifies it.
    /// Returns false when the bytes cannot be read or do not match their checksum.
    func readChunk(stripe: Int, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let geometry = trailer.geometry
        precondition(buffer.count == geometry.chunkLength(ofStripe: stripe))
        do {
            try download.read(into: buffer, at: geometry.chunkOffset(ofStripe: stripe))
        } catch {
            return false
        }
        let actual = ShardChecksum(of: UnsafeRawBufferPointer(buffer),
                                   seed: trailer.objectID.checksumSeed(stripe: stripe, shard: shardIndex))
        let expected = checksumTable.withUnsafeBytes {
            ShardChecksum(loading: UnsafeRawBufferPointer(rebasing: $0[(stripe * ShardChecksum.byteCount)...]))
        }
        return actual == expected
    }
}
