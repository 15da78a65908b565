import CLibCrypto

/// A streaming message digest (MD5, SHA-1, SHA-256) over OpenSSL's EVP interface, which the
/// project already links for its ciphers. One hasher per object or payload; not shared
/// between threads at once, but it may move between threads between updates.
final class StreamingDigest: @unchecked Sendable {
    enum Algorithm: Sendable {
        case md5, sha1, sha256

        var outputBytes: Int {
            switch self {
            case .md5: return 16
            case .sha1: return 20
            case .sha256: return 32
            }
        }

        fileprivate var evp: OpaquePointer? {
            switch self {
            case .md5: return EVP_md5()
            case .sha1: return EVP_sha1()
            case .sha256: return EVP_sha256()
            }
        }
    }

    let algorithm: Algorithm
    private let context: OpaquePointer

    init(_ algorithm: Algorithm) {
        self.algorithm = algorithm
        // Allocation failure of a few hundred bytes is not recoverable here, as elsewhere.
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed (out of memory)") }
        self.context = context
        EVP_DigestInit_ex(context, algorithm.evp, nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest; the hasher is spent afterwards.
    func finish() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: algorithm.outputBytes)
        var length: UInt32 = 0
        output.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        return output
    }

    static func hash(_ algorithm: Algorithm, _ bytes: [UInt8]) -> [UInt8] {
        let digest = StreamingDigest(algorithm)
        digest.update(bytes)
        return digest.finish()
    }
}

/// HMAC-SHA256 built on the SHA-256 digest (RFC 2104); SigV4 chains a handful per request,
/// so the simple construction is all that is needed.
enum HMACSHA256 {
    static func mac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        let blockSize = 64
        var key = key.count > blockSize ? StreamingDigest.hash(.sha256, key) : key
        key += [UInt8](repeating: 0, count: blockSize - key.count)
        let inner = StreamingDigest(.sha256)
        inner.update(key.map { $0 ^ 0x36 })
        inner.update(message)
        let outer = StreamingDigest(.sha256)
        outer.update(key.map { $0 ^ 0x5c })
        outer.update(inner.finish())
        return outer.finish()
    }

    static func mac(key: [UInt8], _ message: String) -> [UInt8] {
        mac(key: key, Array(message.utf8))
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Comparison whose time does not depend on where the inputs first differ (signatures).
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}
