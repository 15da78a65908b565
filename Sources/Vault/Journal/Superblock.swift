/// Where mounting starts: the newest checkpoint and the first journal segment after it.
/// Written alternately to two slots so a torn write of one leaves the other readable.
struct Superblock: Equatable, Sendable {
    static let formatVersion: UInt8 = 1

    /// Increases with every superblock written; the valid slot with the higher epoch wins.
    var epoch: UInt64
    var checkpointSequence: UInt64
    /// The first journal segment not covered by the checkpoint.
    var journalStart: UInt64

    var slot: UInt64 { epoch % 2 }

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [Self.formatVersion]
        for value in [epoch, checkpointSequence, journalStart] {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    init(epoch: UInt64, checkpointSequence: UInt64, journalStart: UInt64) {
        self.epoch = epoch
        self.checkpointSequence = checkpointSequence
        self.journalStart = journalStart
    }

    /// Parses what `encoded()` wrote (already authenticated by the metadata AEAD).
    init(decoding bytes: [UInt8]) throws(VaultError) {
        guard bytes.count == 25, bytes[0] == Self.formatVersion else {
            throw VaultError(.io, "superblock has an unknown layout (version \(bytes.first ?? 0), \(bytes.count) bytes)")
        }
        func field(_ index: Int) -> UInt64 {
            bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 1 + 8 * index, as: UInt64.self)) }
        }
        self.init(epoch: field(0), checkpointSequence: field(1), journalStart: field(2))
    }
}
