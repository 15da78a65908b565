// AES-SIV (RFC 5297) on OpenSSL's EVP implementation. Deterministic authenticated
// encryption: the same plaintext and associated data always give the same ciphertext,
// which is what lets the Vault look a name up by encrypting it.
//
// Output layout is the RFC's: V (16-byte synthetic IV / tag) ‖ C.
//
// OpenSSL's SIV context is single-use (it refuses a second message after keying), so each
// pooled slot holds a keyed template that is copied into a work context per message. The
// copy is much cheaper than re-keying, but OpenSSL still allocates inside it (it duplicates
// its CMAC and CTR sub-contexts); the bench CryptoMallocs measures how many.

import CLibCrypto

final class AESSIV: Sendable {
    static let tagSize = 16

    /// Key bytes: 32 (AES-128-SIV), 48 (AES-192-SIV) or 64 (AES-256-SIV). Half is the S2V
    /// (CMAC) key, half the CTR key.
    let keySize: Int
    private let cipher: FetchedCipher
    private let key: SecureBytes
    private let slots: ContextPool<Slot>

    private struct Slot: Sendable {
        let template: CipherContextHandle
        let work: CipherContextHandle

        static let free: @Sendable (Slot) -> Void = {
            CipherContextHandle.free($0.template)
            CipherContextHandle.free($0.work)
        }
    }

    init(key: UnsafeRawBufferPointer) throws(CryptoError) {
        let name: String
        switch key.count {
        case 32: name = "AES-128-SIV"
        case 48: name = "AES-192-SIV"
        case 64: name = "AES-256-SIV"
        default: preconditionFailure("AES-SIV keys are 32, 48 or 64 bytes, got \(key.count)")
        }
        CryptoLibraries.ensureReady()
        self.keySize = key.count
        self.cipher = try FetchedCipher(name)
        self.key = try SecureBytes(copying: key)
        self.slots = ContextPool(release: Slot.free)
    }

    /// Encrypts into `output` as V ‖ C; returns plaintext.count + 16. Each element of
    /// `associatedData` is one S2V component, in order; none may be empty (OpenSSL skips
    /// empty components, which would silently differ from RFC 5297). The plaintext must not
    /// be empty for the same reason.
    func seal(
        _ plaintext: UnsafeRawBufferPointer,
        associatedData: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        precondition(!plaintext.isEmpty && associatedData.allSatisfy { !$0.isEmpty })
        let total = plaintext.count + Self.tagSize
        guard output.count >= total else { throw .bufferTooSmall(needed: total, available: output.count) }
        try withFreshContext(encrypting: true) { (context) throws(CryptoError) in
            try Self.addAssociatedData(associatedData, to: context)
            var produced: Int32 = 0
            guard EVP_EncryptUpdate(context, mutableBytePointer(output) + Self.tagSize, &produced,
                                    bytePointer(plaintext), Int32(plaintext.count)) == 1,
                  EVP_EncryptFinal_ex(context, nil, &produced) == 1,
                  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagSize), output.baseAddress) == 1 else {
                throw CryptoLibraries.openSSLFailure("AES-SIV encrypt")
            }
        }
        return total
    }

    /// Decrypts V ‖ C into `output`; returns the plaintext length, or nil when the input is
    /// too short or fails authentication (output is then wiped by OpenSSL).
    func open(
        _ sealed: UnsafeRawBufferPointer,
        associatedData: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int? {
        precondition(associatedData.allSatisfy { !$0.isEmpty })
        guard sealed.count > Self.tagSize else { return nil }
        let plaintextCount = sealed.count - Self.tagSize
        guard output.count >= plaintextCount else { throw .bufferTooSmall(needed: plaintextCount, available: output.count) }
        return try withFreshContext(encrypting: false) { (context) throws(CryptoError) -> Int? in
            // The expected tag must be known before decrypting: SIV's CTR IV is the tag.
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagSize),
                                      UnsafeMutableRawPointer(mutating: sealed.baseAddress)) == 1 else {
                throw CryptoLibraries.openSSLFailure("AES-SIV set tag")
            }
            try Self.addAssociatedData(associatedData, to: context)
            var produced: Int32 = 0
            guard EVP_DecryptUpdate(context, mutableBytePointer(output), &produced,
                                    bytePointer(sealed) + Self.tagSize, Int32(plaintextCount)) == 1,
                  EVP_DecryptFinal_ex(context, nil, &produced) == 1 else {
                ERR_clear_error()
                return nil
            }
            return plaintextCount
        }
    }

    /// Copies a keyed template into the slot's work context, so every message starts from
    /// a freshly keyed state without redoing the key setup.
    private func withFreshContext<Value>(
        encrypting: Bool,
        _ body: (OpaquePointer) throws(CryptoError) -> Value
    ) throws(CryptoError) -> Value {
        try slots.withItem(make: makeSlot) { (slot) throws(CryptoError) -> Value in
            let work = slot.work.pointer
            guard EVP_CIPHER_CTX_copy(work, slot.template.pointer) == 1 else {
                throw CryptoLibraries.openSSLFailure("AES-SIV context copy")
            }
            if !encrypting {
                // Switches direction only: no cipher and no key means the keyed state is kept.
                guard EVP_DecryptInit_ex2(work, nil, nil, nil, nil) == 1 else {
                    throw CryptoLibraries.openSSLFailure("AES-SIV decrypt init")
                }
            }
            return try body(work)
        }
    }

    private func makeSlot() throws(CryptoError) -> Slot {
        let template = try key.withUnsafeBytes { (key) throws(CryptoError) -> CipherContextHandle in
            try cipher.makeContext(key: key)
        }
        guard let work = EVP_CIPHER_CTX_new() else {
            CipherContextHandle.free(template)
            throw CryptoLibraries.openSSLFailure("EVP_CIPHER_CTX_new")
        }
        return Slot(template: template, work: CipherContextHandle(work))
    }

    private static func addAssociatedData(
        _ components: UnsafeBufferPointer<UnsafeRawBufferPointer>, to context: OpaquePointer
    ) throws(CryptoError) {
        for component in components {
            var ignored: Int32 = 0
            guard EVP_CipherUpdate(context, nil, &ignored, bytePointer(component), Int32(component.count)) == 1 else {
                throw CryptoLibraries.openSSLFailure("AES-SIV associated data")
            }
        }
    }
}
