import CISAL
import Foundation

/// The x-amz-checksum-* algorithms clients attach to uploads (as a header, or as a trailer
/// after an aws-chunked body). The value on the wire is the base64 of the big-endian checksum.
enum ChecksumAlgorithm: String, CaseIterable, Sendable {
    case crc32, crc32c, sha1, sha256

    /// "x-amz-checksum-crc32" and so on.
    var headerName: String { "x-amz-checksum-" + rawValue }

    init?(headerName: String) {
        let lower = headerName.lowercased()
        guard lower.hasPrefix("x-amz-checksum-") else { return nil }
        self.init(rawValue: String(lower.dropFirst("x-amz-checksum-".count)))
    }

    /// From x-amz-sdk-checksum-algorithm / x-amz-trailer spellings ("CRC32C", "crc32c").
    init?(name: String) {
        self.init(rawValue: name.lowercased())
    }
}

/// A running checksum of one of the `ChecksumAlgorithm`s. CRCs use ISA-L (already linked for
/// erasure coding), the hashes OpenSSL.
final class PayloadChecksum: @unchecked Sendable {
    let algorithm: ChecksumAlgorithm
    private var crcState: UInt32
    private let digest: StreamingDigest?

    init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .crc32:
            crcState = 0
            digest = nil
        case .crc32c:
            crcState = 0xffff_ffff
            digest = nil
        case .sha1:
            crcState = 0
            digest = StreamingDigest(.sha1)
        case .sha256:
            crcState = 0
            digest = StreamingDigest(.sha256)
        }
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let pointer = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        switch algorithm {
        case .crc32: crcState = crc32_gzip_refl(crcState, pointer, UInt64(bytes.count))
        case .crc32c: crcState = crc32_iscsi(pointer, Int32(clamping: bytes.count), crcState)
        case .sha1, .sha256: digest!.update(bytes)
        }
    }

    /// The base64 text the client sends for the same bytes.
    func finishBase64() -> String {
        let raw: [UInt8]
        switch algorithm {
        case .crc32: raw = Self.bigEndian(crcState)
        case .crc32c: raw = Self.bigEndian(~crcState)
        case .sha1, .sha256: raw = digest!.finish()
        }
        return Data(raw).base64EncodedString()
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }
}
