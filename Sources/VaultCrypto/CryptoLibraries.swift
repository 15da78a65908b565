// Process-wide setup of libsodium and small helpers shared by every cipher: secure random
// bytes, OpenSSL error text, constant-time comparison.

import CLibCrypto
import CSodium

enum CryptoLibraries {
    /// libsodium must be initialised before sodium_malloc or the AEADs are used; a global
    /// `let` runs this once, thread-safely, on first access.
    private static let sodiumStatus: Int32 = sodium_init()

    /// Cheap after the first call (a once-check), so every entry point calls it.
    static func ensureReady() {
        // sodium_init returns 1 when already initialised and -1 only if it cannot run at all
        // (no usable random source), in which case nothing in this layer is safe to do.
        precondition(sodiumStatus >= 0, "libsodium failed to initialise (no random source?)")
    }

    /// Whether this CPU has the AES and CLMUL instructions that make AES-GCM fast and
    /// constant-time. libsodium's probe is used because OpenSSL's capability vector is not
    /// part of its public API.
    static var hasAESHardware: Bool {
        ensureReady()
        return crypto_aead_aes256gcm_is_available() != 0
    }

    /// Fills `buffer` from OpenSSL's per-thread DRBG: no system call and no allocation per
    /// call once the thread's generator exists, which matters at one nonce per chunk.
    static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(buffer.count)) == 1 else {
            throw openSSLFailure("RAND_bytes")
        }
    }

    /// The newest OpenSSL error on this thread as a library failure; clears the thread's
    /// error queue so an old entry is never blamed for a later failure.
    static func openSSLFailure(_ operation: String) -> CryptoError {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else {
            return .libraryFailure(operation: operation, detail: "no OpenSSL error recorded")
        }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        let detail = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return .libraryFailure(operation: operation, detail: detail)
    }

    /// Tag comparison whose time does not depend on where the first difference is.
    static func constantTimeEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        CRYPTO_memcmp(a, b, count) == 0
    }
}

// Array's withUnsafe…Bytes rethrow untyped errors; these keep `throws(CryptoError)` intact.

func withBytes<Value>(
    of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> Value
) throws(CryptoError) -> Value {
    try array.withUnsafeBytes { raw in Result { () throws(CryptoError) -> Value in try body(raw) } }.get()
}

func withMutableBytes<Value>(
    of array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(CryptoError) -> Value
) throws(CryptoError) -> Value {
    try array.withUnsafeMutableBytes { raw in Result { () throws(CryptoError) -> Value in try body(raw) } }.get()
}
