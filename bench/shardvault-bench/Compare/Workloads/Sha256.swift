import CLibCrypto
import Foundation

/// SHA-256 (FIPS 180-4) through OpenSSL's EVP interface: libcrypto is linked already (VaultCrypto
/// uses it) and uses the CPU's SHA extensions, so hashing a backup does not time a slow hash
/// instead of the target. One hasher per stream; `finish()` spends it.
final class Sha256 {
    static let digestBytes = 32
    private let context: OpaquePointer

    init() {
        // A few hundred bytes; failing to get them is not recoverable here.
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed (out of memory)") }
        self.context = context
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { fatalError("EVP_DigestInit_ex(sha256) failed") }
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    func finish() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Self.digestBytes)
        var length: UInt32 = 0
        output.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        return output
    }

    static func hash(_ bytes: [UInt8]) -> [UInt8] {
        let hasher = Sha256()
        hasher.update(bytes)
        return hasher.finish()
    }

    /// The digest of a whole file, read in 1 MiB calls.
    static func file(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
        defer { close(fd) }
        let hasher = Sha256()
        let buffer = ScratchBuffer(byteCount: 1 << 20)
        while true {
            let count = read(fd, buffer.base, 1 << 20)
            if count < 0 {
                if errno == EINTR { continue }
                throw BenchError.io("read \(path)", errno)
            }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(start: buffer.base, count: count))
        }
        return hasher.finish()
    }

    static func hex(_ digest: [UInt8]) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
