@testable import VaultCrypto

extension Array where Element == UInt8 {
    /// Bytes from hex digits; spaces are ignored so vectors can be pasted in groups.
    init(hex: String) {
        let digits = hex.filter { !$0.isWhitespace }.utf8.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: preconditionFailure("not a hex digit in \(hex)")
            }
        }
        precondition(digits.count % 2 == 0, "odd number of hex digits")
        self = stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }

    var hex: String {
        map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

/// Every single-byte corruption of `bytes` (each position XORed with 0x01 and with 0x80),
/// for tamper tests over small inputs.
func everySingleByteCorruption(of bytes: [UInt8]) -> [(position: Int, corrupted: [UInt8])] {
    var variants: [(Int, [UInt8])] = []
    for position in bytes.indices {
        for flip: UInt8 in [0x01, 0x80] {
            var copy = bytes
            copy[position] ^= flip
            variants.append((position, copy))
        }
    }
    return variants
}

/// Seal and open for tests, in arrays.
extension ContentCipher {
    func seal(_ plaintext: [UInt8], blockID: BlockID, index: UInt32) throws(CryptoError) -> [UInt8] {
        var sealed = [UInt8](repeating: 0, count: sealedSize(plaintextCount: plaintext.count))
        let count = try withBytes(of: plaintext) { (input) throws(CryptoError) -> Int in
            try withMutableBytes(of: &sealed) { (out) throws(CryptoError) -> Int in
                try sealChunk(plaintext: input, blockID: blockID, index: index, into: out)
            }
        }
        precondition(count == sealed.count)
        return sealed
    }

    func open(_ sealed: [UInt8], blockID: BlockID, index: UInt32) throws(CryptoError) -> [UInt8] {
        var plaintext = [UInt8](repeating: 0, count: ContentCipher.chunkSize)
        let count = try withBytes(of: sealed) { (input) throws(CryptoError) -> Int in
            try withMutableBytes(of: &plaintext) { (out) throws(CryptoError) -> Int in
                try openChunk(sealed: input, blockID: blockID, index: index, into: out)
            }
        }
        return Array(plaintext[..<count])
    }
}

/// Catches a typed error as a value, so tests can compare it.
func failure<Value>(_ body: () throws(CryptoError) -> Value) -> CryptoError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

func isAuthenticationFailure(_ error: CryptoError?) -> Bool {
    if case .authenticationFailed = error { return true }
    return false
}

let testPassword = Array("correct horse battery staple".utf8)
