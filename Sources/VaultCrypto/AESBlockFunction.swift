// AES used as a bare block function: an ECB context keyed once, with padding off, that
// encrypts whole 16-byte blocks. CMAC's chaining (AESCMAC.swift) and SIV's counter mode
// (AESSIV.swift) are built on it in Swift.
//
// Why not OpenSSL's CBC and CTR contexts, which did that before: they carry the chaining value
// or counter, so each message had to re-point them with EVP_EncryptInit_ex2 — three times per
// sealed name — and that call's parameter handling cost more than the AES of a short name.
// The lookup and create of every file seal its name, on the FUSE thread the caller waits for.
// An ECB context holds nothing but its key schedule, so it is never re-initialised.

import CLibCrypto

enum AESBlockFunction {
    static let blockSize = 16

    /// OpenSSL's name of AES in ECB mode for a key of `keyBytes` (16, 24 or 32).
    static func cipherName(keyBytes: Int) -> String {
        switch keyBytes {
        case 16: "AES-128-ECB"
        case 24: "AES-192-ECB"
        case 32: "AES-256-ECB"
        default: preconditionFailure("AES keys are 16, 24 or 32 bytes, got \(keyBytes)")
        }
    }

    /// A context keyed with `key` for `cipher` (an ECB cipher), padding off: input is always
    /// whole blocks, and padding would add one to every call.
    static func makeContext(cipher: FetchedCipher, key: UnsafeRawBufferPointer) throws(CryptoError) -> CipherContextHandle {
        let context = try cipher.makeContext(key: key)
        guard EVP_CIPHER_CTX_set_padding(context.pointer, 0) == 1 else {
            CipherContextHandle.free(context)
            throw CryptoLibraries.openSSLFailure("AES block function: disable padding")
        }
        return context
    }

    /// Encrypts `count` bytes (whole blocks) from `input` to `output`, each block on its own.
    /// `output` may be `input` (in place), but must not overlap it otherwise.
    @inline(__always)
    static func encrypt(_ context: OpaquePointer, _ input: UnsafeRawPointer, count: Int,
                        into output: UnsafeMutableRawPointer) throws(CryptoError) {
        precondition(count % blockSize == 0 && count > 0 && count <= Int(Int32.max))
        var produced: Int32 = 0
        guard EVP_EncryptUpdate(context, output.assumingMemoryBound(to: UInt8.self), &produced,
                                input.assumingMemoryBound(to: UInt8.self), Int32(count)) == 1,
              Int(produced) == count else {
            throw CryptoLibraries.openSSLFailure("AES block encrypt")
        }
    }
}
