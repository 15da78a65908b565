// One keyed AEAD, and the sealed layout shared by content chunks and metadata records:
//
//     nonce ‖ ciphertext ‖ 16-byte tag
//
// with a fresh random nonce per message. AES-256-GCM runs on pooled, pre-keyed OpenSSL
// contexts (re-keying would redo the key schedule and GHASH tables per chunk);
// XChaCha20-Poly1305 is stateless in libsodium and only needs the key.

import CLibCrypto
import CSodium

final class AEADSealer: Sendable {
    let algorithm: AEADAlgorithm
    private let key: SecureBytes
    private let gcmCipher: FetchedCipher?
    private let gcmContexts: ContextPool<CipherContextHandle>

    /// OpenSSL takes `int` lengths; larger messages are fed in pieces of this size.
    private static let maximumUpdateLength = 1 << 30

    init(algorithm: AEADAlgorithm, key: UnsafeRawBufferPointer) throws(CryptoError) {
        precondition(key.count == AEADAlgorithm.keySize, "AEAD keys are \(AEADAlgorithm.keySize) bytes, got \(key.count)")
        CryptoLibraries.ensureReady()
        self.algorithm = algorithm
        self.key = try SecureBytes(copying: key)
        self.gcmCipher = algorithm == .aes256GCM ? try FetchedCipher("AES-256-GCM") : nil
        self.gcmContexts = ContextPool(release: CipherContextHandle.free)
    }

    // MARK: - Sealed layout (random nonce)

    func sealedSize(plaintextCount: Int) -> Int {
        plaintextCount + algorithm.overhead
    }

    /// Seals `plaintext` into `output` as nonce ‖ ciphertext ‖ tag; returns the bytes written.
    /// `output` must not overlap `plaintext`.
    func seal(
        _ plaintext: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        let total = sealedSize(plaintextCount: plaintext.count)
        guard output.count >= total else { throw .bufferTooSmall(needed: total, available: output.count) }
        let nonce = UnsafeMutableRawBufferPointer(rebasing: output[0..<algorithm.nonceSize])
        try CryptoLibraries.fillRandom(nonce)
        try seal(plaintext, associatedData: associatedData, nonce: UnsafeRawBufferPointer(nonce),
                 ciphertextAndTag: UnsafeMutableRawBufferPointer(rebasing: output[algorithm.nonceSize..<total]))
        return total
    }

    /// Opens nonce ‖ ciphertext ‖ tag into `output`; returns the plaintext length, or nil when
    /// authentication fails (output is then wiped). Callers turn nil into an error that
    /// names what was being opened.
    func open(
        _ sealed: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int? {
        guard sealed.count >= algorithm.overhead else { return nil }
        let plaintextCount = sealed.count - algorithm.overhead
        guard output.count >= plaintextCount else { throw .bufferTooSmall(needed: plaintextCount, available: output.count) }
        let nonce = UnsafeRawBufferPointer(rebasing: sealed[0..<algorithm.nonceSize])
        let body = UnsafeRawBufferPointer(rebasing: sealed[algorithm.nonceSize...])
        let plaintext = UnsafeMutableRawBufferPointer(rebasing: output[0..<plaintextCount])
        guard try open(body, associatedData: associatedData, nonce: nonce, plaintext: plaintext) else {
            return nil
        }
        return plaintextCount
    }

    // MARK: - Low level (caller's nonce): also the hook for known-answer tests

    /// Encrypts `plaintext` with `nonce`, writing ciphertext then tag into `ciphertextAndTag`
    /// (exactly plaintext.count + 16 bytes).
    func seal(
        _ plaintext: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        precondition(nonce.count == algorithm.nonceSize && ciphertextAndTag.count == plaintext.count + AEADAlgorithm.tagSize)
        let ciphertext = UnsafeMutableRawBufferPointer(rebasing: ciphertextAndTag[0..<plaintext.count])
        let tag = UnsafeMutableRawBufferPointer(rebasing: ciphertextAndTag[plaintext.count...])
        switch algorithm {
        case .aes256GCM:
            try withGCMContext { (context) throws(CryptoError) in
                try Self.gcmSeal(context, plaintext: plaintext, associatedData: associatedData, nonce: nonce,
                                 ciphertext: ciphertext, tag: tag)
            }
        case .xChaCha20Poly1305:
            let status = key.withUnsafeBytes { key in
                crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
                    nonNullMutableBytePointer(ciphertext), nonNullMutableBytePointer(tag), nil,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                    nil, nonNullBytePointer(nonce), nonNullBytePointer(key))
            }
            guard status == 0 else {
                throw .libraryFailure(operation: "crypto_aead_xchacha20poly1305_ietf_encrypt_detached", detail: "status \(status)")
            }
        }
    }

    /// Decrypts and verifies; false (with `plaintext` wiped) when authentication fails.
    func open(
        _ ciphertextAndTag: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        plaintext: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Bool {
        precondition(nonce.count == algorithm.nonceSize && ciphertextAndTag.count == plaintext.count + AEADAlgorithm.tagSize)
        let ciphertext = UnsafeRawBufferPointer(rebasing: ciphertextAndTag[0..<plaintext.count])
        let tag = UnsafeRawBufferPointer(rebasing: ciphertextAndTag[plaintext.count...])
        let authentic: Bool
        switch algorithm {
        case .aes256GCM:
            authentic = try withGCMContext { (context) throws(CryptoError) -> Bool in
                try Self.gcmOpen(context, ciphertext: ciphertext, tag: tag, associatedData: associatedData,
                                 nonce: nonce, plaintext: plaintext)
            }
        case .xChaCha20Poly1305:
            let status = key.withUnsafeBytes { key in
                crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
                    nonNullMutableBytePointer(plaintext), nil,
                    nonNullBytePointer(ciphertext), UInt64(ciphertext.count),
                    nonNullBytePointer(tag),
                    associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                    nonNullBytePointer(nonce), nonNullBytePointer(key))
            }
            authentic = status == 0
        }
        if !authentic, let base = plaintext.baseAddress {
            // Never leave unauthenticated plaintext where a caller might use it.
            sodium_memzero(base, plaintext.count)
        }
        return authentic
    }

    // MARK: - AES-256-GCM on OpenSSL

    private func withGCMContext<Value>(_ body: (OpaquePointer) throws(CryptoError) -> Value) throws(CryptoError) -> Value {
        try gcmContexts.withItem(make: { () throws(CryptoError) -> CipherContextHandle in
            try key.withUnsafeBytes { (key) throws(CryptoError) -> CipherContextHandle in
                try gcmCipher!.makeContext(key: key)
            }
        }, { (handle) throws(CryptoError) -> Value in try body(handle.pointer) })
    }

    private static func gcmSeal(
        _ context: OpaquePointer,
        plaintext: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        ciphertext: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        // Cipher and key stay from the context's creation: only the nonce is set per message.
        guard EVP_EncryptInit_ex2(context, nil, nil, bytePointer(nonce), nil) == 1 else {
            throw CryptoLibraries.openSSLFailure("AES-256-GCM set nonce")
        }
        try feedAssociatedData(context, associatedData)
        var written = 0
        while written < plaintext.count {
            let piece = min(plaintext.count - written, maximumUpdateLength)
            var produced: Int32 = 0
            guard EVP_EncryptUpdate(context, mutableBytePointer(ciphertext) + written, &produced,
                                    bytePointer(plaintext) + written, Int32(piece)) == 1 else {
                throw CryptoLibraries.openSSLFailure("AES-256-GCM encrypt")
            }
            written += Int(produced)
        }
        var finalBytes: Int32 = 0
        guard EVP_EncryptFinal_ex(context, nil, &finalBytes) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(tag.count), tag.baseAddress) == 1 else {
            throw CryptoLibraries.openSSLFailure("AES-256-GCM finish")
        }
    }

    private static func gcmOpen(
        _ context: OpaquePointer,
        ciphertext: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        plaintext: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Bool {
        guard EVP_DecryptInit_ex2(context, nil, nil, bytePointer(nonce), nil) == 1 else {
            throw CryptoLibraries.openSSLFailure("AES-256-GCM set nonce")
        }
        try feedAssociatedData(context, associatedData)
        var written = 0
        while written < ciphertext.count {
            let piece = min(ciphertext.count - written, maximumUpdateLength)
            var produced: Int32 = 0
            guard EVP_DecryptUpdate(context, mutableBytePointer(plaintext) + written, &produced,
                                    bytePointer(ciphertext) + written, Int32(piece)) == 1 else {
                throw CryptoLibraries.openSSLFailure("AES-256-GCM decrypt")
            }
            written += Int(produced)
        }
        // SET_TAG copies the tag; OpenSSL's signature is non-const only for historical reasons.
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(tag.count), UnsafeMutableRawPointer(mutating: tag.baseAddress)) == 1 else {
            throw CryptoLibraries.openSSLFailure("AES-256-GCM set tag")
        }
        var finalBytes: Int32 = 0
        guard EVP_DecryptFinal_ex(context, nil, &finalBytes) == 1 else {
            // A tag mismatch is not a library error; leave nothing in the error queue.
            ERR_clear_error()
            return false
        }
        return true
    }

    private static func feedAssociatedData(_ context: OpaquePointer, _ associatedData: UnsafeRawBufferPointer) throws(CryptoError) {
        guard associatedData.count > 0 else { return }
        var ignored: Int32 = 0
        guard EVP_CipherUpdate(context, nil, &ignored, bytePointer(associatedData), Int32(associatedData.count)) == 1 else {
            throw CryptoLibraries.openSSLFailure("AES-256-GCM associated data")
        }
    }
}

/// C APIs want `const unsigned char *`; an empty buffer may have a nil base, which the
/// libraries accept for zero lengths.
@inline(__always)
func bytePointer(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8>! {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
}

@inline(__always)
func bytePointer(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafePointer<UInt8>! {
    buffer.baseAddress.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) }
}

@inline(__always)
func mutableBytePointer(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8>! {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
}

/// libsodium marks its buffer arguments nonnull even when the length is zero; an empty
/// Swift buffer may have no base address, so it gets this placeholder byte instead.
nonisolated(unsafe) private let placeholderByte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

@inline(__always)
func nonNullBytePointer(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
    if let base = buffer.baseAddress { return base.assumingMemoryBound(to: UInt8.self) }
    return UnsafePointer(placeholderByte)
}

@inline(__always)
func nonNullMutableBytePointer(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? placeholderByte
}
